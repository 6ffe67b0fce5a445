-- wrk script: POST a small Anthropic Messages request (the translated path:
-- Anthropic client -> OpenAI-compatible upstream); extra headers from
-- WRK_HEADERS="K: V|K: V". Prints the same RESULT line as post.lua.
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","max_tokens":256,"messages":[{"role":"user","content":"Explain consistent hashing in two sentences."}]}'
wrk.headers["Content-Type"] = "application/json"
local extra = os.getenv("WRK_HEADERS")
if extra then
  for pair in string.gmatch(extra, "[^|]+") do
    local k, v = string.match(pair, "^%s*([^:]+):%s*(.*)$")
    if k then wrk.headers[k] = v end
  end
end
local non2xx = 0
response = function(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d errors=%d non2xx_seen_by_thread0=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout, non2xx))
end

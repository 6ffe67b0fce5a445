"""Protocol conformance of `helm proxy --config` across every client door and
every provider kind, against scripts/test_upstream.py (DESIGN §7–§9,
PROTOCOLS.md, docs/translation.md).

One scripted upstream serves the three provider formats on their own paths;
one proxy has a provider of each kind pointing at it, and a lane per kind
(`to-openai`, `to-anthropic`, `to-gemini`) so a request pins a provider kind
by naming the lane as its model.

The matrix: client protocol (openai.chat, anthropic.messages,
openai.responses, gemini.generate) × provider kind (openai, anthropic, gemini)
× {non-stream, stream} × {plain text, tool-call round trip, image input, JSON
output, provider 4xx, provider 5xx}. Each cell parses the answer as the
client's protocol (streams checked event by event for that protocol's legal
sequence) and checks the request that reached the upstream is in the
provider's own format, carries the provider's key and names the upstream
model. Then: a translated stream is a real stream (slow upstream), and the
ledger verifies.
"""
import base64
import hashlib
import http.client
import json
import os
import tempfile
import time
import unittest
import urllib.parse

import helmtest
from helmtest import Server, Upstream, admin_url, outcome_receipt, raw_http, run_helm

CLIENTS = ["chat", "anthropic", "responses", "gemini"]
PROVIDERS = ["openai", "anthropic", "gemini"]
MODES = ["json", "stream"]
SCENARIOS = ["text", "tool", "image", "jsonout", "err400", "err500"]

PROVIDER_KEYS = {"openai": "pk-openai-conformance", "anthropic": "pk-anthropic-conformance",
                 "gemini": "pk-gemini-conformance"}
UPSTREAM_MODEL = {"openai": "gpt-upstream", "anthropic": "claude-upstream",
                  "gemini": "gemini-upstream"}
LANE = {"openai": "to-openai", "anthropic": "to-anthropic", "gemini": "to-gemini"}
PROVIDER_ID = {"openai": "oa", "anthropic": "an", "gemini": "gm"}
NATIVE = {"chat": "openai", "anthropic": "anthropic", "gemini": "gemini"}

HELLO = "Hello from the test upstream."
# A 1×1 transparent PNG.
PNG_B64 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
           "60e6kgAAAABJRU5ErkJggg==")
TOOL_NAME = "get_weather"
TOOL_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}},
               "required": ["city"]}
JSON_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
JSON_ANSWER = '{"ok": true, "n": 1}'
TOOL_RESULT = "sunny and 21C"

OPENAI_FINISH = {"stop", "length", "tool_calls", "content_filter", "function_call"}
ANTHROPIC_STOP = {"end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"}
GEMINI_FINISH = {"STOP", "MAX_TOKENS", "SAFETY", "RECITATION", "OTHER", "LANGUAGE",
                 "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "MALFORMED_FUNCTION_CALL",
                 "IMAGE_SAFETY", "FINISH_REASON_UNSPECIFIED"}
GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED"}


def helm_toml(upstream_url):
    parts = []
    for kind in PROVIDERS:
        parts.append("""
[[providers]]
id = "{pid}"
kind = "{kind}"
base_url = "{url}"
api_key_env = "CONFORMANCE_{env}_KEY"
first_byte_timeout_ms = 10000
idle_timeout_ms = 10000

[[providers.models]]
id = "m"
upstream_id = "{up}"
context_window = 200000
tools = true
vision = true
json = true
""".format(pid=PROVIDER_ID[kind], kind=kind, url=upstream_url, env=kind.upper(),
           up=UPSTREAM_MODEL[kind]))
    parts.append("""
[lanes.balanced]
primary = "oa/m"

[lanes.to-openai]
primary = "oa/m"

[lanes.to-anthropic]
primary = "an/m"

[lanes.to-gemini]
primary = "gm/m"

[breaker]
failure_threshold = 1000
cool_down_ms = 1
""")
    return "".join(parts)


# ---- SSE --------------------------------------------------------------------

def parse_sse_lines(lines):
    """[(event name or None, data text, arrival time)] from (line, time) pairs;
    comment lines are skipped."""
    events = []
    name, data, t_first = None, [], None
    for line, t in lines:
        if line == "":
            if data:
                events.append((name, "\n".join(data), t_first))
            name, data, t_first = None, [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if t_first is None:
            t_first = t
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    if data:
        events.append((name, "\n".join(data), t_first))
    return events


def post_timed(base_url, path, body, headers, stream_type, timeout=20):
    """POSTs and, for a 200 of `stream_type`, reads the response line by line
    with arrival times. Returns (status, headers, [(line, time)] or None, raw
    body, t_done)."""
    u = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers)
    t0 = time.time()
    try:
        conn.request("POST", path, json.dumps(body).encode(), hdrs)
        res = conn.getresponse()
        rh = {k.lower(): v for k, v in res.getheaders()}
        if res.status != 200 or not rh.get("content-type", "").startswith(stream_type):
            raw = res.read()
            return res.status, rh, None, raw, time.time() - t0
        lines, raw = [], b""
        while True:
            line = res.readline()
            if not line:
                break
            raw += line
            lines.append((line.decode().rstrip("\r\n"), time.time() - t0))
        return res.status, rh, lines, raw, time.time() - t0
    finally:
        conn.close()


def post_stream(base_url, path, body, headers, timeout=20):
    """POSTs and reads an SSE response event by event with arrival times.
    Returns (status, headers, events or None, raw body, t_done)."""
    status, rh, lines, raw, t_done = post_timed(base_url, path, body, headers,
                                                "text/event-stream", timeout)
    return status, rh, None if lines is None else parse_sse_lines(lines), raw, t_done


def as_events(elements):
    """A JSON array's elements as the unnamed events the SSE checks read."""
    return [(None, json.dumps(e), 0) for e in elements]


# ---- client requests ---------------------------------------------------------

def client_path(client, model, stream):
    if client == "chat":
        return "/v1/chat/completions"
    if client == "anthropic":
        return "/v1/messages"
    if client == "responses":
        return "/v1/responses"
    return "/v1beta/models/%s:%s" % (model, "streamGenerateContent?alt=sse" if stream
                                     else "generateContent")


def client_headers(client, key, stream):
    if client == "anthropic":
        return {"x-api-key": key, "anthropic-version": "2023-06-01"}
    if client == "gemini":
        # Both Gemini key carriers: the header when streaming, ?key= otherwise.
        return {"x-goog-api-key": key} if stream else {}
    return {"Authorization": "Bearer " + key}


def user_turn(client, text, image=False):
    if client == "chat":
        content = text
        if image:
            content = [{"type": "text", "text": text},
                       {"type": "image_url",
                        "image_url": {"url": "data:image/png;base64," + PNG_B64}}]
        return {"role": "user", "content": content}
    if client == "anthropic":
        content = text
        if image:
            content = [{"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                    "data": PNG_B64}},
                       {"type": "text", "text": text}]
        return {"role": "user", "content": content}
    if client == "responses":
        if image:
            return {"role": "user", "content": [
                {"type": "input_text", "text": text},
                {"type": "input_image", "image_url": "data:image/png;base64," + PNG_B64}]}
        return {"role": "user", "content": text}
    parts = [{"text": text}]
    if image:
        parts.append({"inlineData": {"mimeType": "image/png", "data": PNG_B64}})
    return {"role": "user", "parts": parts}


def tools_decl(client):
    if client == "chat":
        return [{"type": "function", "function": {"name": TOOL_NAME, "description": "Weather",
                                                  "parameters": TOOL_SCHEMA}}]
    if client == "anthropic":
        return [{"name": TOOL_NAME, "description": "Weather", "input_schema": TOOL_SCHEMA}]
    if client == "responses":
        return [{"type": "function", "name": TOOL_NAME, "description": "Weather",
                 "parameters": TOOL_SCHEMA}]
    return [{"functionDeclarations": [{"name": TOOL_NAME, "description": "Weather",
                                       "parameters": TOOL_SCHEMA}]}]


def build_body(client, model, stream, turns, tools=False, json_out=False):
    if client == "chat":
        body = {"model": model, "messages": turns}
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        if json_out:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "answer", "schema": JSON_SCHEMA}}
    elif client == "anthropic":
        body = {"model": model, "max_tokens": 256, "messages": turns}
        if stream:
            body["stream"] = True
    elif client == "responses":
        body = {"model": model, "input": turns, "store": False}
        if stream:
            body["stream"] = True
        if json_out:
            body["text"] = {"format": {"type": "json_schema", "name": "answer",
                                       "schema": JSON_SCHEMA}}
    else:
        body = {"contents": turns}
        if json_out:
            body["generationConfig"] = {"responseMimeType": "application/json",
                                        "responseSchema": JSON_SCHEMA}
    if tools:
        body["tools"] = tools_decl(client)
    return body


def assistant_tool_turns(client, call):
    """The assistant's tool call and the tool result, as the client sends
    them back on the second leg of a round trip."""
    if client == "chat":
        return [{"role": "assistant", "content": None,
                 "tool_calls": [{"id": call["id"], "type": "function",
                                 "function": {"name": call["name"],
                                              "arguments": json.dumps(call["arguments"])}}]},
                {"role": "tool", "tool_call_id": call["id"], "content": TOOL_RESULT}]
    if client == "anthropic":
        return [{"role": "assistant", "content": [{"type": "tool_use", "id": call["id"],
                                                   "name": call["name"],
                                                   "input": call["arguments"]}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"],
                                              "content": TOOL_RESULT}]}]
    if client == "responses":
        return [{"type": "function_call", "call_id": call["id"], "name": call["name"],
                 "arguments": json.dumps(call["arguments"])},
                {"type": "function_call_output", "call_id": call["id"], "output": TOOL_RESULT}]
    return [{"role": "model", "parts": [{"functionCall": {"name": call["name"],
                                                         "args": call["arguments"]}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": call["name"],
                                                            "response": {"result": TOOL_RESULT}}}]}]


# ---- the test case -------------------------------------------------------------

class ConformanceTest(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.up = Upstream().start()
        cls.tmp = tempfile.mkdtemp(prefix="helm-conformance-")
        cls.config = os.path.join(cls.tmp, "helm.toml")
        helmtest.write_file(cls.config, helm_toml(cls.up.url))
        env = {"CONFORMANCE_%s_KEY" % k.upper(): v for k, v in PROVIDER_KEYS.items()}
        cls.px = Server(["proxy", "--config", cls.config, "--policy", helmtest.TEST_POLICY,
                         "--port", "0", "--admin-port", "0", "--checkpoint-seconds", "0"],
                        env=env, wait_for=r"helm proxy: listening on http://[\d.]+:(\d+)").start()
        cls.px.admin_base = admin_url(cls.px)
        cls.key = cls.px.bootstrap_key

    @classmethod
    def tearDownClass(cls):
        cls.px.cleanup()
        cls.up.stop()
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.up.reset()

    # ---- one exchange ----------------------------------------------------------

    def exchange(self, client, provider, stream, body):
        """Sends body through `client`'s door pinned to `provider` and returns
        (status, headers, parsed, raw) where parsed is the normalized answer
        {text, calls, finish, usage} for a 200 (the shape already checked),
        or the error object for anything else."""
        model = LANE[provider]
        path = client_path(client, model, stream)
        if client == "gemini" and not stream:
            path += "?key=" + urllib.parse.quote(self.key)
        status, headers, events, raw, _ = post_stream(
            self.px.url, path, body, client_headers(client, self.key, stream))
        if status != 200:
            return status, headers, self.check_error(client, status, headers, raw), raw
        if stream:
            self.assertIsNotNone(events, "a stream was asked for: %r %r" % (headers, raw[:300]))
            self.assertTrue(raw.rstrip().split(b"\n")[-1].startswith(b": helm-output-hash sha256:"),
                            raw[-200:])
            parsed = getattr(self, "check_stream_" + client)(events)
        else:
            self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
            self.assertTrue(headers.get("x-helm-output-hash", "").startswith("sha256:"), headers)
            parsed = getattr(self, "check_json_" + client)(json.loads(raw))
        self.assertEqual(headers.get("x-helm-status"), "ALLOW", headers)
        self.assertEqual(headers.get("x-helm-lane"), model, headers)
        return status, headers, parsed, raw

    # ---- error shapes ---------------------------------------------------------------

    def check_error(self, client, status, headers, raw):
        self.assertTrue(headers.get("content-type", "").startswith("application/json"),
                        (headers, raw[:300]))
        body = json.loads(raw)
        self.assertIsInstance(body, dict, raw)
        err = body.get("error")
        self.assertIsInstance(err, dict, body)
        self.assertIsInstance(err.get("message"), str, body)
        self.assertTrue(err["message"], body)
        if client == "anthropic":
            self.assertEqual(body.get("type"), "error", body)
            self.assertIn(err.get("type"), {"invalid_request_error", "authentication_error",
                                            "permission_error", "not_found_error",
                                            "request_too_large", "rate_limit_error", "api_error",
                                            "overloaded_error"}, body)
        elif client == "gemini":
            self.assertEqual(err.get("code"), status, body)
            self.assertIsInstance(err.get("status"), str, body)
            if status in GEMINI_STATUS:
                self.assertEqual(err["status"], GEMINI_STATUS[status], body)
        else:
            self.assertIsInstance(err.get("type"), str, body)
            self.assertIn("code", err, body)
        return err

    # ---- non-stream shapes -------------------------------------------------------------

    def check_json_chat(self, r):
        self.assertEqual(r.get("object"), "chat.completion", r)
        self.assertIsInstance(r.get("id"), str, r)
        self.assertIsInstance(r.get("created"), int, r)
        self.assertEqual(len(r.get("choices", [])), 1, r)
        ch = r["choices"][0]
        self.assertEqual(ch.get("index"), 0, r)
        msg = ch["message"]
        self.assertEqual(msg.get("role"), "assistant", r)
        self.assertIn(ch.get("finish_reason"), OPENAI_FINISH, r)
        calls = []
        for tc in msg.get("tool_calls") or []:
            self.assertEqual(tc.get("type"), "function", r)
            self.assertIsInstance(tc.get("id"), str, r)
            self.assertTrue(tc["id"], r)
            self.assertIsInstance(tc["function"]["arguments"], str, r)
            calls.append({"id": tc["id"], "name": tc["function"]["name"],
                          "arguments": json.loads(tc["function"]["arguments"])})
        u = r.get("usage")
        for k in ("prompt_tokens", "completion_tokens", "total_tokens"):
            self.assertIsInstance(u.get(k), int, r)
        self.assertEqual(u["total_tokens"], u["prompt_tokens"] + u["completion_tokens"], r)
        return {"text": msg.get("content") or "", "calls": calls,
                "finish": ch["finish_reason"],
                "usage": (u["prompt_tokens"], u["completion_tokens"])}

    def check_json_anthropic(self, r):
        self.assertEqual(r.get("type"), "message", r)
        self.assertEqual(r.get("role"), "assistant", r)
        self.assertIsInstance(r.get("id"), str, r)
        self.assertIsInstance(r.get("model"), str, r)
        self.assertIn(r.get("stop_reason"), ANTHROPIC_STOP, r)
        self.assertIn("stop_sequence", r)
        text, calls = "", []
        self.assertIsInstance(r.get("content"), list, r)
        for b in r["content"]:
            if b["type"] == "text":
                self.assertIsInstance(b.get("text"), str, r)
                text += b["text"]
            elif b["type"] == "tool_use":
                self.assertIsInstance(b.get("id"), str, r)
                self.assertTrue(b["id"], r)
                self.assertIsInstance(b.get("input"), dict, r)
                calls.append({"id": b["id"], "name": b["name"], "arguments": b["input"]})
            else:
                self.fail("unexpected content block %r" % b)
        u = r["usage"]
        self.assertIsInstance(u.get("input_tokens"), int, r)
        self.assertIsInstance(u.get("output_tokens"), int, r)
        inp = u["input_tokens"] + u.get("cache_read_input_tokens", 0) + \
            u.get("cache_creation_input_tokens", 0)
        return {"text": text, "calls": calls, "finish": r["stop_reason"],
                "usage": (inp, u["output_tokens"])}

    def responses_output(self, resp, where):
        """Checks a Responses `response` object's output items and usage."""
        self.assertEqual(resp.get("object"), "response", where)
        self.assertIsInstance(resp.get("id"), str, where)
        text, calls = "", []
        for item in resp.get("output", []):
            self.assertIsInstance(item.get("id"), str, where)
            if item["type"] == "message":
                self.assertEqual(item.get("role"), "assistant", where)
                self.assertEqual(item.get("status"), "completed", where)
                for part in item["content"]:
                    self.assertEqual(part["type"], "output_text", where)
                    self.assertIsInstance(part.get("annotations"), list, where)
                    text += part["text"]
            elif item["type"] == "function_call":
                self.assertIsInstance(item.get("call_id"), str, where)
                self.assertTrue(item["call_id"], where)
                self.assertIsInstance(item.get("arguments"), str, where)
                calls.append({"id": item["call_id"], "name": item["name"],
                              "arguments": json.loads(item["arguments"])})
            else:
                self.fail("unexpected output item %r" % item)
        u = resp.get("usage")
        self.assertIsInstance(u, dict, where)
        for k in ("input_tokens", "output_tokens", "total_tokens"):
            self.assertIsInstance(u.get(k), int, where)
        self.assertEqual(u["total_tokens"], u["input_tokens"] + u["output_tokens"], where)
        self.assertIsInstance(u.get("input_tokens_details", {}).get("cached_tokens"), int, where)
        self.assertIsInstance(u.get("output_tokens_details", {}).get("reasoning_tokens"), int,
                              where)
        return {"text": text, "calls": calls, "finish": resp["status"],
                "usage": (u["input_tokens"], u["output_tokens"])}

    def check_json_responses(self, r):
        self.assertIn(r.get("status"), {"completed", "incomplete"}, r)
        self.assertIsInstance(r.get("created_at"), int, r)
        return self.responses_output(r, r)

    def gemini_candidate(self, r, text_calls):
        cands = r.get("candidates")
        self.assertIsInstance(cands, list, r)
        self.assertEqual(len(cands), 1, r)
        c = cands[0]
        content = c.get("content", {})
        self.assertEqual(content.get("role"), "model", r)
        for p in content.get("parts", []):
            if "text" in p:
                self.assertIsInstance(p["text"], str, r)
                text_calls[0] += p["text"]
            elif "functionCall" in p:
                fc = p["functionCall"]
                self.assertIsInstance(fc.get("name"), str, r)
                self.assertIsInstance(fc.get("args", {}), dict, r)
                text_calls[1].append({"id": fc.get("id"), "name": fc["name"],
                                      "arguments": fc.get("args", {})})
            else:
                self.fail("unexpected part %r" % p)
        return c

    def check_json_gemini(self, r):
        tc = ["", []]
        c = self.gemini_candidate(r, tc)
        self.assertIn(c.get("finishReason"), GEMINI_FINISH, r)
        u = r.get("usageMetadata")
        for k in ("promptTokenCount", "candidatesTokenCount", "totalTokenCount"):
            self.assertIsInstance(u.get(k), int, r)
        return {"text": tc[0], "calls": tc[1], "finish": c["finishReason"],
                "usage": (u["promptTokenCount"], u["candidatesTokenCount"])}

    # ---- stream sequences --------------------------------------------------------------

    def check_stream_chat(self, events):
        self.assertTrue(events, "empty stream")
        self.assertEqual(events[-1][1], "[DONE]", events[-3:])
        chunks = []
        for name, data, _ in events[:-1]:
            self.assertIsNone(name, "OpenAI chunks are unnamed")
            self.assertNotEqual(data, "[DONE]", "[DONE] only at the end")
            chunks.append(json.loads(data))
        self.assertTrue(chunks)
        self.assertEqual(chunks[0]["choices"][0]["delta"].get("role"), "assistant", chunks[0])
        text, calls, finishes, usage = "", {}, [], None
        ids = {c["id"] for c in chunks}
        self.assertEqual(len(ids), 1, ids)
        for c in chunks:
            self.assertEqual(c.get("object"), "chat.completion.chunk", c)
            self.assertNotIn("error", c)
            if c.get("usage"):
                usage = c["usage"]
            if not c["choices"]:
                continue
            ch = c["choices"][0]
            d = ch.get("delta", {})
            if d.get("content"):
                text += d["content"]
            for tc in d.get("tool_calls") or []:
                idx = tc["index"]
                if idx not in calls:
                    self.assertTrue(tc.get("id"), "first fragment carries the id: %r" % tc)
                    self.assertTrue(tc.get("function", {}).get("name"), tc)
                    calls[idx] = {"id": tc["id"], "name": tc["function"]["name"], "args": ""}
                calls[idx]["args"] += tc.get("function", {}).get("arguments") or ""
            if ch.get("finish_reason"):
                finishes.append(ch["finish_reason"])
        self.assertEqual(len(finishes), 1, finishes)
        self.assertIn(finishes[0], OPENAI_FINISH)
        self.assertIsNotNone(usage, "include_usage was asked for")
        self.assertEqual(usage["total_tokens"], usage["prompt_tokens"] + usage["completion_tokens"])
        return {"text": text, "finish": finishes[0],
                "calls": [{"id": c["id"], "name": c["name"], "arguments": json.loads(c["args"])}
                          for _, c in sorted(calls.items())],
                "usage": (usage["prompt_tokens"], usage["completion_tokens"])}

    def check_stream_anthropic(self, events):
        names = [n for n, _, _ in events if n != "ping"]
        self.assertTrue(names, "empty stream")
        self.assertEqual(names[0], "message_start", names)
        self.assertEqual(names[-1], "message_stop", names)
        self.assertEqual(names[-2], "message_delta", names)
        open_block, next_index, blocks = None, 0, []
        stop_reason, inp, out = None, 0, 0
        for name, data, _ in events:
            d = json.loads(data)
            self.assertEqual(d.get("type"), name, "event name matches data type")
            if name == "message_start":
                m = d["message"]
                self.assertEqual(m["type"], "message")
                self.assertEqual(m["role"], "assistant")
                self.assertEqual(m["content"], [])
                u = m.get("usage", {})
                inp = max(inp, u.get("input_tokens", 0) + u.get("cache_read_input_tokens", 0)
                          + u.get("cache_creation_input_tokens", 0))
            elif name == "content_block_start":
                self.assertIsNone(open_block, "a block opened while another is open")
                self.assertEqual(d["index"], next_index, "block indexes are 0,1,2…")
                cb = d["content_block"]
                self.assertIn(cb["type"], {"text", "tool_use", "thinking"})
                if cb["type"] == "tool_use":
                    self.assertTrue(cb.get("id") and cb.get("name"), cb)
                    self.assertEqual(cb.get("input"), {}, cb)
                open_block = {"index": d["index"], "type": cb["type"], "text": "", "json": "",
                              "id": cb.get("id"), "name": cb.get("name")}
            elif name == "content_block_delta":
                self.assertIsNotNone(open_block, "orphan delta")
                self.assertEqual(d["index"], open_block["index"])
                delta = d["delta"]
                if delta["type"] == "text_delta":
                    self.assertEqual(open_block["type"], "text")
                    open_block["text"] += delta["text"]
                elif delta["type"] == "input_json_delta":
                    self.assertEqual(open_block["type"], "tool_use")
                    open_block["json"] += delta["partial_json"]
                else:
                    self.assertEqual(open_block["type"], "thinking", delta)
            elif name == "content_block_stop":
                self.assertIsNotNone(open_block, "stop without start")
                self.assertEqual(d["index"], open_block["index"])
                blocks.append(open_block)
                open_block = None
                next_index += 1
            elif name == "message_delta":
                self.assertIsNone(open_block, "message_delta with a block open")
                stop_reason = d["delta"].get("stop_reason")
                u = d.get("usage", {})
                out = u.get("output_tokens", out)
                inp = max(inp, u.get("input_tokens", 0) + u.get("cache_read_input_tokens", 0)
                          + u.get("cache_creation_input_tokens", 0))
            elif name in ("message_stop", "ping"):
                pass
            else:
                self.fail("unexpected event %r: %s" % (name, data))
        self.assertIn(stop_reason, ANTHROPIC_STOP)
        text = "".join(b["text"] for b in blocks if b["type"] == "text")
        calls = [{"id": b["id"], "name": b["name"], "arguments": json.loads(b["json"] or "{}")}
                 for b in blocks if b["type"] == "tool_use"]
        return {"text": text, "calls": calls, "finish": stop_reason, "usage": (inp, out)}

    def check_stream_responses(self, events):
        self.assertTrue(events, "empty stream")
        seqs, names = [], []
        items = {}
        final = None
        text_deltas = {}
        for name, data, _ in events:
            d = json.loads(data)
            self.assertEqual(d.get("type"), name, "event name matches data type")
            seqs.append(d.get("sequence_number"))
            names.append(name)
            if name == "response.output_item.added":
                self.assertNotIn(d["output_index"], items, "item added twice")
                items[d["output_index"]] = {"item": d["item"], "done": False, "args": ""}
                if d["item"]["type"] == "function_call":
                    self.assertTrue(d["item"].get("call_id") and d["item"].get("name"), d)
            elif name == "response.output_text.delta":
                self.assertIn(d["output_index"], items)
                self.assertFalse(items[d["output_index"]]["done"])
                text_deltas[d["output_index"]] = text_deltas.get(d["output_index"], "") + d["delta"]
            elif name == "response.output_text.done":
                self.assertEqual(d["text"], text_deltas.get(d["output_index"], ""))
            elif name == "response.function_call_arguments.delta":
                self.assertIn(d["output_index"], items)
                items[d["output_index"]]["args"] += d["delta"]
            elif name == "response.function_call_arguments.done":
                self.assertEqual(d["arguments"], items[d["output_index"]]["args"])
            elif name == "response.output_item.done":
                self.assertIn(d["output_index"], items, "done without added")
                self.assertFalse(items[d["output_index"]]["done"])
                items[d["output_index"]]["done"] = True
            elif name in ("response.completed", "response.incomplete"):
                final = d["response"]
            elif name in ("response.created", "response.in_progress",
                          "response.content_part.added", "response.content_part.done"):
                pass
            else:
                self.fail("unexpected event %r: %s" % (name, data))
        self.assertEqual(seqs, list(range(len(seqs))), "sequence_number 0,1,2,…")
        self.assertEqual(names[:2], ["response.created", "response.in_progress"], names)
        self.assertIn(names[-1], {"response.completed", "response.incomplete"}, names)
        self.assertTrue(all(v["done"] for v in items.values()), "every item done")
        self.assertEqual(sorted(items), list(range(len(items))), "output_index 0,1,2,…")
        return self.responses_output(final, final)

    def check_stream_gemini(self, events):
        self.assertTrue(events, "empty stream")
        tc = ["", []]
        last = None
        for i, (name, data, _) in enumerate(events):
            self.assertIsNone(name, "Gemini frames are unnamed")
            self.assertNotEqual(data, "[DONE]")
            r = json.loads(data)
            self.assertNotIn("error", r)
            c = self.gemini_candidate(r, tc)
            if c.get("finishReason"):
                self.assertEqual(i, len(events) - 1, "finishReason only on the last frame")
            last = (r, c)
        r, c = last
        self.assertIn(c.get("finishReason"), GEMINI_FINISH, r)
        u = r.get("usageMetadata")
        self.assertIsInstance(u, dict, "the last frame carries usageMetadata")
        return {"text": tc[0], "calls": tc[1], "finish": c["finishReason"],
                "usage": (u["promptTokenCount"], u["candidatesTokenCount"])}

    # ---- the upstream side ---------------------------------------------------------------

    def upstream_requests(self, provider, stream, n):
        reqs = self.up.requests()
        self.assertEqual(len(reqs), n, [(r["path"], r["behaviour"]) for r in reqs])
        for r in reqs:
            self.check_upstream_request(provider, stream, r)
        return reqs

    def check_upstream_request(self, provider, stream, r):
        self.assertEqual(r["format"], provider, r["path"])
        self.assertEqual(r["api_key"], PROVIDER_KEYS[provider], "the provider key, not helm's")
        self.assertNotIn(self.key, json.dumps(r["headers"]) + r["path"] + r["body"])
        body = r["json"]
        self.assertIsInstance(body, dict, r["body"])
        path = r["path"].split("?")[0]
        if provider == "openai":
            self.assertEqual(path, "/v1/chat/completions")
            self.assertEqual(body["model"], UPSTREAM_MODEL["openai"])
            self.assertIsInstance(body["messages"], list)
            self.assertEqual(bool(body.get("stream")), stream, body)
            for m in body["messages"]:
                self.assertIn(m["role"], {"system", "developer", "user", "assistant", "tool"}, m)
        elif provider == "anthropic":
            self.assertEqual(path, "/v1/messages")
            self.assertIn("anthropic-version", r["headers"])
            self.assertEqual(body["model"], UPSTREAM_MODEL["anthropic"])
            self.assertIsInstance(body["max_tokens"], int)
            self.assertEqual(bool(body.get("stream")), stream, body)
            roles = [m["role"] for m in body["messages"]]
            self.assertTrue(set(roles) <= {"user", "assistant"}, roles)
            for a, b in zip(roles, roles[1:]):
                self.assertNotEqual(a, b, "Anthropic roles alternate: %r" % roles)
            self.assertNotIn("response_format", body)
        else:
            method = "streamGenerateContent" if stream else "generateContent"
            self.assertEqual(path, "/v1beta/models/%s:%s" % (UPSTREAM_MODEL["gemini"], method))
            if stream:
                self.assertIn("alt=sse", r["path"])
            self.assertNotIn("model", body)
            self.assertNotIn("messages", body)
            for c in body["contents"]:
                self.assertIn(c.get("role"), {"user", "model"}, c)

    # ---- the cells -------------------------------------------------------------------------

    def run_cell(self, client, provider, mode, scenario):
        stream = mode == "stream"
        getattr(self, "cell_" + scenario)(client, provider, stream)

    def cell_text(self, client, provider, stream):
        body = build_body(client, LANE[provider], stream, [user_turn(client, "Say hello.")])
        status, headers, r, raw = self.exchange(client, provider, stream, body)
        self.assertEqual(status, 200, raw)
        self.assertEqual(r["text"], HELLO)
        self.assertEqual(r["calls"], [])
        self.assertIn(r["finish"], {"stop", "end_turn", "completed", "STOP"})
        self.assertEqual(r["usage"], (5, 5), "the upstream's usage, in the client's convention")
        self.assertEqual(headers.get("x-helm-model"), PROVIDER_ID[provider] + "/m", headers)
        (req,) = self.upstream_requests(provider, stream, 1)
        self.assertIn("Say hello.", req["body"])

    def cell_tool(self, client, provider, stream):
        first = [user_turn(client, "What is the weather? [upstream:tool]")]
        body = build_body(client, LANE[provider], stream, first, tools=True)
        status, _, r, raw = self.exchange(client, provider, stream, body)
        self.assertEqual(status, 200, raw)
        self.assertEqual(len(r["calls"]), 1, r)
        call = r["calls"][0]
        self.assertEqual(call["name"], TOOL_NAME)
        self.assertEqual(call["arguments"], {"city": "test"})
        self.assertIn(r["finish"], {"tool_calls", "tool_use", "completed", "STOP"})
        if client != "gemini":
            self.assertTrue(call["id"])
        (req,) = self.upstream_requests(provider, stream, 1)
        b = req["json"]
        if provider == "openai":
            self.assertEqual(b["tools"][0]["function"]["name"], TOOL_NAME)
            self.assertEqual(b["tools"][0]["function"]["parameters"]["required"], ["city"])
        elif provider == "anthropic":
            self.assertEqual(b["tools"][0]["name"], TOOL_NAME)
            self.assertEqual(b["tools"][0]["input_schema"]["required"], ["city"])
        else:
            decl = b["tools"][0]["functionDeclarations"][0]
            self.assertEqual(decl["name"], TOOL_NAME)
            self.assertEqual(decl["parameters"]["required"], ["city"])

        # Second leg: the tool result goes back; the model answers in text.
        self.up.reset()
        body = build_body(client, LANE[provider], stream,
                          first + assistant_tool_turns(client, call), tools=True)
        status, _, r2, raw = self.exchange(client, provider, stream, body)
        self.assertEqual(status, 200, raw)
        self.assertEqual(r2["text"], HELLO)
        self.assertEqual(r2["calls"], [])
        (req,) = self.upstream_requests(provider, stream, 1)
        b = req["json"]
        if provider == "openai":
            asst = [m for m in b["messages"] if m["role"] == "assistant"]
            tool = [m for m in b["messages"] if m["role"] == "tool"]
            self.assertEqual(len(asst), 1, b)
            self.assertEqual(len(tool), 1, b)
            tc = asst[0]["tool_calls"][0]
            self.assertEqual(tc["function"]["name"], TOOL_NAME)
            self.assertEqual(json.loads(tc["function"]["arguments"]), {"city": "test"})
            self.assertTrue(tc["id"])
            self.assertEqual(tool[0]["tool_call_id"], tc["id"])
            self.assertIn(TOOL_RESULT, json.dumps(tool[0]["content"]))
            self.assertEqual(b["messages"][-1]["role"], "tool")
        elif provider == "anthropic":
            uses = [blk for m in b["messages"] if m["role"] == "assistant"
                    and isinstance(m["content"], list) for blk in m["content"]
                    if blk["type"] == "tool_use"]
            results = [blk for m in b["messages"] if m["role"] == "user"
                       and isinstance(m["content"], list) for blk in m["content"]
                       if blk["type"] == "tool_result"]
            self.assertEqual(len(uses), 1, b)
            self.assertEqual(len(results), 1, b)
            self.assertEqual(uses[0]["name"], TOOL_NAME)
            self.assertEqual(uses[0]["input"], {"city": "test"})
            self.assertTrue(uses[0]["id"])
            self.assertEqual(results[0]["tool_use_id"], uses[0]["id"])
            self.assertIn(TOOL_RESULT, json.dumps(results[0]["content"]))
        else:
            calls = [p["functionCall"] for c in b["contents"] if c["role"] == "model"
                     for p in c["parts"] if "functionCall" in p]
            resps = [p["functionResponse"] for c in b["contents"] if c["role"] == "user"
                     for p in c["parts"] if "functionResponse" in p]
            self.assertEqual(len(calls), 1, b)
            self.assertEqual(len(resps), 1, b)
            self.assertEqual(calls[0]["name"], TOOL_NAME)
            self.assertEqual(calls[0]["args"], {"city": "test"})
            self.assertEqual(resps[0]["name"], TOOL_NAME)
            self.assertIn(TOOL_RESULT, json.dumps(resps[0]["response"]))
            self.assertNotIn("id", calls[0])

    def cell_image(self, client, provider, stream):
        body = build_body(client, LANE[provider], stream,
                          [user_turn(client, "Describe the image.", image=True)])
        status, _, r, raw = self.exchange(client, provider, stream, body)
        self.assertEqual(status, 200, raw)
        self.assertEqual(r["text"], HELLO)
        (req,) = self.upstream_requests(provider, stream, 1)
        b = req["json"]
        if provider == "openai":
            parts = [p for m in b["messages"] if m["role"] == "user"
                     and isinstance(m["content"], list) for p in m["content"]]
            imgs = [p for p in parts if p["type"] == "image_url"]
            self.assertEqual(len(imgs), 1, b)
            self.assertEqual(imgs[0]["image_url"]["url"], "data:image/png;base64," + PNG_B64)
            self.assertIn("Describe the image.", [p.get("text") for p in parts])
        elif provider == "anthropic":
            blocks = [blk for m in b["messages"] if m["role"] == "user"
                      and isinstance(m["content"], list) for blk in m["content"]]
            imgs = [blk for blk in blocks if blk["type"] == "image"]
            self.assertEqual(len(imgs), 1, b)
            self.assertEqual(imgs[0]["source"], {"type": "base64", "media_type": "image/png",
                                                 "data": PNG_B64})
            self.assertIn("Describe the image.", [blk.get("text") for blk in blocks])
        else:
            parts = [p for c in b["contents"] for p in c["parts"]]
            imgs = [p["inlineData"] for p in parts if "inlineData" in p]
            self.assertEqual(imgs, [{"mimeType": "image/png", "data": PNG_B64}], b)
            self.assertIn("Describe the image.", [p.get("text") for p in parts])

    def cell_jsonout(self, client, provider, stream):
        if client == "anthropic":
            self.skipTest("Anthropic Messages clients have no JSON output mode to ask for")
        self.up.script([{"behaviour": "sse" if stream else "json", "text": JSON_ANSWER}])
        body = build_body(client, LANE[provider], stream,
                          [user_turn(client, "Answer in JSON.")], json_out=True)
        status, _, r, raw = self.exchange(client, provider, stream, body)
        self.assertEqual(status, 200, raw)
        self.assertEqual(json.loads(r["text"]), json.loads(JSON_ANSWER))
        (req,) = self.upstream_requests(provider, stream, 1)
        b = req["json"]
        if provider == "openai":
            rf = b.get("response_format")
            self.assertEqual(rf["type"], "json_schema", b)
            self.assertEqual(rf["json_schema"]["schema"]["required"], ["ok"], b)
        elif provider == "anthropic":
            system = b.get("system")
            system = system if isinstance(system, str) else " ".join(
                blk.get("text", "") for blk in system or [])
            self.assertIn("JSON", system, b)
            self.assertIn('"ok"', system, "the schema is in the instruction")
        else:
            gc = b.get("generationConfig", {})
            self.assertEqual(gc.get("responseMimeType"), "application/json", b)
            self.assertEqual(gc.get("responseSchema", {}).get("required"), ["ok"], b)

    def provider_error(self, client, provider, stream, directive, expect_status):
        body = build_body(client, LANE[provider], stream,
                          [user_turn(client, "Fail please. " + directive)])
        status, headers, err, raw = self.exchange(client, provider, stream, body)
        self.assertEqual(status, expect_status, raw)
        self.assertIn("x-helm-decision-id", headers)
        self.assertEqual(headers.get("x-helm-status"), "ALLOW", headers)
        return err

    def cell_err400(self, client, provider, stream):
        # A deterministic upstream 4xx goes back as is (status and meaning),
        # in the client's shape, and is not failed over.
        err = self.provider_error(client, provider, stream, "[upstream:400]", 400)
        if client == "anthropic":
            self.assertEqual(err["type"], "invalid_request_error", err)
        elif client in ("chat", "responses"):
            self.assertEqual(err["type"], "invalid_request_error", err)
        self.upstream_requests(provider, stream, 1)

    def cell_err500(self, client, provider, stream):
        # The lane's only candidate fails: 502, in the client's shape.
        err = self.provider_error(client, provider, stream, "[upstream:500]", 502)
        self.assertIn("UPSTREAM_ERROR", err["message"])
        if client == "anthropic":
            self.assertIn(err["type"], {"api_error", "overloaded_error"}, err)
        self.upstream_requests(provider, stream, 1)

    # ---- a translated stream is a real stream ------------------------------------------------

    def run_slow(self, client, provider):
        delay_ms, pieces = 250, 6
        body = build_body(client, LANE[provider], True,
                          [user_turn(client, "Slowly. [upstream:slow delay_ms=%d tokens=%d]"
                                     % (delay_ms, pieces))])
        path = client_path(client, LANE[provider], True)
        status, _, events, raw, t_done = post_stream(
            self.px.url, path, body, client_headers(client, self.key, True))
        self.assertEqual(status, 200, raw)
        getattr(self, "check_stream_" + client)(events)
        upstream_total = (pieces - 1) * delay_ms / 1000.0
        self.assertGreaterEqual(t_done, upstream_total * 0.9)
        first = events[0][2]
        self.assertLess(first, t_done - upstream_total / 2,
                        "first client event at %.3fs, stream done at %.3fs" % (first, t_done))
        # Text deltas arrive spread out, not in one burst at the end.
        text_times = [t for n, d, t in events if HELLO.split()[0] in d]
        self.assertTrue(text_times, events)
        self.assertLess(text_times[0], t_done - upstream_total / 2)

    # ---- a stream that does not end properly ends with the error frame ------------------------

    def outcome(self, decision_receipt_id, timeout=5.0):
        o = outcome_receipt(self.px, decision_receipt_id, timeout)
        self.assertIsNotNone(o, "no outcome receipt for " + decision_receipt_id)
        return o

    def check_stream_error(self, client, events):
        """A stream that ends with the client protocol's error frame: every
        event whole and parseable, and no sign of a proper end."""
        self.assertTrue(events, "empty stream")
        for name, data, _ in events:
            self.assertNotEqual(data, "[DONE]", events[-3:])
            self.assertNotIn(name, ("message_stop", "response.completed", "response.incomplete"))
            self.assertIsInstance(json.loads(data), dict, data)
        name, data, _ = events[-1]
        last = json.loads(data)
        if client == "anthropic":
            self.assertEqual(name, "error", events[-3:])
            self.assertEqual(last["type"], "error", last)
            self.assertIsInstance(last["error"]["message"], str, last)
        elif client == "responses":
            self.assertEqual(name, "response.failed", events[-3:])
            self.assertEqual(last["response"]["status"], "failed", last)
            self.assertEqual(events[-2][0], "error", events[-3:])
        else:
            self.assertIsNone(name, events[-3:])
            self.assertIsInstance(last["error"]["message"], str, last)
            if client == "gemini":
                for _, d, _ in events[:-1]:
                    self.assertNotIn("finishReason", json.loads(d)["candidates"][0], d)

    def run_unfinished(self, client, provider, directive):
        """DESIGN §8, PROTOCOLS.md "Across protocols": once output has started,
        a provider failure gives the client its protocol's error frame and the
        outcome says truncated; helm never makes up a finish."""
        body = build_body(client, LANE[provider], True,
                          [user_turn(client, "Say hello. " + directive)])
        path = client_path(client, LANE[provider], True)
        status, headers, events, raw, _ = post_stream(
            self.px.url, path, body, client_headers(client, self.key, True))
        self.assertEqual(status, 200, raw)
        self.assertTrue(raw.rstrip().split(b"\n")[-1].startswith(b": helm-output-hash sha256:"),
                        raw[-200:])
        self.check_stream_error(client, events)
        o = self.outcome(headers["x-helm-receipt-id"])
        self.assertEqual(o["status"], "truncated", o)
        self.assertIsNone(o.get("usage"), "a truncated stream's usage is unknown, never zero")

    # ---- Gemini's JSON-array framing (:streamGenerateContent without alt=sse) -----------------

    def post_array(self, provider, text):
        """A Gemini stream without alt=sse, pinned to `provider`. Returns
        (status, headers, elements or None, raw body, [(line, time)], t_done)."""
        path = "/v1beta/models/%s:streamGenerateContent" % LANE[provider]
        body = build_body("gemini", LANE[provider], True, [user_turn("gemini", text)])
        status, headers, lines, raw, t_done = post_timed(
            self.px.url, path, body, {"x-goog-api-key": self.key}, "application/json")
        elements = json.loads(raw) if status == 200 else None
        return status, headers, elements, raw, lines, t_done

    def sealed_hash(self, headers, body):
        """The outcome receipt, whose output_hash is the SHA-256 of the body
        bytes as sent (an SSE stream's own hash comment aside: docs/api.md)."""
        o = self.outcome(headers["x-helm-receipt-id"])
        self.assertEqual(o["output_hash"], "sha256:" + hashlib.sha256(body).hexdigest())
        return o

    def run_array(self, provider):
        """Without alt=sse the same answer comes as one JSON array whose
        elements are the SSE variant's events."""
        status, headers, elements, raw, _, _ = self.post_array(provider, "Say hello.")
        self.assertEqual(status, 200, raw)
        self.assertTrue(headers["content-type"].startswith("application/json"), headers)
        self.assertEqual(headers.get("x-helm-status"), "ALLOW", headers)
        self.assertIsInstance(elements, list, raw)
        self.assertNotIn(b"helm-output-hash", raw)
        got = self.check_stream_gemini(as_events(elements))
        o = self.sealed_hash(headers, raw)
        self.assertEqual(o["status"], "completed", o)

        body = build_body("gemini", LANE[provider], True, [user_turn("gemini", "Say hello.")])
        status, headers, events, sse, _ = post_stream(
            self.px.url, client_path("gemini", LANE[provider], True), body,
            client_headers("gemini", self.key, True))
        self.assertEqual(status, 200, sse)
        self.assertEqual(got, self.check_stream_gemini(events))
        self.assertEqual(got["text"], HELLO)
        self.assertEqual(len(elements), len(events))
        comment = sse.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        self.assertTrue(comment.startswith(b": helm-output-hash sha256:"), sse[-200:])
        o = self.sealed_hash(headers, sse[:-len(comment) - 2])
        self.assertEqual(comment.split(b" ")[-1].decode(), o["output_hash"])

    def run_array_slow(self, provider):
        """Each element reaches the client as it comes, not at the end."""
        delay_ms, pieces = 250, 6
        status, _, elements, raw, lines, t_done = self.post_array(
            provider, "Slowly. [upstream:slow delay_ms=%d tokens=%d]" % (delay_ms, pieces))
        self.assertEqual(status, 200, raw)
        self.assertGreaterEqual(len(elements), 2, elements)
        upstream_total = (pieces - 1) * delay_ms / 1000.0
        self.assertGreaterEqual(t_done, upstream_total * 0.9)
        self.assertTrue(lines[0][0].startswith("[{"), lines[:2])
        self.assertLess(lines[0][1], t_done - upstream_total / 2,
                        "first element at %.3fs, array done at %.3fs" % (lines[0][1], t_done))

    def run_array_cut(self, provider):
        """Cut after output: the last element is Gemini's error object, then
        the array ends; the outcome is truncated, its hash that of the body."""
        status, headers, elements, raw, _, _ = self.post_array(
            provider, "Say hello. [upstream:cut events=4 tokens=5 bytes=25]")
        self.assertEqual(status, 200, raw)
        self.assertIsInstance(elements, list, raw)
        self.check_stream_error("gemini", as_events(elements))
        err = elements[-1]["error"]
        self.assertEqual(set(err), {"code", "message", "status"}, err)
        self.assertIsInstance(err["code"], int, err)
        o = self.sealed_hash(headers, raw)
        self.assertEqual(o["status"], "truncated", o)
        self.assertIsNone(o.get("usage"), "a truncated stream's usage is unknown, never zero")

        # Cut before any output: the lane's only candidate failed, and the
        # client gets a plain JSON error, not an array.
        status, headers, _, raw, _, _ = self.post_array(provider, "Hi. [upstream:cut events=0]")
        self.assertEqual(status, 502, raw)
        err = self.check_error("gemini", status, headers, raw)
        self.assertIn("UPSTREAM_ERROR", err["message"])

    # ---- errors helm makes itself, in each client's shape ------------------------------------

    def helm_error(self, client, body, key=None, content_type="application/json"):
        key = key or self.key
        path = client_path(client, LANE["openai"], False)
        hdrs = dict(client_headers(client, key, True))
        if content_type:
            hdrs["Content-Type"] = content_type
        status, headers, raw = raw_http(self.px.url, "POST", path, json.dumps(body).encode(), hdrs)
        return status, self.check_error(client, status, headers, raw)

    def run_helm_errors(self, client):
        body = build_body(client, LANE["openai"], False, [user_turn(client, "hello")])
        status, err = self.helm_error(client, body, key="hk_not_a_key")
        self.assertEqual(status, 401)
        if client == "anthropic":
            self.assertEqual(err["type"], "authentication_error")
        body = build_body(client, LANE["openai"], False, [user_turn(client, "a forbidden-word")])
        status, err = self.helm_error(client, body)
        self.assertEqual(status, 403)
        self.assertEqual(err["helm"]["reason_code"], "FORBIDDEN_CONTENT")
        if client == "anthropic":
            self.assertEqual(err["type"], "permission_error")
        self.assertEqual(self.up.requests(), [], "nothing reached the upstream")

    def run_helm_415(self, client):
        body = build_body(client, LANE["openai"], False, [user_turn(client, "hello")])
        status, err = self.helm_error(client, body, content_type="text/plain")
        self.assertEqual(status, 415)
        if client == "anthropic":
            self.assertEqual(err["type"], "invalid_request_error", err)
        elif client == "gemini":
            self.assertEqual(err["status"], "INVALID_ARGUMENT", err)
        else:
            self.assertEqual(err["type"], "invalid_request_error", err)

    def run_empty_conversation(self, client, provider):
        """A request with no conversation is refused with 400 in the client's
        shape before any provider sees it (translating to anthropic and gemini
        does; the same-protocol forward leaves it to the provider)."""
        if NATIVE.get(client) == provider:
            self.skipTest("same-protocol forward: the provider judges the request")
        body = build_body(client, LANE[provider], False, [])
        path = client_path(client, LANE[provider], False)
        status, headers, raw = raw_http(self.px.url, "POST", path, json.dumps(body).encode(),
                                        dict(client_headers(client, self.key, True),
                                             **{"Content-Type": "application/json"}))
        self.assertEqual(status, 400, raw)
        self.check_error(client, status, headers, raw)
        self.assertEqual(self.up.requests(), [], "nothing reached the upstream")

    # ---- the ledger --------------------------------------------------------------------------

    def test_zz_ledger_verifies(self):
        """Last (alphabetically): stop the proxy, verify the ledger offline and
        check every ALLOW decision has exactly one outcome."""
        self.px.stop()
        d = self.px.data_dir
        v = run_helm("receipts", "verify", "--data-dir", d,
                     "--trusted-key", os.path.join(d, "keys", "signing.pub"))
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        out = os.path.join(self.tmp, "export.jsonl")
        e = run_helm("receipts", "export", "--data-dir", d, "--out", out)
        self.assertEqual(e.returncode, 0, e.stderr)
        receipts = [json.loads(l) for l in helmtest.read_file(out).splitlines() if l.strip()]
        decisions = [r for r in receipts if r["kind"] == "decision"]
        outcomes = [r for r in receipts if r["kind"] == "outcome"]
        self.assertGreater(len(decisions), 100)
        parents = {}
        for o in outcomes:
            parents[o["parent"]] = parents.get(o["parent"], 0) + 1
        for dcs in decisions:
            n = parents.get(dcs["receipt_id"], 0)
            self.assertEqual(n, 1 if dcs["verdict"] == "ALLOW" else 0, dcs)


def _make_cell(client, provider, mode, scenario):
    def test(self):
        self.run_cell(client, provider, mode, scenario)
    test.__doc__ = "%s client → %s provider, %s, %s" % (client, provider, mode, scenario)
    return test


def _make_slow(client, provider):
    def test(self):
        self.run_slow(client, provider)
    test.__doc__ = "%s client ← slow %s stream arrives incrementally" % (client, provider)
    return test


def _make(method, *args):
    def test(self):
        getattr(self, method)(*args)
    return test


for _p in PROVIDERS:
    # Gemini clients that do not ask for alt=sse (REST clients, curl) get
    # Google's JSON-array framing; a Gemini provider's SSE is re-framed too.
    setattr(ConformanceTest, "test_gemini_array_%s" % _p, _make("run_array", _p))
    setattr(ConformanceTest, "test_gemini_array_slow_%s" % _p, _make("run_array_slow", _p))
    setattr(ConformanceTest, "test_gemini_array_cut_%s" % _p, _make("run_array_cut", _p))

for _c in CLIENTS:
    setattr(ConformanceTest, "test_helm_errors_%s" % _c, _make("run_helm_errors", _c))
    setattr(ConformanceTest, "test_helm_415_%s" % _c, _make("run_helm_415", _c))
    for _p in PROVIDERS:
        setattr(ConformanceTest, "test_empty_conversation_%s_%s" % (_c, _p),
                _make("run_empty_conversation", _c, _p))
        setattr(ConformanceTest, "test_slow_%s_%s" % (_c, _p), _make_slow(_c, _p))
        # Regression: an upstream that ended cleanly without its terminal event
        # reached a translating client as a normal end (stop, end_turn,
        # response.completed with zero usage) while the outcome said truncated.
        setattr(ConformanceTest, "test_nodone_%s_%s" % (_c, _p),
                _make("run_unfinished", _c, _p, "[upstream:nodone]"))
        # Regression: a forwarded stream cut inside an event got the error
        # frame glued onto the partial line (a JSON syntax error for the SDK).
        setattr(ConformanceTest, "test_cut_inside_event_%s_%s" % (_c, _p),
                _make("run_unfinished", _c, _p, "[upstream:cut events=4 tokens=5 bytes=25]"))
        for _m in MODES:
            for _s in SCENARIOS:
                setattr(ConformanceTest, "test_m_%s_%s_%s_%s" % (_c, _p, _m, _s),
                        _make_cell(_c, _p, _m, _s))


if __name__ == "__main__":
    helmtest.main()

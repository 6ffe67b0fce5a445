"""scripts/test_upstream.py tested on its own: the wire shapes of each format
it speaks (OpenAI chat, Anthropic Messages, Gemini), stream and non-stream,
tool calls, usage and a few faults. Needs no helm binary; a `--helm PATH`
argument (passed by ctest) is accepted and ignored."""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import unittest

SCRIPT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                      "scripts", "test_upstream.py"))
ANTHROPIC_HEADERS = {"x-api-key": "sk-ant-provider", "anthropic-version": "2023-06-01"}
GEMINI_HEADERS = {"x-goog-api-key": "AIza-provider"}
WEATHER = {"type": "object", "properties": {"city": {"type": "string"},
                                            "days": {"type": "integer"},
                                            "unit": {"type": "string",
                                                     "enum": ["celsius", "fahrenheit"]}},
           "required": ["city", "unit"]}


class Upstream:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, SCRIPT, "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        line = [None]
        reader = threading.Thread(target=lambda: line.__setitem__(0, self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(10)
        m = re.match(r"LISTENING (\d+)", line[0] or "")
        if not m:
            self.stop()
            raise RuntimeError("test upstream did not start")
        self.port = int(m.group(1))

    def request(self, method, path, body=None, headers=None, timeout=5):
        """(status, headers (lower-case), body bytes); a body read that fails
        (cut connection) gives None as the body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        data = body if isinstance(body, bytes) or body is None else json.dumps(body)
        conn.request(method, path, body=data, headers=hdrs)
        res = conn.getresponse()
        try:
            payload = res.read()
        except (http.client.IncompleteRead, ConnectionError, socket.timeout):
            payload = None
        conn.close()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, payload

    def post(self, path, body, headers=None, **kw):
        return self.request("POST", path, body, headers, **kw)

    def requests(self):
        return json.loads(self.request("GET", "/__requests")[2])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        self.proc.stdout.close()


def sse_events(payload):
    """[(event name or None, data string)] of an SSE body."""
    out = []
    for block in payload.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        out.append((name, "\n".join(data)))
    return out


def anthropic_body(text, stream=False, tools=None, **extra):
    body = {"model": "claude-test", "max_tokens": 64, "stream": stream,
            "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}
    if tools:
        body["tools"] = tools
    body.update(extra)
    return body


def gemini_body(text, tools=None):
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if tools:
        body["tools"] = tools
    return body


GEMINI = "/v1beta/models/gemini-test:generateContent"
GEMINI_STREAM = "/v1beta/models/gemini-test:streamGenerateContent?alt=sse"


class TestUpstreamScript(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream()

    @classmethod
    def tearDownClass(cls):
        cls.up.stop()

    def setUp(self):
        self.up.post("/__reset", b"")

    # ---- OpenAI ---------------------------------------------------------

    def test_openai_json_and_stream(self):
        body = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
        status, _, payload = self.up.post("/v1/chat/completions", body,
                                          {"Authorization": "Bearer sk-provider"})
        self.assertEqual(status, 200)
        answer = json.loads(payload)
        self.assertEqual(answer["choices"][0]["message"]["content"],
                         "Hello from the test upstream.")
        self.assertEqual(answer["usage"]["prompt_tokens"], 5)
        status, headers, payload = self.up.post(
            "/v1/chat/completions", dict(body, stream=True,
                                         stream_options={"include_usage": True}))
        self.assertEqual(headers["content-type"], "text/event-stream")
        events = sse_events(payload)
        self.assertEqual(events[-1], (None, "[DONE]"))
        chunks = [json.loads(d) for _, d in events[:-1]]
        self.assertEqual(chunks[0]["choices"][0]["delta"]["role"], "assistant")
        text = "".join(c["choices"][0]["delta"].get("content") or ""
                       for c in chunks if c["choices"])
        self.assertEqual(text, "Hello from the test upstream.")
        self.assertEqual(chunks[-1]["choices"], [])
        self.assertEqual(chunks[-1]["usage"]["total_tokens"], 10)
        recorded = self.up.requests()
        self.assertEqual([r["format"] for r in recorded], ["openai", "openai"])
        self.assertEqual(recorded[0]["api_key"], "sk-provider")

    def test_openai_tool_call_stream(self):
        body = {"model": "gpt-test", "stream": True,
                "messages": [{"role": "user", "content": "weather? [upstream:tool]"}],
                "tools": [{"type": "function",
                           "function": {"name": "get_weather", "parameters": WEATHER}}]}
        _, _, payload = self.up.post("/v1/chat/completions", body)
        chunks = [json.loads(d) for _, d in sse_events(payload)[:-1]]
        fragments = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])]
        self.assertEqual(fragments[0]["function"]["name"], "get_weather")
        self.assertTrue(fragments[0]["id"].startswith("call_test_"))
        self.assertGreater(len(fragments), 2)
        args = "".join(f["function"]["arguments"] for f in fragments)
        self.assertEqual(json.loads(args), {"city": "test", "unit": "celsius"})
        self.assertEqual(chunks[-1]["choices"][0]["finish_reason"], "tool_calls")
        # after the tool result the model answers in text
        body["messages"] += [{"role": "assistant", "content": None, "tool_calls": [
            {"id": fragments[0]["id"], "type": "function",
             "function": {"name": "get_weather", "arguments": args}}]},
            {"role": "tool", "tool_call_id": fragments[0]["id"], "content": "sunny"}]
        _, _, payload = self.up.post("/v1/chat/completions", dict(body, stream=False))
        answer = json.loads(payload)
        self.assertEqual(answer["choices"][0]["finish_reason"], "stop")
        self.assertNotIn("tool_calls", answer["choices"][0]["message"])

    def test_cut_inside_an_event(self):
        body = {"model": "gpt-test", "stream": True,
                "messages": [{"role": "user", "content": "hi [upstream:cut events=1 bytes=20]"}]}
        conn = http.client.HTTPConnection("127.0.0.1", self.up.port, timeout=5)
        conn.request("POST", "/v1/chat/completions", body=json.dumps(body),
                     headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        with self.assertRaises(http.client.IncompleteRead) as cm:
            res.read()
        conn.close()
        received = cm.exception.partial.decode()
        first, _, rest = received.partition("\n\n")
        self.assertTrue(first.startswith("data: {"), received)
        self.assertEqual(len(rest), 20, received)
        self.assertTrue(rest.startswith("data: {"), received)

    # ---- Anthropic ------------------------------------------------------

    def test_anthropic_message(self):
        status, _, payload = self.up.post(
            "/v1/messages", anthropic_body("hi [upstream:json cached_tokens=3 prompt_tokens=10]"),
            ANTHROPIC_HEADERS)
        self.assertEqual(status, 200)
        msg = json.loads(payload)
        self.assertEqual(msg["type"], "message")
        self.assertEqual(msg["role"], "assistant")
        self.assertEqual(msg["model"], "claude-test")
        self.assertEqual(msg["content"], [{"type": "text",
                                           "text": "Hello from the test upstream."}])
        self.assertEqual(msg["stop_reason"], "end_turn")
        self.assertEqual(msg["usage"], {"input_tokens": 7, "output_tokens": 5,
                                        "cache_read_input_tokens": 3,
                                        "cache_creation_input_tokens": 0})
        recorded = self.up.requests()[-1]
        self.assertEqual(recorded["format"], "anthropic")
        self.assertEqual(recorded["api_key"], "sk-ant-provider")
        self.assertEqual(recorded["headers"]["anthropic-version"], "2023-06-01")
        self.assertEqual(recorded["json"]["max_tokens"], 64)

    def test_anthropic_stream_text(self):
        status, headers, payload = self.up.post(
            "/v1/messages", anthropic_body("hi", stream=True), ANTHROPIC_HEADERS)
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/event-stream")
        events = sse_events(payload)
        names = [n for n, _ in events]
        self.assertEqual(names[:3], ["message_start", "content_block_start", "ping"])
        self.assertEqual(names[-4:], ["content_block_delta", "content_block_stop",
                                      "message_delta", "message_stop"])
        data = [json.loads(d) for _, d in events]
        for name, obj in zip(names, data):
            self.assertEqual(obj["type"], name)
        self.assertEqual(data[0]["message"]["usage"]["input_tokens"], 5)
        text = "".join(d["delta"]["text"] for d in data if d["type"] == "content_block_delta")
        self.assertEqual(text, "Hello from the test upstream.")
        self.assertEqual(data[-2]["delta"]["stop_reason"], "end_turn")
        self.assertEqual(data[-2]["usage"]["output_tokens"], 5)

    def test_anthropic_stream_tool_use(self):
        tools = [{"name": "get_weather", "input_schema": WEATHER}]
        _, _, payload = self.up.post(
            "/v1/messages",
            anthropic_body("weather? [upstream:tool]", stream=True, tools=tools,
                           system="be brief"),
            ANTHROPIC_HEADERS)
        data = [json.loads(d) for _, d in sse_events(payload)]
        start = next(d for d in data if d["type"] == "content_block_start")
        self.assertEqual(start["index"], 0)
        self.assertEqual(start["content_block"]["type"], "tool_use")
        self.assertEqual(start["content_block"]["name"], "get_weather")
        self.assertTrue(start["content_block"]["id"].startswith("toolu_test_"))
        deltas = [d["delta"] for d in data if d["type"] == "content_block_delta"]
        self.assertGreater(len(deltas), 2)
        self.assertTrue(all(d["type"] == "input_json_delta" for d in deltas))
        self.assertEqual(json.loads("".join(d["partial_json"] for d in deltas)),
                         {"city": "test", "unit": "celsius"})
        self.assertEqual(next(d for d in data if d["type"] == "message_delta")
                         ["delta"]["stop_reason"], "tool_use")
        # non-stream, two calls, and text first when the step gives one
        self.up.post("/__script", [{"behaviour": "tool", "calls": 2, "text": "Let me check."}])
        _, _, payload = self.up.post("/v1/messages", anthropic_body("again", tools=tools),
                                     ANTHROPIC_HEADERS)
        msg = json.loads(payload)
        self.assertEqual([b["type"] for b in msg["content"]], ["text", "tool_use", "tool_use"])
        self.assertEqual(msg["content"][1]["input"], {"city": "test", "unit": "celsius"})
        self.assertEqual(msg["stop_reason"], "tool_use")

    def test_anthropic_auth_and_errors(self):
        status, _, payload = self.up.post("/v1/messages", anthropic_body("hi"),
                                          {"anthropic-version": "2023-06-01"})
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(payload)["error"]["type"], "authentication_error")
        status, _, payload = self.up.post("/v1/messages", anthropic_body("hi"),
                                          {"x-api-key": "k"})
        self.assertEqual(status, 400)
        body = anthropic_body("hi")
        del body["max_tokens"]
        status, _, payload = self.up.post("/v1/messages", body, ANTHROPIC_HEADERS)
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(payload), {"type": "error", "error": {
            "type": "invalid_request_error", "message": "max_tokens: Field required"}})
        for directive, code, kind in [("429 retry_after=7", 429, "rate_limit_error"),
                                      ("500", 500, "api_error"),
                                      ("529", 529, "overloaded_error"),
                                      ("400", 400, "invalid_request_error")]:
            status, headers, payload = self.up.post(
                "/v1/messages", anthropic_body("[upstream:%s]" % directive), ANTHROPIC_HEADERS)
            self.assertEqual(status, code)
            err = json.loads(payload)
            self.assertEqual(err["type"], "error")
            self.assertEqual(err["error"]["type"], kind)
            if code == 429:
                self.assertEqual(headers["retry-after"], "7")
        self.assertEqual([r["behaviour"] for r in self.up.requests()[:3]],
                         ["auth_error", "invalid_request", "invalid_request"])

    def test_anthropic_stream_faults(self):
        _, _, payload = self.up.post("/v1/messages",
                                     anthropic_body("[upstream:inband_error]", stream=True),
                                     ANTHROPIC_HEADERS)
        events = sse_events(payload)
        self.assertEqual([n for n, _ in events], ["message_start", "content_block_start",
                                                  "error"])
        self.assertEqual(json.loads(events[-1][1])["error"]["type"], "overloaded_error")
        _, _, payload = self.up.post("/v1/messages",
                                     anthropic_body("[upstream:nodone]", stream=True),
                                     ANTHROPIC_HEADERS)
        self.assertEqual(sse_events(payload)[-1][0], "message_delta")
        status, _, payload = self.up.post("/v1/messages",
                                          anthropic_body("[upstream:cut events=2]", stream=True),
                                          ANTHROPIC_HEADERS)
        self.assertEqual(status, 200)
        self.assertIsNone(payload)

    # ---- Gemini ---------------------------------------------------------

    def test_gemini_generate_content(self):
        status, _, payload = self.up.post(GEMINI, gemini_body("hi"), GEMINI_HEADERS)
        self.assertEqual(status, 200)
        res = json.loads(payload)
        cand = res["candidates"][0]
        self.assertEqual(cand["content"], {"role": "model", "parts": [
            {"text": "Hello from the test upstream."}]})
        self.assertEqual(cand["finishReason"], "STOP")
        self.assertEqual(res["usageMetadata"], {"promptTokenCount": 5, "candidatesTokenCount": 5,
                                                "totalTokenCount": 10,
                                                "cachedContentTokenCount": 0})
        self.assertEqual(res["modelVersion"], "gemini-test")
        # the key may come as ?key= instead
        status, _, _ = self.up.post(GEMINI + "?key=AIza-query", gemini_body("hi"))
        self.assertEqual(status, 200)
        recorded = self.up.requests()
        self.assertEqual([r["format"] for r in recorded], ["gemini", "gemini"])
        self.assertEqual([r["api_key"] for r in recorded], ["AIza-provider", "AIza-query"])

    def test_gemini_stream_text(self):
        status, headers, payload = self.up.post(
            GEMINI_STREAM, gemini_body("hi [upstream:sse tokens=3 cached_tokens=2]"),
            GEMINI_HEADERS)
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/event-stream")
        events = sse_events(payload)
        self.assertTrue(all(name is None for name, _ in events))
        frames = [json.loads(d) for _, d in events]
        self.assertEqual(len(frames), 3)
        texts = [f["candidates"][0]["content"]["parts"][0]["text"] for f in frames]
        self.assertEqual("".join(texts), "Hello from the test upstream.")  # increments
        self.assertNotIn("finishReason", frames[0]["candidates"][0])
        self.assertNotIn("usageMetadata", frames[0])
        self.assertEqual(frames[-1]["candidates"][0]["finishReason"], "STOP")
        self.assertEqual(frames[-1]["usageMetadata"]["cachedContentTokenCount"], 2)
        self.assertEqual(frames[-1]["usageMetadata"]["promptTokenCount"], 5)

    def test_gemini_function_call(self):
        tools = [{"functionDeclarations": [{"name": "get_weather", "parameters": {
            "type": "OBJECT", "properties": {"city": {"type": "STRING"}},
            "required": ["city"]}}]}]
        _, _, payload = self.up.post(GEMINI_STREAM, gemini_body("w [upstream:tool]", tools),
                                     GEMINI_HEADERS)
        frames = [json.loads(d) for _, d in sse_events(payload)]
        self.assertEqual(len(frames), 1)
        self.assertEqual(frames[0]["candidates"][0]["content"]["parts"],
                         [{"functionCall": {"name": "get_weather", "args": {"city": "test"}}}])
        self.assertEqual(frames[0]["candidates"][0]["finishReason"], "STOP")
        # a function response last: text again
        body = gemini_body("w [upstream:tool]", tools)
        body["contents"] += [
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather",
                                                          "args": {"city": "test"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather",
                                                             "response": {"t": 20}}}]}]
        _, _, payload = self.up.post(GEMINI, body, GEMINI_HEADERS)
        self.assertEqual(json.loads(payload)["candidates"][0]["content"]["parts"],
                         [{"text": "Hello from the test upstream."}])

    def test_gemini_auth_and_errors(self):
        status, _, payload = self.up.post(GEMINI, gemini_body("hi"))
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(payload)["error"]["status"], "PERMISSION_DENIED")
        for directive, code, kind in [("429 retry_after=4", 429, "RESOURCE_EXHAUSTED"),
                                      ("500", 500, "INTERNAL"),
                                      ("503", 503, "UNAVAILABLE"),
                                      ("400", 400, "INVALID_ARGUMENT")]:
            status, headers, payload = self.up.post(
                GEMINI, gemini_body("[upstream:%s]" % directive), GEMINI_HEADERS)
            self.assertEqual(status, code)
            err = json.loads(payload)["error"]
            self.assertEqual((err["code"], err["status"]), (code, kind))
            if code == 429:
                self.assertEqual(headers["retry-after"], "4")

    def test_gemini_stream_faults(self):
        self.up.post("/__script", ["nodone", {"behaviour": "inband_error", "events": 1},
                                   {"behaviour": "stall", "events": 1}])
        _, _, payload = self.up.post(GEMINI_STREAM, gemini_body("hi"), GEMINI_HEADERS)
        frames = [json.loads(d) for _, d in sse_events(payload)]
        self.assertTrue(frames)
        self.assertFalse(any("finishReason" in f["candidates"][0] for f in frames))
        _, _, payload = self.up.post(GEMINI_STREAM, gemini_body("hi"), GEMINI_HEADERS)
        frames = [json.loads(d) for _, d in sse_events(payload)]
        self.assertEqual(len(frames), 2)
        self.assertEqual(frames[1]["error"]["code"], 500)
        status, _, payload = self.up.post(GEMINI_STREAM, gemini_body("hi"), GEMINI_HEADERS,
                                          timeout=0.5)
        self.assertEqual(status, 200)
        self.assertIsNone(payload)
        self.assertEqual([r["behaviour"] for r in self.up.requests()],
                         ["nodone", "inband_error", "stall"])

    def test_gemini_json_array_stream(self):
        _, headers, payload = self.up.post(
            "/v1beta/models/gemini-test:streamGenerateContent", gemini_body("hi"),
            GEMINI_HEADERS)
        self.assertEqual(headers["content-type"], "application/json")
        frames = json.loads(payload)
        self.assertEqual("".join(f["candidates"][0]["content"]["parts"][0]["text"]
                                 for f in frames), "Hello from the test upstream.")
        self.assertEqual(frames[-1]["candidates"][0]["finishReason"], "STOP")

    def test_unknown_paths(self):
        status, _, payload = self.up.post("/v1beta/models/g:countTokens", gemini_body("x"),
                                          GEMINI_HEADERS)
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(payload)["error"]["status"], "NOT_FOUND")
        status, _, payload = self.up.post("/v2/nothing", {})
        self.assertEqual(status, 404)
        self.assertIn("message", json.loads(payload)["error"])
        self.assertEqual(len(self.up.requests()), 2)


if __name__ == "__main__":
    if "--helm" in sys.argv:  # ctest passes the helm binary; not needed here
        i = sys.argv.index("--helm")
        del sys.argv[i:i + 2]
    unittest.main()

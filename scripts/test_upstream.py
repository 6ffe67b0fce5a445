#!/usr/bin/env python3
"""A scripted OpenAI-compatible upstream for integration tests.

Python 3 standard library only. HTTP/1.1 with keep-alive; streams are sent
with chunked transfer encoding as Server-Sent Events.

Paths: POST /v1/chat/completions, /v1/completions, /v1/embeddings;
GET /v1/models, /v1/models/{id}. Every request to them is recorded.

How the behaviour of a request is chosen, first match wins:
  1. the next step of the script queue (POST /__script), consumed in order;
  2. a directive in the last user message (or the prompt):
     "[upstream:NAME key=value ...]", e.g. "[upstream:cut events=2]";
  3. "sse" when the request has "stream": true, else "json".

Behaviours: json, sse, 429, 500, 503, 400, hang, cut, slow, html200,
stall, nodone, badjson, inband_error. Parameters (script step members or
directive key=value): retry_after (429/503; seconds or an HTTP date),
events (cut/stall: events sent first), tokens (content pieces), delay_ms
(slow: pause per piece), text (the answer), status (with "json": the
status to send with the JSON body).

Control API (not recorded):
  POST /__script   body: a JSON list of steps; each a behaviour name or an
                   object {"behaviour": NAME, ...parameters}; appended to the
                   queue. Answers {"queued": N}.
  GET  /__requests the recorded requests: [{method, path, headers, body,
                   json, behaviour}], headers with lower-case names.
  POST /__reset    clears the recorded requests and the queue.
  GET  /__health   {"ok": true}

Usage: python3 scripts/test_upstream.py [--host 127.0.0.1] [--port N]
The first line on stdout is "LISTENING <port>" (port 0 picks a free one).
See docs/testing.md.
"""

import argparse
import hashlib
import json
import re
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIRECTIVE = re.compile(r"\[upstream:([A-Za-z0-9_]+)((?:\s+[A-Za-z_]+=[^\s\]]+)*)\s*\]")
DEFAULT_TEXT = "Hello from the test upstream."
CREATED = 1700000000
BEHAVIOURS = {"json", "sse", "429", "500", "503", "400", "hang", "cut", "slow",
              "html200", "stall", "nodone", "badjson", "inband_error"}


class State:
    """Recorded requests and the script queue, shared by all handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.queue = []
        self.stopping = threading.Event()

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)

    def next_step(self):
        with self.lock:
            return self.queue.pop(0) if self.queue else None


STATE = State()


def last_user_text(body):
    if not isinstance(body, dict):
        return ""
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return prompt
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content
                                if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def directive_step(body):
    match = DIRECTIVE.search(last_user_text(body))
    if not match:
        return None
    step = {"behaviour": match.group(1)}
    for pair in match.group(2).split():
        key, _, value = pair.partition("=")
        step[key] = value
    return step


def normalise_step(step):
    if isinstance(step, (str, int)):
        return {"behaviour": str(step)}
    if isinstance(step, dict) and "behaviour" in step:
        out = dict(step)
        out["behaviour"] = str(out["behaviour"])
        return out
    raise ValueError("a step is a behaviour name or an object with a 'behaviour' member")


def int_param(step, key, default):
    try:
        return int(step.get(key, default))
    except (TypeError, ValueError):
        return default


def request_id(body_bytes):
    return hashlib.sha256(body_bytes).hexdigest()[:16]


def chat_chunks(body, step, rid):
    """The JSON objects of a chat.completion.chunk stream (without [DONE])."""
    model = body.get("model", "test-model") if isinstance(body, dict) else "test-model"
    text = step.get("text", DEFAULT_TEXT)
    words = text.split(" ")
    n = max(1, int_param(step, "tokens", len(words)))
    while len(words) < n:
        words.append("more")
    pieces = []
    for i in range(n):
        group = words[i * len(words) // n:(i + 1) * len(words) // n]
        pieces.append((" " if i else "") + " ".join(group))
    base = {"id": "chatcmpl-test-" + rid, "object": "chat.completion.chunk",
            "created": CREATED, "model": model}

    def chunk(delta, finish=None):
        return dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish}])

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": p}) for p in pieces]
    out.append(chunk({}, "stop"))
    stream_options = body.get("stream_options") if isinstance(body, dict) else None
    if isinstance(stream_options, dict) and stream_options.get("include_usage"):
        usage = {"prompt_tokens": 5, "completion_tokens": len(text.split()),
                 "total_tokens": 5 + len(text.split())}
        out.append(dict(base, choices=[], usage=usage))
    return out


def completion_chunks(body, step, rid):
    text = step.get("text", DEFAULT_TEXT)
    base = {"id": "cmpl-test-" + rid, "object": "text_completion", "created": CREATED,
            "model": body.get("model", "test-model") if isinstance(body, dict) else "test-model"}
    words = text.split(" ")
    out = [dict(base, choices=[{"text": (" " if i else "") + w, "index": 0,
                                "logprobs": None, "finish_reason": None}])
           for i, w in enumerate(words)]
    out.append(dict(base, choices=[{"text": "", "index": 0, "logprobs": None,
                                    "finish_reason": "stop"}]))
    return out


def json_answer(path, body, step, rid):
    text = step.get("text", DEFAULT_TEXT)
    model = body.get("model", "test-model") if isinstance(body, dict) else "test-model"
    usage = {"prompt_tokens": 5, "completion_tokens": len(text.split()),
             "total_tokens": 5 + len(text.split())}
    if path == "/v1/embeddings":
        inputs = body.get("input") if isinstance(body, dict) else None
        count = len(inputs) if isinstance(inputs, list) and inputs and \
            not isinstance(inputs[0], int) else 1
        data = [{"object": "embedding", "index": i,
                 "embedding": [round(0.125 * (j + 1) * (1 if i % 2 == 0 else -1), 6)
                               for j in range(8)]} for i in range(count)]
        return {"object": "list", "data": data, "model": model,
                "usage": {"prompt_tokens": 5, "total_tokens": 5}}
    if path == "/v1/completions":
        return {"id": "cmpl-test-" + rid, "object": "text_completion", "created": CREATED,
                "model": model, "usage": usage,
                "choices": [{"text": text, "index": 0, "logprobs": None,
                             "finish_reason": "stop"}]}
    return {"id": "chatcmpl-test-" + rid, "object": "chat.completion", "created": CREATED,
            "model": model, "usage": usage,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}]}


def error_body(status, message):
    kind = {400: "invalid_request_error", 404: "invalid_request_error",
            429: "rate_limit_error"}.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "helm-test-upstream/1"

    def log_message(self, fmt, *args):  # quiet: tests read /__requests instead
        pass

    # ---- plumbing -------------------------------------------------------

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_json(self, status, obj, extra_headers=()):
        payload = json.dumps(obj).encode()
        self.send_raw(status, "application/json", payload, extra_headers)

    def send_raw(self, status, content_type, payload, extra_headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def write_chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def cut_connection(self):
        """Closes the TCP connection with no terminating chunk."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def wait_silently(self):
        """Holds the connection open, sending nothing, until the peer closes
        it or the server stops."""
        self.close_connection = True
        while not STATE.stopping.is_set():
            try:
                readable, _, _ = select.select([self.connection], [], [], 0.2)
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    return
            except OSError:
                return

    # ---- routing --------------------------------------------------------

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/__requests":
            with STATE.lock:
                recorded = list(STATE.requests)
            return self.send_json(200, recorded)
        if path == "/__health":
            return self.send_json(200, {"ok": True})
        self.handle_api(b"")

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        raw = self.read_body()
        if path == "/__reset":
            with STATE.lock:
                STATE.requests.clear()
                STATE.queue.clear()
            return self.send_json(200, {"ok": True})
        if path == "/__script":
            try:
                steps = [normalise_step(s) for s in json.loads(raw or b"[]")]
            except (ValueError, TypeError) as e:
                return self.send_json(400, error_body(400, "bad script: %s" % e))
            with STATE.lock:
                STATE.queue.extend(steps)
                queued = len(STATE.queue)
            return self.send_json(200, {"queued": queued})
        self.handle_api(raw)

    def handle_api(self, raw):
        path = self.path.split("?", 1)[0]
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        known = {"/v1/chat/completions", "/v1/completions", "/v1/embeddings"}
        is_models = self.command == "GET" and (path == "/v1/models" or
                                               path.startswith("/v1/models/"))
        step = None
        if not is_models and self.command == "POST" and path in known:
            step = STATE.next_step() or directive_step(body)
            if step is None:
                wants_stream = isinstance(body, dict) and body.get("stream") is True
                step = {"behaviour": "sse" if wants_stream else "json"}
        STATE.record({"method": self.command, "path": self.path,
                      "headers": {k.lower(): v for k, v in self.headers.items()},
                      "body": raw.decode("utf-8", "replace"), "json": body,
                      "behaviour": step["behaviour"] if step else None})
        if is_models:
            return self.send_models(path)
        if step is None:
            return self.send_json(404, error_body(404, "Unknown request URL: %s %s"
                                                  % (self.command, path)))
        if body is None and step["behaviour"] in ("json", "sse", "slow"):
            return self.send_json(400, error_body(400, "invalid JSON body"))
        self.play(path, body if isinstance(body, dict) else {}, step, request_id(raw))

    def send_models(self, path):
        def model(mid):
            return {"id": mid, "object": "model", "created": CREATED, "owned_by": "test"}
        if path.startswith("/v1/models/"):
            return self.send_json(200, model(path[len("/v1/models/"):]))
        return self.send_json(200, {"object": "list",
                                    "data": [model("test-model"), model("test-model-2")]})

    # ---- behaviours -----------------------------------------------------

    def play(self, path, body, step, rid):
        name = step["behaviour"]
        if name not in BEHAVIOURS:
            return self.send_json(400, error_body(400, "unknown behaviour %r" % name))
        if name in ("429", "503"):
            retry = str(step.get("retry_after", "1"))
            message = "rate limited" if name == "429" else "overloaded"
            return self.send_json(int(name), error_body(int(name), message),
                                  [("Retry-After", retry)])
        if name in ("500", "400"):
            message = "internal error" if name == "500" else "invalid request"
            return self.send_json(int(name), error_body(int(name), message))
        if name == "html200":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return self.send_raw(200, "text/html", page)
        if name == "hang":
            return self.wait_silently()
        if name == "json" or path == "/v1/embeddings":
            return self.send_json(int_param(step, "status", 200),
                                  json_answer(path, body, step, rid))
        self.play_stream(path, body, step, rid)

    def play_stream(self, path, body, step, rid):
        name = step["behaviour"]
        chunks = completion_chunks(body, step, rid) if path == "/v1/completions" \
            else chat_chunks(body, step, rid)
        frames = ["data: %s\n\n" % json.dumps(c) for c in chunks]
        if name == "badjson":
            frames.insert(1, "data: {\"choices\": [oops\n\n")
        if name == "inband_error":
            err = error_body(500, "upstream failed mid-stream")
            frames = frames[:2] + ["data: %s\n\n" % json.dumps(err)]
        if name != "nodone":
            frames.append("data: [DONE]\n\n")
        events = int_param(step, "events", 1)
        delay = int_param(step, "delay_ms", 100 if name == "slow" else 0) / 1000.0
        self.start_stream()
        try:
            for i, frame in enumerate(frames):
                if name == "cut" and i == events:
                    return self.cut_connection()
                if name == "stall" and i == events:
                    return self.wait_silently()
                if delay and i > 0:
                    time.sleep(delay)
                self.write_chunk(frame)
            self.end_stream()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def main():
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible test upstream")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print("LISTENING %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        STATE.stopping.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

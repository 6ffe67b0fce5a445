#!/usr/bin/env python3
"""A scripted test upstream for integration tests, speaking the OpenAI,
Anthropic Messages and Gemini wire formats.

Python 3 standard library only. HTTP/1.1 with keep-alive; streams are sent
with chunked transfer encoding as Server-Sent Events.

Paths (every request to them is recorded):
  OpenAI     POST /v1/chat/completions, /v1/completions, /v1/embeddings;
             GET /v1/models, /v1/models/{id}
  Anthropic  POST /v1/messages (needs x-api-key and anthropic-version)
  Gemini     POST /v1beta/models/{model}:generateContent and
             :streamGenerateContent (?alt=sse for SSE framing, else a JSON
             array); needs x-goog-api-key or ?key=

How the behaviour of a request is chosen, first match wins:
  1. the next step of the script queue (POST /__script), consumed in order;
  2. a directive in the last user text (OpenAI: last user message or the
     prompt; Anthropic: text blocks of the last user message that has text;
     Gemini: text parts of the last user content that has text):
     "[upstream:NAME key=value ...]", e.g. "[upstream:cut events=2]";
  3. "sse" for a streaming request, else "json".

Behaviours: json, sse, tool, 429, 500, 503, 529, 400, hang, cut, slow,
html200, stall, nodone, badjson, inband_error. Parameters (script step
members or directive key=value): retry_after (429/503; seconds or an HTTP
date), events (cut/stall/inband_error: events sent first), bytes (cut: the
first bytes of the next event, sent before the cut), tokens (content
pieces), delay_ms (slow: pause per piece), text (the answer), status (with
"json": the status to send with the JSON body), tool (any truthy value: a
tool-call answer, as the "tool" behaviour), name, args, calls (tool calls),
finish (length), prompt_tokens, cached_tokens, cache_write_tokens,
output_tokens (usage). See docs/testing.md.

Control API (not recorded):
  POST /__script   body: a JSON list of steps; each a behaviour name or an
                   object {"behaviour": NAME, ...parameters}; appended to the
                   queue. Answers {"queued": N}.
  GET  /__requests the recorded requests: [{method, path, headers, body,
                   json, behaviour, format, api_key}], headers with
                   lower-case names.
  POST /__reset    clears the recorded requests and the queue.
  GET  /__health   {"ok": true}

Usage: python3 scripts/test_upstream.py [--host 127.0.0.1] [--port N]
The first line on stdout is "LISTENING <port>" (port 0 picks a free one).
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
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIRECTIVE = re.compile(r"\[upstream:([A-Za-z0-9_]+)((?:\s+[A-Za-z_]+=[^\s\]]+)*)\s*\]")
GEMINI_PATH = re.compile(r"^/(v1beta|v1|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)$")
DEFAULT_TEXT = "Hello from the test upstream."
CREATED = 1700000000
BEHAVIOURS = {"json", "sse", "tool", "429", "500", "503", "529", "400", "hang", "cut",
              "slow", "html200", "stall", "nodone", "badjson", "inband_error"}
OPENAI_PATHS = {"/v1/chat/completions", "/v1/completions", "/v1/embeddings"}
TOOL_OUTPUT_TOKENS = 8  # usage output tokens per tool call


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


# ---- request inspection ----------------------------------------------------

def text_of_blocks(content, kind_key="type"):
    """The text of a message content: a string, or the joined text blocks of a
    list (OpenAI parts / Anthropic blocks / Gemini parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p["text"] for p in content
                        if isinstance(p, dict) and isinstance(p.get("text"), str)
                        and p.get(kind_key, "text") == "text")
    return ""


def last_user_text(fmt, body):
    if not isinstance(body, dict):
        return ""
    if fmt == "gemini":
        contents = body.get("contents")
        if not isinstance(contents, list):
            return ""
        for content in reversed(contents):
            if isinstance(content, dict) and content.get("role", "user") == "user":
                parts = content.get("parts")
                if isinstance(parts, list):
                    text = " ".join(p["text"] for p in parts
                                    if isinstance(p, dict) and isinstance(p.get("text"), str))
                    if text:
                        return text
        return ""
    prompt = body.get("prompt")
    if fmt == "openai" and isinstance(prompt, str):
        return prompt
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            text = text_of_blocks(message.get("content"))
            # OpenAI: the last user message, as it always was. Anthropic: the
            # last user message with text (tool results ride in user turns).
            if fmt == "openai" or text:
                return text
    return ""


def directive_step(fmt, body):
    match = DIRECTIVE.search(last_user_text(fmt, body))
    if not match:
        return None
    step = {"behaviour": match.group(1)}
    for pair in match.group(2).split():
        key, _, value = pair.partition("=")
        step[key] = value
    return step


def declared_tools(fmt, body):
    """[(name, JSON schema of the arguments)] in declaration order."""
    tools = body.get("tools") if isinstance(body, dict) else None
    out = []
    if not isinstance(tools, list):
        return out
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        if fmt == "openai":
            fn = tool.get("function")
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                out.append((fn["name"], fn.get("parameters")))
        elif fmt == "anthropic":
            if isinstance(tool.get("name"), str):
                out.append((tool["name"], tool.get("input_schema")))
        else:
            decls = tool.get("functionDeclarations", tool.get("function_declarations"))
            for decl in decls if isinstance(decls, list) else []:
                if isinstance(decl, dict) and isinstance(decl.get("name"), str):
                    out.append((decl["name"], decl.get("parameters",
                                                       decl.get("parametersJsonSchema"))))
    return out


def ends_with_tool_result(fmt, body):
    """True when the conversation's last turn carries tool results: the
    model has called its tool already and now answers in text."""
    if not isinstance(body, dict):
        return False
    if fmt == "gemini":
        contents = body.get("contents")
        last = contents[-1] if isinstance(contents, list) and contents else None
        parts = last.get("parts") if isinstance(last, dict) else None
        return isinstance(parts, list) and any(
            isinstance(p, dict) and ("functionResponse" in p or "function_response" in p)
            for p in parts)
    messages = body.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    if not isinstance(last, dict):
        return False
    if fmt == "openai":
        return last.get("role") in ("tool", "function")
    content = last.get("content")
    return last.get("role") == "user" and isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content)


def sample_value(schema, depth=0):
    """A deterministic value that satisfies a (simple) JSON schema."""
    if not isinstance(schema, dict) or depth > 6:
        return "test"
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "string")
    kind = str(kind or ("object" if "properties" in schema else "string")).lower()
    if kind == "object":
        props = schema.get("properties")
        if not isinstance(props, dict):
            return {}
        required = schema.get("required")
        names = [n for n in props if n in required] if isinstance(required, list) \
            else list(props)
        return {n: sample_value(props[n], depth + 1) for n in names}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    return "test"


def truthy(value):
    return value not in (None, False, 0, "", "0", "false", "no")


def int_param(step, key, default):
    try:
        return int(step.get(key, default))
    except (TypeError, ValueError):
        return default


def request_id(body_bytes):
    return hashlib.sha256(body_bytes).hexdigest()[:16]


# ---- the answer, independent of the wire format ----------------------------

def split_pieces(text, count):
    """The text in `count` pieces (words grouped; padded with "more")."""
    words = text.split(" ")
    n = max(1, count)
    while len(words) < n:
        words.append("more")
    pieces = []
    for i in range(n):
        group = words[i * len(words) // n:(i + 1) * len(words) // n]
        pieces.append((" " if i else "") + " ".join(group))
    return pieces


def split_string(s, count):
    """A string in at most `count` non-empty fragments."""
    n = max(1, min(count, len(s)))
    return [s[i * len(s) // n:(i + 1) * len(s) // n] for i in range(n)] if s else [""]


class Answer:
    """What the model says: text and/or tool calls, finish and usage."""

    def __init__(self, fmt, body, step, rid, model):
        self.model = model
        self.rid = rid
        text = step.get("text", DEFAULT_TEXT)
        self.calls = []  # [(id, name, args object, args JSON)]
        if (step["behaviour"] == "tool" or truthy(step.get("tool"))) and \
                not ends_with_tool_result(fmt, body):
            self.calls = self.tool_calls(fmt, body, step, rid)
        self.text = None if self.calls and "text" not in step else str(text)
        words = self.text.split() if self.text is not None else []
        self.pieces = split_pieces(self.text, int_param(step, "tokens", len(self.text.split(" ")))) \
            if self.text is not None else []
        if self.calls:
            self.finish = "tool"
        elif str(step.get("finish", "")).lower() in ("length", "max_tokens"):
            self.finish = "length"
        else:
            self.finish = "stop"
        self.cached = max(0, int_param(step, "cached_tokens", 0))
        self.cache_write = max(0, int_param(step, "cache_write_tokens", 0))
        self.prompt = max(int_param(step, "prompt_tokens", 5), self.cached + self.cache_write)
        self.output = int_param(step, "output_tokens",
                                len(words) + TOOL_OUTPUT_TOKENS * len(self.calls))

    @staticmethod
    def tool_calls(fmt, body, step, rid):
        tools = declared_tools(fmt, body)
        name = step.get("name")
        if not tools and not name:
            return []
        args = step.get("args")
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                args = None
        calls = []
        for i in range(max(1, int_param(step, "calls", 1))):
            tool_name, schema = (name, dict(tools).get(name)) if name else tools[i % len(tools)]
            value = args if isinstance(args, dict) else sample_value(schema)
            if not isinstance(value, dict):
                value = {}
            prefix = {"openai": "call_test_", "anthropic": "toolu_test_"}.get(fmt, "")
            calls.append((prefix + rid + "_%d" % i, tool_name, value,
                          json.dumps(value, separators=(",", ":"))))
        return calls


def model_of(body):
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) and model else "test-model"


# ---- OpenAI ----------------------------------------------------------------

def openai_usage(a):
    usage = {"prompt_tokens": a.prompt, "completion_tokens": a.output,
             "total_tokens": a.prompt + a.output}
    if a.cached:
        usage["prompt_tokens_details"] = {"cached_tokens": a.cached}
    return usage


OPENAI_FINISH = {"stop": "stop", "length": "length", "tool": "tool_calls"}


def chat_chunks(body, a):
    """The JSON objects of a chat.completion.chunk stream (without [DONE])."""
    base = {"id": "chatcmpl-test-" + a.rid, "object": "chat.completion.chunk",
            "created": CREATED, "model": a.model}

    def chunk(delta, finish=None):
        return dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish}])

    out = [chunk({"role": "assistant", "content": "" if a.text is not None else None})]
    out += [chunk({"content": p}) for p in a.pieces]
    for i, (cid, name, _, args) in enumerate(a.calls):
        out.append(chunk({"tool_calls": [{"index": i, "id": cid, "type": "function",
                                          "function": {"name": name, "arguments": ""}}]}))
        out += [chunk({"tool_calls": [{"index": i, "function": {"arguments": frag}}]})
                for frag in split_string(args, 3)]
    out.append(chunk({}, OPENAI_FINISH[a.finish]))
    stream_options = body.get("stream_options")
    if isinstance(stream_options, dict) and stream_options.get("include_usage"):
        out.append(dict(base, choices=[], usage=openai_usage(a)))
    return out


def completion_chunks(a):
    base = {"id": "cmpl-test-" + a.rid, "object": "text_completion", "created": CREATED,
            "model": a.model}
    words = (a.text or "").split(" ")
    out = [dict(base, choices=[{"text": (" " if i else "") + w, "index": 0,
                                "logprobs": None, "finish_reason": None}])
           for i, w in enumerate(words)]
    out.append(dict(base, choices=[{"text": "", "index": 0, "logprobs": None,
                                    "finish_reason": OPENAI_FINISH[a.finish]
                                    if a.finish != "tool" else "stop"}]))
    return out


def openai_json(path, body, a):
    if path == "/v1/embeddings":
        inputs = body.get("input")
        count = len(inputs) if isinstance(inputs, list) and inputs and \
            not isinstance(inputs[0], int) else 1
        data = [{"object": "embedding", "index": i,
                 "embedding": [round(0.125 * (j + 1) * (1 if i % 2 == 0 else -1), 6)
                               for j in range(8)]} for i in range(count)]
        return {"object": "list", "data": data, "model": a.model,
                "usage": {"prompt_tokens": 5, "total_tokens": 5}}
    if path == "/v1/completions":
        return {"id": "cmpl-test-" + a.rid, "object": "text_completion", "created": CREATED,
                "model": a.model, "usage": openai_usage(a),
                "choices": [{"text": a.text or "", "index": 0, "logprobs": None,
                             "finish_reason": "length" if a.finish == "length" else "stop"}]}
    message = {"role": "assistant", "content": a.text}
    if a.calls:
        message["tool_calls"] = [{"id": cid, "type": "function",
                                  "function": {"name": name, "arguments": args}}
                                 for cid, name, _, args in a.calls]
    return {"id": "chatcmpl-test-" + a.rid, "object": "chat.completion", "created": CREATED,
            "model": a.model, "usage": openai_usage(a),
            "choices": [{"index": 0, "finish_reason": OPENAI_FINISH[a.finish],
                         "message": message}]}


def openai_error(status, message):
    kind = {400: "invalid_request_error", 404: "invalid_request_error",
            429: "rate_limit_error"}.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def openai_frames(path, body, a, done):
    chunks = completion_chunks(a) if path == "/v1/completions" else chat_chunks(body, a)
    frames = ["data: %s\n\n" % json.dumps(c) for c in chunks]
    if done:
        frames.append("data: [DONE]\n\n")
    return frames


# ---- Anthropic Messages ----------------------------------------------------

ANTHROPIC_STOP = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}
ANTHROPIC_ERROR = {400: "invalid_request_error", 401: "authentication_error",
                   403: "permission_error", 404: "not_found_error",
                   413: "request_too_large", 429: "rate_limit_error",
                   500: "api_error", 503: "overloaded_error", 529: "overloaded_error"}


def anthropic_usage(a, output):
    return {"input_tokens": a.prompt - a.cached - a.cache_write, "output_tokens": output,
            "cache_read_input_tokens": a.cached,
            "cache_creation_input_tokens": a.cache_write}


def anthropic_json(a):
    content = [{"type": "text", "text": a.text}] if a.text is not None else []
    content += [{"type": "tool_use", "id": cid, "name": name, "input": value}
                for cid, name, value, _ in a.calls]
    return {"id": "msg_test_" + a.rid, "type": "message", "role": "assistant",
            "model": a.model, "content": content,
            "stop_reason": ANTHROPIC_STOP[a.finish], "stop_sequence": None,
            "usage": anthropic_usage(a, a.output)}


def anthropic_error(status, message):
    return {"type": "error",
            "error": {"type": ANTHROPIC_ERROR.get(status, "api_error"), "message": message}}


def sse_event(name, obj):
    return "event: %s\ndata: %s\n\n" % (name, json.dumps(obj))


def anthropic_frames(a, done):
    message = dict(anthropic_json(a), content=[], stop_reason=None,
                   usage=anthropic_usage(a, 1))
    frames = [sse_event("message_start", {"type": "message_start", "message": message})]
    index = 0
    if a.text is not None:
        frames.append(sse_event("content_block_start", {
            "type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}))
        frames += [sse_event("content_block_delta", {
            "type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": p}}) for p in a.pieces]
        frames.append(sse_event("content_block_stop", {"type": "content_block_stop",
                                                       "index": 0}))
        index = 1
    for cid, name, _, args in a.calls:
        frames.append(sse_event("content_block_start", {
            "type": "content_block_start", "index": index,
            "content_block": {"type": "tool_use", "id": cid, "name": name, "input": {}}}))
        frames += [sse_event("content_block_delta", {
            "type": "content_block_delta", "index": index,
            "delta": {"type": "input_json_delta", "partial_json": frag}})
            for frag in [""] + split_string(args, 3)]
        frames.append(sse_event("content_block_stop", {"type": "content_block_stop",
                                                       "index": index}))
        index += 1
    # a ping right after the first block opens, as the real API does
    frames.insert(2, sse_event("ping", {"type": "ping"}))
    frames.append(sse_event("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": ANTHROPIC_STOP[a.finish], "stop_sequence": None},
        "usage": {"output_tokens": a.output}}))
    if done:
        frames.append(sse_event("message_stop", {"type": "message_stop"}))
    return frames


# ---- Gemini ----------------------------------------------------------------

GEMINI_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool": "STOP"}
GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED", 529: "UNAVAILABLE"}


def gemini_usage(a):
    return {"promptTokenCount": a.prompt, "candidatesTokenCount": a.output,
            "totalTokenCount": a.prompt + a.output, "cachedContentTokenCount": a.cached}


def gemini_response(a, parts, last):
    candidate = {"content": {"role": "model", "parts": parts}, "index": 0}
    out = {"candidates": [candidate]}
    if last:
        candidate["finishReason"] = GEMINI_FINISH[a.finish]
        out["usageMetadata"] = gemini_usage(a)
    out["modelVersion"] = a.model
    out["responseId"] = "test-" + a.rid
    return out


def gemini_call_parts(a):
    return [{"functionCall": {"name": name, "args": value}} for _, name, value, _ in a.calls]


def gemini_json(a):
    parts = [{"text": a.text}] if a.text is not None else []
    return gemini_response(a, parts + gemini_call_parts(a), True)


def gemini_error(status, message, retry_after=None):
    err = {"code": status, "message": message,
           "status": GEMINI_STATUS.get(status, "UNKNOWN")}
    if retry_after is not None and str(retry_after).isdigit():
        err["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                           "retryDelay": "%ss" % retry_after}]
    return {"error": err}


def gemini_objects(a, done):
    parts_list = [[{"text": p}] for p in a.pieces]
    if a.calls:
        parts_list.append(gemini_call_parts(a))
    return [gemini_response(a, parts, done and i == len(parts_list) - 1)
            for i, parts in enumerate(parts_list)]


# ---- per-format dispatch ---------------------------------------------------

def error_body(fmt, status, message, retry_after=None):
    if fmt == "anthropic":
        return anthropic_error(status, message)
    if fmt == "gemini":
        return gemini_error(status, message, retry_after)
    return openai_error(status, message)


def route(method, path):
    """(format, model from the path, streaming method?) for an API path;
    format None for a path no format knows."""
    if method == "POST" and path in OPENAI_PATHS:
        return "openai", None, False
    if method == "GET" and (path == "/v1/models" or path.startswith("/v1/models/")):
        return "openai", None, False
    if method == "POST" and path == "/v1/messages":
        return "anthropic", None, False
    m = GEMINI_PATH.match(path)
    if method == "POST" and m:
        return "gemini", urllib.parse.unquote(m.group(2)), m.group(3) == "streamGenerateContent"
    if path.startswith("/v1beta/"):
        return "gemini-unknown", None, False
    if path.startswith("/v1/messages"):
        return "anthropic-unknown", None, False
    return None, None, False


def api_key(fmt, headers, query):
    if fmt and fmt.startswith("anthropic"):
        return headers.get("x-api-key")
    if fmt and fmt.startswith("gemini"):
        key = headers.get("x-goog-api-key")
        if key is None:
            keys = urllib.parse.parse_qs(query).get("key")
            key = keys[0] if keys else None
        return key
    auth = headers.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else None


def refusal(fmt, headers, key, body, path):
    """(status, message, recorded behaviour) when the provider would reject
    the request before looking at it, else None."""
    if fmt == "anthropic":
        if not key:
            return 401, "x-api-key header is required", "auth_error"
        if not headers.get("anthropic-version"):
            return 400, "anthropic-version: header is required", "invalid_request"
        if body is None:
            return 400, "invalid JSON body", "invalid_request"
        if not isinstance(body.get("messages"), list):
            return 400, "messages: Field required", "invalid_request"
        if not isinstance(body.get("max_tokens"), int) or isinstance(body.get("max_tokens"), bool):
            return 400, "max_tokens: Field required", "invalid_request"
        if not isinstance(body.get("model"), str):
            return 400, "model: Field required", "invalid_request"
    if fmt == "gemini":
        if not key:
            return (403, "Method doesn't allow unregistered callers (callers without "
                    "established identity). Please use API Key or other form of API "
                    "consumer identity to call this API.", "auth_error")
        if body is None:
            return 400, "Invalid JSON payload received.", "invalid_request"
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return 400, "* GenerateContentRequest.contents: contents is not specified", \
                "invalid_request"
    return None


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

    def start_stream(self, content_type="text/event-stream"):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
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
                return self.send_json(400, openai_error(400, "bad script: %s" % e))
            with STATE.lock:
                STATE.queue.extend(steps)
                queued = len(STATE.queue)
            return self.send_json(200, {"queued": queued})
        self.handle_api(raw)

    def handle_api(self, raw):
        path, _, query = self.path.partition("?")
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        if body is not None and not isinstance(body, dict) and self.command == "POST":
            body_obj = None
        else:
            body_obj = body
        fmt, path_model, stream_method = route(self.command, path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        key = api_key(fmt, headers, query)
        is_models = fmt == "openai" and self.command == "GET"
        step = None
        refused = None
        if fmt in ("openai", "anthropic", "gemini") and not is_models:
            refused = refusal(fmt, headers, key, body_obj, path)
            if refused is None:
                step = STATE.next_step() or directive_step(fmt, body)
                if step is None:
                    if fmt == "gemini":
                        wants_stream = stream_method
                    else:
                        wants_stream = isinstance(body, dict) and body.get("stream") is True
                    step = {"behaviour": "sse" if wants_stream else "json"}
        STATE.record({"method": self.command, "path": self.path, "headers": headers,
                      "body": raw.decode("utf-8", "replace"), "json": body,
                      "behaviour": refused[2] if refused else
                      (step["behaviour"] if step else None),
                      "format": fmt.split("-")[0] if fmt else None, "api_key": key})
        if is_models:
            return self.send_models(path)
        if refused:
            return self.send_json(refused[0], error_body(fmt, refused[0], refused[1]))
        if step is None:
            kind = fmt.split("-")[0] if fmt else "openai"
            return self.send_json(404, error_body(kind, 404, "Unknown request URL: %s %s"
                                                  % (self.command, path)))
        if body is None and step["behaviour"] in ("json", "sse", "slow", "tool"):
            return self.send_json(400, error_body(fmt, 400, "invalid JSON body"))
        body = body if isinstance(body, dict) else {}
        if fmt == "gemini":
            wants_stream = stream_method
            sse = "sse" in urllib.parse.parse_qs(query).get("alt", [])
        else:
            wants_stream = body.get("stream") is True
            sse = True
        if path != "/v1/chat/completions" and fmt == "openai":
            step = dict(step, tool=None, name=None)  # no tool calls outside chat
            if step["behaviour"] == "tool":
                step["behaviour"] = "sse" if wants_stream else "json"
        answer = Answer(fmt, body, step, request_id(raw), path_model or model_of(body))
        self.play(fmt, path, body, step, answer, wants_stream, sse)

    def send_models(self, path):
        def model(mid):
            return {"id": mid, "object": "model", "created": CREATED, "owned_by": "test"}
        if path.startswith("/v1/models/"):
            return self.send_json(200, model(path[len("/v1/models/"):]))
        return self.send_json(200, {"object": "list",
                                    "data": [model("test-model"), model("test-model-2")]})

    # ---- behaviours -----------------------------------------------------

    def play(self, fmt, path, body, step, answer, wants_stream, sse):
        name = step["behaviour"]
        if name not in BEHAVIOURS:
            return self.send_json(400, error_body(fmt, 400, "unknown behaviour %r" % name))
        if name in ("429", "503", "529"):
            retry = step.get("retry_after", None if name == "529" else "1")
            message = {"429": "rate limited", "503": "overloaded", "529": "Overloaded"}[name]
            headers = [("Retry-After", str(retry))] if retry is not None else []
            return self.send_json(int(name), error_body(fmt, int(name), message, retry),
                                  headers)
        if name in ("500", "400"):
            message = "internal error" if name == "500" else "invalid request"
            return self.send_json(int(name), error_body(fmt, int(name), message))
        if name == "html200":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return self.send_raw(200, "text/html", page)
        if name == "hang":
            return self.wait_silently()
        if name == "tool":
            name = "sse" if wants_stream else "json"
        if name == "json" or path == "/v1/embeddings":
            obj = {"openai": lambda: openai_json(path, body, answer),
                   "anthropic": lambda: anthropic_json(answer),
                   "gemini": lambda: gemini_json(answer)}[fmt]()
            return self.send_json(int_param(step, "status", 200), obj)
        self.play_stream(fmt, path, body, name, step, answer, sse)

    def play_stream(self, fmt, path, body, name, step, answer, sse):
        done = name != "nodone"
        array = False
        if fmt == "openai":
            frames = openai_frames(path, body, answer, done)
            broken = "data: {\"choices\": [oops\n\n"
            err = "data: %s\n\n" % json.dumps(openai_error(500, "upstream failed mid-stream"))
            tail = ["data: [DONE]\n\n"]
        elif fmt == "anthropic":
            frames = anthropic_frames(answer, done)
            broken = "event: content_block_delta\ndata: {\"type\": \"content_block_delta\", oops\n\n"
            err = sse_event("error", {"type": "error", "error": {
                "type": "overloaded_error", "message": "Overloaded"}})
            tail = []
        else:
            objects = gemini_objects(answer, done)
            err_obj = gemini_error(500, "upstream failed mid-stream")
            if sse:
                frames = ["data: %s\n\n" % json.dumps(o) for o in objects]
                broken = "data: {\"candidates\": [oops\n\n"
                err = "data: %s\n\n" % json.dumps(err_obj)
            else:  # a JSON array, one element per chunk
                array = True
                frames = [("[" if i == 0 else ",\r\n") + json.dumps(o)
                          for i, o in enumerate(objects)]
                broken = ",\r\n{\"candidates\": [oops"
                err = ",\r\n" + json.dumps(err_obj)
            tail = []
        if name == "badjson":
            frames.insert(1, broken)
        if name == "inband_error":
            frames = frames[:int_param(step, "events", 2)] + [err] + tail
        if array:
            frames.append("]" if frames else "[]")
        events = int_param(step, "events", 1)
        delay = int_param(step, "delay_ms", 100 if name == "slow" else 0) / 1000.0
        self.start_stream("application/json" if array else "text/event-stream")
        try:
            for i, frame in enumerate(frames):
                if name == "cut" and i == events:
                    partial = frame.encode()[:max(0, int_param(step, "bytes", 0))]
                    if partial:  # the cut falls inside this event
                        self.write_chunk(partial[:len(frame.encode()) - 1])
                    return self.cut_connection()
                if name == "stall" and i == events:
                    return self.wait_silently()
                if delay and i > 0:
                    time.sleep(delay)
                self.write_chunk(frame)
            self.end_stream()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def normalise_step(step):
    if isinstance(step, (str, int)):
        return {"behaviour": str(step)}
    if isinstance(step, dict) and "behaviour" in step:
        out = dict(step)
        out["behaviour"] = str(out["behaviour"])
        return out
    raise ValueError("a step is a behaviour name or an object with a 'behaviour' member")


def main():
    parser = argparse.ArgumentParser(description="Scripted OpenAI / Anthropic / Gemini "
                                                 "test upstream")
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

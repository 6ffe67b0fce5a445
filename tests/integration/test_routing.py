"""`helm proxy --config helm.toml` end to end: lanes, classification, policy
lane obligations, execution fallback, circuit breakers, rate-limit skips,
streams, config loading and SIGHUP reload (DESIGN §3, §8; docs/routing.md).

Two scripted upstreams (scripts/test_upstream.py) stand behind two providers:
`pa` (model `m1`, the primary of every lane) and `pb` (model `m2`, the
fallback). The script queue (`/__script`) makes one upstream misbehave while
the other answers normally; each upstream's request log proves which
provider was called and which was skipped.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import shutil
import time
import unittest
import urllib.parse

import helmtest
from helmtest import Server, Upstream, admin_url, outcome_receipt, raw_http

THRESHOLD = 3           # [breaker] failure_threshold
COOL_DOWN_MS = 800      # [breaker] cool_down_ms
FIRST_BYTE_MS = 600     # pa's first_byte_timeout_ms
IDLE_MS = 1500
LONG_INPUT_TOKENS = 256

KEY_ENV = {"HELM_RT_KEY_A": "sk-routing-test-a", "HELM_RT_KEY_B": "sk-routing-test-b"}
UNSET_ENV = "HELM_RT_KEY_NEVER_SET"

STANDARD_LANES = ["economy", "balanced", "premium", "coding", "json", "vision", "tool_use"]


def provider_toml(pid, url, model, key_env, upstream_id=None, kind="openai"):
    return """
[[providers]]
id = "{pid}"
kind = "{kind}"
base_url = "{url}"
api_key_env = "{key_env}"
connect_timeout_ms = 1000
first_byte_timeout_ms = {fb}
idle_timeout_ms = {idle}

[[providers.models]]
id = "{model}"
upstream_id = "{upstream_id}"
context_window = 100000
tools = true
vision = true
json = true
""".format(pid=pid, url=url, model=model, key_env=key_env, fb=FIRST_BYTE_MS, idle=IDLE_MS,
           upstream_id=upstream_id or model, kind=kind)


def routing_toml(url_a, url_b, lanes=None, extra_providers="", extra_lanes="", kind_a="openai"):
    """Every standard lane: pa/m1 first, then pb/m2 (unless `lanes` overrides
    a lane's `primary`/`fallback` text). pa is of kind `kind_a`."""
    out = provider_toml("pa", url_a, "m1", "HELM_RT_KEY_A", "upstream-m1", kind_a)
    out += provider_toml("pb", url_b, "m2", "HELM_RT_KEY_B", "upstream-m2")
    out += extra_providers
    lanes = lanes or {}
    for name in STANDARD_LANES:
        body = lanes.get(name, 'primary = "pa/m1"\nfallback = ["pb/m2"]')
        out += "\n[lanes.%s]\n%s\n" % (name, body)
    out += extra_lanes
    out += """
[classifier]
long_input_tokens = {long}

[aliases]
"claude-opus-*" = "premium"
"gpt-4o-mini*" = "economy"

[breaker]
failure_threshold = {k}
cool_down_ms = {cd}
max_skip_ms = 600000
""".format(long=LONG_INPUT_TOKENS, k=THRESHOLD, cd=COOL_DOWN_MS)
    return out


LANE_POLICY = """
[policy]
id = "routing-test"
version = 1
default_verdict = "ALLOW"
default_reason = "NO_RULE_MATCHED"

[[rules]]
id = "cap-balanced"
verdict = "ALLOW"
when.content_regex = ['CAP-BALANCED']
then.lane_cap = "balanced"

[[rules]]
id = "cap-economy"
verdict = "ALLOW"
when.content_regex = ['CAP-ECONOMY']
then.lane_cap = "economy"

[[rules]]
id = "pin-coding"
verdict = "ALLOW"
when.content_regex = ['PIN-CODING']
then.lane_pin = "coding"

[[rules]]
id = "everyone"
verdict = "ALLOW"
"""


def chat(text, model="auto", stream=False, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


class Env:
    """A temp dir holding helm.toml (and optionally a policy), two scripted
    upstreams and a running proxy."""

    def __init__(self, toml=None, policy=None, env=None):
        self.dir = tempfile.mkdtemp(prefix="helm-routing-")
        self.a = Upstream().start()
        self.b = Upstream().start()
        self.config = os.path.join(self.dir, "helm.toml")
        helmtest.write_file(self.config, toml(self.a.url, self.b.url) if toml
                            else routing_toml(self.a.url, self.b.url))
        self.policy = helmtest.TEST_POLICY
        if policy is not None:
            self.policy = os.path.join(self.dir, "policy.toml")
            helmtest.write_file(self.policy, policy)
        self.env = dict(KEY_ENV, **(env or {}))
        self.px = None

    def start(self):
        os.environ.pop(UNSET_ENV, None)
        self.px = Server(["proxy", "--config", self.config, "--policy", self.policy,
                          "--port", "0", "--admin-port", "0", "--checkpoint-seconds", "0"],
                         env=self.env).start()
        self.px.admin_base = admin_url(self.px)
        return self

    def close(self):
        if self.px:
            self.px.cleanup()
        for up in (self.a, self.b):
            up.stop()
            up.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class RoutingCase(unittest.TestCase):
    """Helpers; subclasses set self.e (an Env)."""

    def post(self, body, path="/v1/chat/completions", timeout=15):
        hdrs = {"Authorization": "Bearer " + self.e.px.bootstrap_key,
                "Content-Type": "application/json"}
        return raw_http(self.e.px.url, "POST", path, json.dumps(body).encode(), hdrs,
                        timeout=timeout)

    def get(self, path):
        hdrs = {"Authorization": "Bearer " + self.e.px.bootstrap_key}
        return raw_http(self.e.px.url, "GET", path, None, hdrs)

    def outcome(self, decision_receipt_id, timeout=5.0):
        o = outcome_receipt(self.e.px, decision_receipt_id, timeout)
        self.assertIsNotNone(o, "no outcome receipt for " + decision_receipt_id)
        return o

    def route(self, headers):
        return self.outcome(headers["x-helm-receipt-id"])["route"]

    def ok(self, body, **kw):
        status, headers, raw = self.post(body, **kw)
        self.assertEqual(status, 200, raw)
        return headers, raw

    def attempts(self, route):
        return [(a["provider"], a["model"], a["outcome"], a.get("skip_reason"))
                for a in route["attempts"]]

    def calls(self, up):
        return len(up.requests())

    def wait_log(self, needle, start=0, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(needle in line for line in self.e.px.log[start:]):
                return
            time.sleep(0.05)
        self.fail("%r not logged: %s" % (needle, "".join(self.e.px.log)))


def open_stream(url, key, body, timeout=15):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    conn.request("POST", "/v1/chat/completions", json.dumps(body).encode(),
                 {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    res = conn.getresponse()
    return conn, res


def read_stream(url, key, body, stop_after_data=None):
    """Returns (status, headers, lines, closed_early). With stop_after_data=N
    the socket is shut after the N-th `data:` line."""
    conn, res = open_stream(url, key, body)
    headers = {k.lower(): v for k, v in res.getheaders()}
    if res.status != 200:
        raw = res.read().decode()
        conn.close()
        return res.status, headers, raw.split("\n"), False
    lines, seen = [], 0
    while True:
        line = res.readline()
        if not line:
            break
        text = line.decode().rstrip("\n")
        lines.append(text)
        if text.startswith("data: "):
            seen += 1
            if stop_after_data is not None and seen >= stop_after_data:
                conn.sock.shutdown(socket.SHUT_RDWR)
                conn.close()
                return res.status, headers, lines, True
    conn.close()
    return res.status, headers, lines, False


def data_events(lines):
    return [l[len("data: "):] for l in lines if l.startswith("data: ")]


# ---- lane selection ------------------------------------------------------------

IMAGE_PART = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
TOOL = {"type": "function", "function": {"name": "get_weather",
                                         "parameters": {"type": "object",
                                                        "properties": {"city": {"type": "string"}}}}}


class ClassificationTest(RoutingCase):
    @classmethod
    def setUpClass(cls):
        cls.e = Env().start()

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def setUp(self):
        self.e.a.reset()
        self.e.b.reset()

    def check(self, body, lane, classified_by, selected_lane=None):
        headers, _ = self.ok(body)
        self.assertEqual(headers.get("x-helm-lane"), lane)
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")
        self.assertEqual(headers.get("x-helm-fallbacks"), "0")
        r = self.route(headers)
        self.assertEqual(r["lane"], lane, r)
        self.assertEqual(r["selected_lane"], selected_lane or lane, r)
        self.assertEqual(r["classified_by"], classified_by, r)
        self.assertEqual(r["lane_adjusted_by"], "none", r)
        self.assertEqual((r["provider"], r["model"], r["fallbacks"]), ("pa", "m1", 0), r)
        self.assertEqual(self.attempts(r), [("pa", "m1", "ok", None)])
        return r

    def test_auto_is_classified_by_the_rules(self):
        code = "Why does this fail?\n```python\nprint(undefined)\n```"
        trace = 'Traceback (most recent call last):\n  File "x.py", line 1\nNameError: x'
        cases = [
            ("tools", chat("what is the weather?", tools=[TOOL]), "tool_use", "tools"),
            ("image", {"model": "auto", "messages": [
                {"role": "user", "content": [{"type": "text", "text": "what is this?"}, IMAGE_PART]}]},
             "vision", "images"),
            ("json_object", chat("list three colours", response_format={"type": "json_object"}),
             "json", "json"),
            ("json_schema", chat("list three colours", response_format={
                "type": "json_schema",
                "json_schema": {"name": "c", "schema": {"type": "object"}}}), "json", "json"),
            ("code fence", chat(code), "coding", "code"),
            ("stack trace", chat(trace), "coding", "code"),
            ("long input", chat("word " * (LONG_INPUT_TOKENS * 4 // 5 + 10)), "premium", "long_input"),
            ("plain", chat("hello there"), "balanced", "default"),
            ("empty model", chat("hello there", model=""), "balanced", "default"),
            # First rule wins: tools before images, json and code.
            ("tools and code", chat(code, tools=[TOOL], response_format={"type": "json_object"}),
             "tool_use", "tools"),
        ]
        for name, body, lane, by in cases:
            with self.subTest(name):
                self.check(body, lane, by)

    def test_just_below_the_long_input_threshold_is_balanced(self):
        text = "x" * (LONG_INPUT_TOKENS * 4 - 4)  # an estimate of 255 tokens
        self.check(chat(text), "balanced", "default")
        self.check(chat(text + "xxxx"), "premium", "long_input")

    def test_lane_name_as_model(self):
        for lane in STANDARD_LANES:
            with self.subTest(lane=lane):
                self.check(chat("hello", model=lane), lane, "lane")
        # A lane named by the client wins over the classifier.
        self.check(chat("hello", model="economy", tools=[TOOL]), "economy", "lane")

    def test_alias(self):
        self.check(chat("hello", model="claude-opus-4"), "premium", "alias")
        self.check(chat("hello", model="gpt-4o-mini-2024-07-18"), "economy", "alias")

    def test_unknown_model_is_classified(self):
        self.check(chat("hello", model="some-unknown-model"), "balanced", "default")
        self.check(chat("hello", model="some-unknown-model", tools=[TOOL]), "tool_use", "tools")

    def test_upstream_gets_its_upstream_id_and_its_provider_key(self):
        self.ok(chat("hello", model="claude-opus-4"))
        seen = self.e.a.requests()
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0]["json"]["model"], "upstream-m1")
        self.assertEqual(seen[0]["api_key"], KEY_ENV["HELM_RT_KEY_A"])
        self.assertEqual(self.e.b.requests(), [])

    def test_client_model_in_the_chain_is_tried_first(self):
        headers, _ = self.ok(chat("hello", model="m2"))
        self.assertEqual(headers.get("x-helm-lane"), "balanced")
        self.assertEqual(headers.get("x-helm-model"), "pb/m2")
        self.assertEqual(self.calls(self.e.a), 0)
        self.assertEqual(self.calls(self.e.b), 1)
        self.assertEqual(self.e.b.requests()[0]["json"]["model"], "upstream-m2")

    def test_models_lists_auto_and_the_lanes(self):
        status, _, raw = self.get("/v1/models")
        self.assertEqual(status, 200, raw)
        ids = [m["id"] for m in json.loads(raw)["data"]]
        self.assertEqual(ids[0], "auto")
        self.assertEqual(sorted(ids[1:]), sorted(STANDARD_LANES))
        status, _, raw = self.get("/v1/models/coding")
        self.assertEqual(status, 200, raw)
        self.assertEqual(json.loads(raw)["id"], "coding")
        status, _, raw = self.get("/v1/models/no-such-lane")
        self.assertEqual(status, 404, raw)


class PolicyLaneTest(RoutingCase):
    """lane_cap / lane_pin obligations, applied after classification."""

    @classmethod
    def setUpClass(cls):
        cls.e = Env(policy=LANE_POLICY).start()

    @classmethod
    def tearDownClass(cls):
        cls.e.close()

    def lane_of(self, body):
        headers, _ = self.ok(body)
        r = self.route(headers)
        self.assertEqual(headers.get("x-helm-lane"), r["lane"])
        return r["selected_lane"], r["lane"], r["lane_adjusted_by"], r["classified_by"]

    def test_cap_lowers_premium_to_balanced(self):
        self.assertEqual(self.lane_of(chat("CAP-BALANCED please", model="claude-opus-4")),
                         ("premium", "balanced", "cap", "alias"))
        self.assertEqual(self.lane_of(chat("CAP-BALANCED " + "word " * 300)),
                         ("premium", "balanced", "cap", "long_input"))

    def test_cap_leaves_lanes_at_or_below_it_and_untiered_lanes(self):
        self.assertEqual(self.lane_of(chat("CAP-BALANCED hi", model="economy")),
                         ("economy", "economy", "none", "lane"))
        self.assertEqual(self.lane_of(chat("CAP-BALANCED hi")),
                         ("balanced", "balanced", "none", "default"))
        self.assertEqual(self.lane_of(chat("CAP-BALANCED ```x```")),
                         ("coding", "coding", "none", "code"))

    def test_economy_cap_lowers_every_lane(self):
        self.assertEqual(self.lane_of(chat("CAP-ECONOMY ```x```")),
                         ("coding", "economy", "cap", "code"))
        self.assertEqual(self.lane_of(chat("CAP-ECONOMY hi", model="premium")),
                         ("premium", "economy", "cap", "lane"))

    def test_pin(self):
        self.assertEqual(self.lane_of(chat("PIN-CODING hi")),
                         ("balanced", "coding", "pin", "default"))
        self.assertEqual(self.lane_of(chat("PIN-CODING hi", model="claude-opus-4")),
                         ("premium", "coding", "pin", "alias"))

    def test_no_obligation(self):
        self.assertEqual(self.lane_of(chat("hi", model="claude-opus-4")),
                         ("premium", "premium", "none", "alias"))


# ---- execution: fallback, rate limits, breakers ------------------------------------

class ExecutionTest(RoutingCase):
    """A fresh proxy per test, so no test inherits another's breaker state."""

    def setUp(self):
        self.e = Env().start()

    def tearDown(self):
        self.e.close()

    def test_primary_500_falls_back(self):
        for stream in (False, True):
            with self.subTest(stream=stream):
                self.e.a.reset()
                self.e.b.reset()
                self.e.a.script(["500"])
                if stream:
                    status, headers, lines, _ = read_stream(self.e.px.url, self.e.px.bootstrap_key,
                                                            chat("hello", stream=True))
                    self.assertEqual(status, 200, lines)
                    self.assertIn("[DONE]", data_events(lines))
                else:
                    headers, raw = self.ok(chat("hello"))
                    self.assertIn("Hello from the test upstream.", raw.decode())
                self.assertEqual(headers.get("x-helm-model"), "pb/m2")
                self.assertEqual(headers.get("x-helm-fallbacks"), "1")
                r = self.route(headers)
                self.assertEqual((r["provider"], r["model"], r["fallbacks"]), ("pb", "m2", 1), r)
                self.assertEqual(self.attempts(r), [("pa", "m1", "http_500", None),
                                                    ("pb", "m2", "ok", None)])
                for a in r["attempts"]:
                    self.assertGreater(a["latency_us"], 0, a)
                self.assertEqual(self.calls(self.e.a), 1)
                self.assertEqual(self.calls(self.e.b), 1)
                self.assertEqual(self.outcome(headers["x-helm-receipt-id"])["status"], "completed")

    def test_429_skips_the_primary_until_retry_after(self):
        retry_after = 2
        self.e.a.script([{"behaviour": "429", "retry_after": retry_after}])
        t_429 = time.time()  # helm's skip starts after this ...
        headers, _ = self.ok(chat("one"))
        t_answered = time.time()  # ... and before this
        self.assertEqual(headers.get("x-helm-model"), "pb/m2")
        self.assertEqual(headers.get("x-helm-fallbacks"), "1")
        self.assertEqual(self.attempts(self.route(headers)),
                         [("pa", "m1", "http_429", None), ("pb", "m2", "ok", None)])
        # Before Retry-After has passed: pa is skipped, not called.
        for text in ("two", "three"):
            headers, _ = self.ok(chat(text))
            self.assertEqual(headers.get("x-helm-model"), "pb/m2")
            self.assertEqual(headers.get("x-helm-fallbacks"), "0")
            self.assertEqual(self.attempts(self.route(headers)),
                             [("pa", "m1", "skipped", "rate_limited"), ("pb", "m2", "ok", None)])
        self.assertLess(time.time() - t_429, retry_after, "too slow to observe the skip")
        self.assertEqual(self.calls(self.e.a), 1)
        # Once Retry-After has passed, pa is called again.
        time.sleep(max(0, retry_after + 0.3 - (time.time() - t_answered)))
        headers, _ = self.ok(chat("four"))
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")
        self.assertEqual(self.attempts(self.route(headers)), [("pa", "m1", "ok", None)])
        self.assertEqual(self.calls(self.e.a), 2)
        self.assertEqual(self.calls(self.e.b), 3)

    def test_breaker_opens_then_probes_then_closes(self):
        self.e.a.script(["500"] * THRESHOLD)
        for i in range(THRESHOLD):
            headers, _ = self.ok(chat("fault %d" % i))
            self.assertEqual(headers.get("x-helm-model"), "pb/m2")
        self.assertEqual(self.calls(self.e.a), THRESHOLD)
        t_open = time.time()
        # Open: pa is not called during the cool-down.
        for i in range(2):
            headers, _ = self.ok(chat("open %d" % i))
            self.assertEqual(headers.get("x-helm-model"), "pb/m2")
            self.assertEqual(self.attempts(self.route(headers)),
                             [("pa", "m1", "skipped", "circuit_open"), ("pb", "m2", "ok", None)])
        self.assertLess(time.time() - t_open, COOL_DOWN_MS / 1000.0, "too slow to observe OPEN")
        self.assertEqual(self.calls(self.e.a), THRESHOLD)
        status, _, metrics = self.get("/metrics")
        self.assertIn('helm_breaker_state{model="pa/m1"} 1', metrics.decode())
        # After the cool-down: one probe, which succeeds and closes the circuit.
        time.sleep(COOL_DOWN_MS / 1000.0 + 0.2)
        headers, _ = self.ok(chat("probe"))
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")
        self.assertEqual(self.calls(self.e.a), THRESHOLD + 1)
        for i in range(2):
            headers, _ = self.ok(chat("closed %d" % i))
            self.assertEqual(headers.get("x-helm-model"), "pa/m1")
        self.assertEqual(self.calls(self.e.a), THRESHOLD + 3)
        status, _, metrics = self.get("/metrics")
        self.assertIn('helm_breaker_state{model="pa/m1"} 0', metrics.decode())

    def test_failed_probe_reopens(self):
        self.e.a.script(["500"] * (THRESHOLD + 1))
        for i in range(THRESHOLD):
            self.ok(chat("fault %d" % i))
        time.sleep(COOL_DOWN_MS / 1000.0 + 0.2)
        headers, _ = self.ok(chat("probe fails"))
        self.assertEqual(self.attempts(self.route(headers)),
                         [("pa", "m1", "http_500", None), ("pb", "m2", "ok", None)])
        headers, _ = self.ok(chat("open again"))
        self.assertEqual(self.attempts(self.route(headers))[0],
                         ("pa", "m1", "skipped", "circuit_open"))
        self.assertEqual(self.calls(self.e.a), THRESHOLD + 1)

    def test_hang_past_first_byte_timeout_falls_back(self):
        for stream in (False, True):
            with self.subTest(stream=stream):
                self.e.a.reset()
                self.e.b.reset()
                self.e.a.script(["hang"])
                t0 = time.time()
                if stream:
                    status, headers, lines, _ = read_stream(self.e.px.url, self.e.px.bootstrap_key,
                                                            chat("hello", stream=True))
                    self.assertEqual(status, 200, lines)
                    self.assertIn("[DONE]", data_events(lines))
                else:
                    headers, _ = self.ok(chat("hello"))
                elapsed = time.time() - t0
                self.assertGreaterEqual(elapsed, FIRST_BYTE_MS / 1000.0 * 0.9)
                self.assertLess(elapsed, FIRST_BYTE_MS / 1000.0 + 3)
                self.assertEqual(headers.get("x-helm-model"), "pb/m2")
                self.assertEqual(headers.get("x-helm-fallbacks"), "1")
                r = self.route(headers)
                self.assertEqual([a["provider"] for a in r["attempts"]], ["pa", "pb"])
                self.assertNotEqual(r["attempts"][0]["outcome"], "ok")
                self.assertGreaterEqual(r["attempts"][0]["latency_us"], FIRST_BYTE_MS * 900)

    def test_stream_cut_before_output_falls_back(self):
        self.e.a.script([{"behaviour": "cut", "events": 0}])
        status, headers, lines, _ = read_stream(self.e.px.url, self.e.px.bootstrap_key,
                                                chat("hello", stream=True))
        self.assertEqual(status, 200, lines)
        events = data_events(lines)
        self.assertEqual(events[-1], "[DONE]")
        for ev in events[:-1]:
            self.assertNotIn("error", json.loads(ev))
        self.assertEqual(headers.get("x-helm-model"), "pb/m2")
        self.assertEqual(headers.get("x-helm-fallbacks"), "1")
        o = self.outcome(headers["x-helm-receipt-id"])
        self.assertEqual(o["status"], "completed")
        self.assertEqual([(a["provider"], a["outcome"] == "ok") for a in o["route"]["attempts"]],
                         [("pa", False), ("pb", True)])
        self.assertEqual(self.calls(self.e.a), 1)
        self.assertEqual(self.calls(self.e.b), 1)

    def test_stream_cut_after_output_is_truncated_not_failed_over(self):
        self.e.a.script([{"behaviour": "cut", "events": 2}])
        status, headers, lines, _ = read_stream(self.e.px.url, self.e.px.bootstrap_key,
                                                chat("hello", stream=True))
        self.assertEqual(status, 200, lines)
        events = data_events(lines)
        self.assertNotIn("[DONE]", events)
        self.assertEqual(json.loads(events[0])["object"], "chat.completion.chunk")
        err = json.loads(events[-1])
        self.assertIsInstance(err.get("error"), dict, events[-1])
        self.assertIsInstance(err["error"].get("message"), str)
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")
        o = self.outcome(headers["x-helm-receipt-id"])
        self.assertEqual(o["status"], "truncated")
        self.assertEqual(o["route"]["provider"], "pa")
        self.assertEqual(self.calls(self.e.b), 0, "a committed stream was failed over")

    def test_stream_error_before_output_falls_back(self):
        # DESIGN §8: a stream commits on its first real output event, not on
        # its first bytes; before it (here after a role chunk), an in-band
        # error event or a cut is a fault that fails over.
        for step, outcome in (({"behaviour": "inband_error", "events": 1}, "stream_error"),
                              ({"behaviour": "cut", "events": 1}, "no_output")):
            with self.subTest(step=step):
                self.e.a.reset()
                self.e.b.reset()
                self.e.a.script([step])
                status, headers, lines, _ = read_stream(self.e.px.url, self.e.px.bootstrap_key,
                                                        chat("hello", stream=True))
                self.assertEqual(status, 200, lines)
                events = data_events(lines)
                self.assertEqual(events[-1], "[DONE]")
                for ev in events[:-1]:
                    self.assertNotIn("error", json.loads(ev))
                self.assertEqual(headers.get("x-helm-model"), "pb/m2")
                o = self.outcome(headers["x-helm-receipt-id"])
                self.assertEqual(o["status"], "completed")
                self.assertEqual(self.attempts(o["route"]), [("pa", "m1", outcome, None),
                                                             ("pb", "m2", "ok", None)])

    def test_stream_truncation_is_not_a_breaker_fault(self):
        self.e.a.script(["500"] * (THRESHOLD - 1) + [{"behaviour": "cut", "events": 2}])
        for i in range(THRESHOLD - 1):
            self.ok(chat("fault %d" % i))
        status, headers, _, _ = read_stream(self.e.px.url, self.e.px.bootstrap_key,
                                            chat("hello", stream=True))
        self.assertEqual(self.outcome(headers["x-helm-receipt-id"])["status"], "truncated")
        headers, _ = self.ok(chat("still closed"))
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")

    def test_400_is_returned_without_fallback(self):
        for stream in (False, True):
            with self.subTest(stream=stream):
                self.e.a.reset()
                self.e.b.reset()
                self.e.a.script(["400"])
                status, headers, raw = self.post(chat("hello", stream=stream))
                self.assertEqual(status, 400, raw)
                self.assertEqual(json.loads(raw)["error"]["type"], "invalid_request_error")
                self.assertEqual(self.e.b.requests(), [])
                o = self.outcome(headers["x-helm-receipt-id"])
                self.assertEqual((o["status"], o["http_status"]), ("rejected", 400))
                self.assertEqual(self.attempts(o["route"]), [("pa", "m1", "http_400", None)])

    def test_every_candidate_down_is_502_listing_every_attempt(self):
        for stream in (False, True):
            with self.subTest(stream=stream):
                self.e.a.reset()
                self.e.b.reset()
                self.e.a.script(["500"])
                self.e.b.script(["500"])
                status, headers, raw = self.post(chat("hello", stream=stream))
                self.assertEqual(status, 502, raw)
                err = json.loads(raw)["error"]
                self.assertEqual(err.get("code"), "UPSTREAM_ERROR", raw)
                o = self.outcome(headers["x-helm-receipt-id"])
                self.assertEqual((o["status"], o["http_status"]), ("upstream_error", 502))
                self.assertEqual(self.attempts(o["route"]), [("pa", "m1", "http_500", None),
                                                             ("pb", "m2", "http_500", None)])
                self.assertEqual(self.calls(self.e.a), 1)
                self.assertEqual(self.calls(self.e.b), 1)

    def test_every_candidate_down_with_skips_lists_them(self):
        self.e.a.script(["500"] * THRESHOLD)
        for i in range(THRESHOLD):
            self.ok(chat("fault %d" % i))
        self.e.b.script(["hang"])
        status, headers, raw = self.post(chat("hello"))
        self.assertEqual(status, 502, raw)
        o = self.outcome(headers["x-helm-receipt-id"])
        r = o["route"]
        self.assertEqual(r["attempts"][0]["outcome"], "skipped")
        self.assertEqual(r["attempts"][0]["skip_reason"], "circuit_open")
        self.assertEqual(r["attempts"][1]["provider"], "pb")
        self.assertNotEqual(r["attempts"][1]["outcome"], "ok")
        self.assertEqual(len(r["attempts"]), 2)

    def test_client_disconnect_mid_stream_is_not_a_fault(self):
        slow = {"behaviour": "slow", "delay_ms": 300, "tokens": 40}
        self.e.a.script(["500"] * (THRESHOLD - 1) + [slow])
        for i in range(THRESHOLD - 1):
            headers, _ = self.ok(chat("fault %d" % i))
            self.assertEqual(headers.get("x-helm-model"), "pb/m2")
        status, headers, _, closed = read_stream(self.e.px.url, self.e.px.bootstrap_key,
                                                 chat("hello", stream=True), stop_after_data=1)
        self.assertEqual(status, 200)
        self.assertTrue(closed)
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")
        o = self.outcome(headers["x-helm-receipt-id"])
        self.assertEqual(o["status"], "client_disconnected")
        # Had the disconnect been a fault, pa's circuit would be open now.
        headers, _ = self.ok(chat("still there?"))
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")
        self.assertEqual(headers.get("x-helm-fallbacks"), "0")
        status, _, metrics = self.get("/metrics")
        self.assertIn('helm_breaker_state{model="pa/m1"} 0', metrics.decode())

    def test_client_disconnect_before_first_byte_abandons_the_attempt(self):
        # The permit protocol (docs/routing.md): "client went away: Release
        # (kAbandoned); stop." A stream whose client leaves while the primary
        # has not answered yet is abandoned: no fault for the primary, and no
        # request to the fallback on behalf of a client that is gone.
        self.e.a.script(["500"] * (THRESHOLD - 1) + ["hang"])
        for i in range(THRESHOLD - 1):
            headers, _ = self.ok(chat("fault %d" % i))
            self.assertEqual(headers.get("x-helm-model"), "pb/m2")
        self.e.b.reset()
        body = json.dumps(chat("hello", stream=True)).encode()
        sock = socket.create_connection(("127.0.0.1", self.e.px.port))
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + self.e.px.bootstrap_key.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                     + body)
        time.sleep(0.15)
        sock.close()
        time.sleep(FIRST_BYTE_MS / 1000.0 + 0.8)
        self.assertEqual(self.e.b.requests(), [],
                         "the fallback was called after the client had gone")
        headers, _ = self.ok(chat("still closed?"))
        self.assertEqual(headers.get("x-helm-model"), "pa/m1",
                         "the client's disconnect was counted as the primary's fault")

    def test_capability_skips_are_recorded(self):
        def toml(url_a, url_b):
            extra = """
[[providers]]
id = "plain"
kind = "openai"
base_url = "{url}"
api_key_env = "HELM_RT_KEY_A"

[[providers.models]]
id = "notools"
context_window = 100000
""".format(url=url_a)
            return routing_toml(url_a, url_b, lanes={
                "tool_use": 'primary = "plain/notools"\nfallback = ["pb/m2"]'}, extra_providers=extra)
        self.e.close()
        self.e = Env(toml=toml).start()
        headers, _ = self.ok(chat("weather?", tools=[TOOL]))
        self.assertEqual(headers.get("x-helm-lane"), "tool_use")
        self.assertEqual(headers.get("x-helm-model"), "pb/m2")
        self.assertEqual(headers.get("x-helm-fallbacks"), "0")
        self.assertEqual(self.attempts(self.route(headers)),
                         [("plain", "notools", "skipped", "no_tools"), ("pb", "m2", "ok", None)])
        self.assertEqual(self.calls(self.e.a), 0)


# ---- config loading and reload ---------------------------------------------------------

class TranslatedFailoverTest(RoutingCase):
    """pa is an Anthropic provider (the chat client's stream is translated),
    pb the OpenAI fallback."""

    def setUp(self):
        self.e = Env(toml=lambda a, b: routing_toml(a, b, kind_a="anthropic")).start()

    def tearDown(self):
        self.e.close()

    def test_overloaded_error_after_message_start_falls_back(self):
        # Regression: message_start then an in-band overloaded_error reached
        # the client as a 200 stream with an error; the fallback never ran.
        self.e.a.script([{"behaviour": "inband_error", "events": 1}])
        status, headers, lines, _ = read_stream(self.e.px.url, self.e.px.bootstrap_key,
                                                chat("hi", stream=True))
        self.assertEqual(status, 200, lines)
        events = data_events(lines)
        self.assertEqual(events[-1], "[DONE]")
        chunks = [json.loads(ev) for ev in events[:-1]]
        for c in chunks:
            self.assertNotIn("error", c)
        self.assertEqual("".join(c["choices"][0]["delta"].get("content") or ""
                                 for c in chunks if c["choices"]),
                         "Hello from the test upstream.")
        self.assertEqual(headers.get("x-helm-model"), "pb/m2")
        o = self.outcome(headers["x-helm-receipt-id"])
        self.assertEqual(o["status"], "completed")
        self.assertEqual(self.attempts(o["route"]), [("pa", "m1", "stream_error", None),
                                                     ("pb", "m2", "ok", None)])
        self.assertEqual(self.e.a.requests()[0]["format"], "anthropic")

    def test_overloaded_error_after_output_is_truncated_not_failed_over(self):
        self.e.a.script([{"behaviour": "inband_error", "events": 4}])
        status, headers, lines, _ = read_stream(self.e.px.url, self.e.px.bootstrap_key,
                                                chat("hi", stream=True))
        self.assertEqual(status, 200, lines)
        events = data_events(lines)
        self.assertNotIn("[DONE]", events)
        self.assertIn("Overloaded", json.loads(events[-1])["error"]["message"])
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")
        o = self.outcome(headers["x-helm-receipt-id"])
        self.assertEqual(o["status"], "truncated")
        self.assertIsNone(o.get("usage"))
        self.assertEqual(self.calls(self.e.b), 0, "a committed stream was failed over")


class ConfigTest(RoutingCase):
    def setUp(self):
        self.e = None

    def tearDown(self):
        if self.e:
            self.e.close()

    def test_provider_without_its_key_is_skipped_with_a_warning(self):
        def toml(url_a, url_b):
            extra = provider_toml("pc", url_a, "m3", UNSET_ENV)
            return routing_toml(url_a, url_b, lanes={
                "balanced": 'primary = "pc/m3"\nfallback = ["pa/m1", "pb/m2"]'}, extra_providers=extra)
        self.e = Env(toml=toml).start()
        log = "".join(self.e.px.log)
        self.assertIn("warning", log)
        self.assertIn('"pc"', log)
        self.assertIn(UNSET_ENV, log)
        headers, _ = self.ok(chat("hello"))
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")
        self.assertEqual(self.attempts(self.route(headers)), [("pa", "m1", "ok", None)])
        # An empty variable counts as unset.
        self.e.close()
        self.e = Env(toml=toml, env={UNSET_ENV: ""}).start()
        self.assertIn(UNSET_ENV, "".join(self.e.px.log))
        headers, _ = self.ok(chat("hello"))
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")

    def test_lane_left_without_a_usable_model_refuses_to_start(self):
        def toml(url_a, url_b):
            extra = provider_toml("pc", url_a, "m3", UNSET_ENV)
            return routing_toml(url_a, url_b, lanes={"vision": 'primary = "pc/m3"'},
                                extra_providers=extra)
        self.e = Env(toml=toml)
        data_dir = os.path.join(self.e.dir, "data")
        env = dict(os.environ, **KEY_ENV)
        env.pop(UNSET_ENV, None)
        try:
            r = subprocess.run([helmtest.HELM, "proxy", "--config", self.e.config, "--policy",
                                helmtest.TEST_POLICY, "--data-dir", data_dir, "--port", "0",
                                "--admin-port", "0"], capture_output=True, text=True, timeout=10,
                               env=env)
        except subprocess.TimeoutExpired:
            self.fail("helm proxy started with a lane that has no usable model")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("lanes.vision", r.stderr)
        self.assertIn("no usable model", r.stderr)
        r = helmtest.run_helm("config", "check", self.e.config, env=env)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("no usable model", r.stderr)
        # With the key set, the same file loads.
        r = helmtest.run_helm("config", "check", self.e.config, env=dict(env, **{UNSET_ENV: "k"}))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_invalid_config_refuses_to_start(self):
        cases = {
            "unknown key": lambda a, b: routing_toml(a, b) + "\n[server]\nportt = 1\n",
            "unknown model": lambda a, b: routing_toml(a, b, lanes={"coding": 'primary = "pa/nope"'}),
            "no balanced": lambda a, b: routing_toml(a, b).replace("[lanes.balanced]", "[lanes.other]"),
            "alias to unknown lane": lambda a, b: routing_toml(a, b) .replace(
                '"claude-opus-*" = "premium"', '"claude-opus-*" = "nowhere"'),
        }
        for name, toml in cases.items():
            with self.subTest(name):
                e = Env(toml=toml)
                try:
                    r = subprocess.run([helmtest.HELM, "proxy", "--config", e.config, "--policy",
                                        helmtest.TEST_POLICY, "--data-dir",
                                        os.path.join(e.dir, "data"), "--port", "0",
                                        "--admin-port", "0"], capture_output=True, text=True,
                                       timeout=10, env=dict(os.environ, **KEY_ENV))
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertIn("helm.toml:", r.stderr)
                except subprocess.TimeoutExpired:
                    self.fail("helm proxy started with an invalid helm.toml (%s)" % name)
                finally:
                    e.close()

    def test_policy_obligation_naming_an_unconfigured_lane_refuses_to_start(self):
        # docs/routing.md: ValidateObligations runs for every policy rule at
        # startup and on reload; a lane_pin to a lane helm.toml does not
        # configure is a configuration error, not a runtime 503 per request.
        policy = LANE_POLICY + """
[[rules]]
id = "pin-nowhere"
verdict = "ALLOW"
when.content_regex = ['PIN-NOWHERE']
then.lane_pin = "no-such-lane"
"""
        self.e = Env(policy=policy)
        try:
            r = subprocess.run([helmtest.HELM, "proxy", "--config", self.e.config, "--policy",
                                self.e.policy, "--data-dir", os.path.join(self.e.dir, "data"),
                                "--port", "0", "--admin-port", "0"], capture_output=True,
                               text=True, timeout=3, env=dict(os.environ, **KEY_ENV))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("no-such-lane", r.stderr)
        except subprocess.TimeoutExpired as ex:
            started = [l for l in (ex.stderr or b"").decode().splitlines() if "listening" in l]
            self.fail("helm proxy started although policy rule pin-nowhere pins the "
                      "unconfigured lane 'no-such-lane': %s" % started)

    def test_unconfigured_pin_at_runtime_is_503_never_rerouted(self):
        policy = """
[policy]
id = "pin-nowhere"
default_verdict = "ALLOW"

[[rules]]
id = "pin-nowhere"
verdict = "ALLOW"
when.content_regex = ['PIN-NOWHERE']
then.lane_pin = "bulk"
"""
        # `bulk` exists at startup; a reload removes it.
        def toml(url_a, url_b):
            return routing_toml(url_a, url_b, extra_lanes='\n[lanes.bulk]\nprimary = "pa/m1"\n')
        self.e = Env(toml=toml, policy=policy).start()
        headers, _ = self.ok(chat("PIN-NOWHERE"))
        self.assertEqual(headers.get("x-helm-lane"), "bulk")
        helmtest.write_file(self.e.config, routing_toml(self.e.a.url, self.e.b.url))
        mark = len(self.e.px.log)
        self.e.px.proc.send_signal(signal.SIGHUP)
        self.wait_log("config reload", mark)
        self.e.a.reset()
        status, headers, raw = self.post(chat("PIN-NOWHERE"))
        if status == 200:
            # The reload was refused because the policy pins `bulk`: also fine.
            self.assertEqual(headers.get("x-helm-lane"), "bulk")
            return
        self.assertEqual(status, 503, raw)
        self.assertEqual(self.e.a.requests(), [])
        self.assertEqual(self.e.b.requests(), [])

    def test_sighup_reload(self):
        self.e = Env().start()
        headers, _ = self.ok(chat("hello"))
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")

        # An invalid file keeps the running config.
        for bad in ["[lanes.balanced\nprimary = ",
                    routing_toml(self.e.b.url, self.e.a.url, lanes={"balanced": 'primary = "pb/nope"'}),
                    routing_toml(self.e.b.url, self.e.a.url).replace("[lanes.balanced]", "[lanes.x]")]:
            helmtest.write_file(self.e.config, bad)
            mark = len(self.e.px.log)
            self.e.px.proc.send_signal(signal.SIGHUP)
            self.wait_log("config reload rejected", mark)
            headers, _ = self.ok(chat("hello"))
            self.assertEqual(headers.get("x-helm-model"), "pa/m1")
            self.assertEqual(headers.get("x-helm-lane"), "balanced")
        self.assertIsNone(self.e.px.proc.poll())

        # A valid edit is applied: balanced now starts with pb, and a new lane exists.
        helmtest.write_file(self.e.config, routing_toml(
            self.e.a.url, self.e.b.url, lanes={"balanced": 'primary = "pb/m2"\nfallback = ["pa/m1"]'},
            extra_lanes='\n[lanes.bulk]\nprimary = "pa/m1"\ntier = "economy"\n'))
        mark = len(self.e.px.log)
        self.e.px.proc.send_signal(signal.SIGHUP)
        self.wait_log("config reloaded", mark)
        self.e.a.reset()
        self.e.b.reset()
        headers, _ = self.ok(chat("hello"))
        self.assertEqual(headers.get("x-helm-model"), "pb/m2")
        self.assertEqual(self.calls(self.e.a), 0)
        self.assertEqual(self.calls(self.e.b), 1)
        headers, _ = self.ok(chat("hello", model="bulk"))
        self.assertEqual(headers.get("x-helm-lane"), "bulk")
        status, _, raw = self.get("/v1/models")
        self.assertIn("bulk", [m["id"] for m in json.loads(raw)["data"]])

        # New [breaker] settings apply to the breakers already in use: with a
        # threshold of 1, one fault of pb/m2 opens its circuit.
        helmtest.write_file(self.e.config, routing_toml(
            self.e.a.url, self.e.b.url, lanes={"balanced": 'primary = "pb/m2"\nfallback = ["pa/m1"]'},
        ).replace("failure_threshold = %d" % THRESHOLD, "failure_threshold = 1"))
        mark = len(self.e.px.log)
        self.e.px.proc.send_signal(signal.SIGHUP)
        self.wait_log("config reloaded", mark)
        self.e.b.script(["500"])
        headers, _ = self.ok(chat("one fault"))
        self.assertEqual(headers.get("x-helm-model"), "pa/m1")
        headers, _ = self.ok(chat("circuit open"))
        self.assertEqual(self.attempts(self.route(headers)),
                         [("pb", "m2", "skipped", "circuit_open"), ("pa", "m1", "ok", None)])


class ExampleConfigTest(RoutingCase):
    """examples/helm.toml loads with or without provider keys (every lane ends
    with the built-in mock), and the proxy serves with it."""

    EXAMPLE = os.path.join(helmtest.SOURCE_DIR, "examples", "helm.toml")
    KEYS = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"]

    def env(self, with_keys):
        env = {k: v for k, v in os.environ.items() if k not in self.KEYS}
        if with_keys:
            env.update({k: "config-check" for k in self.KEYS})
        return env

    def test_config_check(self):
        r = helmtest.run_helm("config", "check", "--format", "json", self.EXAMPLE,
                              env=self.env(False))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["providers"], 1)
        self.assertEqual(sorted(out["skipped_providers"]), ["anthropic", "gemini", "openai"])
        self.assertEqual(len(out["warnings"]), 3)
        for lane in STANDARD_LANES:
            self.assertEqual(out["lanes"][lane], ["mock/echo"], lane)

        r = helmtest.run_helm("config", "check", "--format", "json", self.EXAMPLE,
                              env=self.env(True))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["providers"], out["skipped_providers"], out["warnings"]), (4, [], []))
        self.assertEqual(out["lanes"]["balanced"],
                         ["openai/gpt-4o", "anthropic/sonnet", "gemini/flash", "mock/echo"])

    def test_proxy_serves_with_the_example_and_no_keys(self):
        self.e = None
        px = Server(["proxy", "--config", self.EXAMPLE, "--policy", helmtest.TEST_POLICY,
                     "--port", "0", "--admin-port", "0", "--checkpoint-seconds", "0"])
        px.env = self.env(False)
        px.start()
        try:
            self.assertEqual(sum("warning" in line for line in px.log), 3, "".join(px.log))
            status, headers, raw = raw_http(
                px.url, "POST", "/v1/chat/completions",
                json.dumps(chat("weather?", tools=[TOOL])).encode(),
                {"Authorization": "Bearer " + px.bootstrap_key, "Content-Type": "application/json"})
            self.assertEqual(status, 200, raw)
            self.assertEqual(headers.get("x-helm-lane"), "tool_use")
            self.assertEqual(headers.get("x-helm-model"), "mock/echo")
        finally:
            px.cleanup()


if __name__ == "__main__":
    helmtest.main()

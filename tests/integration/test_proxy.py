"""`helm proxy` end to end against scripts/test_upstream.py.

RELIABILITY.md M1 (bad client input: a clear OpenAI-shaped error and no
upstream bytes) and M2 (upstream faults: the client's status, the outcome
receipt's status), plus the remote mode (`helm serve` + `helm proxy
--boundary`) when the boundary goes away.
"""
import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import helmtest
from helmtest import Server, Upstream, admin_url, chat_body, outcome_receipt, raw_http

MAX_BODY = 2000
FIRST_BYTE_TIMEOUT_MS = 500
IDLE_TIMEOUT_MS = 1500


def start_proxy(upstream_url, *extra, data_dir=None):
    args = ["proxy", "--upstream", upstream_url, "--policy", helmtest.TEST_POLICY,
            "--port", "0", "--admin-port", "0", "--checkpoint-seconds", "0"] + list(extra)
    srv = Server(args, data_dir=data_dir).start()
    srv.admin_base = admin_url(srv)
    return srv


class ProxyCase(unittest.TestCase):
    """Helpers shared by the test classes; subclasses set cls.up and cls.px."""

    def post(self, body, path="/v1/chat/completions", key=None, content_type="application/json",
             headers=None, timeout=15):
        hdrs = {}
        if key is not False:
            hdrs["Authorization"] = "Bearer " + (key or self.px.bootstrap_key)
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        hdrs.update(headers or {})
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        return raw_http(self.px.url, "POST", path, body, hdrs, timeout=timeout)

    def admin(self, method, path, body=None):
        return self.px.admin(method, path, body, url=self.px.admin_base)

    def head(self):
        status, cp = self.admin("GET", "/api/v1/checkpoint")
        self.assertEqual(status, 200, cp)
        return cp["seq"], cp["head_hash"]

    def receipt(self, rid):
        status, r = self.admin("GET", "/api/v1/receipts/" + rid)
        self.assertEqual(status, 200, r)
        return r

    def outcome(self, decision_receipt_id, timeout=5.0):
        return outcome_receipt(self.px, decision_receipt_id, timeout)

    def assert_openai_error(self, status, headers, raw, expect_status, code=None):
        self.assertEqual(status, expect_status, raw)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        body = json.loads(raw)
        self.assertIsInstance(body, dict)
        err = body.get("error")
        self.assertIsInstance(err, dict, body)
        self.assertIsInstance(err.get("message"), str)
        self.assertTrue(err["message"])
        self.assertIsInstance(err.get("type"), str)
        if code is not None:
            self.assertEqual(err.get("code"), code, body)
        return err

    def assert_nothing_dispatched(self):
        self.assertEqual(self.up.requests(), [])

    def metrics(self):
        """The proxy's /metrics as {series: value}, e.g.
        {'helm_proxy_requests_total{status="completed"}': 3.0}."""
        status, _, raw = raw_http(self.px.url, "GET", "/metrics")
        self.assertEqual(status, 200, raw)
        values = {}
        for line in raw.decode().splitlines():
            if line and not line.startswith("#"):
                series, value = line.rsplit(" ", 1)
                values[series] = float(value)
        return values


def stream_lines(url, body, key, on_line=None, timeout=15):
    """POSTs a streaming chat request over a raw socket and reads the chunked
    SSE body line by line. on_line(line, elapsed) may return False to close
    the socket early. Returns (status, headers, lines, closed_early)."""
    import http.client
    import urllib.parse
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    payload = json.dumps(body).encode()
    t0 = time.time()
    conn.request("POST", "/v1/chat/completions", payload,
                 {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    res = conn.getresponse()
    headers = {k.lower(): v for k, v in res.getheaders()}
    lines = []
    if res.status != 200:
        lines = res.read().decode().split("\n")
        conn.close()
        return res.status, headers, lines, False
    while True:
        line = res.readline()
        if not line:
            break
        text = line.decode().rstrip("\n")
        lines.append(text)
        if on_line and on_line(text, time.time() - t0) is False:
            conn.sock.shutdown(socket.SHUT_RDWR)
            conn.close()
            return res.status, headers, lines, True
    conn.close()
    return res.status, headers, lines, False


def established_to(port):
    """Established TCP connections (IPv4, this network namespace) whose remote
    port is `port`: the proxy's upstream connections."""
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for row in f:
            cols = row.split()
            if int(cols[2].split(":")[1], 16) == port and cols[3] == "01":
                n += 1
    return n


# ---- M1: bad client input -----------------------------------------------------

class BadInputTest(ProxyCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream().start()
        cls.px = start_proxy(cls.up.url, "--max-body-bytes", str(MAX_BODY))

    @classmethod
    def tearDownClass(cls):
        cls.px.cleanup()
        cls.up.stop()

    def setUp(self):
        self.up.reset()

    def test_malformed_json_is_400_with_a_deny_receipt(self):
        valid = json.dumps(chat_body("hello")).encode()
        cases = {
            "truncated": valid[:-7],
            "trailing garbage": valid + b" x",
            "two documents": valid + valid,
            "empty": b"",
            "whitespace only": b"  \n",
            "array": b"[]",
            "string": b'"hello"',
            "number": b"42",
            "null": b"null",
            "BOM": b"\xef\xbb\xbf" + valid,
            "NUL after the document": valid + b"\x00",
            "NUL inside a string": valid.replace(b"hello", b"hel\x00lo"),
            "single quotes": valid.replace(b'"', b"'"),
            "invalid UTF-8": valid.replace(b"hello", b"hel\xfflo"),
        }
        for name, raw in cases.items():
            with self.subTest(name):
                status, headers, body = self.post(raw)
                err = self.assert_openai_error(status, headers, body, 400, "REQUEST_INVALID")
                self.assertEqual(err["helm"]["reason_code"], "REQUEST_INVALID")
                self.assertEqual(headers.get("x-helm-status"), "DENY")
                r = self.receipt(headers["x-helm-receipt-id"])
                self.assertEqual((r["verdict"], r["reason_code"]), ("DENY", "REQUEST_INVALID"))
        self.assert_nothing_dispatched()

    def test_json_of_the_wrong_shape_is_400_naming_the_problem(self):
        cases = {
            "messages not an array": ({"model": "m", "messages": "hello"}, "messages"),
            "content of a wrong type": ({"model": "m", "messages": [{"role": "user", "content": 7}]},
                                        "content"),
            "tools not an array": ({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                                    "tools": {"name": "x"}}, "tools"),
        }
        for name, (body, member) in cases.items():
            with self.subTest(name):
                status, headers, raw = self.post(body)
                err = self.assert_openai_error(status, headers, raw, 400, "REQUEST_INVALID")
                self.assertIn(member, err["message"])
                self.assertEqual(headers.get("x-helm-status"), "DENY")
                r = self.receipt(headers["x-helm-receipt-id"])
                self.assertEqual((r["verdict"], r["reason_code"]), ("DENY", "REQUEST_INVALID"))
        self.assert_nothing_dispatched()

    def test_duplicate_keys_are_rejected(self):
        cases = [
            b'{"model":"gpt-4o-mini","model":"other","messages":[{"role":"user","content":"hi"}]}',
            b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi","content":"forbidden-word"}]}',
            b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":false,"stream":true}',
        ]
        for raw in cases:
            with self.subTest(raw=raw):
                status, headers, body = self.post(raw)
                self.assert_openai_error(status, headers, body, 400, "REQUEST_INVALID")
        self.assert_nothing_dispatched()

    def test_wrong_content_type_is_415(self):
        for ct in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", None]:
            with self.subTest(content_type=ct):
                status, headers, body = self.post(chat_body("hello"), content_type=ct)
                self.assert_openai_error(status, headers, body, 415)
        # Parameters and case do not matter.
        status, _, body = self.post(chat_body("hello"), content_type="Application/JSON; charset=utf-8")
        self.assertEqual(status, 200, body)
        self.assertEqual(len(self.up.requests()), 1)

    def test_missing_and_wrong_keys_are_401_and_add_no_receipt(self):
        before = self.head()
        key = self.px.bootstrap_key
        near_miss = key[:-1] + ("A" if key[-1] != "A" else "B")
        for name, hdrs in {
            "no key": {},
            "empty bearer": {"Authorization": "Bearer "},
            "wrong key": {"Authorization": "Bearer hk_this-is-not-a-key"},
            "near-miss key": {"Authorization": "Bearer " + near_miss},
            "key with a suffix": {"Authorization": "Bearer " + key + "x"},
            "basic scheme": {"Authorization": "Basic " + key},
        }.items():
            with self.subTest(name):
                status, headers, body = self.post(chat_body("hello"), key=False, headers=hdrs)
                self.assert_openai_error(status, headers, body, 401)
                self.assertNotIn("x-helm-receipt-id", headers)
        # Bad input without a key is still only a 401.
        status, headers, body = self.post(b"{not json", key=False)
        self.assert_openai_error(status, headers, body, 401)
        self.assertEqual(self.head(), before, "an unauthenticated request grew the ledger")
        self.assert_nothing_dispatched()

    def padded(self, size):
        """A valid chat body of exactly `size` bytes."""
        base = chat_body("")
        raw = json.dumps(base, separators=(",", ":")).encode()
        body = chat_body("x" * (size - len(raw)))
        out = json.dumps(body, separators=(",", ":")).encode()
        self.assertEqual(len(out), size)
        return out

    def test_body_at_the_limit_passes_one_byte_over_is_413(self):
        status, _, body = self.post(self.padded(MAX_BODY))
        self.assertEqual(status, 200, body)
        seen = self.up.requests()
        self.assertEqual(len(seen), 1)
        self.assertEqual(len(seen[0]["body"].encode()), MAX_BODY)

        self.up.reset()
        status, headers, body = self.post(self.padded(MAX_BODY + 1))
        self.assert_openai_error(status, headers, body, 413)
        status, headers, body = self.post(self.padded(MAX_BODY * 5))
        self.assert_openai_error(status, headers, body, 413)
        self.assert_nothing_dispatched()

    def test_unknown_routes_are_404(self):
        auth = {"Authorization": "Bearer " + self.px.bootstrap_key, "Content-Type": "application/json"}
        payload = json.dumps(chat_body("hello")).encode()
        for method, path in [("POST", "/v1/chat/completion"), ("POST", "/v2/chat/completions"),
                             ("POST", "/chat/completions"), ("GET", "/v1/nothing-here"),
                             ("POST", "/v1/chat/completions/extra")]:
            with self.subTest(method=method, path=path):
                status, headers, body = raw_http(self.px.url, method, path, payload, auth)
                self.assert_openai_error(status, headers, body, 404)
        # A known path with the wrong method is refused too (404 or 405).
        status, headers, body = raw_http(self.px.url, "GET", "/v1/chat/completions", None, auth)
        self.assertIn(status, (404, 405))
        self.assert_openai_error(status, headers, body, status)
        self.assert_nothing_dispatched()

    def test_a_path_that_is_not_utf8_is_400_with_a_deny_receipt(self):
        body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).encode()
        status, headers, raw = raw_http(
            self.px.url, "POST", "/v1beta/models/g%FF:generateContent", body,
            {"x-goog-api-key": self.px.bootstrap_key, "Content-Type": "application/json"})
        self.assertEqual(status, 400, raw)
        self.assertEqual(json.loads(raw)["error"]["status"], "INVALID_ARGUMENT")  # Gemini's shape
        self.assertEqual(headers.get("x-helm-status"), "DENY")
        self.assertEqual(headers.get("x-helm-reason-code"), "REQUEST_INVALID")
        r = self.receipt(headers["x-helm-receipt-id"])
        self.assertEqual(r["request"]["endpoint"], "/v1beta/models/g%FF:generateContent")
        self.assert_nothing_dispatched()


# ---- M2: upstream faults -------------------------------------------------------

class UpstreamFaultTest(ProxyCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream().start()
        cls.px = start_proxy(cls.up.url, "--first-byte-timeout-ms", str(FIRST_BYTE_TIMEOUT_MS),
                             "--idle-timeout-ms", str(IDLE_TIMEOUT_MS))

    @classmethod
    def tearDownClass(cls):
        cls.px.cleanup()
        cls.up.stop()

    def setUp(self):
        self.up.reset()

    def test_upstream_500_is_502_and_outcome_upstream_error(self):
        for stream in (False, True):
            with self.subTest(stream=stream):
                self.up.reset()
                status, headers, body = self.post(chat_body("[upstream:500]", stream=stream))
                self.assert_openai_error(status, headers, body, 502, "UPSTREAM_ERROR")
                self.assertEqual(headers.get("x-helm-status"), "ALLOW")
                o = self.outcome(headers["x-helm-receipt-id"])
                self.assertIsNotNone(o)
                self.assertEqual(o["status"], "upstream_error")
                self.assertEqual(o["http_status"], 502)
                self.assertEqual(len(self.up.requests()), 1)

    def test_metrics_time_each_outcome_decision_and_ledger_write(self):
        before = self.metrics()
        for trigger in ("[upstream:500]", "hello"):
            status, headers, body = self.post(chat_body(trigger))
            self.assertIn(status, (200, 502), body)
            self.assertIsNotNone(self.outcome(headers["x-helm-receipt-id"]))  # written
        after = self.metrics()

        def delta(series):
            return after.get(series, 0) - before.get(series, 0)

        for status in ("upstream_error", "completed"):
            name = 'helm_proxy_request_duration_seconds_%s{status="%s"%s}'
            self.assertEqual(delta(name % ("count", status, "")), 1, status)
            # cumulative buckets: the +Inf bucket is the count, no bucket exceeds it
            self.assertEqual(delta(name % ("bucket", status, ',le="+Inf"')), 1)
            self.assertLessEqual(delta(name % ("bucket", status, ',le="0.0005"')), 1)
            self.assertGreater(delta('helm_proxy_request_duration_seconds_sum{status="%s"}'
                                     % status), 0)
        self.assertEqual(delta('helm_decision_duration_seconds_count{verdict="ALLOW"}'), 2)
        # both decisions and both outcomes were written, in one or more batches
        self.assertGreaterEqual(delta("helm_ledger_write_duration_seconds_count"), 1)
        self.assertGreaterEqual(delta("helm_ledger_write_receipts_sum"), 4)

    def test_upstream_429_is_returned_with_retry_after(self):
        status, headers, body = self.post(chat_body("[upstream:429 retry_after=7]"))
        self.assertEqual(status, 429, body)
        self.assertEqual(headers.get("retry-after"), "7")
        self.assertEqual(json.loads(body)["error"]["type"], "rate_limit_error")
        o = self.outcome(headers["x-helm-receipt-id"])
        self.assertEqual(o["status"], "upstream_error")
        self.assertEqual(o["http_status"], 429)
        # The kept 429 is finished like any answer: the hash of what was sent.
        raw = body if isinstance(body, bytes) else body.encode()
        self.assertEqual(headers.get("x-helm-output-hash"),
                         "sha256:" + hashlib.sha256(raw).hexdigest())
        self.assertEqual(o["output_hash"], headers.get("x-helm-output-hash"))

        date = "Wed, 21 Oct 2037 07:28:00 GMT"
        self.up.script([{"behaviour": "429", "retry_after": date}])
        status, headers, body = self.post(chat_body("hello"))
        self.assertEqual(status, 429, body)
        self.assertEqual(headers.get("retry-after"), date)
        self.assertEqual(len(self.up.requests()), 2)

    def test_an_error_answer_to_a_stream_over_the_response_limit_is_a_fault(self):
        # An error answer to a stream is read whole, as a buffered answer is,
        # and within the same limit (max_response_bytes, 64 MiB).
        self.up.script([{"behaviour": "json", "status": 400, "text": "x" * (64 << 20)}])
        status, headers, body = self.post(chat_body("hello", stream=True), timeout=60)
        self.assert_openai_error(status, headers, body, 502, "UPSTREAM_ERROR")
        o = self.outcome(headers["x-helm-receipt-id"])
        self.assertEqual((o["status"], o["http_status"]), ("upstream_error", 502))
        self.assertEqual(len(self.up.requests()), 1)

    def test_members_helm_does_not_read_go_out_whatever_their_type(self):
        # Reading these after the decision once threw: the allowed request
        # ended as a 500 with no outcome receipt.
        hi = [{"role": "user", "parts": [{"text": "hi"}]}]
        cases = [
            ("/v1/chat/completions", chat_body("hello") | {"response_format": {"type": 5}}),
            ("/v1beta/models/m:generateContent", {"model": 5, "stream": "x", "contents": hi}),
        ]
        for path, body in cases:
            with self.subTest(path=path):
                self.up.reset()
                status, headers, raw = self.post(body, path=path)
                self.assertEqual(status, 200, raw)
                o = self.outcome(headers["x-helm-receipt-id"])
                self.assertIsNotNone(o)
                self.assertEqual((o["status"], o["http_status"]), ("completed", 200))
                self.assertEqual(len(self.up.requests()), 1)

    def test_upstream_400_is_returned_as_is_and_not_retried(self):
        status, headers, body = self.post(chat_body("[upstream:400]"))
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body), {"error": {"message": "invalid request",
                                                      "type": "invalid_request_error",
                                                      "param": None, "code": None}})
        self.assertEqual(len(self.up.requests()), 1)
        o = self.outcome(headers["x-helm-receipt-id"])
        self.assertEqual(o["status"], "rejected")
        self.assertEqual(o["http_status"], 400)

    def test_upstream_hang_is_502_after_the_first_byte_timeout(self):
        for stream in (False, True):
            with self.subTest(stream=stream):
                t0 = time.time()
                status, headers, body = self.post(chat_body("[upstream:hang]", stream=stream))
                elapsed = time.time() - t0
                self.assert_openai_error(status, headers, body, 502, "UPSTREAM_ERROR")
                self.assertLess(elapsed, 5.0)
                self.assertGreaterEqual(elapsed, FIRST_BYTE_TIMEOUT_MS / 1000.0 * 0.9)
                o = self.outcome(headers["x-helm-receipt-id"])
                self.assertEqual(o["status"], "upstream_error")

    def test_stream_cut_midway_sends_an_error_event_and_outcome_truncated(self):
        status, headers, lines, _ = stream_lines(
            self.px.url, chat_body("[upstream:cut events=2]", stream=True), self.px.bootstrap_key)
        self.assertEqual(status, 200)
        data = [l[len("data: "):] for l in lines if l.startswith("data: ")]
        self.assertEqual(len(data), 3, lines)
        self.assertNotIn("[DONE]", data)
        first = json.loads(data[0])
        self.assertEqual(first["object"], "chat.completion.chunk")
        err = json.loads(data[-1])
        self.assertIn("error", err)
        self.assertIsInstance(err["error"]["message"], str)
        self.assertTrue(lines[-2].startswith(": helm-output-hash sha256:"), lines[-3:])
        o = self.outcome(headers["x-helm-receipt-id"])
        self.assertEqual(o["status"], "truncated")
        self.assertEqual(o["output_hash"], lines[-2].split(" ")[-1])
        self.assertIsNone(o.get("usage"), "a truncated stream's usage is unknown, never zero")

    def test_stream_cut_inside_an_event_drops_it_before_the_error_event(self):
        # Regression: the error frame was glued onto the partial line
        # (`..."delta":{"contdata: {"error":...}`), a JSON syntax error.
        status, headers, lines, _ = stream_lines(
            self.px.url, chat_body("[upstream:cut events=2 bytes=40]", stream=True),
            self.px.bootstrap_key)
        self.assertEqual(status, 200)
        data = [l[len("data: "):] for l in lines if l.startswith("data: ")]
        self.assertEqual(len(data), 3, lines)
        self.assertTrue(all(l == "" or l.startswith(("data: ", ": ")) for l in lines), lines)
        chunks = [json.loads(d) for d in data]
        self.assertEqual([c.get("object") for c in chunks[:2]], ["chat.completion.chunk"] * 2)
        self.assertIsInstance(chunks[-1]["error"]["message"], str)
        self.assertEqual(self.outcome(headers["x-helm-receipt-id"])["status"], "truncated")

    def test_stream_stall_after_content_is_truncated_by_the_idle_timeout(self):
        t0 = time.time()
        status, headers, lines, _ = stream_lines(
            self.px.url, chat_body("[upstream:stall events=2]", stream=True), self.px.bootstrap_key)
        self.assertEqual(status, 200)
        self.assertLess(time.time() - t0, IDLE_TIMEOUT_MS / 1000.0 + 5)
        data = [l[len("data: "):] for l in lines if l.startswith("data: ")]
        self.assertIn("error", json.loads(data[-1]))
        self.assertEqual(self.outcome(headers["x-helm-receipt-id"])["status"], "truncated")

    def test_stream_cut_before_any_event_is_502_not_an_open_stream(self):
        # DESIGN §7/§8: the status is settled before a stream opens; a stream
        # is committed on its first output event. A head followed by nothing
        # must not become "200 + error frame".
        status, headers, lines, _ = stream_lines(
            self.px.url, chat_body("[upstream:cut events=0]", stream=True), self.px.bootstrap_key)
        self.assertEqual(status, 502, lines)
        self.assertEqual(self.outcome(headers["x-helm-receipt-id"])["status"], "upstream_error")

    def test_first_event_reaches_the_client_before_a_slow_upstream_finishes(self):
        delay_ms, tokens = 400, 6  # 8 events: 7 pauses, about 2.8 s in all
        first = []

        def on_line(line, elapsed):
            if line.startswith("data: ") and not first:
                first.append(elapsed)
        t0 = time.time()
        status, headers, lines, _ = stream_lines(
            self.px.url,
            chat_body("[upstream:slow delay_ms=%d tokens=%d]" % (delay_ms, tokens), stream=True),
            self.px.bootstrap_key, on_line)
        total = time.time() - t0
        self.assertEqual(status, 200)
        self.assertIn("data: [DONE]", lines)
        self.assertGreaterEqual(total, 7 * delay_ms / 1000.0 * 0.9)
        self.assertLess(first[0], 1.5, "the first event waited for the upstream (%.2fs)" % first[0])
        self.assertEqual(self.outcome(headers["x-helm-receipt-id"])["status"], "completed")


class ClientDisconnectTest(ProxyCase):
    """A fresh upstream and proxy, so that every upstream connection counted
    belongs to the stream under test."""

    @classmethod
    def setUpClass(cls):
        cls.up = Upstream().start()
        cls.px = start_proxy(cls.up.url)

    @classmethod
    def tearDownClass(cls):
        cls.px.cleanup()
        cls.up.stop()

    def test_client_disconnect_mid_stream_ends_the_upstream_request(self):
        seen_upstream = []

        def on_line(line, _elapsed):
            if line.startswith("data: "):
                seen_upstream.append(established_to(self.up.port))
                return False  # close the socket after the first event
        t0 = time.time()
        status, headers, lines, closed = stream_lines(
            self.px.url, chat_body("[upstream:slow delay_ms=300 tokens=40]", stream=True),
            self.px.bootstrap_key, on_line)
        self.assertEqual(status, 200)
        self.assertTrue(closed)
        self.assertEqual(seen_upstream, [1], "one upstream connection while streaming")
        # The full stream would take about 12 s.
        o = self.outcome(headers["x-helm-receipt-id"], timeout=5)
        self.assertIsNotNone(o, "no outcome after the client went away")
        self.assertEqual(o["status"], "client_disconnected")
        self.assertLess(time.time() - t0, 8)
        deadline = time.time() + 5
        while established_to(self.up.port) and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(established_to(self.up.port), 0, "the upstream request is still open")
        # The proxy still serves.
        status, _, body = self.post(chat_body("still there?"))
        self.assertEqual(status, 200, body)


    def test_client_leaving_before_the_first_byte_ends_the_upstream_request_at_once(self):
        # The upstream never answers; the first-byte timeout here is 60 s.
        self.up.reset()
        body = json.dumps(chat_body("[upstream:hang]", stream=True)).encode()
        head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: helm\r\n"
                "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n" % (self.px.bootstrap_key, len(body))).encode()
        port = int(self.px.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head + body)
            deadline = time.time() + 5
            while not self.up.requests() and time.time() < deadline:
                time.sleep(0.02)
            self.assertEqual(len(self.up.requests()), 1)
            self.assertEqual(established_to(self.up.port), 1)
        t0 = time.time()
        while established_to(self.up.port) and time.time() - t0 < 10:
            time.sleep(0.05)
        self.assertEqual(established_to(self.up.port), 0, "the upstream request is still open")
        self.assertLess(time.time() - t0, 3)
        status, page = self.admin("GET", "/api/v1/receipts?limit=1000")
        self.assertEqual(status, 200, page)
        last = page["receipts"][-1]
        self.assertEqual((last.get("kind"), last.get("status")), ("outcome", "client_disconnected"))


class WorkerLimitsTest(ProxyCase):
    """--server-threads and --max-streams: a stream beyond the cap is shed at
    once (503 STREAM_CAPACITY, Retry-After) and never dispatched, while short
    requests still find a worker; limits that cannot hold refuse to start."""

    @classmethod
    def setUpClass(cls):
        cls.up = Upstream().start()
        cls.px = start_proxy(cls.up.url, "--server-threads", "4", "--max-streams", "2")

    @classmethod
    def tearDownClass(cls):
        cls.px.cleanup()
        cls.up.stop()

    def test_a_stream_beyond_the_cap_is_shed_and_not_dispatched(self):
        streaming = [threading.Event(), threading.Event()]
        results = [None, None]

        def stream(i):
            def on_line(line, _elapsed):
                if line.startswith("data: "):
                    streaming[i].set()
            results[i] = stream_lines(
                self.px.url, chat_body("[upstream:slow delay_ms=300 tokens=6]", stream=True),
                self.px.bootstrap_key, on_line)
        threads = [threading.Thread(target=stream, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for e in streaming:
            self.assertTrue(e.wait(10), "a stream under the cap did not start")

        status, headers, raw = self.post(chat_body("one too many", stream=True))
        self.assert_openai_error(status, headers, raw, 503, "STREAM_CAPACITY")
        self.assertEqual(headers.get("retry-after"), "1")
        self.assertEqual(self.outcome(headers["x-helm-receipt-id"])["status"], "rejected")
        # Two workers are left for requests that do not stream (RELIABILITY
        # M6: health and a short request still answer at the cap).
        status, _, raw = self.post(chat_body("a short one"))
        self.assertEqual(status, 200, raw)
        status, _, raw = raw_http(self.px.url, "GET", "/healthz")
        self.assertEqual(status, 200, raw)

        for t in threads:
            t.join(15)
        for status, _, lines, _ in results:
            self.assertEqual(status, 200)
            self.assertIn("data: [DONE]", lines)
        dispatched = [json.loads(r["body"]) for r in self.up.requests()]
        self.assertEqual(sum(1 for b in dispatched if b.get("stream")), 2, dispatched)
        # The cap counts open streams: with those closed, a new one goes through.
        status, _, lines, _ = stream_lines(self.px.url, chat_body("again", stream=True),
                                           self.px.bootstrap_key)
        self.assertEqual(status, 200, lines)

    def test_max_streams_not_below_the_server_threads_refuses_to_start(self):
        data_dir = tempfile.mkdtemp(prefix="helm-it-")
        try:
            r = subprocess.run([helmtest.HELM, "proxy", "--upstream", self.up.url, "--policy",
                                helmtest.TEST_POLICY, "--data-dir", data_dir, "--port", "0",
                                "--admin-port", "0", "--server-threads", "8", "--max-streams", "8"],
                               capture_output=True, text=True, timeout=5)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("max streams must be at least 1 and below the server threads (8)",
                          r.stderr)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)

    def test_the_embedded_admin_listener_keeps_the_default_thread_count(self):
        px = start_proxy(self.up.url, "--server-threads", "600", "--max-streams", "10")
        def threads():
            return len(os.listdir("/proc/%d/task" % px.proc.pid))
        try:
            # 600 proxy workers, at most 128 admin workers, and a few dozen
            # others (ledger, RocksDB, signals); 1,200 and more if the admin
            # listener took the proxy's count. The workers start after the
            # "listening" line.
            deadline = time.time() + 10
            while threads() < 600 + 128 and time.time() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            self.assertGreaterEqual(threads(), 600 + 128)
            self.assertLess(threads(), 600 + 128 + 64)
        finally:
            px.cleanup()

    @unittest.skipIf(os.environ.get("HELM_SANITIZED"),
                     "a sanitizer's shadow memory needs more address space than the limit")
    def test_worker_threads_the_process_cannot_start_refuse_to_start(self):
        import resource

        def two_gib_of_address_space():  # a few hundred 8 MiB thread stacks
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        data_dir = tempfile.mkdtemp(prefix="helm-it-")
        try:
            # Remote mode: no embedded admin listener starts its own threads.
            r = subprocess.run([helmtest.HELM, "proxy", "--upstream", self.up.url, "--boundary",
                                "http://127.0.0.1:9", "--data-dir", data_dir, "--port", "0",
                                "--server-threads", "8192", "--max-streams", "10"],
                               preexec_fn=two_gib_of_address_space, capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertRegex(r.stderr, r"cannot start worker thread \d+ of 8192")
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


# ---- remote mode -----------------------------------------------------------------

class RemoteBoundaryTest(ProxyCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream().start()
        cls.serve = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0"]).start()
        cls.px = Server(["proxy", "--upstream", cls.up.url, "--boundary", cls.serve.url, "--port", "0"],
                        data_dir=cls.serve.data_dir).start()
        cls.px.admin_base = cls.serve.url

    @classmethod
    def tearDownClass(cls):
        cls.px.cleanup()
        cls.serve.cleanup()
        cls.up.stop()

    def test_boundary_down_is_503_and_nothing_dispatched(self):
        status, headers, body = self.post(chat_body("hello"))
        self.assertEqual(status, 200, body)
        receipt_id = headers["x-helm-receipt-id"]
        self.assertEqual(self.outcome(receipt_id)["status"], "completed")
        self.assertEqual(len(self.up.requests()), 1)

        self.serve.stop()
        self.up.reset()
        for stream in (False, True):
            with self.subTest(stream=stream):
                status, headers, body = self.post(chat_body("hello", stream=stream))
                self.assert_openai_error(status, headers, body, 503, "BOUNDARY_UNAVAILABLE")
        self.assert_nothing_dispatched()

        self.px.stop()
        r = helmtest.run_helm("receipts", "verify", "--data-dir", self.serve.data_dir,
                              "--trusted-key", os.path.join(self.serve.data_dir, "keys", "signing.pub"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


# ---- process lifecycle -------------------------------------------------------------

def open_files_limit(pid):
    """(soft, hard) from /proc/PID/limits."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise AssertionError("no open files limit for %d" % pid)


class LifecycleTest(unittest.TestCase):
    def test_sigterm_with_idle_keepalive_connection(self):
        """SIGTERM stops the proxy promptly even when a client holds an idle
        keep-alive connection (SDK clients pool their connections)."""
        px = start_proxy("mock://")
        try:
            sock = socket.create_connection(("127.0.0.1", px.port))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200", sock.recv(4096))
            t0 = time.time()
            px.proc.send_signal(signal.SIGTERM)
            try:
                px.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.fail("helm proxy still running 5 s after SIGTERM (idle keep-alive client)")
            finally:
                sock.close()
            self.assertEqual(px.proc.returncode, 0)
            self.assertLess(time.time() - t0, 5)
        finally:
            px.cleanup()

    @staticmethod
    def proxy_with_open_files_limit(soft, hard):
        return Server(["proxy", "--upstream", "mock://", "--policy", helmtest.TEST_POLICY,
                       "--port", "0", "--admin-port", "0"],
                      preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
                      ).start()

    def test_the_soft_descriptor_limit_is_raised_to_the_hard_one(self):
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        px = self.proxy_with_open_files_limit(256, hard)
        try:
            self.assertEqual(open_files_limit(px.proc.pid), (hard, hard))
        finally:
            px.cleanup()

    def test_a_hard_limit_below_the_connection_limit_is_warned_about(self):
        px = self.proxy_with_open_files_limit(512, 512)
        try:
            self.assertEqual(open_files_limit(px.proc.pid), (512, 512))
            self.assertIn("warning: the limit on open files is 512", "".join(px.log))
        finally:
            px.cleanup()

    def test_invalid_upstream_url_refuses_to_start(self):
        data_dir = tempfile.mkdtemp(prefix="helm-it-")
        try:
            for url in ["ftp://example", "not a url", "http://", "http://127.0.0.1:",
                        "http://127.0.0.1:99999", "http://127.0.0.1:port"]:
                with self.subTest(url=url):
                    try:
                        r = subprocess.run([helmtest.HELM, "proxy", "--upstream", url, "--policy",
                                            helmtest.TEST_POLICY, "--data-dir", data_dir,
                                            "--port", "0", "--admin-port", "0"],
                                           capture_output=True, text=True, timeout=5)
                    except subprocess.TimeoutExpired:
                        self.fail("helm proxy started with upstream %r" % url)
                    self.assertEqual(r.returncode, 2, r.stderr)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    helmtest.main()

"""sdk/python/helm_sdk.py: the X-Helm-* headers, output hashes and the receipt
tail. Unit-level cases (header mappings, hashes computed independently with
hashlib, the SSE parser fed at every split, the tail against a scripted
loopback server), then end to end against the real binary: `helm proxy
--upstream mock:// --policy policies/development.toml`.
"""
import dataclasses
import email
import hashlib
import http.client
import http.server
import importlib.util
import io
import json
import os
import queue
import re
import socket
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import helmtest
from helmtest import Server, admin_url, chat_body, run_helm

sys.path.insert(0, os.path.join(helmtest.SOURCE_DIR, "sdk", "python"))
import helm_sdk  # noqa: E402
from helm_sdk import (HelmHeaderError, SseEvent, SseError, SseParser, TailError,  # noqa: E402
                      check_output_hash, check_stream_output_hash, output_hash_of,
                      read_helm_headers, stream_output_hash, tail_receipts)

DEV_POLICY = os.path.join(helmtest.SOURCE_DIR, "policies", "development.toml")


def sha256_tagged(data):
    """The reference: hashlib over exactly these bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ headers --

BASE = {
    "X-Helm-Decision-ID": "dec_01M92QF2GPX0ZQZQXWJR27Q08Y",
    "X-Helm-Receipt-ID": "rcpt_01M92QF2GP0CV1A637TBD4X167",
    "X-Helm-Status": "ALLOW",
    "X-Helm-Reason-Code": "",
    "X-Helm-Correlation-ID": "cor_01M92QF2GPA8J1BAB3EYWWF4X5",
}
OPTIONAL = {
    "X-Helm-Output-Hash": "sha256:" + "ab" * 32,
    "X-Helm-Lane": "balanced",
    "X-Helm-Model": "gpt-4o-mini",
    "X-Helm-Fallbacks": "2",
}


def mixed_case(name):
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(name))


def http_message(pairs):
    raw = "".join("%s: %s\r\n" % kv for kv in pairs) + "\r\n"
    return http.client.parse_headers(io.BytesIO(raw.encode("latin-1")))


class MergingHeaders:
    """Behaves like httpx.Headers (the openai SDK's `raw.headers`): names in
    any case, items() with lower-case names and repeated headers joined by
    ', '."""

    def __init__(self, pairs):
        self._pairs = [(k.lower(), v) for k, v in pairs]

    def items(self):
        merged = {}
        for k, v in self._pairs:
            merged[k] = merged[k] + ", " + v if k in merged else v
        return list(merged.items())


class ReadHelmHeadersTest(unittest.TestCase):
    def test_mixed_case_names_in_a_dict(self):
        headers = {mixed_case(k): v for k, v in {**BASE, **OPTIONAL}.items()}
        headers["content-TYPE"] = "application/json"
        headers["X-HELM-SOMETHING-NEW"] = "ignored"
        h = read_helm_headers(headers)
        self.assertEqual(h, helm_sdk.HelmHeaders(
            decision_id=BASE["X-Helm-Decision-ID"], receipt_id=BASE["X-Helm-Receipt-ID"],
            status="ALLOW", reason_code="", correlation_id=BASE["X-Helm-Correlation-ID"],
            output_hash=OPTIONAL["X-Helm-Output-Hash"], approval_id=None, lane="balanced",
            model="gpt-4o-mini", fallbacks=2))
        self.assertIsInstance(h.fallbacks, int)

    def test_message_objects_and_pairs(self):
        pairs = [(k.upper(), v) for k, v in BASE.items()] + [("Content-Type", "text/plain")]
        want = read_helm_headers(BASE)
        msg = http_message(pairs)
        self.assertIsInstance(msg, http.client.HTTPMessage)
        self.assertEqual(read_helm_headers(msg), want)
        mail = email.message_from_string("".join("%s: %s\n" % kv for kv in pairs) + "\n")
        self.assertEqual(read_helm_headers(mail), want)
        self.assertEqual(read_helm_headers(pairs), want)  # http.client getheaders()
        self.assertEqual(read_helm_headers([(k.encode(), v.encode()) for k, v in pairs]), want)
        self.assertEqual(read_helm_headers(MergingHeaders(pairs)), want)

    def test_missing_optionals_are_none(self):
        h = read_helm_headers(BASE)
        for name in ("output_hash", "approval_id", "lane", "model", "fallbacks"):
            self.assertIsNone(getattr(h, name), name)
        self.assertEqual(h.reason_code, "")

    def test_escalate_with_approval_and_frozen(self):
        h = read_helm_headers({**BASE, "X-Helm-Status": "ESCALATE",
                               "X-Helm-Reason-Code": "TOOL_REQUIRES_APPROVAL",
                               "x-helm-approval-id": "apr_01M92QF2GPA8J1BAB3EYWWF4X5"})
        self.assertEqual((h.status, h.reason_code, h.approval_id),
                         ("ESCALATE", "TOOL_REQUIRES_APPROVAL", "apr_01M92QF2GPA8J1BAB3EYWWF4X5"))
        with self.assertRaises(dataclasses.FrozenInstanceError):
            h.status = "ALLOW"

    def test_bad_status_values(self):
        for status in ("allow", "MAYBE", "", "ALLOW, DENY", "DENIED"):
            with self.subTest(status=status):
                with self.assertRaises(HelmHeaderError) as cm:
                    read_helm_headers({**BASE, "X-Helm-Status": status})
                self.assertIn("X-Helm-Status", str(cm.exception))
                self.assertEqual(cm.exception.correlation_id, BASE["X-Helm-Correlation-ID"])
                self.assertIsInstance(cm.exception, ValueError)

    def test_each_required_header_missing(self):
        for name in BASE:
            with self.subTest(missing=name):
                headers = {k: v for k, v in BASE.items() if k != name}
                with self.assertRaises(HelmHeaderError) as cm:
                    read_helm_headers(headers)
                self.assertIn(name, str(cm.exception))
        # What helm sends on a 401 for a bad key: a correlation id, no decision.
        with self.assertRaises(HelmHeaderError) as cm:
            read_helm_headers({"X-Helm-Correlation-ID": "cor_1",
                               "X-Helm-Output-Hash": "sha256:" + "0" * 64})
        self.assertEqual(cm.exception.correlation_id, "cor_1")

    def test_malformed_values(self):
        for name, value in [("X-Helm-Fallbacks", "-1"), ("X-Helm-Fallbacks", "two"),
                            ("X-Helm-Fallbacks", "1.0"), ("X-Helm-Output-Hash", "sha256:XYZ"),
                            ("X-Helm-Output-Hash", "md5:" + "ab" * 16),
                            ("X-Helm-Output-Hash", "sha256:" + "AB" * 32),
                            ("X-Helm-Receipt-ID", "rcpt a"), ("X-Helm-Decision-ID", ""),
                            ("X-Helm-Approval-ID", "apr_1;x"),
                            ("X-Helm-Correlation-ID", "x" * 129)]:
            with self.subTest(name=name, value=value):
                with self.assertRaises(HelmHeaderError) as cm:
                    read_helm_headers({**BASE, name: value})
                self.assertIn(name, str(cm.exception))

    def test_repeated_headers(self):
        pairs = list(BASE.items())
        self.assertEqual(read_helm_headers(http_message(pairs + [("x-helm-status", "ALLOW")])),
                         read_helm_headers(BASE))  # the same value twice is harmless
        other = ("X-Helm-Receipt-ID", "rcpt_other")
        with self.assertRaises(HelmHeaderError):
            read_helm_headers(http_message(pairs + [other]))
        with self.assertRaises(HelmHeaderError):  # joined into one value: not an id
            read_helm_headers(MergingHeaders(pairs + [other]))
        with self.assertRaises(HelmHeaderError):  # two spellings in one dict
            read_helm_headers({**BASE, "x-helm-status": "DENY"})


# ------------------------------------------------------------- output hash --

class OutputHashTest(unittest.TestCase):
    BODIES = [b"", b"{}", b'{"choices":[{"message":{"content":"caf\xc3\xa9"}}]}\n', bytes(range(256))]

    def test_output_hash_of_matches_hashlib(self):
        for body in self.BODIES:
            with self.subTest(body=body[:20]):
                want = sha256_tagged(body)
                self.assertEqual(output_hash_of(body), want)
                self.assertEqual(output_hash_of(bytearray(body)), want)
                self.assertEqual(output_hash_of(memoryview(body)), want)
        self.assertEqual(output_hash_of('{"a":"caf\u00e9"}'), sha256_tagged('{"a":"caf\u00e9"}'.encode()))
        self.assertNotEqual(output_hash_of(b"a"), output_hash_of(b"b"))
        with self.assertRaises(TypeError):
            output_hash_of({"a": 1})

    def test_check_output_hash(self):
        body = self.BODIES[2]
        headers = {**BASE, "x-helm-output-hash": sha256_tagged(body)}
        self.assertTrue(check_output_hash(body, headers))
        self.assertTrue(check_output_hash(body, read_helm_headers(headers)))
        self.assertTrue(check_output_hash(body, {"X-Helm-Output-Hash": sha256_tagged(body)}))
        self.assertFalse(check_output_hash(body + b"\n", headers))
        self.assertFalse(check_output_hash(body.replace(b"caf", b"cab"), headers))
        self.assertFalse(check_output_hash(body.decode("utf-8").encode("utf-16"), headers))
        with self.assertRaises(HelmHeaderError):  # nothing to check against
            check_output_hash(body, BASE)
        with self.assertRaises(HelmHeaderError):
            check_output_hash(body, read_helm_headers(BASE))
        with self.assertRaises(HelmHeaderError):
            check_output_hash(body, {"X-Helm-Output-Hash": "sha256:nothex"})


class StreamHashTest(unittest.TestCase):
    EVENTS = b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n'

    def stream(self, events, eol=b"\n"):
        return events + b": helm-output-hash " + sha256_tagged(events).encode() + eol + eol

    def test_comment_extracted_and_checked(self):
        for eol in (b"\n", b"\r\n", b"\r"):
            events = self.EVENTS.replace(b"\n", eol)
            body = self.stream(events, eol)
            with self.subTest(eol=eol):
                self.assertEqual(stream_output_hash(body), sha256_tagged(events))
                self.assertEqual(stream_output_hash(body.decode()), sha256_tagged(events))
                self.assertEqual(stream_output_hash(body.rstrip(eol)), sha256_tagged(events))
                self.assertTrue(check_stream_output_hash(body))
                tampered = body.replace(b"hi", b"ho", 1)
                self.assertEqual(stream_output_hash(tampered), sha256_tagged(events))
                self.assertFalse(check_stream_output_hash(tampered))
                self.assertFalse(check_stream_output_hash(eol + body))

    def test_no_comment_at_the_end(self):
        body = self.stream(self.EVENTS)
        tagged = sha256_tagged(self.EVENTS)
        for text in [self.EVENTS,                                  # cut short
                     b"",
                     body + b"data: more\n\n",                     # not the last line
                     b"data: : helm-output-hash " + tagged.encode() + b"\n\n",  # inside data
                     body.replace(tagged.encode(), tagged.upper().encode()),
                     body.replace(tagged.encode(), tagged[:-2].encode())]:
            with self.subTest(text=text[-40:]):
                self.assertIsNone(stream_output_hash(text))
                with self.assertRaises(ValueError):
                    check_stream_output_hash(text)


# --------------------------------------------------------------------- SSE --

STREAM = (b"\xef\xbb\xbf: a comment after the BOM\r\n"
          b"id: 7\r\n"
          b"event: receipt\r\n"
          b'data: {"a":1}\r\n'
          b"\r\n"
          b"data:no space\n"
          b"data:  two spaces\n"
          b"data\n"
          b"\n"
          b"event: only-a-type\n"
          b"\n"
          b"id: 8\rdata: cr \xc3\xa9\r\r"
          b"id: bad\x00id\n"
          b"retry: 1000\n"
          b"unknown: field\n"
          b": keep-alive\n"
          b"event: error\n"
          b'data: {"error":{}}\n'
          b"\n"
          b"data: unfinished\n")
EXPECTED = [
    SseEvent("receipt", '{"a":1}', "7"),
    SseEvent("message", "no space\n two spaces\n", "7"),
    SseEvent("message", "cr \u00e9", "8"),
    SseEvent("error", '{"error":{}}', "8"),
]


class SseParserTest(unittest.TestCase):
    def test_whole(self):
        self.assertEqual(SseParser().feed(STREAM), EXPECTED)

    def test_split_at_every_byte_offset(self):
        for i in range(len(STREAM) + 1):
            p = SseParser()
            got = p.feed(STREAM[:i]) + p.feed(b"") + p.feed(STREAM[i:])
            self.assertEqual(got, EXPECTED, "split at byte %d" % i)

    def test_one_byte_at_a_time(self):
        p = SseParser()
        got = []
        for i in range(len(STREAM)):
            got += p.feed(STREAM[i:i + 1])
        self.assertEqual(got, EXPECTED)

    def test_crlf_split_between_cr_and_lf(self):
        p = SseParser()
        self.assertEqual(p.feed(b"data: x\r"), [])
        self.assertEqual(p.feed(b"\n\r"), [SseEvent("message", "x", None)])
        self.assertEqual(p.feed(b"\ndata: y\r"), [])  # that LF ended the CR's line, not another
        self.assertEqual(p.feed(b"\r"), [SseEvent("message", "y", None)])

    def test_bom_only_at_the_start(self):
        self.assertEqual(SseParser().feed(b"data: \xef\xbb\xbfx\n\n"),
                         [SseEvent("message", "\ufeffx", None)])
        self.assertEqual(SseParser().feed(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n"), [])

    def test_invalid_utf8_and_limits(self):
        with self.assertRaises(SseError):
            SseParser().feed(b"data: \xff\n\n")
        with self.assertRaises(SseError):
            SseParser(max_event_bytes=64).feed(b"data: " + b"x" * 100)
        p = SseParser(max_event_bytes=64)
        with self.assertRaises(SseError):
            for _ in range(10):
                p.feed(b"data: 0123456789\n")
        self.assertEqual(len(SseParser(max_event_bytes=64).feed(b"data: 01234\n\n" * 10)), 10)


# ---------------------------------------------------- tail, scripted server --

def receipt_json(seq, **extra):
    return json.dumps(dict({"kind": "decision", "receipt_id": "rcpt_%d" % seq, "seq": seq},
                           **extra), separators=(",", ":"), sort_keys=True).encode()


class FakeAdmin:
    """A loopback HTTP/1.1 server: every request is recorded (path, headers)
    and answered by `respond(handler)`; `release` ends held answers."""

    def __init__(self, respond):
        self.requests = []
        self.respond = respond
        self.release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                outer.requests.append((self.path, self.headers))
                outer.respond(self)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def stop(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def sse(chunks, hold=None, end=True):
    """An answer: 200 text/event-stream, `chunks` as HTTP chunks, then wait for
    `hold` (an Event) if given, then the last chunk if `end`."""
    def respond(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for c in chunks:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
            h.wfile.flush()
        if hold is not None:
            hold.wait(20)
        if end:
            h.wfile.write(b"0\r\n\r\n")
    return respond


def answer(status, body, content_type="application/json", headers=()):
    def respond(h):
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
    return respond


class ScriptedTailTest(unittest.TestCase):
    def serve(self, respond):
        srv = FakeAdmin(respond)
        self.addCleanup(srv.stop)
        return srv

    def test_receipts_over_crlf_lf_and_cr_with_multiline_data(self):
        r1, r3 = receipt_json(1), receipt_json(3, agent="a b")
        body = (b": keep-alive\r\n\r\n"
                b"id: 1\r\nevent: receipt\r\ndata: " + r1 + b"\r\n\r\n"
                b"event: something-new\ndata: ignored\n\n"
                b'id: 2\nevent: receipt\ndata: {"kind":"decision",\ndata: "seq":2}\n\n'
                b"id: 3\revent: receipt\rdata: " + r3 + b"\r\r")
        cuts = [0, 5, 17, 40, body.index(b"\r\n\r\n", 30) + 1, body.index(b'"seq":2') + 3,
                len(body) - 1, len(body)]
        chunks = [body[a:b] for a, b in zip(cuts, cuts[1:])]
        self.assertEqual(b"".join(chunks), body)
        srv = self.serve(sse(chunks))
        with tail_receipts(srv.url + "/", " tok\n", agent="a b&c", last_event_id=0,
                           timeout=10) as tail:
            got = list(tail)
            self.assertEqual(tail.last_event_id, 3)
            self.assertTrue(tail.closed)
        self.assertEqual([r.seq for r in got], [1, 2, 3])
        self.assertEqual(got[0].stored, r1.decode())
        self.assertEqual(got[1].stored, '{"kind":"decision",\n"seq":2}')
        self.assertEqual(got[2].receipt, json.loads(r3))
        path, headers = srv.requests[0]
        url = urllib.parse.urlsplit(path)
        self.assertEqual(url.path, "/api/v1/receipts/tail")
        self.assertEqual(urllib.parse.parse_qs(url.query), {"agent": ["a b&c"]})
        self.assertEqual(headers["Authorization"], "Bearer tok")
        self.assertEqual(headers["Last-Event-ID"], "0")
        self.assertEqual(headers["Accept"], "text/event-stream")

    def test_no_last_event_id_and_resume_id_sent(self):
        srv = self.serve(sse([]))
        self.assertEqual(list(tail_receipts(srv.url, "t")), [])
        self.assertEqual(list(tail_receipts(srv.url, "t", last_event_id="41")), [])
        self.assertIsNone(srv.requests[0][1]["Last-Event-ID"])
        self.assertNotIn("?", srv.requests[0][0])
        self.assertEqual(srv.requests[1][1]["Last-Event-ID"], "41")

    def test_error_event_raises_with_its_code(self):
        err = b'{"error":{"code":"LEDGER_UNAVAILABLE","message":"Corruption: block checksum"}}'
        srv = self.serve(sse([b"id: 1\nevent: receipt\ndata: " + receipt_json(1) + b"\n\n",
                              b"event: error\ndata: " + err + b"\n\n"]))
        tail = tail_receipts(srv.url, "t")
        self.assertEqual(next(tail).seq, 1)
        with self.assertRaises(TailError) as cm:
            next(tail)
        self.assertEqual(cm.exception.code, "LEDGER_UNAVAILABLE")
        self.assertEqual(cm.exception.message, "Corruption: block checksum")
        self.assertIsNone(cm.exception.status)
        self.assertTrue(tail.closed)
        self.assertEqual(list(tail), [])
        self.assertEqual(tail.last_event_id, 1)  # where to resume

    def test_error_answers(self):
        cases = [
            (answer(401, b'{"error":{"code":"UNAUTHENTICATED","message":"admin token required"}}'),
             401, "UNAUTHENTICATED"),
            (answer(503, b"upstream unavailable", "text/plain"), 503, "HTTP_503"),
            (answer(404, b'{"error":"not found"}'), 404, "HTTP_404"),
            (answer(200, b"{}"), None, "UNEXPECTED_RESPONSE"),
        ]
        for respond, status, code in cases:
            with self.subTest(code=code):
                srv = self.serve(respond)
                with self.assertRaises(TailError) as cm:
                    tail_receipts(srv.url, "t")
                self.assertEqual((cm.exception.status, cm.exception.code), (status, code))

    def test_redirect_is_not_followed(self):
        target = self.serve(sse([]))
        srv = self.serve(answer(302, b"", headers=[("Location", target.url + "/api/v1/receipts/tail")]))
        with self.assertRaises(TailError) as cm:
            tail_receipts(srv.url, "secret")
        self.assertEqual(cm.exception.status, 302)
        self.assertEqual(target.requests, [])  # the token went nowhere else

    def test_invalid_receipt_events(self):
        bad = {
            "id differs from seq": b"id: 2\nevent: receipt\ndata: " + receipt_json(1) + b"\n\n",
            "no id": b"event: receipt\ndata: " + receipt_json(1) + b"\n\n",
            "not JSON": b"id: 1\nevent: receipt\ndata: {oops\n\n",
            "not an object": b"id: 1\nevent: receipt\ndata: [1]\n\n",
            "seq is a string": b'id: 1\nevent: receipt\ndata: {"seq":"1"}\n\n',
            "not UTF-8": b'id: 1\nevent: receipt\ndata: {"seq":1,"x":"\xff"}\n\n',
            "seq repeats": (b"id: 1\nevent: receipt\ndata: " + receipt_json(1) + b"\n\n") * 2,
        }
        for what, body in bad.items():
            with self.subTest(what):
                srv = self.serve(sse([body]))
                with self.assertRaises(TailError) as cm:
                    list(tail_receipts(srv.url, "t"))
                self.assertEqual(cm.exception.code, "INVALID_EVENT", cm.exception)

    def test_silence_times_out(self):
        srv = self.serve(sse([b": keep-alive\n\n"], hold=threading.Event()))
        tail = tail_receipts(srv.url, "t", timeout=0.5)
        start = time.monotonic()
        with self.assertRaises(TailError) as cm:
            next(tail)
        self.assertEqual(cm.exception.code, "TIMEOUT")
        self.assertLess(time.monotonic() - start, 5)

    def test_lost_connection(self):
        def respond(h):
            h.send_response(200)
            h.send_header("Content-Type", "text/event-stream")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            h.wfile.write(b"100\r\nid: 1\nevent: rec")  # a chunk cut short
            h.wfile.flush()
            h.connection.shutdown(socket.SHUT_RDWR)
        srv = self.serve(respond)
        with self.assertRaises(TailError) as cm:
            list(tail_receipts(srv.url, "t"))
        self.assertEqual(cm.exception.code, "CONNECTION_LOST")

    def test_close_from_another_thread_ends_a_blocked_read(self):
        hold = threading.Event()
        srv = self.serve(sse([b"id: 1\nevent: receipt\ndata: " + receipt_json(1) + b"\n\n"],
                             hold=hold))
        self.addCleanup(hold.set)
        tail = tail_receipts(srv.url, "t", timeout=30)
        reader = TailThread(tail)
        self.assertEqual(reader.next().seq, 1)
        time.sleep(0.2)  # the reader is blocked in a read now
        start = time.monotonic()
        reader.close()
        self.assertLess(time.monotonic() - start, 2)
        self.assertIsInstance(reader.q.get(timeout=1), StopIteration)  # ended, not failed

    def test_unreachable_and_bad_arguments(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        with self.assertRaises(TailError) as cm:
            tail_receipts("http://127.0.0.1:%d" % port, "t", timeout=5)
        self.assertEqual(cm.exception.code, "CONNECTION_FAILED")
        for bad in (-1, "abc", "1.5", 1.5, True, ""):
            with self.subTest(last_event_id=bad):
                with self.assertRaises(ValueError):
                    tail_receipts("http://127.0.0.1:%d" % port, "t", last_event_id=bad)
        with self.assertRaises(ValueError):
            tail_receipts("http://127.0.0.1:%d" % port, "t", agent="")


# -------------------------------------------------------------- end to end --

class TailThread:
    """Iterates a ReceiptTail in a thread; each receipt, then StopIteration
    or the exception that ended it, goes into a queue."""

    def __init__(self, tail):
        self.tail = tail
        self.q = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for r in self.tail:
                self.q.put(r)
            self.q.put(StopIteration())
        except Exception as e:  # handed to the test thread
            self.q.put(e)

    def next(self, timeout=10):
        item = self.q.get(timeout=timeout)
        if isinstance(item, BaseException):
            raise item
        return item

    def until(self, pred, timeout=10):
        """Receipts up to and including the first that satisfies pred."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            try:
                got.append(self.next(max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError("no matching receipt within %gs; got %s" % (
                    timeout, [(r.seq, r.receipt.get("kind")) for r in got])) from None
            if pred(got[-1]):
                return got

    def close(self):
        self.tail.close()
        self.thread.join(5)
        assert not self.thread.is_alive(), "the tail did not end on close()"


def outcome_of(decision_receipt_id):
    return lambda r: (r.receipt.get("kind") == "outcome"
                      and r.receipt.get("parent") == decision_receipt_id)


class ProxyEndToEndTest(unittest.TestCase):
    OTHER = "sdk-other"

    @classmethod
    def setUpClass(cls):
        cls.px = Server(["proxy", "--upstream", "mock://", "--policy", DEV_POLICY,
                         "--port", "0", "--admin-port", "0", "--checkpoint-seconds", "0"]).start()
        cls.admin = admin_url(cls.px)
        cls.token = cls.px.token
        status, key = cls.px.admin("POST", "/api/v1/keys", {"agent": cls.OTHER}, url=cls.admin)
        assert status == 200, key
        cls.other_key = key["key"]

    @classmethod
    def tearDownClass(cls):
        cls.px.cleanup()

    def tail(self, **kw):
        t = TailThread(tail_receipts(self.admin, self.token, timeout=30, **kw))
        self.addCleanup(t.close)
        return t

    def head(self):
        status, cp = self.px.admin("GET", "/api/v1/checkpoint", url=self.admin)
        self.assertEqual(status, 200, cp)
        return cp["seq"]

    def post_chat(self, text, key=None, stream=False):
        """POST /v1/chat/completions with urllib: (status, HTTPMessage, body bytes)."""
        req = urllib.request.Request(
            self.px.url + "/v1/chat/completions", method="POST",
            data=json.dumps(chat_body(text, stream=stream)).encode(),
            headers={"Authorization": "Bearer " + (key or self.px.bootstrap_key),
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=15) as res:
                return res.status, res.headers, res.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers, e.read()

    def test_completion_headers_output_hash_and_its_receipts(self):
        tail = self.tail()  # no last_event_id: what is appended from now on
        status, headers, body = self.post_chat("hello from the python sdk")
        self.assertEqual(status, 200, body)
        h = read_helm_headers(headers)
        self.assertEqual(h.status, "ALLOW")
        self.assertRegex(h.decision_id, r"^dec_[0-9A-Z]{26}$")
        self.assertRegex(h.receipt_id, r"^rcpt_[0-9A-Z]{26}$")
        self.assertRegex(h.correlation_id, r"^cor_[0-9A-Z]{26}$")
        self.assertEqual((h.model, h.fallbacks), ("gpt-4o-mini", 0))
        self.assertTrue(h.lane)
        self.assertIsNone(h.approval_id)
        self.assertEqual(h.output_hash, sha256_tagged(body))
        self.assertTrue(check_output_hash(body, headers))
        self.assertTrue(check_output_hash(body, h))
        self.assertFalse(check_output_hash(body + b"\n", headers))
        self.assertIn(b"hello from the python sdk", body)
        self.assertFalse(check_output_hash(body.replace(b"python", b"Python"), headers))

        got = tail.until(outcome_of(h.receipt_id))
        decisions = [r for r in got if r.receipt["receipt_id"] == h.receipt_id]
        self.assertEqual(len(decisions), 1, [r.receipt for r in got])
        d, o = decisions[0], got[-1]
        self.assertEqual(d.receipt["kind"], "decision")
        self.assertEqual(d.receipt["decision_id"], h.decision_id)
        self.assertEqual(d.receipt["correlation_id"], h.correlation_id)
        self.assertEqual(d.receipt["verdict"], h.status)
        self.assertEqual(d.receipt["reason_code"], h.reason_code)
        self.assertEqual(d.receipt["principal"]["agent"], "root")
        self.assertEqual(d.receipt["request"]["hash"],
                         sha256_tagged(json.dumps(chat_body("hello from the python sdk")).encode()))
        self.assertEqual(o.receipt["output_hash"], h.output_hash)
        self.assertEqual(o.receipt["decision_id"], h.decision_id)
        self.assertLess(d.seq, o.seq)
        for r in got:
            self.assertEqual(r.seq, r.receipt["seq"])
            self.assertEqual(json.loads(r.stored), r.receipt)
        self.assertEqual(tail.tail.last_event_id, o.seq)

    def test_streamed_response_hash_equals_its_outcome_receipt(self):
        tail = self.tail(last_event_id=self.head())
        status, headers, body = self.post_chat("stream this please", stream=True)
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["Content-Type"].startswith("text/event-stream"))
        h = read_helm_headers(headers)
        self.assertEqual(h.status, "ALLOW")
        self.assertIsNone(h.output_hash)  # a stream carries it at its end
        with self.assertRaises(HelmHeaderError):
            check_output_hash(body, headers)

        marker = b": helm-output-hash "
        at = body.rindex(marker)
        independent = sha256_tagged(body[:at])
        self.assertEqual(body[at:], marker + independent.encode() + b"\n\n")
        self.assertEqual(stream_output_hash(body), independent)
        self.assertEqual(stream_output_hash(body.decode("utf-8")), independent)
        self.assertTrue(check_stream_output_hash(body))
        self.assertIsNone(stream_output_hash(body[:at]))
        events = SseParser().feed(body)
        self.assertGreater(len(events), 2)
        self.assertEqual(events[-1].data, "[DONE]")

        got = tail.until(outcome_of(h.receipt_id))
        self.assertEqual(got[-1].receipt["output_hash"], stream_output_hash(body))
        self.assertEqual(got[-1].receipt["status"], "completed")
        decision = [r.receipt for r in got if r.receipt["receipt_id"] == h.receipt_id]
        self.assertEqual(len(decision), 1)
        self.assertIs(decision[0]["request"]["stream"], True)

    def test_deny_headers(self):
        status, headers, body = self.post_chat("-----BEGIN RSA PRIVATE KEY-----\nMIIE")
        self.assertEqual(status, 403, body)
        h = read_helm_headers(headers)
        self.assertEqual((h.status, h.reason_code), ("DENY", "SECRET_IN_PROMPT"))
        self.assertEqual((h.lane, h.model, h.fallbacks, h.approval_id), (None, None, None, None))
        self.assertEqual(json.loads(body)["error"]["helm"]["receipt_id"], h.receipt_id)
        self.assertTrue(check_output_hash(body, h))

    def test_refused_before_a_decision(self):
        status, headers, body = self.post_chat("hello", key="hk_not_a_key")
        self.assertEqual(status, 401, body)
        with self.assertRaises(HelmHeaderError) as cm:
            read_helm_headers(headers)
        self.assertEqual(cm.exception.correlation_id, headers["X-Helm-Correlation-ID"])
        self.assertTrue(cm.exception.correlation_id)

    def test_wrong_token_is_401(self):
        for token in ("wrong", ""):
            with self.subTest(token=token):
                with self.assertRaises(TailError) as cm:
                    tail_receipts(self.admin, token)
                self.assertEqual(cm.exception.status, 401)
                self.assertEqual(cm.exception.code, "UNAUTHENTICATED")

    def test_agent_filter(self):
        start = self.head()
        everything = self.tail(last_event_id=start)
        only_other = self.tail(agent=self.OTHER, last_event_id=start)
        _, headers, _ = self.post_chat("from root")
        root = read_helm_headers(headers)
        seen = everything.until(outcome_of(root.receipt_id))  # root's receipts come first
        _, headers, _ = self.post_chat("from the other agent", key=self.other_key)
        other = read_helm_headers(headers)
        seen += everything.until(outcome_of(other.receipt_id))
        self.assertEqual({r.receipt["principal"]["agent"] for r in seen}, {"root", self.OTHER})

        got = only_other.until(outcome_of(other.receipt_id))
        self.assertEqual([(r.receipt["kind"], r.receipt["decision_id"]) for r in got],
                         [("decision", other.decision_id), ("outcome", other.decision_id)])
        self.assertEqual({r.receipt["principal"]["agent"] for r in got}, {self.OTHER})
        self.assertGreater(got[0].seq, start)

    def test_resume_after_last_event_id(self):
        start = self.head()
        first = self.tail(last_event_id=start)
        _, headers, _ = self.post_chat("resume one")
        first.until(outcome_of(read_helm_headers(headers).receipt_id))
        _, headers, _ = self.post_chat("resume two")
        last = read_helm_headers(headers).receipt_id
        first.until(outcome_of(last))
        first.close()
        status, page = self.px.admin("GET", "/api/v1/receipts?limit=100&from=%d" % (start + 1),
                                     url=self.admin)
        self.assertEqual(status, 200, page)
        all_seqs = sorted(r["seq"] for r in page["receipts"])
        self.assertGreaterEqual(len(all_seqs), 4)
        self.assertEqual(all_seqs, list(range(start + 1, start + 1 + len(all_seqs))))

        mid = all_seqs[1]
        resumed = self.tail(last_event_id=mid)
        got = [resumed.next() for _ in all_seqs[2:]]
        self.assertEqual([r.seq for r in got], all_seqs[2:])
        with self.assertRaises(queue.Empty):  # nothing at or before mid comes again
            resumed.next(timeout=0.5)
        self.assertEqual(resumed.tail.last_event_id, all_seqs[-1])

    def test_close_ends_a_live_tail_at_once(self):
        t = TailThread(tail_receipts(self.admin, self.token, timeout=30))
        time.sleep(0.3)  # blocked in a read: helm's next keep-alive is 15 s away
        start = time.monotonic()
        t.close()
        self.assertLess(time.monotonic() - start, 2)
        self.assertIsInstance(t.q.get(timeout=1), StopIteration)

    def test_stored_receipts_verify(self):
        self.post_chat("something to verify")
        head = self.head()
        tail = self.tail(last_event_id=0)
        got = tail.until(lambda r: r.seq == head)
        self.assertEqual([r.seq for r in got], list(range(1, head + 1)))
        with tempfile.TemporaryDirectory(prefix="helm-sdk-") as d:
            export = os.path.join(d, "export.jsonl")
            with open(export, "wb") as f:
                f.write(b"".join(r.stored.encode("utf-8") + b"\n" for r in got))
            r = run_helm("receipts", "verify", "--file", export, "--trusted-key",
                         self.px.public_key, "--format", "json")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            report = json.loads(r.stdout)
            self.assertTrue(report["integrity_ok"], report)
            self.assertEqual(report["head_seq"], head)
        if importlib.util.find_spec("nacl") is None:
            return  # sdk/python/helm_verify.py needs PyNaCl; `helm receipts verify` has checked
        import helm_verify
        v = helm_verify.Verifier([bytes.fromhex(self.px.public_key)])
        for r in got:
            v.add(r.stored.encode("utf-8"))
        report = v.finish()
        self.assertTrue(report["integrity_ok"] and report["trust_ok"], report)


if __name__ == "__main__":
    helmtest.main()

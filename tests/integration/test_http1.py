"""helm's own HTTP/1.1 server (docs/http.md) against raw bytes, each case
sent in one write to the real binary in front of `mock://`: the framing
defects a review reproduced this way, so that they stay fixed end to end
(the unit tests in core/http/http1_server_test.cpp and
core/provider/http1_wire_test.cpp pin the details). UpstreamFramingTest
does the same for helm's upstream client, with raw answers from a
loopback upstream (core/provider/http_upstream_test.cpp pins the details).
"""
import json
import os
import socket
import threading
import unittest

import helmtest
from helmtest import Server, admin_url, chat_body, outcome_receipt, raw_http

POLICY = os.path.join(helmtest.SOURCE_DIR, "policies", "development.toml")


class Http1Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.px = Server(["proxy", "--upstream", "mock://", "--policy", POLICY, "--port", "0",
                         "--checkpoint-seconds", "0"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.px.cleanup()

    def exchange(self, data, timeout=5):
        """Sends data in one write and reads until the server closes the
        connection. Returns (bytes received, whether it closed)."""
        out = b""
        with socket.create_connection(("127.0.0.1", self.px.port), timeout=timeout) as sock:
            sock.sendall(data)
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return out, True
                    out += chunk
            except socket.timeout:
                return out, False

    def assertRefused(self, data):
        """One 400 answer, nothing else, and the connection closed."""
        out, closed = self.exchange(data)
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "), out)
        self.assertEqual(out.count(b"HTTP/1.1 "), 1, out)
        self.assertTrue(closed, out)

    def test_a_bare_lf_in_a_chunk_extension_smuggles_nothing(self):
        self.assertRefused(b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"2;\nxx\r\n27\r\n0\r\n\r\n"
                           b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n")

    def test_a_size_line_with_spaces_or_control_bytes_is_refused(self):
        for line in [b"2 ", b" 2", b"2\t", b"2;a\x00", b"2;a=\"\x01\"", b"2;\rb"]:
            with self.subTest(line=line):
                self.assertRefused(b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   + line + b"\r\nxx\r\n0\r\n\r\n")

    def test_a_trailer_that_is_no_field_line_is_refused(self):
        for trailer in [b"GET /version HTTP/1.1", b"T: a\nb", b"T: a\x00b", b": x"]:
            with self.subTest(trailer=trailer):
                self.assertRefused(b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   b"0\r\n" + trailer + b"\r\n\r\n")

    def test_http10_with_transfer_encoding_is_refused_and_closed(self):
        self.assertRefused(b"POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
                           b"Connection: keep-alive\r\n\r\n2\r\nxx\r\n0\r\n\r\n"
                           b"GET /version HTTP/1.0\r\n\r\n")

    def test_a_stream_to_an_http10_client_is_unframed_and_ends_with_the_close(self):
        body = json.dumps(chat_body("hello there", stream=True)).encode()
        out, closed = self.exchange(
            b"POST /v1/chat/completions HTTP/1.0\r\nConnection: keep-alive\r\n"
            b"Authorization: Bearer " + self.px.bootstrap_key.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
            b"\r\n\r\n" + body)
        self.assertTrue(closed, out)
        head, _, payload = out.partition(b"\r\n\r\n")
        fields = [line.lower() for line in head.split(b"\r\n")[1:]]
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), out)
        self.assertIn(b"connection: close", fields)
        self.assertFalse([f for f in fields if f.startswith((b"transfer-encoding", b"content-length"))])
        self.assertTrue(payload.startswith(b"data: {"), payload[:80])  # no chunk size first
        self.assertIn(b"data: [DONE]\n\n", payload)
        self.assertNotIn(b"\r\n", payload)  # nor a chunk's CRLF anywhere

    def test_any_connection_close_field_closes(self):
        out, closed = self.exchange(b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n"
                                    b"Connection: close\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out)
        self.assertTrue(closed, out)

    def test_http11_needs_exactly_one_host(self):
        for head in [b"GET /version HTTP/1.1\r\n",
                     b"GET /version HTTP/1.1\r\nHost: x\r\nHost: y\r\n"]:
            with self.subTest(head=head):
                self.assertRefused(head + b"\r\n")
        out, _ = self.exchange(b"GET /version HTTP/1.0\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out)

    def test_a_host_value_that_is_not_host_port_is_refused(self):
        for host in [b"a b", b"x/y", b"user@x", b"x:8o", b"[::1", b"\xc3\xa9.example"]:
            with self.subTest(host=host):
                self.assertRefused(b"GET /version HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        for host in [b"", b"[::1]:7714", b"ex%41mple.com"]:
            with self.subTest(host=host):
                out, _ = self.exchange(b"GET /version HTTP/1.1\r\nHost: " + host +
                                       b"\r\nConnection: close\r\n\r\n")
                self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out)


class RawUpstream:
    """A loopback upstream that reads each request (head and Content-Length
    body) and answers it with the same bytes, keeping the connection open;
    it counts the connections it accepted."""

    def __init__(self, answer):
        self.answer = answer
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            self.connections += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        with conn:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(data) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                data = data[length:]
                conn.sendall(self.answer)

    def close(self):
        self.sock.close()


class UpstreamFramingTest(unittest.TestCase):
    """helm's upstream client against answers whose framing is faulty."""

    def test_an_http10_answer_with_transfer_encoding_is_502_and_not_kept(self):
        completion = json.dumps({
            "id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
        up = RawUpstream(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n" +
                         b"%x\r\n" % len(completion) + completion + b"\r\n0\r\n\r\n")
        px = Server(["proxy", "--upstream", up.url, "--policy", helmtest.TEST_POLICY,
                     "--port", "0", "--admin-port", "0", "--checkpoint-seconds", "0"]).start()
        try:
            px.admin_base = admin_url(px)
            for _ in range(2):
                status, headers, body = raw_http(
                    px.url, "POST", "/v1/chat/completions", json.dumps(chat_body("hello")).encode(),
                    {"Authorization": "Bearer " + px.bootstrap_key,
                     "Content-Type": "application/json"})
                self.assertEqual(status, 502, body)
                self.assertEqual(json.loads(body)["error"]["code"], "UPSTREAM_ERROR", body)
                o = outcome_receipt(px, headers["x-helm-receipt-id"])
                self.assertIsNotNone(o)
                self.assertEqual((o["status"], o["http_status"]), ("upstream_error", 502))
            self.assertEqual(up.connections, 2)  # the first one was closed, not reused
        finally:
            px.cleanup()
            up.close()


if __name__ == "__main__":
    helmtest.main()

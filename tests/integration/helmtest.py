"""Shared harness for integration tests: starts the real helm binary on
loopback ports with a fresh data dir and talks real HTTP to it."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HELM = os.environ.get("HELM_BIN", "")
SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEST_POLICY = os.path.join(SOURCE_DIR, "policies", "test.toml")


def http(method, url, body=None, headers=None, timeout=10):
    """Returns (status, headers dict (lower-case), body bytes)."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, {k.lower(): v for k, v in res.headers.items()}, res.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


class Server:
    """A running `helm serve` (or `helm proxy`) with its own data dir."""

    def __init__(self, args, data_dir=None, env=None, wait_for=r"listening on http://[\d.]+:(\d+)",
                 preexec_fn=None):
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="helm-it-")
        self.args = args
        self.env = dict(os.environ, **(env or {}))
        self.wait_for = wait_for
        self.preexec_fn = preexec_fn  # run in the child before helm starts
        self.proc = None
        self.log = []
        self.ports = []

    def start(self, timeout=20):
        # This start's ports only: after a restart, the URL is the new
        # process's, and a restart that never listens is an error.
        self.ports = []
        cmd = [HELM] + self.args + ["--data-dir", self.data_dir]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     env=self.env, text=True, preexec_fn=self.preexec_fn)
        deadline = time.time() + timeout
        pattern = re.compile(self.wait_for)
        ready = threading.Event()

        def reader():
            for line in self.proc.stderr:
                self.log.append(line)
                m = pattern.search(line)
                if m:
                    self.ports.append(int(m.group(1)))
                    ready.set()
            ready.set()

        threading.Thread(target=reader, daemon=True).start()
        while time.time() < deadline and not ready.is_set():
            ready.wait(0.05)
        if not self.ports:
            self.stop()
            raise RuntimeError("helm did not start: " + "".join(self.log))
        self.port = self.ports[0]
        self.url = "http://127.0.0.1:%d" % self.port
        return self

    @property
    def token(self):
        with open(os.path.join(self.data_dir, "keys", "admin.token")) as f:
            return f.read().strip()

    @property
    def bootstrap_key(self):
        with open(os.path.join(self.data_dir, "keys", "bootstrap.key")) as f:
            return f.read().strip()

    @property
    def public_key(self):
        with open(os.path.join(self.data_dir, "keys", "signing.pub")) as f:
            return f.read().strip()

    def admin(self, method, path, body=None, token=None, url=None):
        hdrs = {"Authorization": "Bearer " + (token if token is not None else self.token)}
        status, headers, raw = http(method, (url or self.url) + path, body, hdrs)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def read_file(path):
    with open(path) as f:
        return f.read()


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


def run_helm(*args, **kw):
    return subprocess.run([HELM] + list(args), capture_output=True, text=True, timeout=60, **kw)


def chat_body(text, tools=None, model="gpt-4o-mini", stream=False):
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    if tools:
        body["tools"] = [{"type": "function", "function": {"name": t, "parameters": {"type": "object"}}}
                         for t in tools]
    return body


def main():
    """unittest entry point: `python3 test_x.py --helm PATH`."""
    global HELM
    import unittest
    if "--helm" in sys.argv:
        i = sys.argv.index("--helm")
        HELM = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    os.environ["HELM_BIN"] = HELM
    unittest.main(verbosity=2)


# ---- additions for the proxy tests (test_proxy.py) ---------------------------

TEST_UPSTREAM = os.path.join(SOURCE_DIR, "scripts", "test_upstream.py")
ADMIN_LINE = re.compile(r"boundary admin API on (http://[\d.]+:\d+)")


class Upstream:
    """scripts/test_upstream.py on a free loopback port: records every request
    it receives and misbehaves on demand (docs/testing.md)."""

    def start(self, timeout=10):
        self.proc = subprocess.Popen([sys.executable, TEST_UPSTREAM, "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = [None]

        def reader():
            line[0] = self.proc.stdout.readline()
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(timeout)
        m = re.match(r"LISTENING (\d+)", line[0] or "")
        if not m:
            self.stop()
            raise RuntimeError("test upstream did not start")
        self.port = int(m.group(1))
        self.url = "http://127.0.0.1:%d" % self.port
        return self

    def requests(self):
        return json.loads(http("GET", self.url + "/__requests")[2])

    def reset(self):
        http("POST", self.url + "/__reset", b"")

    def script(self, steps):
        return http("POST", self.url + "/__script", steps)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def admin_url(server):
    """The embedded boundary's admin URL of a `helm proxy --policy` Server."""
    for line in server.log:
        m = ADMIN_LINE.search(line)
        if m:
            return m.group(1)
    raise RuntimeError("no admin API line in the proxy log")


def outcome_receipt(px, decision_receipt_id, timeout=5.0):
    """The outcome receipt whose parent is decision_receipt_id, read from the
    admin API at px.admin_base; outcomes are written after the response, so
    this waits up to `timeout` seconds for it. None when there is none."""
    deadline = time.time() + timeout
    while True:
        status, page = px.admin("GET", "/api/v1/receipts?limit=1000", url=px.admin_base)
        assert status == 200, page
        for r in page["receipts"]:
            if r.get("kind") == "outcome" and r.get("parent") == decision_receipt_id:
                return r
        if time.time() > deadline:
            return None
        time.sleep(0.05)


def raw_http(url, method, path, body=b"", headers=None, timeout=10):
    """One request over http.client with exactly the given headers (no
    defaults added but Host and Content-Length). Returns (status, headers
    dict (lower-case), body bytes)."""
    import http.client
    import urllib.parse
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None and method not in ("GET", "HEAD"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()

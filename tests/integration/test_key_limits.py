"""Per-key limits and the proxy's gate (docs/api.md, "Key limits"), end to end.

Keys are made with `helm keys create --rpm/--tpm/--budget-usd/--concurrency/
--lanes`; a refused request is a 429 (403 for a lane) in the client's shape,
with Retry-After where a wait helps, a DENY decision receipt naming the
reason, and no byte upstream. Embedded (`helm proxy --policy`) and remote
(`helm serve` + `helm proxy --boundary`) modes.
"""
import json
import os
import shutil
import tempfile
import threading
import time
import unittest

import helmtest
from helmtest import Server, Upstream, admin_url, chat_body, outcome_receipt, raw_http, run_helm

KEY_ENV = {"HELM_KL_KEY": "sk-key-limits-test"}
# 1,000 micro-dollars per input or output token: a request costs a few thousand.
CONFIG = """
[[providers]]
id = "up"
kind = "openai"
base_url = "{url}"
api_key_env = "HELM_KL_KEY"

[[providers.models]]
id = "m1"
context_window = 100000
tools = true
vision = true
json = true
input_per_mtok_micros = 1000000000
output_per_mtok_micros = 1000000000

[lanes.balanced]
primary = "up/m1"

[lanes.premium]
primary = "up/m1"

[aliases]
"claude-opus-*" = "premium"
"""


def write_config(directory, upstream_url):
    path = os.path.join(directory, "helm.toml")
    helmtest.write_file(path, CONFIG.format(url=upstream_url))
    return path


def start_embedded(config, data_dir=None):
    px = Server(["proxy", "--config", config, "--policy", helmtest.TEST_POLICY, "--port", "0",
                 "--admin-port", "0", "--checkpoint-seconds", "0"], data_dir=data_dir,
                env=KEY_ENV).start()
    px.admin_base = admin_url(px)
    return px


def create_key(admin_base, data_dir, *flags):
    """`helm keys create --agent root FLAGS --format json` → its JSON."""
    r = run_helm("keys", "create", "--agent", "root", *flags, "--server", admin_base,
                 "--data-dir", data_dir, "--format", "json")
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    return json.loads(r.stdout)


class GateCase(unittest.TestCase):
    px = None
    up = None

    def post(self, body, key, path="/v1/chat/completions", headers=None, timeout=15):
        hdrs = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
        hdrs.update(headers or {})
        return raw_http(self.px.url, "POST", path, json.dumps(body).encode(), hdrs,
                        timeout=timeout)

    def receipt(self, rid):
        status, r = self.px.admin("GET", "/api/v1/receipts/" + rid, url=self.px.admin_base)
        self.assertEqual(status, 200, r)
        return r

    def outcome(self, decision_receipt_id, timeout=5.0):
        o = outcome_receipt(self.px, decision_receipt_id, timeout)
        self.assertIsNotNone(o, "no outcome receipt for " + decision_receipt_id)
        return o

    def assert_refused(self, status, headers, raw, expect_status, reason, retry_after):
        """The client's error (OpenAI shape), its headers and its DENY receipt."""
        self.assertEqual(status, expect_status, raw)
        err = json.loads(raw)["error"]
        self.assertEqual(err["code"], reason, raw)
        self.assertEqual(err["helm"]["reason_code"], reason)
        self.assertEqual(headers.get("x-helm-status"), "DENY")
        self.assertEqual(headers.get("x-helm-reason-code"), reason)
        if retry_after:
            self.assertGreaterEqual(int(headers["retry-after"]), 1, headers)
        else:
            self.assertNotIn("retry-after", headers)
        r = self.receipt(headers["x-helm-receipt-id"])
        self.assertEqual((r["kind"], r["verdict"], r["reason_code"]), ("decision", "DENY", reason))
        return r


class EmbeddedGateTest(GateCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="helm-kl-")
        cls.up = Upstream().start()
        cls.config = write_config(cls.tmp, cls.up.url)
        cls.px = start_embedded(cls.config)

    @classmethod
    def tearDownClass(cls):
        cls.px.cleanup()
        cls.up.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.up.reset()

    def key(self, *flags):
        return create_key(self.px.admin_base, self.px.data_dir, *flags)

    def test_keys_create_and_list_carry_the_limits(self):
        k = self.key("--lanes", "balanced,premium", "--rpm", "60", "--tpm", "1000",
                     "--budget-usd", "2.5", "--concurrency", "4")
        want = {"lanes": ["balanced", "premium"], "rpm": 60, "tpm": 1000,
                "budget_micros": 2500000, "concurrency": 4}
        self.assertEqual(k["limits"], want)
        status, page = self.px.admin("GET", "/api/v1/keys", url=self.px.admin_base)
        self.assertEqual(status, 200, page)
        listed = [x for x in page["keys"] if x["id"] == k["id"]][0]
        self.assertEqual(listed["limits"], want)
        self.assertEqual(listed["spent_micros"], 0)
        unlimited = self.key()
        self.assertNotIn("limits", unlimited)
        status, body = self.px.admin("POST", "/api/v1/keys",
                                     {"agent": "root", "limits": {"rpm": -1}},
                                     url=self.px.admin_base)
        self.assertEqual(status, 400, body)
        status, body = self.px.admin("POST", "/api/v1/keys",
                                     {"agent": "root", "limits": {"rps": 1}},
                                     url=self.px.admin_base)
        self.assertEqual(status, 400, body)

    def test_keys_rotate_replaces_the_secret_and_keeps_the_key(self):
        k = self.key("--rpm", "60")
        r = run_helm("keys", "rotate", k["id"], "--server", self.px.admin_base,
                     "--data-dir", self.px.data_dir, "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        rotated = json.loads(r.stdout)
        self.assertEqual((rotated["id"], rotated["agent"], rotated["limits"]),
                         (k["id"], k["agent"], {"rpm": 60}))
        self.assertNotEqual(rotated["key"], k["key"])
        status, _, _ = self.post(chat_body("hi"), key=k["key"])
        self.assertEqual(status, 401)
        status, headers, raw = self.post(chat_body("hi"), key=rotated["key"])
        self.assertEqual(status, 200, raw)
        self.assertEqual(self.receipt(headers["x-helm-receipt-id"])["principal"]["api_key_id"],
                         k["id"])
        status, page = self.px.admin("GET", "/api/v1/keys", url=self.px.admin_base)
        self.assertEqual([x["id"] for x in page["keys"]].count(k["id"]), 1)
        r = run_helm("keys", "rotate", "key_unknown", "--server", self.px.admin_base,
                     "--data-dir", self.px.data_dir)
        self.assertNotEqual(r.returncode, 0)

    def test_keys_limits_replaces_a_keys_limits_for_its_next_request(self):
        k = self.key("--rpm", "1")
        self.assertEqual(self.post(chat_body("hi", model="auto"), k["key"])[0], 200)
        status, headers, raw = self.post(chat_body("hi", model="auto"), k["key"])
        self.assert_refused(status, headers, raw, 429, "RATE_LIMITED", retry_after=True)

        def set_limits(*flags):
            r = run_helm("keys", "limits", k["id"], *flags, "--server", self.px.admin_base,
                         "--data-dir", self.px.data_dir, "--format", "json")
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout)

        # Raised: the difference is there at once, the same secret, no restart.
        shown = set_limits("--rpm", "3", "--budget-usd", "1")
        self.assertEqual((shown["id"], shown["limits"], shown["spent_micros"]),
                         (k["id"], {"rpm": 3, "budget_micros": 1000000}, 0))
        for _ in range(2):
            status, _, raw = self.post(chat_body("hi", model="auto"), k["key"])
            self.assertEqual(status, 200, raw)
        status, headers, raw = self.post(chat_body("hi", model="auto"), k["key"])
        self.assert_refused(status, headers, raw, 429, "RATE_LIMITED", retry_after=True)
        status, page = self.px.admin("GET", "/api/v1/keys", url=self.px.admin_base)
        listed = [x for x in page["keys"] if x["id"] == k["id"]][0]
        self.assertEqual(listed["limits"], {"rpm": 3, "budget_micros": 1000000})
        # None given: no limits at all.
        self.assertNotIn("limits", set_limits())
        for _ in range(3):
            self.assertEqual(self.post(chat_body("hi", model="auto"), k["key"])[0], 200)
        # Refused: an unknown key, a body without limits, a wrong limit.
        r = run_helm("keys", "limits", "key_unknown", "--rpm", "1", "--server",
                     self.px.admin_base, "--data-dir", self.px.data_dir)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("404", r.stderr)
        path = "/api/v1/keys/%s/limits" % k["id"]
        for body in [{}, {"limits": {"rpm": -1}}, {"limits": {"rps": 1}}]:
            status, answer = self.px.admin("POST", path, body, url=self.px.admin_base)
            self.assertEqual(status, 400, (body, answer))

    def test_rpm_exceeded_is_429_with_retry_after_and_a_deny_receipt(self):
        k = self.key("--rpm", "2")
        key = k["key"]
        for _ in range(2):  # at the limit
            status, headers, raw = self.post(chat_body("hello", model="auto"), key)
            self.assertEqual(status, 200, raw)
        status, headers, raw = self.post(chat_body("hello", model="auto"), key)  # one past it
        r = self.assert_refused(status, headers, raw, 429, "RATE_LIMITED", retry_after=True)
        self.assertEqual(r["principal"]["api_key_id"], k["id"])
        self.assertEqual(len(self.up.requests()), 2)
        # Every door: the Anthropic client gets its own error shape.
        status, headers, raw = self.post(
            {"model": "auto", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]},
            key, path="/v1/messages")
        self.assertEqual(status, 429, raw)
        body = json.loads(raw)
        self.assertEqual(body["type"], "error")
        self.assertEqual(headers.get("x-helm-reason-code"), "RATE_LIMITED")
        self.assertIn("retry-after", headers)
        self.assertEqual(len(self.up.requests()), 2)
        # Another key is not limited by this one's count, nor the bootstrap key.
        status, _, raw = self.post(chat_body("hello", model="auto"), self.px.bootstrap_key)
        self.assertEqual(status, 200, raw)

    def test_concurrency_counts_requests_in_flight(self):
        key = self.key("--concurrency", "1")["key"]
        slow = chat_body("[upstream:slow delay_ms=150 tokens=10] hi", model="auto", stream=True)
        first = {}

        def run_first():
            first["result"] = self.post(slow, key, timeout=20)

        t = threading.Thread(target=run_first)
        t.start()
        deadline = time.time() + 10
        while not self.up.requests():
            self.assertLess(time.time(), deadline, "the slow request never reached upstream")
            time.sleep(0.02)
        status, headers, raw = self.post(chat_body("hello", model="auto"), key)
        self.assert_refused(status, headers, raw, 429, "CONCURRENCY_LIMIT", retry_after=False)
        t.join()
        self.assertEqual(first["result"][0], 200)
        self.assertEqual(len(self.up.requests()), 1)
        deadline = time.time() + 5  # the slot is back once the stream has ended
        while True:
            status, _, raw = self.post(chat_body("hello", model="auto"), key)
            if status == 200 or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(status, 200, raw)

    def test_tpm_counts_input_estimates_and_output_tokens(self):
        key = self.key("--tpm", "60")["key"]
        big = chat_body("word " * 400, model="auto")  # far beyond 60 tokens: no wait helps
        status, headers, raw = self.post(big, key)
        self.assert_refused(status, headers, raw, 429, "TOKEN_LIMIT", retry_after=False)
        status, _, raw = self.post(chat_body("[upstream:json output_tokens=80] hi", model="auto"),
                                   key)
        self.assertEqual(status, 200, raw)
        time.sleep(0.3)  # the output tokens are counted when the outcome is recorded
        status, headers, raw = self.post(chat_body("hi", model="auto"), key)
        self.assert_refused(status, headers, raw, 429, "TOKEN_LIMIT", retry_after=True)
        self.assertEqual(len(self.up.requests()), 1)

    def test_lanes_refuse_other_lanes_and_aliases_resolving_to_them(self):
        key = self.key("--lanes", "balanced")["key"]
        status, headers, raw = self.post(chat_body("hello", model="auto"), key)  # classified balanced
        self.assertEqual(status, 200, raw)
        self.assertEqual(headers.get("x-helm-lane"), "balanced")
        status, _, raw = self.post(chat_body("hello", model="balanced"), key)
        self.assertEqual(status, 200, raw)
        for model in ("premium", "claude-opus-4"):  # a lane, and an alias of one
            with self.subTest(model):
                status, headers, raw = self.post(chat_body("hello", model=model), key)
                r = self.assert_refused(status, headers, raw, 403, "LANE_NOT_ALLOWED",
                                        retry_after=False)
                self.assertEqual(r["request"]["model"], model)
        self.assertEqual(len(self.up.requests()), 2)


class BudgetTest(GateCase):
    """The budget is the boundary's: spent from outcome receipts' cost, kept
    across a restart."""

    def test_budget_exceeded_after_outcomes_with_cost_and_after_a_restart(self):
        tmp = tempfile.mkdtemp(prefix="helm-kl-")
        data_dir = os.path.join(tmp, "data")
        self.up = Upstream().start()
        try:
            config = write_config(tmp, self.up.url)
            self.px = start_embedded(config, data_dir=data_dir)
            k = create_key(self.px.admin_base, data_dir, "--budget-usd", "0.005")
            status, headers, raw = self.post(
                chat_body("[upstream:json output_tokens=10 prompt_tokens=5] hi", model="auto"),
                k["key"])
            self.assertEqual(status, 200, raw)
            out = self.outcome(headers["x-helm-receipt-id"])
            self.assertEqual(out["cost_micros"], 15000)
            status, headers, raw = self.post(chat_body("hi", model="auto"), k["key"])
            self.assert_refused(status, headers, raw, 429, "BUDGET_EXCEEDED", retry_after=False)
            status, page = self.px.admin("GET", "/api/v1/keys", url=self.px.admin_base)
            listed = [x for x in page["keys"] if x["id"] == k["id"]][0]
            self.assertEqual(listed["spent_micros"], 15000)
            self.px.stop()
            self.px = start_embedded(config, data_dir=data_dir)
            status, headers, raw = self.post(chat_body("hi", model="auto"), k["key"])
            self.assert_refused(status, headers, raw, 429, "BUDGET_EXCEEDED", retry_after=False)
            self.assertEqual(len(self.up.requests()), 1)
        finally:
            if self.px:
                self.px.cleanup()
            self.up.stop()
            shutil.rmtree(tmp, ignore_errors=True)


class RemoteGateTest(GateCase):
    """`helm proxy --boundary URL` gets the key's limits with its principal."""

    def test_remote_proxy_honours_a_keys_rpm(self):
        tmp = tempfile.mkdtemp(prefix="helm-kl-")
        self.up = Upstream().start()
        serve = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0"]).start()
        try:
            config = write_config(tmp, self.up.url)
            self.px = Server(["proxy", "--config", config, "--boundary", serve.url, "--port", "0"],
                             data_dir=serve.data_dir, env=KEY_ENV).start()
            self.px.admin_base = serve.url
            key = create_key(serve.url, serve.data_dir, "--rpm", "1")["key"]
            status, _, raw = self.post(chat_body("hello", model="auto"), key)
            self.assertEqual(status, 200, raw)
            status, headers, raw = self.post(chat_body("hello", model="auto"), key)
            self.assert_refused(status, headers, raw, 429, "RATE_LIMITED", retry_after=True)
            self.assertEqual(len(self.up.requests()), 1)
        finally:
            if self.px:
                self.px.cleanup()
            serve.cleanup()
            self.up.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    helmtest.main()

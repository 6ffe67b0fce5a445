"""`helm serve` end to end: decisions, receipts, approvals, tail, reload, verify."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import helmtest
from helmtest import Server, chat_body, http, read_file, run_helm, write_file


def evaluate(srv, body, agent="root", approval_id=None, protocol="openai.chat"):
    req = {"agent": agent, "protocol": protocol, "body": body}
    if approval_id:
        req["approval_id"] = approval_id
    return srv.admin("POST", "/api/v1/evaluate", req)


class BoundaryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy_dir = tempfile.mkdtemp(prefix="helm-policy-")
        cls.policy = os.path.join(cls.policy_dir, "policy.toml")
        shutil.copy(helmtest.TEST_POLICY, cls.policy)
        cls.srv = Server(["serve", "--policy", cls.policy, "--port", "0"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.policy_dir, ignore_errors=True)

    def receipt(self, rid):
        status, r = self.srv.admin("GET", "/api/v1/receipts/" + rid)
        self.assertEqual(status, 200)
        return r

    def test_allow_deny_escalate_each_recorded(self):
        for body, verdict, reason in [
            (chat_body("hello"), "ALLOW", ""),
            (chat_body("this has forbidden-word inside"), "DENY", "FORBIDDEN_CONTENT"),
            (chat_body("run it", tools=["shell_exec"]), "ESCALATE", "TOOL_REQUIRES_APPROVAL"),
        ]:
            status, d = evaluate(self.srv, body)
            self.assertEqual(status, 200, d)
            self.assertEqual(d["verdict"], verdict)
            self.assertEqual(d["reason_code"], reason)
            r = self.receipt(d["receipt_id"])
            self.assertEqual(r["kind"], "decision")
            self.assertEqual(r["verdict"], verdict)
            self.assertEqual(r["decision_id"], d["decision_id"])
            self.assertEqual(r["principal"]["agent"], "root")
            self.assertTrue(r["policy"]["hash"].startswith("sha256:"))
            self.assertEqual(r["v"], "helm.receipt.v1")
            if verdict == "ESCALATE":
                self.assertTrue(d["approval_id"].startswith("apr_"))

    def test_redaction_obligation_rewrites_body_and_counts(self):
        status, d = evaluate(self.srv, chat_body("my id is REDACT-ME-42 ok"))
        self.assertEqual(d["verdict"], "ALLOW")
        self.assertEqual(d["redactions"], 1)
        self.assertIn("[REDACTED]", json.dumps(d["body"]))
        self.assertNotIn("REDACT-ME-42", json.dumps(d["body"]))
        self.assertEqual(self.receipt(d["receipt_id"])["redactions"], 1)

    def test_admin_token_required(self):
        for token in ["", "wrong-token"]:
            status, _ = self.srv.admin("GET", "/api/v1/receipts", token=token)
            self.assertEqual(status, 401)
        status, _, _ = http("GET", self.srv.url + "/healthz")
        self.assertEqual(status, 200)

    def test_bad_input_is_400_and_ledger_untouched(self):
        _, head = self.srv.admin("GET", "/api/v1/checkpoint")
        auth = {"Authorization": "Bearer " + self.srv.token}
        for raw in [b"{", b"[]", b'{"agent":"root"}', b'{"agent":"a","agent":"b"}',
                    b'{"agent":1,"protocol":"openai.chat","body":{}}', b"\xef\xbb\xbf{}"]:
            status, _, body = http("POST", self.srv.url + "/api/v1/evaluate", raw, auth)
            self.assertEqual(status, 400, raw)
            self.assertIn("error", json.loads(body))
        big = json.dumps({"agent": "root", "protocol": "openai.chat",
                          "body": chat_body("x" * (5 << 20))}).encode()
        status, _, _ = http("POST", self.srv.url + "/api/v1/evaluate", big, auth)
        self.assertEqual(status, 413)
        _, head2 = self.srv.admin("GET", "/api/v1/checkpoint")
        self.assertEqual(head["seq"], head2["seq"])

    def test_malformed_client_body_is_deny_request_invalid(self):
        status, d = evaluate(self.srv, {"model": "x", "messages": "not-a-list"})
        self.assertEqual(status, 200)
        self.assertEqual(d["verdict"], "DENY")
        self.assertEqual(d["reason_code"], "REQUEST_INVALID")
        self.assertIn("messages", d["detail"])

    def test_approval_is_single_use_and_bound(self):
        body = chat_body("please delete", tools=["delete_everything"])
        _, d = evaluate(self.srv, body)
        self.assertEqual(d["verdict"], "ESCALATE")
        apr = d["approval_id"]
        # Pending: not yet usable.
        _, pending = evaluate(self.srv, body, approval_id=apr)
        self.assertEqual((pending["verdict"], pending["reason_code"]), ("DENY", "APPROVAL_PENDING"))
        r = run_helm("approvals", "approve", apr, "--server", self.srv.url,
                     "--data-dir", self.srv.data_dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Bound to the request: another body cannot use it.
        _, other = evaluate(self.srv, chat_body("other", tools=["delete_x"]), approval_id=apr)
        self.assertEqual(other["reason_code"], "APPROVAL_MISMATCH")
        _, ok = evaluate(self.srv, body, approval_id=apr)
        self.assertEqual(ok["verdict"], "ALLOW")
        self.assertEqual(self.receipt(ok["receipt_id"])["approval_id"], apr)
        _, again = evaluate(self.srv, body, approval_id=apr)
        self.assertEqual((again["verdict"], again["reason_code"]), ("DENY", "APPROVAL_USED"))

    def test_seal_writes_outcome_with_parent(self):
        _, d = evaluate(self.srv, chat_body("seal me"))
        outcome = {"decision_id": d["decision_id"], "parent": d["receipt_id"],
                   "principal": {"agent": "root", "api_key_id": "key_bootstrap"},
                   "status": "completed", "http_status": 200, "output_hash": "sha256:" + "ab" * 32,
                   "usage": {"input": 3, "output": 5, "cached": 0},
                   "route": {"provider": "p", "lane": "balanced",
                             "attempts": [{"outcome": "ok", "latency_us": 5}]}}
        bad = dict(outcome, route={"lane": "balanced", "weight": 0.5})  # receipts hold no floats
        status, _ = self.srv.admin("POST", "/api/v1/seal", bad)
        self.assertEqual(status, 400)
        status, s = self.srv.admin("POST", "/api/v1/seal", outcome)  # the refused one wrote nothing
        self.assertEqual(status, 200, s)
        r = self.receipt(s["receipt_id"])
        self.assertEqual((r["kind"], r["parent"], r["status"]), ("outcome", d["receipt_id"], "completed"))
        self.assertEqual(r["route"], outcome["route"])
        status, _ = self.srv.admin("POST", "/api/v1/seal", outcome)
        self.assertEqual(status, 409)  # one outcome per decision
        _, denied = evaluate(self.srv, chat_body("a forbidden-word"))
        self.assertEqual(denied["verdict"], "DENY")
        status, _ = self.srv.admin("POST", "/api/v1/seal", dict(
            outcome, decision_id=denied["decision_id"], parent=denied["receipt_id"]))
        self.assertEqual(status, 400)  # nothing was dispatched
        outcome["parent"] = "rcpt_doesnotexist"
        status, _ = self.srv.admin("POST", "/api/v1/seal", outcome)
        self.assertEqual(status, 404)

    def test_tail_pushes_within_100ms(self):
        url = self.srv.url + "/api/v1/receipts/tail"
        req = urllib.request.Request(url, headers={"Authorization": "Bearer " + self.srv.token})
        res = urllib.request.urlopen(req, timeout=10)
        time.sleep(0.2)  # the subscription is live
        got = {}

        def read():
            seq = None
            for line in res:
                line = line.decode().rstrip("\n")
                if line.startswith("id: "):
                    seq = int(line[4:])
                if line.startswith("data: "):
                    got["time"] = time.monotonic()
                    got["receipt"] = json.loads(line[6:])
                    got["seq"] = seq
                    return

        t = threading.Thread(target=read, daemon=True)
        t.start()
        start = time.monotonic()
        _, d = evaluate(self.srv, chat_body("tail me"))
        acked = time.monotonic()
        t.join(5)
        res.close()
        self.assertIn("receipt", got)
        self.assertEqual(got["receipt"]["receipt_id"], d["receipt_id"])
        self.assertLess(got["time"] - acked, 0.1, "pushed %.3fs after the ack" % (got["time"] - acked))
        self.assertLess(got["time"] - start, 1.0)

    def test_tail_resumes_from_last_event_id_and_filters_agent(self):
        _, d1 = evaluate(self.srv, chat_body("one"))
        seq1 = self.receipt(d1["receipt_id"])["seq"]
        _, d2 = evaluate(self.srv, chat_body("two"), agent="someone-else")
        r = run_helm("receipts", "tail", "--server", self.srv.url, "--data-dir", self.srv.data_dir,
                     "--since", str(seq1 - 1), "--max", "2", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual([l["receipt_id"] for l in lines], [d1["receipt_id"], d2["receipt_id"]])
        r = run_helm("receipts", "tail", "--server", self.srv.url, "--data-dir", self.srv.data_dir,
                     "--since", str(seq1 - 1), "--max", "1", "--agent", "someone-else",
                     "--format", "json")
        self.assertEqual(json.loads(r.stdout)["receipt_id"], d2["receipt_id"])

    def test_a_cursor_or_count_that_is_not_one_is_refused_not_defaulted(self):
        # Taken for the default, a mangled cursor would resume at the head and
        # silently skip what came in between.
        _, d = evaluate(self.srv, chat_body("cursor"))
        head = self.receipt(d["receipt_id"])["seq"]
        auth = {"Authorization": "Bearer " + self.srv.token}
        tail = self.srv.url + "/api/v1/receipts/tail"
        for query, headers, named in [
                ("?since=abc", {}, "since"),
                ("?since=-1", {}, "since"),
                ("?since=99999999999999999999", {}, "since"),  # beyond 2^64
                ("", {"Last-Event-ID": "x7"}, "Last-Event-ID"),
                ("?since=1", {"Last-Event-ID": "+1"}, "Last-Event-ID")]:
            status, _, raw = http("GET", tail + query, headers=dict(auth, **headers))
            self.assertEqual(status, 400, query + str(headers))
            error = json.loads(raw)["error"]
            self.assertEqual(error["code"], "INVALID_REQUEST")
            self.assertTrue(error["message"].startswith(named), error["message"])
        for query in ["?limit=ten", "?from=1.5", "?limit=10&from=-3"]:
            status, body = self.srv.admin("GET", "/api/v1/receipts" + query)
            self.assertEqual(status, 400, query)
            self.assertEqual(body["error"]["code"], "INVALID_REQUEST")
        # A cursor beyond the head comes from another ledger or a restored one.
        status, _, raw = http("GET", tail + "?since=%d" % (head + 1000), headers=auth)
        self.assertEqual(status, 400)
        self.assertIn("head is", json.loads(raw)["error"]["message"])
        r = run_helm("receipts", "tail", "--server", self.srv.url, "--data-dir", self.srv.data_dir,
                     "--since", str(head + 1000))
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot resume after seq %d" % (head + 1000), r.stderr)
        # The head itself is a valid cursor: nothing yet, then what comes next.
        r = subprocess.Popen([helmtest.HELM, "receipts", "tail", "--server", self.srv.url,
                              "--data-dir", self.srv.data_dir, "--since", str(head), "--max", "1",
                              "--format", "json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.3)
        _, d2 = evaluate(self.srv, chat_body("after the head"))
        out, err = r.communicate(timeout=10)
        self.assertEqual(r.returncode, 0, err)
        self.assertEqual(json.loads(out)["receipt_id"], d2["receipt_id"])

    def test_policy_reload_keeps_last_good(self):
        with open(self.policy) as f:
            good = f.read()
        try:
            with open(self.policy, "w") as f:
                f.write(good + "\n[[rules]]\nid = 'broken'\nverdict = 'MAYBE'\n")
            status, body = self.srv.admin("POST", "/api/v1/policy/reload")
            self.assertEqual(status, 422)
            self.assertIn("verdict", json.dumps(body))
            _, d = evaluate(self.srv, chat_body("still works"))
            self.assertEqual(d["verdict"], "ALLOW")
        finally:
            with open(self.policy, "w") as f:
                f.write(good)
        status, _ = self.srv.admin("POST", "/api/v1/policy/reload")
        self.assertEqual(status, 200)

    def test_a_restart_on_a_free_port_is_served_at_the_new_url(self):
        # Regression (helmtest): the URL after a restart was the first start's.
        srv = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0"]).start()
        first = srv.port
        srv.stop()
        taken = socket.socket()  # the first port, held so the restart gets another
        try:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taken.bind(("127.0.0.1", first))
            srv.start()
            self.assertNotEqual(srv.port, first)
            self.assertEqual(srv.url, "http://127.0.0.1:%d" % srv.port)
            status, _, _ = http("GET", srv.url + "/healthz")
            self.assertEqual(status, 200)
        finally:
            taken.close()
            srv.cleanup()


class HoldTest(unittest.TestCase):
    def test_hold_seconds_waits_for_the_operator(self):
        d = tempfile.mkdtemp(prefix="helm-hold-")
        policy = os.path.join(d, "hold.toml")
        write_file(policy, "[policy]\nid = 'hold'\ndefault_verdict = 'ALLOW'\n\n[[rules]]\n"
                           "id = 'wire'\nverdict = 'ESCALATE'\nreason = 'NEEDS_HUMAN'\n"
                           "when.tools_any = ['transfer_*']\nthen.hold_seconds = 10\n")
        srv = Server(["serve", "--policy", policy, "--port", "0"], data_dir=os.path.join(d, "data")).start()
        try:
            result = {}
            t = threading.Thread(target=lambda: result.update(
                d=evaluate(srv, chat_body("pay", tools=["transfer_funds"]))[1]))
            t.start()
            pending = []
            for _ in range(100):
                _, body = srv.admin("GET", "/api/v1/approvals?status=pending")
                pending = body["approvals"]
                if pending:
                    break
                time.sleep(0.05)
            self.assertEqual(len(pending), 1)
            self.assertTrue(t.is_alive(), "the client is held while the approval is pending")
            status, _ = srv.admin("POST", "/api/v1/approvals/%s/approve" % pending[0]["id"])
            self.assertEqual(status, 200)
            t.join(10)
            self.assertEqual(result["d"]["verdict"], "ALLOW")
            self.assertEqual(result["d"]["approval_id"], pending[0]["id"])
            _, r = srv.admin("GET", "/api/v1/receipts/" + result["d"]["receipt_id"])
            self.assertEqual((r["verdict"], r["reason_code"]), ("ALLOW", "APPROVED"))
        finally:
            srv.cleanup()
            shutil.rmtree(d, ignore_errors=True)


class PolicyCliTest(unittest.TestCase):
    def test_shipped_policies_pass_their_vectors_and_a_mismatch_fails(self):
        root = helmtest.SOURCE_DIR
        for name in ["development", "production", "test"]:
            r = run_helm("policy", "test", os.path.join(root, "policies", name + ".toml"),
                         "--vectors", os.path.join(root, "policies", "vectors", name))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        d = tempfile.mkdtemp()
        write_file(os.path.join(d, "wrong.json"), json.dumps([{
            "name": "hello is not denied", "agent": "root", "protocol": "openai.chat",
            "body": chat_body("hello"), "expect": {"verdict": "DENY"}}]))
        r = run_helm("policy", "test", helmtest.TEST_POLICY, "--vectors", d)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("hello is not denied", r.stdout)
        shutil.rmtree(d)


class SigningKeyRotationTest(unittest.TestCase):
    def test_a_new_signing_key_is_recorded_and_both_keys_verify_the_ledger(self):
        srv = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0"]).start()
        try:
            evaluate(srv, chat_body("before"))
            srv.stop()
            old_pub = srv.public_key
            keys = os.path.join(srv.data_dir, "keys")
            for name in ["signing.key", "signing.pub"]:  # the next start makes a new pair
                os.rename(os.path.join(keys, name), os.path.join(keys, name + ".old"))
            srv.start()
            self.assertTrue(any("differs from the key" in line for line in srv.log), srv.log)
            evaluate(srv, chat_body("after"))
            srv.stop()
            new_pub = srv.public_key
            self.assertNotEqual(new_pub, old_pub)

            out = os.path.join(srv.data_dir, "export.jsonl")
            r = run_helm("receipts", "export", "--data-dir", srv.data_dir, "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = read_file(out).splitlines()
            receipts = [json.loads(l) for l in lines]
            self.assertEqual([r["kind"] for r in receipts], ["decision", "key_rotation", "decision"])
            rotation = receipts[1]
            self.assertEqual(rotation["previous_signer"], receipts[0]["signer"])
            self.assertEqual(rotation["signer"]["public_key"], new_pub)
            self.assertEqual(receipts[0]["signer"]["public_key"], old_pub)

            both = ["--trusted-key", old_pub, "--trusted-key", new_pub]
            r = run_helm("receipts", "verify", "--data-dir", srv.data_dir, *both)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            r = run_helm("receipts", "verify", "--data-dir", srv.data_dir, "--trusted-key", new_pub)
            self.assertEqual(r.returncode, 4, r.stdout)  # the old key's receipts: untrusted
            self.assertIn("seq 1", r.stdout)
            pyverify = ["/usr/bin/python3",
                        os.path.join(helmtest.SOURCE_DIR, "sdk", "python", "helm_verify.py")]
            r = subprocess.run(pyverify + ["--file", out] + both, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        finally:
            srv.cleanup()


class OfflineVerifyTest(unittest.TestCase):
    def test_verify_export_and_independent_verifier(self):
        srv = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0",
                      "--checkpoint-every", "5"]).start()
        try:
            for i in range(12):
                evaluate(srv, chat_body("msg %d" % i))
        finally:
            srv.stop()
        pub = srv.public_key
        r = run_helm("receipts", "verify", "--data-dir", srv.data_dir, "--trusted-key", pub)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("integrity: OK", r.stdout)
        export = os.path.join(srv.data_dir, "export.jsonl")
        r = run_helm("receipts", "export", "--data-dir", srv.data_dir, "--out", export)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = read_file(export).splitlines()
        self.assertGreaterEqual(len(lines), 14)  # 12 decisions + checkpoints
        self.assertTrue(any(json.loads(l)["kind"] == "checkpoint" for l in lines))
        r = run_helm("receipts", "verify", "--file", export, "--trusted-key", pub)
        self.assertEqual(r.returncode, 0, r.stdout)
        # The independent verifier agrees.
        pyverify = [ "/usr/bin/python3", os.path.join(helmtest.SOURCE_DIR, "sdk", "python", "helm_verify.py")]
        r = subprocess.run(pyverify + ["--file", export, "--trusted-key", pub], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Tampering: one edited byte inside a signed field.
        tampered = export + ".bad"
        bad = list(lines)
        bad[3] = bad[3].replace('"ALLOW"', '"DENY"', 1)
        write_file(tampered, "\n".join(bad) + "\n")
        r = run_helm("receipts", "verify", "--file", tampered, "--trusted-key", pub)
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertIn("seq 4", r.stdout)
        r = subprocess.run(pyverify + ["--file", tampered, "--trusted-key", pub], capture_output=True, text=True)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        # A removed receipt.
        write_file(tampered, "\n".join(lines[:5] + lines[6:]) + "\n")
        self.assertEqual(run_helm("receipts", "verify", "--file", tampered, "--trusted-key", pub).returncode, 3)
        # Untrusted signer: integrity holds, trust does not.
        other = "11" * 32
        r = run_helm("receipts", "verify", "--file", export, "--trusted-key", other)
        self.assertEqual(r.returncode, 4, r.stdout)
        self.assertIn("integrity: OK", r.stdout)
        r = subprocess.run(pyverify + ["--file", export, "--trusted-key", other], capture_output=True, text=True)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        srv.cleanup()

    def test_blank_line_in_an_export_is_a_format_failure(self):
        srv = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0"]).start()
        try:
            for i in range(4):
                evaluate(srv, chat_body("msg %d" % i))
        finally:
            srv.stop()
        export = os.path.join(srv.data_dir, "export.jsonl")
        r = run_helm("receipts", "export", "--data-dir", srv.data_dir, "--out", export)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = read_file(export).splitlines()
        blank = export + ".blank"
        write_file(blank, "\n".join(lines[:2] + [""] + lines[2:]) + "\n")
        r = run_helm("receipts", "verify", "--file", blank, "--trusted-key", srv.public_key,
                     "--format", "json")
        self.assertEqual(r.returncode, 3, r.stdout)
        report = json.loads(r.stdout)
        self.assertEqual((report["first_broken_check"], report["first_broken_seq"]), ("format", 3))
        pyverify = ["/usr/bin/python3", os.path.join(helmtest.SOURCE_DIR, "sdk", "python", "helm_verify.py")]
        r = subprocess.run(pyverify + ["--file", blank, "--trusted-key", srv.public_key],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        srv.cleanup()


    def test_invalid_policy_refuses_to_start_with_exit_2(self):
        d = tempfile.mkdtemp()
        bad = os.path.join(d, "bad.toml")
        write_file(bad, "[policy]\nid = 'x'\nunknown_key = 1\n")
        r = run_helm("serve", "--policy", bad, "--port", "0", "--data-dir", d)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown_key", r.stderr)
        r = run_helm("policy", "check", bad)
        self.assertEqual(r.returncode, 2)
        shutil.rmtree(d)


class ExportedLedgerTest(unittest.TestCase):
    """A ledger of 300 decisions and a checkpoint after every 5, restarted
    once so that its receipts are in an .sst file, and its export."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0",
                          "--checkpoint-every", "5"])
        cls.srv.start()
        try:
            for i in range(300):
                evaluate(cls.srv, chat_body("msg %d" % i))
        finally:
            cls.srv.stop()
        cls.srv.proc.stderr.close()
        cls.srv.start()  # the WAL becomes an .sst
        cls.srv.stop()
        cls.export = os.path.join(cls.srv.data_dir, "export.jsonl")
        r = run_helm("receipts", "export", "--data-dir", cls.srv.data_dir, "--out", cls.export)
        assert r.returncode == 0, r.stderr
        cls.lines = read_file(cls.export).splitlines()
        cls.checkpoints = [i + 1 for i, l in enumerate(cls.lines)
                           if json.loads(l)["kind"] == "checkpoint"]
        assert len(cls.checkpoints) >= 60, cls.checkpoints

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def verify_both(self, lines, pin_seq):
        """Runs helm and helm_verify.py on `lines` pinned to the receipt at
        pin_seq; returns both reports."""
        d = tempfile.mkdtemp(prefix="helm-pin-")
        try:
            export, pin = os.path.join(d, "export.jsonl"), os.path.join(d, "pin.json")
            write_file(export, "".join(l + "\n" for l in lines))
            write_file(pin, self.lines[pin_seq - 1] + "\n")  # as `tail -n 1 export` saves it
            key = self.srv.public_key
            r = run_helm("receipts", "verify", "--file", export, "--trusted-key", key,
                         "--checkpoint", pin, "--format", "json")
            py = subprocess.run(
                ["/usr/bin/python3", os.path.join(helmtest.SOURCE_DIR, "sdk", "python", "helm_verify.py"),
                 "--file", export, "--trusted-key", key, "--trusted-checkpoint", pin],
                capture_output=True, text=True)
            self.assertEqual(r.returncode, py.returncode, r.stdout + py.stdout + py.stderr)
            return r.returncode, json.loads(r.stdout), json.loads(py.stdout)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_export_ending_just_before_the_pinned_checkpoint_is_truncated(self):
        pin = self.checkpoints[-1]  # names seq pin - 1
        code, report, py = self.verify_both(self.lines, pin)
        self.assertEqual(code, 0, report)
        code, report, py = self.verify_both(self.lines[:pin - 1], pin)
        self.assertEqual(code, 3, report)
        for rep in (report, py):
            self.assertEqual((rep["first_broken_check"], rep["first_broken_seq"]), ("truncated", pin))

    def test_export_starting_after_the_pinned_checkpoint_is_reported(self):
        pin = self.checkpoints[len(self.checkpoints) // 2]
        code, report, py = self.verify_both(self.lines[pin:], pin)  # from seq pin + 1
        self.assertEqual(code, 3, report)
        for rep in (report, py):
            self.assertEqual((rep["first_broken_check"], rep["first_broken_seq"]), ("checkpoint", pin))
        # A range from the seq the pin names, or from the pin itself, checks it.
        for first in (pin - 1, pin):
            code, report, py = self.verify_both(self.lines[first - 1:], pin)
            self.assertEqual(code, 0, report)

    def damaged_copy(self, d):
        """A copy of the data dir in d whose receipts .sst file has one byte
        flipped in its first data block (the oldest receipts); its path."""
        data = os.path.join(d, "data")
        shutil.copytree(self.srv.data_dir, data)
        ledger = os.path.join(data, "ledger")
        ssts = sorted((os.path.getsize(os.path.join(ledger, f)), f)
                      for f in os.listdir(ledger) if f.endswith(".sst"))
        self.assertTrue(ssts, os.listdir(ledger))
        with open(os.path.join(ledger, ssts[-1][1]), "r+b") as f:  # the receipts
            f.seek(200)
            byte = f.read(1)
            f.seek(200)
            f.write(bytes([byte[0] ^ 0x01]))
        return data

    def test_read_error_in_the_ledger_fails_verify_and_export(self):
        d = tempfile.mkdtemp(prefix="helm-sst-")
        try:
            data = self.damaged_copy(d)
            r = run_helm("receipts", "verify", "--data-dir", data, "--trusted-key",
                         self.srv.public_key, "--format", "json")
            self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
            report = json.loads(r.stdout)
            self.assertFalse(report["integrity_ok"])
            self.assertEqual(report["first_broken_check"], "format")
            self.assertIn("read", report["first_broken_detail"])
            out = os.path.join(d, "export.jsonl")
            r = run_helm("receipts", "export", "--data-dir", data, "--out", out)
            self.assertNotEqual(r.returncode, 0, r.stderr)
            self.assertIn("incomplete", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)


    def test_read_error_in_a_running_ledger_is_503_for_a_list_and_ends_a_tail(self):
        d = tempfile.mkdtemp(prefix="helm-sst-")
        srv = None
        try:
            data = self.damaged_copy(d)
            srv = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0"],
                         data_dir=data).start()  # its tail verifies: the damage is older
            for agent in ("", "&agent=root"):
                status, body = srv.admin("GET", "/api/v1/receipts?from=1&limit=1000" + agent)
                self.assertEqual(status, 503, body)
                self.assertEqual(body["error"]["code"], "LEDGER_UNAVAILABLE", body)
            status, body = srv.admin("GET", "/api/v1/receipts?limit=10")  # the newest still read
            self.assertEqual(status, 200, body)
            self.assertEqual(len(body["receipts"]), 10)
            r = run_helm("receipts", "list", "--limit", "1000", "--server", srv.url,
                         "--data-dir", data)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("LEDGER_UNAVAILABLE", r.stderr)
            for agent in ([], ["--agent", "root"]):
                with self.subTest(agent=agent):
                    r = subprocess.run([helmtest.HELM, "receipts", "tail", "--since", "0",
                                        "--server", srv.url, "--data-dir", data, "--format",
                                        "json"] + agent,
                                       capture_output=True, text=True, timeout=30)
                    self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                    self.assertIn("LEDGER_UNAVAILABLE", r.stderr)
        finally:
            if srv:
                srv.cleanup()
            shutil.rmtree(d, ignore_errors=True)

    def test_read_error_in_a_running_ledger_is_503_for_a_receipt_and_a_seal_not_404(self):
        d = tempfile.mkdtemp(prefix="helm-sst-")
        srv = None
        try:
            data = self.damaged_copy(d)
            srv = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0"],
                         data_dir=data).start()
            first = json.loads(self.lines[0])  # seq 1: in the damaged block
            for path in (first["receipt_id"], "1"):
                with self.subTest(path=path):
                    status, body = srv.admin("GET", "/api/v1/receipts/" + path)
                    self.assertEqual(status, 503, body)
                    self.assertEqual(body["error"]["code"], "LEDGER_UNAVAILABLE", body)
            last = json.loads(self.lines[-1])
            status, body = srv.admin("GET", "/api/v1/receipts/" + last["receipt_id"])
            self.assertEqual((status, body["seq"]), (200, last["seq"]))  # the newest still read
            status, _ = srv.admin("GET", "/api/v1/receipts/rcpt_doesnotexist")
            self.assertEqual(status, 404)
            r = run_helm("receipts", "show", first["receipt_id"], "--server", srv.url,
                         "--data-dir", data)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("LEDGER_UNAVAILABLE", r.stderr)
            # A seal whose parent cannot be read is neither "unknown" nor written.
            head = srv.admin("GET", "/api/v1/checkpoint")[1]["seq"]
            status, body = srv.admin("POST", "/api/v1/seal", {
                "decision_id": first["decision_id"], "parent": first["receipt_id"],
                "principal": first["principal"], "status": "completed", "http_status": 200,
                "output_hash": "sha256:" + "ab" * 32, "route": {"lane": "balanced"}})
            self.assertEqual(status, 503, body)
            self.assertEqual(body["error"]["code"], "LEDGER_UNAVAILABLE", body)
            self.assertEqual(srv.admin("GET", "/api/v1/checkpoint")[1]["seq"], head)
        finally:
            if srv:
                srv.cleanup()
            shutil.rmtree(d, ignore_errors=True)


class TailAgentTest(unittest.TestCase):
    def test_tail_by_agent_delivers_more_than_one_page_of_pending_receipts(self):
        srv = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0"]).start()
        try:
            ids = []
            for i in range(300):  # more than the server's page of 256
                ids.append(evaluate(srv, chat_body("bulk %d" % i), agent="bulk")[1]["receipt_id"])
                if i % 10 == 0:
                    evaluate(srv, chat_body("other %d" % i), agent="other")
            r = subprocess.run([helmtest.HELM, "receipts", "tail", "--server", srv.url,
                                "--data-dir", srv.data_dir, "--since", "0", "--max", "300",
                                "--agent", "bulk", "--format", "json"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual([json.loads(l)["receipt_id"] for l in r.stdout.splitlines()], ids)
        finally:
            srv.cleanup()


class TailCapacityTest(unittest.TestCase):
    def test_tails_beyond_half_the_admin_workers_are_503_at_once_and_places_come_back(self):
        # Four workers on each listener (the embedded admin API's too): two tails at most.
        px = Server(["proxy", "--upstream", "mock://", "--policy", helmtest.TEST_POLICY,
                     "--port", "0", "--admin-port", "0", "--server-threads", "4",
                     "--max-streams", "2"]).start()
        opened = []
        try:
            base = helmtest.admin_url(px)
            auth = {"Authorization": "Bearer " + px.token}

            def open_tail():
                req = urllib.request.Request(base + "/api/v1/receipts/tail", headers=auth)
                res = urllib.request.urlopen(req, timeout=10)
                opened.append(res)
                return res

            open_tail()
            open_tail()
            start = time.monotonic()
            status, headers, raw = http("GET", base + "/api/v1/receipts/tail", headers=auth)
            self.assertLess(time.monotonic() - start, 1.0, "refused at once, not queued")
            self.assertEqual(status, 503)
            self.assertEqual(json.loads(raw)["error"]["code"], "TAIL_CAPACITY")
            self.assertEqual(headers.get("retry-after"), "1")
            # The workers the tails leave still serve everything else.
            self.assertEqual(http("GET", base + "/healthz")[0], 200)
            self.assertEqual(px.admin("GET", "/api/v1/receipts?limit=1", url=base)[0], 200)
            # A tail whose client left gives its place back once helm writes to it.
            opened.pop().close()
            deadline = time.monotonic() + 10
            while True:
                status, _, _ = http("POST", px.url + "/v1/chat/completions", chat_body("wake"),
                                    {"Authorization": "Bearer " + px.bootstrap_key})
                self.assertEqual(status, 200)
                try:
                    open_tail()
                    break
                except urllib.error.HTTPError as e:
                    self.assertEqual(e.code, 503)
                    self.assertLess(time.monotonic(), deadline, "the closed tail's place never came back")
                    time.sleep(0.1)
            _, _, text = http("GET", base + "/metrics", headers=auth)
            refused = [l for l in text.decode().splitlines() if l.startswith("helm_tail_refused_total")]
            self.assertTrue(refused and float(refused[0].split()[-1]) >= 1, refused)
        finally:
            for res in opened:
                res.close()
            px.cleanup()


if __name__ == "__main__":
    helmtest.main()

"""kill -9 of `helm serve` under 64-way concurrent evaluate load: after a
restart every acknowledged decision is present and the chain verifies (I3)."""
import signal
import threading
import time
import unittest

import helmtest
from helmtest import Server, chat_body, run_helm


class CrashTest(unittest.TestCase):
    def test_kill9_under_load_loses_nothing_acknowledged(self):
        srv = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0",
                      "--checkpoint-every", "100"]).start()
        acked = []
        lock = threading.Lock()
        stop = threading.Event()
        token = srv.token

        def worker(n):
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    status, d = srv.admin("POST", "/api/v1/evaluate",
                                          {"agent": "root", "protocol": "openai.chat",
                                           "body": chat_body("w%d-%d" % (n, i))}, token=token)
                except Exception:
                    return  # the server died under us
                if status == 200:
                    with lock:
                        acked.append(d["receipt_id"])

        threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(64)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        stop.set()
        for t in threads:
            t.join(15)
        self.assertGreater(len(acked), 50, "load did not run")

        r = run_helm("receipts", "verify", "--data-dir", srv.data_dir,
                     "--trusted-key", srv.public_key, "--format", "json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        srv2 = Server(["serve", "--policy", helmtest.TEST_POLICY, "--port", "0"],
                      data_dir=srv.data_dir).start()
        try:
            missing = [rid for rid in acked
                       if srv2.admin("GET", "/api/v1/receipts/" + rid)[0] != 200]
            self.assertEqual(missing, [], "%d of %d acknowledged receipts lost" % (len(missing), len(acked)))
            # The restarted ledger continues the chain.
            status, d = srv2.admin("POST", "/api/v1/evaluate",
                                   {"agent": "root", "protocol": "openai.chat", "body": chat_body("after")})
            self.assertEqual(status, 200)
        finally:
            srv2.stop()
        r = run_helm("receipts", "verify", "--data-dir", srv.data_dir, "--trusted-key", srv.public_key)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        srv2.cleanup()


if __name__ == "__main__":
    helmtest.main()

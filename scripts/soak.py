#!/usr/bin/env python3
"""Load and soak checks of RELIABILITY.md M6 (I5: memory, threads and file
descriptors stay bounded; beyond the stream cap, a fast 503), against the
real helm binary and scripts/test_upstream.py. A long tier: run by hand, its
last results are recorded in docs/testing.md ("Soak").

  scripts/soak.py [--helm build/helm] [--minutes M] [--connections C]

1. steady: wrk with C connections (default 32) for M minutes (default 5),
   a mix of answers, streams and upstream faults (500s, 429s, cut streams,
   slow tokens, broken JSON); helm's RSS, descriptors and threads sampled
   every 2 s. After a one-minute warm-up they must stay flat: the peaks of
   the second half of the run may exceed those of the first half by at most
   16 MiB of RSS, 16 descriptors and 8 threads.
2. streams at the cap: --max-streams K slow streams open at once; one more
   is a 503 STREAM_CAPACITY within a second, and /healthz and a short
   request still answer while the K run; the K then complete.
3. a burst: 10 x C connections for 15 s; then a single request is answered
   within a second and descriptors return to their level before the burst.
4. the ledger: helm stopped, `helm receipts verify` finds the chain intact
   and every decision with its outcome.
Exits 1 if a check fails.
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import helmtest  # noqa: E402  (the integration tests' harness)

MAX_STREAMS = 16
SERVER_THREADS = 32
RSS_SLACK_KB = 16 * 1024
FD_SLACK = 16
THREAD_SLACK = 8

# One request body per line of the mix, chosen in turn by soak.lua.
MIX = [helmtest.chat_body("A plain answer, please.")] * 10 + [
    helmtest.chat_body("Stream it.", stream=True),
    helmtest.chat_body("Stream it. [upstream:slow tokens=5 delay_ms=20]", stream=True),
    helmtest.chat_body("[upstream:cut events=2]", stream=True),
    helmtest.chat_body("[upstream:500]"),
    helmtest.chat_body("[upstream:429 retry_after=0]"),
    helmtest.chat_body("[upstream:badjson]"),
    helmtest.chat_body("[upstream:400]"),
]

LUA = r"""
local bodies = {}
for line in io.lines(os.getenv("SOAK_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SOAK_KEY")
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.0f p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50),
    latency:percentile(99), summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""


def sample(pid):
    """(RSS in KiB, open descriptors, threads) of a process."""
    rss = threads = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, len(os.listdir("/proc/%d/fd" % pid)), threads


class Checks:
    def __init__(self):
        self.failed = []

    def check(self, ok, what):
        print("  %s  %s" % ("ok  " if ok else "FAIL", what), flush=True)
        if not ok:
            self.failed.append(what)


def wrk(url, connections, seconds, env):
    out = subprocess.run(["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--latency",
                          "-s", env["SOAK_LUA"], url + "/v1/chat/completions"],
                         capture_output=True, text=True, env=dict(os.environ, **env))
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), "")
    return dict(kv.split("=") for kv in line.split()[1:]) if line else {}


def steady(px, env, minutes, connections, checks):
    print("1. steady load: %d connections, %g minutes" % (connections, minutes), flush=True)
    samples = []
    stop = threading.Event()

    def sampler():
        t0 = time.time()
        while not stop.wait(2):
            samples.append((time.time() - t0,) + sample(px.proc.pid))
    threading.Thread(target=sampler, daemon=True).start()
    result = wrk(px.url, connections, int(minutes * 60), env)
    stop.set()
    print("  wrk: %s" % result)
    checks.check(result.get("errors") == "0", "no connection errors or timeouts")
    for t, rss, fds, threads in samples[::15] + samples[-1:]:
        print("  t=%4.0f s  rss=%6.1f MiB  fds=%4d  threads=%4d" % (t, rss / 1024, fds, threads))
    # RSS rises and falls with the ledger's memtables (flushed when full), so
    # a trend shows in the peaks: after the warm-up minute, the second half's
    # peaks may not exceed the first half's by more than the slack.
    after = [s for s in samples if s[0] > 60]
    first, second = after[:len(after) // 2], after[len(after) // 2:]
    peaks = [[max(s[i] for s in half) for i in (1, 2, 3)] for half in (first, second)]
    warm = [max(s[i] for s in samples if s[0] <= 60) for i in (1, 2, 3)]
    for i, (what, slack, unit) in enumerate([("RSS", RSS_SLACK_KB, 1024), ("descriptors", FD_SLACK, 1),
                                            ("threads", THREAD_SLACK, 1)]):
        checks.check(peaks[1][i] <= peaks[0][i] + slack,
                     "%s: peak %g in the second half after warm-up, %g in the first (slack %g)"
                     % (what, peaks[1][i] / unit, peaks[0][i] / unit, slack / unit))
    return warm[1]


def streams_at_cap(px, up, key, checks):
    print("2. %d slow streams at the cap, one more past it" % MAX_STREAMS, flush=True)
    auth = {"Authorization": "Bearer " + key}
    slow = helmtest.chat_body("[upstream:slow tokens=40 delay_ms=100]", stream=True)

    def one_stream():
        return helmtest.http("POST", px.url + "/v1/chat/completions", slow, auth, timeout=60)[0]
    up.reset()
    with concurrent.futures.ThreadPoolExecutor(MAX_STREAMS) as pool:
        running = [pool.submit(one_stream) for _ in range(MAX_STREAMS)]
        while len(up.requests()) < MAX_STREAMS:  # all K dispatched (each streams for 4 s)
            time.sleep(0.05)
        t0 = time.time()
        status, _, body = helmtest.http("POST", px.url + "/v1/chat/completions", slow, auth)
        shed = time.time() - t0
        checks.check(status == 503 and b"STREAM_CAPACITY" in body and shed < 1.0,
                     "stream K+1: %d in %.0f ms" % (status, shed * 1000))
        checks.check(helmtest.http("GET", px.url + "/healthz")[0] == 200, "/healthz answers")
        t0 = time.time()
        status = helmtest.http("POST", px.url + "/v1/chat/completions",
                               helmtest.chat_body("short"), auth)[0]
        checks.check(status == 200, "a short request: %d in %.0f ms" % (status, (time.time() - t0) * 1000))
        statuses = [f.result() for f in running]
    checks.check(statuses == [200] * MAX_STREAMS, "the K streams complete: %s" % sorted(set(statuses)))


def burst(px, key, env, connections, steady_fds, checks):
    print("3. a burst: %d connections for 15 s" % (10 * connections), flush=True)
    result = wrk(px.url, 10 * connections, 15, env)
    print("  wrk: %s" % result)
    t0 = time.time()
    status = helmtest.http("POST", px.url + "/v1/chat/completions", helmtest.chat_body("after"),
                           {"Authorization": "Bearer " + key})[0]
    checks.check(status == 200 and time.time() - t0 < 1.0,
                 "after the burst: %d in %.0f ms" % (status, (time.time() - t0) * 1000))
    time.sleep(5)
    fds = sample(px.proc.pid)[1]
    checks.check(fds <= steady_fds + FD_SLACK, "5 s later, descriptors %d, within +%d of the steady "
                 "load's %d (pooled upstream connections stay)" % (fds, FD_SLACK, steady_fds))


def ledger(px, checks):
    print("4. the ledger", flush=True)
    px.stop()
    out = helmtest.run_helm("receipts", "verify", "--data-dir", px.data_dir, "--trusted-key",
                            os.path.join(px.data_dir, "keys", "signing.pub"), "--format", "json")
    report = json.loads(out.stdout)
    print("  %d receipts, head seq %d" % (report["receipts"], report["head_seq"]))
    checks.check(out.returncode == 0 and report["integrity_ok"] and report["trust_ok"],
                 "the chain verifies")
    checks.check(report["decisions_without_outcome"] == [], "every allowed decision has its outcome")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--helm", default=os.path.join(ROOT, "build", "helm"))
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    helmtest.HELM = args.helm
    up = helmtest.Upstream().start()
    px = helmtest.Server(["proxy", "--upstream", up.url, "--policy",
                          os.path.join(ROOT, "policies", "development.toml"), "--port", "0",
                          "--admin-port", "0", "--max-streams", str(MAX_STREAMS),
                          "--server-threads", str(SERVER_THREADS)]).start()
    work = tempfile.mkdtemp(prefix="helm-soak-")
    checks = Checks()
    try:
        with open(os.path.join(work, "bodies"), "w") as f:
            f.writelines(json.dumps(b) + "\n" for b in MIX)
        with open(os.path.join(work, "soak.lua"), "w") as f:
            f.write(LUA)
        env = {"SOAK_BODIES": os.path.join(work, "bodies"), "SOAK_LUA": os.path.join(work, "soak.lua"),
               "SOAK_KEY": px.bootstrap_key}
        print("# helm %s, %d cores, %s" % (subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
            text=True).stdout.strip(), os.cpu_count(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
        steady_fds = steady(px, env, args.minutes, args.connections, checks)
        streams_at_cap(px, up, px.bootstrap_key, checks)
        burst(px, px.bootstrap_key, env, args.connections, steady_fds, checks)
        ledger(px, checks)
    finally:
        px.cleanup()
        up.stop()
        subprocess.run(["rm", "-rf", work])
    print("soak: %s" % ("FAILED: " + "; ".join(checks.failed) if checks.failed else "all checks passed"))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())

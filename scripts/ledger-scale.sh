#!/usr/bin/env bash
# A ledger of millions of receipts (RELIABILITY.md M6; docs/ledger.md,
# "At scale"): what it costs on disk, how long helm takes to start on it,
# and how long an offline verification of the whole chain takes.
#
#   scripts/ledger-scale.sh [--receipts N] [--dir DIR] [--keep]
#
# 1. helm proxy (mock upstream) answers one chat completion on a fresh data
#    dir; its decision and outcome receipts, exported, are the templates.
# 2. helm_ledger_fill appends N receipts (default 10,000,000) copied from them,
#    signed with the data dir's key (no syncs: a setup step).
# 3. Bytes per receipt: the ledger directory's size over the receipt count.
# 4. Cold start, three times: from starting helm proxy on the full ledger to
#    its first 200 on /healthz (the ledger's open and tail check included).
# 5. helm receipts verify --data-dir on the whole chain: time, receipts/s and
#    peak memory.
# Needs about 2 KB of disk per receipt in DIR (default: a temp dir).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${HELM_BUILD_DIR:-$root/build}"
receipts=10000000
base=""
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --receipts) receipts="$2"; shift 2 ;;
    --dir) base="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "ledger-scale: unknown argument $1" >&2; exit 2 ;;
  esac
done

cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target helm helm_ledger_fill >/dev/null
helm="$build/helm"
work="$(mktemp -d "${base:-${TMPDIR:-/tmp}}/helm-ledger-scale.XXXXXX")"
data="$work/data"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [[ $keep == 1 ]] && echo "# kept $work" || rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts helm proxy on $data; sets port, and seconds: the time until
# /healthz answered 200.
start_helm() {
  local admin t0
  port=$(free_port); admin=$(free_port)
  t0=$(date +%s.%N)
  "$helm" proxy --upstream mock:// --policy "$root/policies/development.toml" \
    --data-dir "$data" --port "$port" --admin-port "$admin" >"$work/helm.log" 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/helm.log" >&2; exit 1; }
    sleep 0.01
  done
  seconds=$(echo "$(date +%s.%N) - $t0" | bc)
}
stop_helm() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

start_helm
curl -sf "http://127.0.0.1:$port/v1/chat/completions" \
  -H "Authorization: Bearer $(cat "$data/keys/bootstrap.key")" -H 'Content-Type: application/json' \
  -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is a hash chain?"}]}' >/dev/null
stop_helm
"$helm" receipts export --data-dir "$data" --out "$work/templates.jsonl" >/dev/null

echo "# $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ), helm $(git -C "$root" rev-parse --short HEAD)"
"$build/helm_ledger_fill" --data-dir "$data" --templates "$work/templates.jsonl" --receipts "$receipts"
bytes=$(du -sb "$data/ledger" | cut -f1)
echo "ledger: $(numfmt --to=iec "$bytes") in $data/ledger, $((bytes / receipts)) bytes per receipt"

for i in 1 2 3; do
  start_helm
  echo "cold start $i: ${seconds} s to the first /healthz 200"
  stop_helm
done

/usr/bin/time -f "%e %M" -o "$work/verify.time" \
  "$helm" receipts verify --data-dir "$data" --trusted-key "$data/keys/signing.pub" >"$work/verify.out" || {
  cat "$work/verify.out"; exit 1; }
read -r seconds max_kb <"$work/verify.time"
echo "verify: $(grep -E '^(integrity|receipts):' "$work/verify.out" | tr -s ' ' | paste -sd ';')"
echo "verify: ${seconds} s for the whole chain, $(echo "$receipts / $seconds" | bc) receipts/s, peak RSS $((max_kb / 1024)) MB"

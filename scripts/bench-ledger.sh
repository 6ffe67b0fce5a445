#!/usr/bin/env bash
# Ledger append throughput (docs/performance.md, "Ledger appends").
# Builds helm_ledger_bench in its own build directory and runs it: durable
# appends/s for 1, 8 and 64 concurrent writers with sync = always, and 64
# with sync = none, about two seconds each, against a ledger in $TMPDIR.
#
#   scripts/bench-ledger.sh [--seconds S] [--dir DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${HELM_BENCH_BUILD_DIR:-$root/build-bench}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target helm_ledger_bench >/dev/null
echo "# $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$build/helm_ledger_bench" "$@" 2>/dev/null

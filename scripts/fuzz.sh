#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (AddressSanitizer and
# UBSan on) and runs each for SECONDS (default 120), seeded from the request
# corpus (tests/corpus/requests) and the samples in tests/fuzz/seeds:
#   scripts/fuzz.sh [SECONDS] [TARGET...]      TARGET: request, stream, http1
# A failing input is saved as build-fuzz/crash-*; rerun one with
# build-fuzz/helm_fuzz_TARGET FILE. A long tier, not part of .ci/run;
# docs/testing.md has the last results.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request stream http1)
command -v clang++ >/dev/null || { apt-get update && apt-get install -y clang; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DHELM_SANITIZE=fuzz -DHELM_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j2 --target "${targets[@]/#/helm_fuzz_}"

# Seeds: each body or stream behind the byte(s) that pick its protocol.
seeds=build-fuzz/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{request,stream,http1}
i=0
for dir in openai.chat anthropic.messages openai.responses gemini.generate openai.embeddings \
    openai.completions; do  # the order of kProtocols in tests/fuzz/fuzz_request.cpp
  for f in tests/corpus/requests/$dir/*.json; do
    [ -e "$f" ] || continue
    { printf "\\x$(printf %02x $i)"; cat "$f"; } > "$seeds/request/$dir-$(basename "$f")"
  done
  i=$((i + 1))
done
for f in tests/fuzz/seeds/stream/*; do cp "$f" "$seeds/stream/"; done
for f in tests/fuzz/seeds/http1/*; do cp "$f" "$seeds/http1/"; done

export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  echo "== fuzz $t for ${seconds}s"
  # The fuzzer's last line and stats, and what a failure prints.
  (cd build-fuzz && ./"helm_fuzz_$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
     -print_final_stats=1 "corpus/$t" "seeds/$t" 2>&1 |
     grep -E "^(#[0-9]+\s+DONE\s|stat::(number_of_executed_units|peak_rss_mb)|==.*ERROR|SUMMARY)\
|abort|^(the|an) |Test unit written") || true
  for f in build-fuzz/crash-* build-fuzz/timeout-* build-fuzz/oom-*; do
    if [[ -e $f ]]; then status=1; fi
  done
done
exit $status

#!/usr/bin/env bash
# Builds helm and its tests with sanitizers, then runs every test under them:
#   scripts/test-sanitized.sh [address|thread] [ctest args...]
# address: AddressSanitizer with UndefinedBehaviorSanitizer (in build-asan/);
# thread: ThreadSanitizer (in build-tsan/). Any report fails its test.
# Needs the packages and SDK clients of scripts/setup.sh. A long tier, not
# part of .ci/run; docs/testing.md has its last results.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-address}
shift || true
case $mode in
  address) dir=build-asan ;;
  thread) dir=build-tsan ;;
  *) echo "usage: $0 [address|thread] [ctest args...]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -DHELM_SANITIZE="$mode" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 \
  >/dev/null
cmake --build "$dir" -j2
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp"
HELM_SANITIZED=$mode ctest --test-dir "$dir" --output-on-failure -j2 "$@"

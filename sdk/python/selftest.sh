#!/bin/sh
# Self-test of helm_verify.py against a chain signed by the C++ receipt module.
# Builds helm_receipt_tests, has its golden test write a 5-receipt export, then
# checks the verifier's exit codes on it and on damaged copies.
#   BUILD_DIR   CMake build directory (default: <repo>/build)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
PY=/usr/bin/python3
VERIFY="$PY $HERE/helm_verify.py"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

[ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S "$REPO" -B "$BUILD_DIR" >/dev/null
cmake --build "$BUILD_DIR" -j2 --target helm_receipt_tests >/dev/null
HELM_WRITE_GOLDEN="$TMP/golden.jsonl" "$BUILD_DIR/helm_receipt_tests" \
  --test-case='golden export*' >/dev/null
KEY=$(cat "$TMP/golden.jsonl.pub")
OTHER=$($PY -c 'import os; print(os.urandom(32).hex())')

failures=0
# expect CODE CHECK DESCRIPTION -- ARGS: runs the verifier, compares the exit
# code and (if CHECK is not "-") the reported first_broken_check.
expect() {
  want=$1 check=$2 what=$3
  shift 4
  set +e
  $VERIFY "$@" >"$TMP/out.json" 2>"$TMP/err.txt"
  got=$?
  set -e
  seen=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_broken_check"])' \
    "$TMP/out.json" 2>/dev/null || echo "?")
  if [ "$got" -eq "$want" ] && { [ "$check" = "-" ] || [ "$seen" = "$check" ]; }; then
    echo "ok   $what (exit $got${seen:+, $seen})"
  else
    echo "FAIL $what: exit $got (want $want), check '$seen' (want '$check')"
    cat "$TMP/out.json" "$TMP/err.txt"
    failures=$((failures + 1))
  fi
}

G="$TMP/golden.jsonl"
expect 0 "" "golden export verifies" -- --file "$G" --trusted-key "$KEY"

# Flip one byte inside a signed value of receipt 2 ("completed" -> "complete4").
$PY - "$G" "$TMP/flipped.jsonl" <<'PYEOF'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
i = lines[1].index(b"completed") + 8
lines[1] = lines[1][:i] + bytes([lines[1][i] ^ 0x01]) + lines[1][i + 1:]
open(sys.argv[2], "wb").write(b"\n".join(lines))
PYEOF
expect 3 signature "flipped byte" -- --file "$TMP/flipped.jsonl" --trusted-key "$KEY"

expect 4 "" "untrusted signer" -- --file "$G" --trusted-key "$OTHER"

sed '3d' "$G" >"$TMP/removed.jsonl"
expect 3 seq "removed receipt" -- --file "$TMP/removed.jsonl" --trusted-key "$KEY"

awk 'NR == 2 { held = $0; next } NR == 3 { print; print held; next } { print }' "$G" >"$TMP/swapped.jsonl"
expect 3 seq "reordered pair" -- --file "$TMP/swapped.jsonl" --trusted-key "$KEY"

sed 's/^{/{ /;2q' "$G" >"$TMP/spaced.jsonl"
expect 3 format "non-canonical whitespace" -- --file "$TMP/spaced.jsonl" --trusted-key "$KEY"

tail -n 1 "$G" >"$TMP/pin.jsonl"
head -n 2 "$G" >"$TMP/truncated.jsonl"
expect 0 "" "pinned full export" -- --file "$G" --trusted-key "$KEY" \
  --trusted-checkpoint "$TMP/pin.jsonl"
expect 3 truncated "truncated below a trusted checkpoint" -- --file "$TMP/truncated.jsonl" \
  --trusted-key "$KEY" --trusted-checkpoint "$TMP/pin.jsonl"
head -n 4 "$G" >"$TMP/before-pin.jsonl"
expect 3 truncated "ends just before a trusted checkpoint" -- --file "$TMP/before-pin.jsonl" \
  --trusted-key "$KEY" --trusted-checkpoint "$TMP/pin.jsonl"
expect 0 "" "truncated, no checkpoint (undetectable by design)" -- \
  --file "$TMP/truncated.jsonl" --trusted-key "$KEY"

# Bit flips across the whole export (every 5th byte, two bits): all must fail.
if $PY - "$G" "$KEY" "$HERE" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[3])
import helm_verify as hv
data, key = open(sys.argv[1], "rb").read(), bytes.fromhex(sys.argv[2])
accepted = []
for i in range(0, len(data), 5):
    for bit in (0x01, 0x20):
        mutated = bytearray(data)
        mutated[i] ^= bit
        v = hv.Verifier([key])
        for line in hv.split_lines(bytes(mutated)):
            v.add(line)
        if v.finish()["integrity_ok"]:
            accepted.append((i, bit))
sys.exit(1 if accepted else 0)
PYEOF
then
  echo "ok   every sampled bit flip is rejected"
else
  echo "FAIL a bit flip was accepted"
  failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"

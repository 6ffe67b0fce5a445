#!/usr/bin/env bash
# Installs every dependency from Debian's archive (and the npm registry for the
# SDK conformance tests and the TypeScript SDK), then builds helm into ./build.
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake g++ make pkg-config libcpp-httplib-dev libsodium-dev nlohmann-json3-dev
          libtomlplusplus-dev librocksdb-dev libcli11-dev doctest-dev libssl-dev libre2-dev
          python3 python3-nacl nginx-light wrk nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian; only install it when absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<< "${missing[*]}"
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

if [ -f tests/sdk/package-lock.json ]; then
  (cd tests/sdk && npm ci --no-audit --no-fund --loglevel=error)
fi
# The TypeScript SDK: its compiler (pinned in sdk/ts/package-lock.json), then
# dist/, which its tests (ctest sdk.ts) and its CLI run from.
if [ -f sdk/ts/package-lock.json ]; then
  (cd sdk/ts && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
fi

BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"
cmake -S . -B build -DCMAKE_BUILD_TYPE="$BUILD_TYPE" ${CMAKE_ARGS:-} >/dev/null
cmake --build build -j2

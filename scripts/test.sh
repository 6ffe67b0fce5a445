#!/usr/bin/env bash
# Sets up a fresh machine, builds, and runs every test (unit, integration,
# SDK conformance, shipped policy vectors). Prints ctest's summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j2 "$@"

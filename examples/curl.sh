#!/usr/bin/env bash
# A chat completion through helm with curl; prints the X-Helm-* headers.
set -euo pipefail
KEY="${HELM_KEY:-$(cat helm-data/keys/bootstrap.key)}"
curl -sS -D - http://127.0.0.1:9090/v1/chat/completions \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"model":"auto","messages":[{"role":"user","content":"Say hello"}]}'

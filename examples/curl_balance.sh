#!/usr/bin/env bash
# The reference's curl calls. VOXPARSE_BASE defaults to a local server.
set -euo pipefail
BASE="${VOXPARSE_BASE:-http://127.0.0.1:8000}"
curl -sS "$BASE/v1/balance" \
  -H "X-API-Key: $VOXPARSE_API_KEY"
echo
if [ $# -gt 0 ]; then
  curl -sS -X POST "$BASE/v1/transcribe" \
    -H "X-API-Key: $VOXPARSE_API_KEY" \
    -F "file=@$1" \
    -F "instructions=Also extract any product SKUs and warranty terms discussed"
  echo
fi

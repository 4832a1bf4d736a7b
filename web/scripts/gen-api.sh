#!/usr/bin/env bash
# Regenerate the API types from the FastAPI app's OpenAPI schema.
#   web/scripts/gen-api.sh [OUT]   (default: web/src/api/schema.d.ts)
# Needs the project's Python (.venv, else python3 on PATH) and web/node_modules (npm ci).
set -euo pipefail
web="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$web")"
out="${1:-$web/src/api/schema.d.ts}"
py="$root/.venv/bin/python"
[ -x "$py" ] || py="$(command -v python3)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && PYTHONPATH="$root" "$py" web/scripts/dump_openapi.py) > "$tmp/openapi.json"
"$web/node_modules/.bin/openapi-typescript" "$tmp/openapi.json" -o "$tmp/schema.d.ts" >/dev/null
mkdir -p "$(dirname "$out")"
cp "$tmp/schema.d.ts" "$out"

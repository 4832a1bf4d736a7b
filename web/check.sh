#!/usr/bin/env bash
# The dashboard's checks, run by `./run test` before pytest:
#   npm ci, tsc --noEmit, eslint, vitest, the API types against a fresh OpenAPI dump, and a
#   rebuild of the bundle compared with the committed one in serve/static/app.
# Missing Node/npm is a failure, never a skip: the committed bundle must be checked.
set -euo pipefail
web="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$web")"
cd "$web"
for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: $tool is not installed; the dashboard checks need Node 20.19+ and npm" >&2
    echo "hint: install Node (e.g. apt-get install nodejs npm) and run ./run test again" >&2
    exit 1
  fi
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

npm ci --no-audit --no-fund --loglevel=error
npx tsc --noEmit -p tsconfig.json
npx eslint --max-warnings 0 .
npx vitest run --reporter=dot

scripts/gen-api.sh "$tmp/schema.d.ts"
if ! diff -u src/api/schema.d.ts "$tmp/schema.d.ts"; then
  echo "error: web/src/api/schema.d.ts is stale against the API's OpenAPI schema" >&2
  echo "hint: run web/scripts/gen-api.sh, then rebuild (cd web && npm run build)" >&2
  exit 1
fi

npx vite build --logLevel warn --outDir "$tmp/app"
if ! diff -r "$root/serve/static/app" "$tmp/app"; then
  echo "error: the committed bundle serve/static/app differs from a fresh build of web/" >&2
  echo "hint: cd web && npm ci && npm run build, and commit serve/static/app" >&2
  exit 1
fi
echo "web: ok"

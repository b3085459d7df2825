#!/usr/bin/env bash
# Regenerates checked-in code from its sources: wire protobuf messages (buf + protoc-gen-es) and
# the admin API's descriptor set (src/admin/gen/generate.ts, served through reflection).
# With --check, generates into a temporary tree and fails when the checked-in code differs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
buf lint
if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  buf generate --template '{"version":"v2","inputs":[{"directory":"proto","paths":["proto/meshkeeper/wire"]}],"plugins":[{"local":"protoc-gen-es","out":"'"$tmp"'","opt":["target=ts","import_extension=ts","erasable_syntax=true"]}]}'
  if ! diff -r "$tmp" src/wire/gen; then
    echo "generated code is stale: run npm run generate" >&2
    exit 1
  fi
  node src/admin/gen/generate.ts --check
  echo "generated code is current"
else
  rm -rf src/wire/gen
  buf generate
  node src/admin/gen/generate.ts
fi

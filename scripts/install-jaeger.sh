#!/usr/bin/env bash
# Builds Jaeger v2 (a real OTLP trace backend for the observability tests and the compose stack)
# into $GOBIN/jaeger. Idempotent: skipped when $GOBIN/jaeger already reports the wanted version.
#
# Why not `go install github.com/jaegertracing/jaeger/cmd/jaeger@v1.76.0`: the module's go.mod has
# a replace directive, which `go install pkg@version` refuses (STACK.md). So the module is
# downloaded through the Go proxy, copied to a writable build folder and built there, with the
# version stamped the way Jaeger's Makefile does (-X …/internal/version.*).
#
# Jaeger's Go module carries the v1 number of each dual v1/v2 release: v1.76.0 is Jaeger v2.13.0.
# Memory storage, OTLP in: see deploy/jaeger/config.yaml. Cold build ~5 min on 2 cores (Go's
# build cache makes a rebuild seconds).
set -euo pipefail

MODULE=github.com/jaegertracing/jaeger
MODULE_VERSION="${JAEGER_MODULE_VERSION:-v1.76.0}"
RELEASE="${JAEGER_RELEASE:-v2.13.0}"
GOBIN="${GOBIN:-$(go env GOPATH)/bin}"
BUILD_ROOT="${MESHKEEPER_BUILD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshkeeper/build}"
SRC="$BUILD_ROOT/jaeger-$MODULE_VERSION"

log() { printf '[install-jaeger] %s\n' "$*" >&2; }

# `jaeger version` prints JSON with the stamped gitVersion; an unstamped or older build is rebuilt.
if [ -x "$GOBIN/jaeger" ] && "$GOBIN/jaeger" version 2>/dev/null | grep -q "\"gitVersion\": *\"$RELEASE\""; then
  exit 0
fi

log "building jaeger $RELEASE (module $MODULE@$MODULE_VERSION) into $GOBIN; first time only, a few minutes"
started=$(date +%s)

# `go mod download -json` prints the module's metadata, including Dir (the read-only module cache).
info=$(go mod download -json "$MODULE@$MODULE_VERSION")
dir=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
published=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",\{0,1\}$/\1/p')
if [ -z "$dir" ] || [ ! -f "$dir/go.mod" ]; then
  log "go mod download gave no usable Dir:"
  printf '%s\n' "$info" >&2
  exit 1
fi
date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$published" 2>/dev/null || true)

# A fresh copy each time: the build writes go.sum updates into the tree.
mkdir -p "$BUILD_ROOT"
rm -rf "$SRC.tmp"
cp -R "$dir" "$SRC.tmp"
chmod -R u+w "$SRC.tmp"
rm -rf "$SRC"
mv "$SRC.tmp" "$SRC"

mkdir -p "$GOBIN"
pkg="$MODULE/internal/version"
(
  cd "$SRC"
  # -mod=mod: the module zip has no vendor folder; go.sum in it is complete for this build.
  GOFLAGS="${GOFLAGS:-} -mod=mod" go build -trimpath \
    -ldflags "-s -w -X $pkg.latestVersion=$RELEASE -X $pkg.date=${date:-unknown}" \
    -o "$GOBIN/jaeger.tmp" ./cmd/jaeger
)
mv "$GOBIN/jaeger.tmp" "$GOBIN/jaeger"
log "built $("$GOBIN/jaeger" version 2>/dev/null | tr -d '\n ' | head -c 200) in $(($(date +%s) - started)) s"

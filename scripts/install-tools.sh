#!/usr/bin/env bash
# Installs what a fresh machine lacks for meshkeeper's tests and tools. Idempotent: each tool
# is skipped when already present. Go binaries land in $GOBIN (default $(go env GOPATH)/bin);
# callers put it on PATH (see scripts/env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[install-tools] %s\n' "$*" >&2; }

apt_ready=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_ready -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_ready=1
  fi
  log "apt: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

GOBIN="${GOBIN:-$(go env GOPATH)/bin}"
export GOBIN
go_install() { # name module@version
  if [ -x "$GOBIN/$1" ]; then return 0; fi
  log "go install $2"
  GOFLAGS=-mod=mod go install "$2"
}

# Prometheus + promtool (Debian), iproute2/nftables for namespace tests.
apt_install prometheus iproute2 nftables
go_install grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4
go_install helm helm.sh/helm/v3/cmd/helm@v3.22.0
# gRPC load generator for bench/admin (not needed by the tests).
go_install ghz github.com/bojand/ghz/cmd/ghz@v0.120.0

# Jaeger v2 (a real OTLP trace backend for the observability tests): built from its Go module.
bash scripts/install-jaeger.sh

# Node dependencies, including Node 24 itself (devDependency `node@24`): never --ignore-scripts,
# the node binary arrives through its preinstall script. `npm install` rather than `npm ci`: the
# npm 11 here records only this platform's optional packages (Biome's and buf's binaries) in
# the lock file, which `npm ci` then calls out of sync; `npm install` still installs the locked
# versions.
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm install (locked versions)"
  npm install --no-audit --no-fund
fi
log "done"

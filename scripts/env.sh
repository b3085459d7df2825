# Sourced by .ci/run and helper scripts: puts the project's tools on PATH.
GOBIN="${GOBIN:-$(go env GOPATH)/bin}"
export PATH="$PWD/node_modules/.bin:$GOBIN:$PATH"

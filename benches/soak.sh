#!/usr/bin/env bash
# Soak: a release `corral serve` under wrk at concurrency 64 with a hostile
# mix beside good calls, until CALLS calls are done; samples RSS and calls
# per second every INTERVAL seconds and checks that every request got a 200
# and every call is counted in /metrics.
#
#   cargo build --release && bash benches/soak.sh [CALLS] [INTERVAL]
#
# Defaults: 1,000,000 calls, samples every 10 s. CI runs a short version
# with the test build (CORRAL_SOAK_BIN=target/debug/corral bash
# benches/soak.sh 20000 2). Needs wrk (apt-get install wrk).
#
# The mix (MCP 2026-07-28 stateless tools/call, one request per call), per
# 100 calls:
#
#   60 good: the conformance tool test_simple_text (30), hostile echo (30)
#    8 out of fuel:     hostile spin (loops until its fuel is gone)
#    8 memory limit:    alloc of 64 MiB (limit 16 MiB; the same component
#                       as "bomb", with fuel enough to reach the limit)
#    8 stack overflow:  hostile recurse 10,000,000 deep
#    6 trap:            hostile panic
#    6 output limit:    hostile flood of 256 KiB (limit 64 KiB)
#    2 timeout:         hostile sleep 1 s (limit 100 ms)
#    2 invalid:         hostile alloc with a string where a number goes
#
# Output: target/soak/samples.csv (seconds, calls done, calls/s over the
# interval, RSS MiB), target/soak/summary.txt, and a PNG of both curves
# (target/soak/soak.png) when python3 has matplotlib.
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-1000000}
interval=${2:-10}
conns=${CORRAL_SOAK_CONNECTIONS:-64}
bin=${CORRAL_SOAK_BIN:-${CARGO_TARGET_DIR:-target}/release/corral}
hostile=target/guests/wasm32-wasip2/release/corral_hostile.wasm
out=target/soak
mkdir -p "$out"
for need in "$bin" "$hostile"; do
    [ -s "$need" ] || { echo "error: $need is missing: run cargo build --release first" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "error: wrk is missing (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
server=
sampler=
cleanup() {
    [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/corral.toml" <<TOML
[server]
listen = "127.0.0.1:0"
max_calls_in_flight = 256

[engine]
cache_dir = "$PWD/target/soak/compile-cache"

[[component]]
name = "conformance"
path = "builtin:conformance"
namespace = ""

[[component]]
name = "hostile"
path = "$PWD/$hostile"
limits.timeout_ms = 100
limits.fuel = 2000000
limits.memory_mib = 16
limits.output_kib = 64
limits.max_concurrency = 64

# The same component with fuel enough to fill 16 MiB (its allocator writes
# every byte), so that its memory bomb meets the memory limit, not the fuel.
[[component]]
name = "bomb"
path = "$PWD/$hostile"
limits.timeout_ms = 100
limits.fuel = 50000000
limits.memory_mib = 16
limits.max_concurrency = 64
TOML

RUST_LOG=warn "$bin" serve --config "$work/corral.toml" >"$work/serve.out" 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 600); do
    url=$(sed -n 's/^corral: listening on //p' "$work/serve.out")
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "error: the server did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
base=${url%/mcp}
until curl -sf "$base/readyz" >/dev/null; do sleep 0.2; done

cat >"$work/mix.lua" <<'LUA'
local function call(name, arguments)
    local body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. name ..
        '","arguments":' .. arguments .. ',"_meta":{' ..
        '"io.modelcontextprotocol/protocolVersion":"2026-07-28",' ..
        '"io.modelcontextprotocol/clientCapabilities":{},' ..
        '"io.modelcontextprotocol/clientInfo":{"name":"soak","version":"1"}}}}'
    return wrk.format("POST", "/mcp", {
        ["host"] = wrk.host,
        ["content-type"] = "application/json",
        ["accept"] = "application/json, text/event-stream",
        ["mcp-protocol-version"] = "2026-07-28",
        ["mcp-method"] = "tools/call",
        ["mcp-name"] = name,
    }, body)
end
local mix = {}
local function add(count, request)
    for _ = 1, count do mix[#mix + 1] = request end
end
add(30, call("test_simple_text", '{}'))
add(30, call("hostile_echo", '{"text":"hello"}'))
add(8, call("hostile_spin", '{}'))
add(8, call("bomb_alloc", '{"mib":64}'))
add(8, call("hostile_recurse", '{"depth":10000000}'))
add(6, call("hostile_panic", '{"message":"soak"}'))
add(6, call("hostile_flood", '{"bytes":262144}'))
add(2, call("hostile_sleep", '{"ms":1000}'))
add(2, call("hostile_alloc", '{"mib":"many"}'))
local counter = 0
function setup(thread)
    thread:set("offset", counter * 37)
    counter = counter + 1
end
local i = 0
function request()
    i = i + 1
    return mix[((i + offset) % #mix) + 1]
end
function done(summary, latency, requests)
    local errors = summary.errors
    io.write(string.format("WRK %d %d %d %d %d %d\n", summary.requests, errors.status,
        errors.connect, errors.read, errors.write, errors.timeout))
end
LUA

calls_done() { # calls the server counted, all outcomes
    curl -sf "$base/metrics" | awk '/^corral_tool_calls_total\{/ { n += $NF } END { printf "%d\n", n }'
}
rss_mib() {
    awk '/^VmRSS:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$server/status"
}

start=$(date +%s.%N)
echo "seconds,calls,calls_per_second,rss_mib" >"$out/samples.csv"
echo "0,0,0,$(rss_mib)" >>"$out/samples.csv"
(
    last_calls=0
    last_t=$start
    while sleep "$interval"; do
        now=$(date +%s.%N)
        n=$(calls_done)
        awk -v t="$now" -v s="$start" -v lt="$last_t" -v n="$n" -v ln="$last_calls" -v r="$(rss_mib)" \
            'BEGIN { printf "%.1f,%d,%.0f,%s\n", t - s, n, (n - ln) / (t - lt), r }' >>"$out/samples.csv"
        last_calls=$n
        last_t=$now
    done
) &
sampler=$!

requests=0
non_200=0
socket_errors=0
runs=0
while [ "$(calls_done)" -lt "$calls" ]; do
    left=$((calls - $(calls_done)))
    # About a minute per run at most; short runs near the end.
    secs=$(( left / 3000 + 1 ))
    [ "$secs" -gt 60 ] && secs=60
    line=$(wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s -s "$work/mix.lua" "$base/mcp" | grep '^WRK ')
    read -r _ n status connect read write timeout <<<"$line"
    requests=$((requests + n))
    non_200=$((non_200 + status))
    socket_errors=$((socket_errors + connect + read + write + timeout))
    runs=$((runs + 1))
    if [ "$status" -ne 0 ] || [ "$n" -eq 0 ]; then
        echo "FAIL: wrk run $runs: $n requests, $status not 200; stopping" >&2
        break
    fi
done
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=
end=$(date +%s.%N)
# The last calls of a run may finish after wrk stopped counting them.
sleep 2
metrics=$(curl -sf "$base/metrics")
counted=$(calls_done)
echo "$(awk -v e="$end" -v s="$start" 'BEGIN { printf "%.1f", e - s }'),$counted,0,$(rss_mib)" >>"$out/samples.csv"

{
    echo "soak: $requests requests in $runs wrk runs at c=$conns, $(awk -v e="$end" -v s="$start" 'BEGIN { printf "%.0f", e - s }') s"
    echo "non-200 answers: $non_200; socket errors: $socket_errors"
    echo "calls counted in /metrics: $counted (wrk saw $requests; the difference is calls in flight when a wrk run stopped, at most $((runs * conns)))"
    echo "outcomes:"
    echo "$metrics" | awk '/^corral_tool_calls_total\{/ {
        match($0, /outcome="[^"]*"/); o = substr($0, RSTART + 9, RLENGTH - 10); n[o] += $NF }
        END { for (o in n) printf "  %-22s %d\n", o, n[o] }' | sort
    echo "RSS MiB (first sample after start, then min/max over the second half):"
    awk -F, 'NR > 1 { t[NR] = $1; r[NR] = $4; last = NR } END {
        half = int((last + 2) / 2); lo = 1e18; hi = 0
        for (i = half; i <= last; i++) { if (r[i] < lo) lo = r[i]; if (r[i] > hi) hi = r[i] }
        printf "  start %s, second half %s..%s, end %s\n", r[3], lo, hi, r[last] }' "$out/samples.csv"
} | tee "$out/summary.txt"

status=0
if [ "$non_200" -ne 0 ] || [ "$socket_errors" -ne 0 ]; then
    echo "FAIL: every request must get a 200" >&2
    status=1
fi
if [ "$counted" -lt "$requests" ] || [ "$counted" -gt $((requests + runs * conns)) ]; then
    echo "FAIL: calls counted in /metrics ($counted) do not match the requests ($requests)" >&2
    status=1
fi
if ! kill -0 "$server" 2>/dev/null; then
    echo "FAIL: the server died" >&2
    status=1
fi

if python3 -c 'import matplotlib' 2>/dev/null; then
    python3 - "$out/samples.csv" "$out/soak.png" <<'PY'
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = list(csv.DictReader(open(sys.argv[1])))[1:-1]
t = [float(r["seconds"]) for r in rows]
fig, (a, b) = plt.subplots(2, 1, sharex=True, figsize=(8, 5))
a.plot(t, [float(r["calls_per_second"]) for r in rows])
a.set_ylabel("calls/s")
a.set_ylim(bottom=0)
b.plot(t, [float(r["rss_mib"]) for r in rows], color="tab:red")
b.set_ylabel("RSS (MiB)")
b.set_ylim(bottom=0)
b.set_xlabel("seconds")
a.set_title("corral serve, c=64, 40% hostile calls")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
PY
    echo "plot: $out/soak.png"
fi
exit $status

#!/usr/bin/env bash
# Builds every fuzz target (fuzz/, cargo fuzz on the nightly toolchain) and
# runs each for SECONDS (default 30) on a copy of its seeds and corpus, so that
# a regression that crashes a target fails CI. A crash leaves its input in
# fuzz/artifacts/<target>/ and the script fails naming it.
#
#   bash .ci/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
shift || true

rustup toolchain install nightly --profile minimal >/dev/null
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --version 0.13.2
fi
# The MCP targets serve the conformance component the workspace build made.
if [ ! -s target/guests/wasm32-wasip2/release/corral_tool_conformance.wasm ]; then
    cargo build --quiet -p corral
fi

cd fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
# The guests are built by the stable workspace build, not again here.
export CORRAL_SKIP_GUEST_BUILD=1
cargo +nightly fuzz build --sanitizer none >/dev/null

failed=()
for target in "${targets[@]}"; do
    # The hand-written seeds and the minimised corpus of the long runs.
    corpus=$(mktemp -d)
    [ -d "seeds/$target" ] && cp -r "seeds/$target/." "$corpus/"
    [ -f "corpora/$target.tar.xz" ] && tar -xJf "corpora/$target.tar.xz" -C "$corpus" --strip-components=1
    dict=()
    case "$target" in
        mcp_stdio | mcp_http | native_client | arguments) dict=(-dict=dict/json.dict) ;;
        config) dict=(-dict=dict/config.dict) ;;
    esac
    echo "fuzz: $target for ${secs}s"
    if ! cargo +nightly fuzz run --sanitizer none "$target" "$corpus" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 "${dict[@]}" \
        >"$corpus.log" 2>&1; then
        echo "fuzz: $target FAILED; its log:" >&2
        tail -n 60 "$corpus.log" >&2
        failed+=("$target")
    else
        grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$corpus.log" | sed "s/^/  /"
    fi
    rm -rf "$corpus" "$corpus.log"
done
if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: crashed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi

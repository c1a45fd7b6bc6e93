#!/usr/bin/env bash
# Builds Corral's container image (Dockerfile) and checks it, offline:
#   1. the static musl binary: cargo build --release for x86_64-unknown-linux-musl;
#   2. the image: docker build --network none (FROM scratch, nothing pulled);
#   3. the image runs as 65532:65532 (docker inspect);
#   4. `corral check` in a container with a read-only root file system, no
#      capabilities and no network loads every component from the cache the
#      build filled, and so does the ConfigMap's corral.toml of
#      deploy/kubernetes (its [cluster] table left out: its Redis is not here);
#   5. `corral call` runs a tool in such a container;
#   6. `corral serve` in such a container: /readyz answers 200 with every
#      component from the cache (read over the container's loopback by the
#      bundled fetch tool, run in a second container sharing its network
#      namespace), /mcp without a bearer token answers 401, and SIGTERM
#      drains it to exit status 0.
#
#   bash .ci/image.sh            # CORRAL_IMAGE (default corral:dev) names the image
#   CORRAL_IMAGE_BINARY=dev bash .ci/image.sh   # CI: the dev binary (see step 1)
#
# CARGO_TARGET_DIR is honoured; the binary is staged at target/image/corral,
# inside the build context. Needs a docker engine (started as .ci/run does
# when none answers) and, for ring's C code, the musl C compiler
# (x86_64-linux-musl-gcc from Debian's musl-tools, installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

image=${CORRAL_IMAGE:-corral:dev}
target_dir=${CARGO_TARGET_DIR:-target}
musl=x86_64-unknown-linux-musl
name=corral-image-check-$$
work=$(mktemp -d)
cleanup() {
    docker rm -f "$name" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "error: $*" >&2
    exit 1
}

# 1. The binary. CORRAL_IMAGE_BINARY=release (the default) is the image as
# shipped: the static musl release build (14 to 20 min from cold on 2
# cores). CORRAL_IMAGE_BINARY=dev is how CI checks the image within its
# time: the dev binary the test step built (glibc), stripped, with the
# shared libraries it links copied in beside it, one COPY more than the
# Dockerfile; every check below is the same.
variant=${CORRAL_IMAGE_BINARY:-release}
dockerfile=Dockerfile
mkdir -p target/image
rm -rf target/image/root
start=$SECONDS
case "$variant" in
    release)
        rustup target add "$musl"
        if ! command -v x86_64-linux-musl-gcc >/dev/null; then
            apt-get update
            DEBIAN_FRONTEND=noninteractive apt-get install -y musl-tools
        fi
        cargo build --locked --release --target "$musl" -p corral
        bin="$target_dir/$musl/release/corral"
        # FROM scratch has no dynamic loader: no program interpreter allowed.
        if readelf -l "$bin" | grep -q 'program interpreter'; then
            fail "$bin is dynamically linked"
        fi
        ;;
    dev)
        # Built as the tests build it (`cargo build -p corral` alone would
        # resolve other features and rebuild much of the dependency tree);
        # after the test step this is a no-op.
        cargo test --workspace --no-run --quiet
        bin="$target_dir/debug/corral"
        # The loader and every library, at the paths the binary names.
        mkdir -p target/image/root
        for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
            cp -L --parents "$lib" target/image/root/
        done
        dockerfile=target/image/Dockerfile.dev
        sed 's#^COPY \${CORRAL_BIN} /usr/local/bin/corral$#&\nCOPY target/image/root/ /#' \
            Dockerfile >"$dockerfile"
        grep -q '^COPY target/image/root/ /$' "$dockerfile" || fail "Dockerfile: no COPY of the binary"
        ;;
    *) fail "CORRAL_IMAGE_BINARY must be release or dev, not $variant" ;;
esac
echo "image: the $variant binary took $((SECONDS - start)) s"
# Without its symbol table (release: 51 -> 42 MB): a panic's backtrace then
# names no host function; guests' backtraces come from their own wasm.
strip -o target/image/corral "$bin"

if ! docker info >/dev/null 2>&1; then
    mkdir -p target
    nohup dockerd --bridge=none --iptables=false >target/dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 || fail "dockerd did not answer within 60 s (target/dockerd.log)"
fi

# 2. The image.
start=$SECONDS
docker build --network none -f "$dockerfile" --build-arg CORRAL_BIN=target/image/corral -t "$image" .
echo "image: docker build took $((SECONDS - start)) s"

# 3. Its user.
user=$(docker image inspect -f '{{.Config.User}}' "$image")
[ "$user" = "65532:65532" ] || fail "the image runs as \"$user\", not 65532:65532"
size=$(docker image inspect -f '{{.Size}}' "$image")
echo "image: $image runs as $user, $((size / 1024 / 1024)) MiB"

# Every container below: read-only root, no capabilities, no network.
hardened=(--network none --read-only --cap-drop ALL --security-opt no-new-privileges --user 65532:65532)

# 4. The compile cache, for the image's config and for the ConfigMap's.
# $1: what `corral check` printed; every component must come from the cache.
all_from_cache() {
    local loaded cached
    loaded=$(grep -c '^  compiled in' <<<"$1" || true)
    cached=$(grep -c '^  compiled in .* (from cache)$' <<<"$1" || true)
    echo "$1" | grep -E '^(engine|component|  compiled)'
    [ "$loaded" -gt 0 ] && [ "$loaded" = "$cached" ] ||
        fail "$cached of $loaded components loaded from the image's compile cache"
}
out=$(docker run --rm "${hardened[@]}" "$image" check --config /etc/corral/corral.toml)
all_from_cache "$out"

mkdir -p "$work/config" "$work/tokens"
python3 - deploy/kubernetes/configmap.yaml "$work/config/corral.toml" <<'EOF'
import re, sys, yaml
config = yaml.safe_load(open(sys.argv[1]))["data"]["corral.toml"]
# Drop the [cluster] table: its Redis is not reachable from here.
config = re.sub(r"(?ms)^\[cluster\]\n.*?(?=^\[)", "", config)
open(sys.argv[2], "w").write(config)
EOF
printf '# test token\nimage-check-token\n' >"$work/tokens/tokens"
# As the Secret's volume gives it, less the group bit: the server's own file.
chown -R 65532:65532 "$work/tokens"
chmod 700 "$work/tokens"
chmod 600 "$work/tokens/tokens"
chmod 755 "$work/config"
chmod 644 "$work/config/corral.toml"
mounts=(-v "$work/config:/etc/corral:ro" -v "$work/tokens:/run/secrets/corral:ro")
out=$(docker run --rm "${hardened[@]}" "${mounts[@]}" "$image" check --config /etc/corral/corral.toml)
all_from_cache "$out"

# 5. One call.
out=$(docker run --rm "${hardened[@]}" "$image" call text sha256 '{"text":"abc"}' \
    --config /etc/corral/corral.toml)
grep -q ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad <<<"$out" ||
    fail "text sha256 in the image answered: $out"
echo "image: corral call text sha256 answered in a read-only container"

# 6. The server, with its tokens mounted as the Deployment mounts them.
docker run -d --name "$name" "${hardened[@]}" -v "$work/tokens:/run/secrets/corral:ro" "$image" >/dev/null
ready=""
for _ in $(seq 1 60); do
    # The fetch tool, granted the server's loopback port, in a container
    # that shares the server's network namespace (nothing else is in it).
    if out=$(docker run --rm --network "container:$name" --read-only --cap-drop ALL \
        --security-opt no-new-privileges -e RUST_LOG=error -e CORRAL_CACHE_DIR=/var/lib/corral/cache "$image" \
        call builtin:fetch fetch '{"url":"http://127.0.0.1:7070/readyz"}' --net 127.0.0.1:7070 2>&1) &&
        grep -q '"status": 200' <<<"$out"; then
        ready=$out
        break
    fi
    sleep 0.5
done
docker logs "$name" 2>&1 | head -n 20
[ -n "$ready" ] || fail "/readyz did not answer 200 within 30 s: $out"
python3 - "$ready" <<'EOF' || fail "/readyz: not every component ready from the cache"
import json, sys
result = json.loads(sys.argv[1])
text = result.get("structuredContent") or json.loads(result["content"][0]["text"])
body = json.loads(text["body"])
print("image: /readyz", body["status"], [(c["name"], c["state"], "from cache" if c["from_cache"] else "compiled") for c in body["components"]])
assert body["status"] == "ready" and all(c["from_cache"] for c in body["components"])
EOF
# /mcp without a bearer token: refused (the tokens file is in force).
out=$(docker run --rm --network "container:$name" --read-only --cap-drop ALL \
    --security-opt no-new-privileges -e RUST_LOG=error -e CORRAL_CACHE_DIR=/var/lib/corral/cache "$image" \
    call builtin:fetch fetch '{"url":"http://127.0.0.1:7070/mcp"}' \
    --net 127.0.0.1:7070 2>&1 || true)
grep -q '"status": 401' <<<"$out" || fail "/mcp without a token did not answer 401: $out"
echo "image: /mcp without a bearer token answers 401"
docker stop -t 30 "$name" >/dev/null
status=$(docker wait "$name")
docker logs "$name" 2>&1 | tail -n 3
[ "$status" = 0 ] || fail "corral serve exited $status after SIGTERM"
echo "image: $image checked: user 65532, read-only root, components from cache, serve drains to exit 0"

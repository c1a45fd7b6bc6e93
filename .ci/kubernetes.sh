#!/usr/bin/env bash
# Validates the Kubernetes manifests offline: every object of every file in
# DIR (default deploy/kubernetes) against the schemas of pinned Kubernetes
# versions, strictly (an unknown or misspelt field fails, and so does a kind
# or apiVersion with no schema), then checks that the files agree with each
# other (kustomization.yaml lists them all, the ports, paths and grace
# periods of corral.toml match the Deployment's). Then, on a copy with one
# field misspelt, checks that validation does fail, so that a validator
# that stopped being strict cannot pass silently.
#
#   bash .ci/kubernetes.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-deploy/kubernetes}

# The validator bundles the schemas (no network when it runs). 1.34 is the
# oldest version it ships schemas for, 1.37 the newest; the manifests need
# 1.32 or later (the preStop sleep action).
validator_version=1.37.0
k8s_versions=(1.34.0 1.37.0)
python3 -m pip install --quiet --disable-pip-version-check "kubernetes-validate==${validator_version}"

# Validates every manifest of $1 (not kustomization.yaml: it is no
# Kubernetes object); fails on an ERROR and on a WARN (kubernetes-validate
# only warns, exit 0, about an object it has no schema for).
validate() {
    local files=() versions=() out
    for f in "$1"/*.yaml; do
        [ "$(basename "$f")" = kustomization.yaml ] || files+=("$f")
    done
    for v in "${k8s_versions[@]}"; do versions+=(-k "$v"); done
    if ! out=$(kubernetes-validate --strict "${versions[@]}" "${files[@]}" 2>&1); then
        echo "$out"
        return 1
    fi
    echo "$out"
    if grep -qE '^(WARN|ERROR|FATAL)' <<<"$out"; then
        return 1
    fi
}

validate "$dir"

# What the schemas cannot see: the files against each other.
python3 - "$dir" <<'EOF'
import pathlib, sys, tomllib, yaml

d = pathlib.Path(sys.argv[1])
errors = []
def check(ok, message):
    if not ok:
        errors.append(message)

kustomization = yaml.safe_load((d / "kustomization.yaml").read_text())
listed = set(kustomization["resources"])
present = {p.name for p in d.glob("*.yaml")} - {"kustomization.yaml"}
check(listed == present, f"kustomization.yaml resources {sorted(listed)} != files {sorted(present)}")

objects = {}
for p in sorted(present):
    for doc in yaml.safe_load_all((d / p).read_text()):
        if doc:
            objects[(doc["kind"], doc["metadata"]["name"])] = doc

config = tomllib.loads(objects[("ConfigMap", "corral-config")]["data"]["corral.toml"])
deployment = objects[("Deployment", "corral")]
pod = deployment["spec"]["template"]["spec"]
container = pod["containers"][0]
port = int(config["server"]["listen"].rsplit(":", 1)[1])
check(container["ports"][0]["containerPort"] == port, "containerPort != [server] listen port")
service = objects[("Service", "corral")]
check(service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items(),
      "Service selector does not select the Deployment's pods")
check(service["spec"]["ports"][0]["targetPort"] in ("http", port), "Service targetPort")
policy = objects[("NetworkPolicy", "corral")]
check([p["port"] for r in policy["spec"]["ingress"] for p in r["ports"]] == [port],
      "NetworkPolicy ingress port != [server] listen port")
mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
check(config["server"]["auth_tokens_file"].startswith(mounts["tokens"] + "/"),
      "auth_tokens_file is not in the Secret's mount")
check(mounts["config"] == "/etc/corral", "the ConfigMap is not mounted at /etc/corral")
grants = [dir["host"] for c in config["component"] for dir in c.get("dir", [])]
for host in grants:
    check(host in mounts.values(), f"granted dir {host} has no volume (the root file system is read-only)")
pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
grace = config["server"].get("shutdown_grace_ms", 10000) / 1000
check(pod["terminationGracePeriodSeconds"] > pre_stop + grace,
      "terminationGracePeriodSeconds <= preStop + shutdown_grace_ms")
redis_host = config["cluster"]["redis_url"].split("//", 1)[1].split(":", 1)[0].split("/", 1)[0]
check(("Service", redis_host) in objects or "redis.yaml" not in present,
      f"[cluster] redis_url names {redis_host}, which is no Service here")
context = container["securityContext"]
check(context.get("readOnlyRootFilesystem") is True and context.get("allowPrivilegeEscalation") is False
      and context.get("capabilities", {}).get("drop") == ["ALL"], "corral's securityContext")
for e in errors:
    print("ERROR", e)
if errors:
    sys.exit(1)
print(f"{len(objects)} objects in {len(present)} files agree with each other")
EOF

# The validation must fail on a misspelt field.
broken=$(mktemp -d)
trap 'rm -rf "$broken"' EXIT
cp "$dir"/*.yaml "$broken"/
sed -i 's/readOnlyRootFilesystem:/readOnlyRootFileSystem:/' "$broken"/deployment.yaml
if validate "$broken" >"$broken/out" 2>&1; then
    echo "error: a misspelt field (readOnlyRootFileSystem) passed validation:" >&2
    cat "$broken/out" >&2
    exit 1
fi
grep -E '^ERROR' "$broken/out" | head -n 2
echo "kubernetes: manifests valid against ${k8s_versions[*]} (strict); a misspelt field is refused"

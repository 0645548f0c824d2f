#!/usr/bin/env bash
# Builds the npm package `spfgate` in place: bindings/wasm compiled for
# wasm32-unknown-unknown, wasm-bindgen's `web` output and the wasm-opt'ed module in
# pkg/dist/ (ignored by git). Afterwards `npm pack ./pkg` gives the tarball.
#
# Installs what it lacks, idempotently: the rustup target, the wasm-bindgen CLI at
# exactly the version of the wasm-bindgen crate in Cargo.lock, and wasm-opt from the
# npm package binaryen (pinned) in target/wasm-tools/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

BINARYEN_VERSION=132.0.0

say() { printf '[pkg/build.sh] %s\n' "$*" >&2; }

rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[[ -n $bindgen_version ]] || { say "no wasm-bindgen in Cargo.lock"; exit 1; }
if [[ $(wasm-bindgen --version 2>/dev/null) != "wasm-bindgen $bindgen_version" ]]; then
  say "installing wasm-bindgen-cli $bindgen_version (a few minutes)"
  # --locked fails on this registry mirror for some releases; fall back to unlocked.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --locked \
    || cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

tools="$root/target/wasm-tools"
wasm_opt="$tools/node_modules/.bin/wasm-opt"
if [[ ! -x $wasm_opt || $("$wasm_opt" --version 2>/dev/null) != *"version ${BINARYEN_VERSION%%.*}"* ]]; then
  say "installing binaryen $BINARYEN_VERSION from npm"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-save --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION"
fi

say "cargo build -p spfgate-wasm --profile wasm-release"
cargo build -p spfgate-wasm --target wasm32-unknown-unknown --profile wasm-release
built="$root/target/wasm32-unknown-unknown/wasm-release/spfgate_wasm.wasm"

dist="$root/pkg/dist"
rm -rf "$dist"
mkdir -p "$dist"
wasm-bindgen --target web --no-typescript --out-dir "$dist" "$built"
# --converge repeats -Oz while it still shrinks the module; --low-memory-unused lets
# it fold constant offsets into loads and stores, which holds for Rust's layout:
# data starts at 1 MiB and the 1 MiB stack grows down from there towards 0, so
# only a stack within 1 KiB of overflowing would reach the first KiB.
"$wasm_opt" -Oz --converge --low-memory-unused --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  -o "$dist/spfgate_wasm_bg.wasm" "$dist/spfgate_wasm_bg.wasm"

raw=$(wc -c < "$dist/spfgate_wasm_bg.wasm")
gz=$(gzip -9 -c "$dist/spfgate_wasm_bg.wasm" | wc -c)
say "built pkg/dist/spfgate_wasm_bg.wasm: $raw bytes, $gz gzipped"

#!/usr/bin/env bash
# Runs every check and test of spfgate. Installs what the tests need first
# (idempotently: anything already present is left alone), so it works on a fresh
# Debian machine with rustup as well as on a developer's.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

# Debian packages, installed only when missing; `apt-get update` only if needed.
apt_need() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  step "installing ${missing[*]}"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" \
    || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; }
}

step "toolchain"
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
apt_need nsd

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "the lean core: no default features (build, clippy, unit tests, dependencies)"
scripts/lean-core.sh

step "cargo doc (broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

# A real authoritative server for the resolver and real-DNS tests.
nsd_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export SPFGATE_NSD_STATE="${TMPDIR:-/tmp}/spfgate-nsd-test-$$"
step "starting nsd on 127.0.0.1:$nsd_port"
tests/dns-server/start-nsd.sh "$root/tests/dns-server/zones" "$nsd_port"
trap 'tests/dns-server/stop-nsd.sh "$nsd_port" >/dev/null 2>&1 || true' EXIT

step "cargo test (workspace)"
SPFGATE_NSD_PORT=$nsd_port cargo test --workspace

step "C library: header, install, C tests under ASan/UBSan and valgrind, spfquery"
tests/c/run.sh

step "npm package: build, pack, Node tests, tsc"; tests/node/run.sh

step "spfgate-policyd under Postfix: e2e, garbage, load, valgrind"; tests/postfix/run.sh

step "fuzz targets: clippy (nightly), build and a smoke run of each"
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
rustup component list --installed --toolchain nightly 2>/dev/null | grep -q '^clippy' \
  || rustup component add clippy --toolchain nightly
(cd fuzz && cargo +nightly clippy --all-targets -- -D warnings)
scripts/fuzz-smoke.sh

step "settings page in headless chromium (tests/browser)"
tests/browser/run.sh

step "all checks passed"

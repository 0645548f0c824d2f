#!/usr/bin/env bash
# The settings page's browser test: Debian's chromium driven by npm
# playwright-core (no browser download), the page (pkg/demo) served from pkg/
# and a DNS-over-HTTPS endpoint serving tests/browser/zone.json, both on
# 127.0.0.1. Installs what it lacks (idempotently, pinned) and builds the
# package when its build output is missing. Screenshots go to
# target/browser-test/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

PLAYWRIGHT_CORE_VERSION=1.65.2
tools="$root/target/browser-test"

step() { printf '\n==> %s\n' "$*"; }

missing=()
for pkg in chromium; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  step "installing ${missing[*]}"
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" \
    || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

installed=$(node -p "require('$tools/node_modules/playwright-core/package.json').version" 2>/dev/null || true)
if [[ "$installed" != "$PLAYWRIGHT_CORE_VERSION" ]]; then
  step "installing playwright-core $PLAYWRIGHT_CORE_VERSION into $tools"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --save-exact "playwright-core@$PLAYWRIGHT_CORE_VERSION"
fi

# Build the package unless its output is newer than every source it comes from
# (the test command builds it just before, through its own line).
wasm=pkg/dist/spfgate_wasm_bg.wasm
if [[ ! -f $wasm ]] || [[ -n $(find core/src bindings/wasm Cargo.lock -newer "$wasm" -print -quit 2>/dev/null) ]]; then
  step "building the package (pkg/build.sh)"
  pkg/build.sh
fi

step "browser test of the settings page (chromium $(chromium --version 2>/dev/null | awk '{print $2}'))"
SPFGATE_BROWSER_TOOLS="$tools" SPFGATE_SCREENSHOTS="${SPFGATE_SCREENSHOTS:-$tools/screenshots}" \
  node --test --test-reporter=spec tests/browser/

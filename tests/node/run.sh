#!/usr/bin/env bash
# Tests the npm package as a user gets it: builds it (pkg/build.sh), packs it with
# `npm pack`, installs the tarball into target/node-test/ (ignored; pinned test
# dependencies, no lock file) and runs the node:test files there, then checks the
# TypeScript declarations with tsc on a typed usage file. With --install-only it
# stops after installing (for tests/node/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

YAML_VERSION=2.9.1
TYPESCRIPT_VERSION=5.9.3

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)) || ! command -v npm >/dev/null; then
  echo "tests/node needs Node.js >= 20 with npm (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

pkg/build.sh

app="$root/target/node-test"
mkdir -p "$app"
rm -f "$app"/spfgate-*.tgz
tarball=$(cd "$app" && npm pack "$root/pkg" --silent)
printf '[tests/node] packed %s: %s bytes\n' "$tarball" "$(wc -c < "$app/$tarball")"

cat > "$app/package.json" <<JSON
{
  "name": "spfgate-node-tests",
  "private": true,
  "type": "module",
  "dependencies": {
    "spfgate": "file:./$tarball",
    "typescript": "$TYPESCRIPT_VERSION",
    "yaml": "$YAML_VERSION"
  }
}
JSON
# The tarball changes with every build: install it afresh, keep the other packages.
rm -rf "$app/node_modules/spfgate" "$app/package-lock.json"
(cd "$app" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)

cp tests/node/*.mjs tests/node/*.ts tests/node/tsconfig*.json "$app/"
export SPFGATE_SUITE="$root/../shared/spf-test-suite/rfc7208-tests.yml"
[[ -f $SPFGATE_SUITE ]] || { echo "missing $SPFGATE_SUITE" >&2; exit 1; }
[[ ${1:-} == --install-only ]] && exit 0
(cd "$app" && node --test --test-reporter=spec ./*.test.mjs)

printf '[tests/node] tsc --noEmit on typed.ts (no DOM) and typed-dom.ts (lib dom)\n'
(cd "$app" && node_modules/.bin/tsc --noEmit -p tsconfig.json && node_modules/.bin/tsc --noEmit -p tsconfig.dom.json)
printf '[tests/node] all passed\n'

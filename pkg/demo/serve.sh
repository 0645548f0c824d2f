#!/usr/bin/env bash
# Serves the settings page at http://127.0.0.1:8080/demo/ with a local
# DNS-over-HTTPS endpoint answering from tests/browser/zone.json, building the
# package first when its build output is missing. Ctrl-C stops both servers.
#   pkg/demo/serve.sh [PORT] [DOH_PORT]
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ -f pkg/dist/spfgate_wasm_bg.wasm ]] || pkg/build.sh
exec node tests/browser/serve.mjs --port "${1:-8080}" --doh-port "${2:-8053}"

#!/usr/bin/env bash
# Smoke run for CI and the test command: builds every fuzz target and runs each for
# FUZZ_SMOKE_SECONDS (default 30); exits non-zero on a build failure or a crash.
set -euo pipefail
exec "$(dirname "$0")/fuzz-campaign.sh" "${FUZZ_SMOKE_SECONDS:-30}"

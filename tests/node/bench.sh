#!/usr/bin/env bash
# Builds and installs the package as tests/node/run.sh does, then measures suite
# evaluations per second in Node (tests/node/bench.mjs). Compare with
# `cargo bench -p spfgate --bench evaluate -- rfc7208_suite_restarted`.
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/node/run.sh --install-only
cd target/node-test
SPFGATE_SUITE="$(pwd)/../../../shared/spf-test-suite/rfc7208-tests.yml" nice node bench.mjs

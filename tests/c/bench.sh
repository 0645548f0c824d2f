#!/usr/bin/env bash
# The cost of the C ABI: the RFC 7208 suite evaluated again and again with one
# restarted evaluator and every answer as a DNS wire message, through the C
# ABI (tests/c/suite.c --bench, against the installed release libspfgate.so)
# and through the Rust API (suite-wire bench, release), on the same data.
#
#   tests/c/bench.sh [SECONDS]     # per side, default 5; best of five rounds
#
# Not part of the test run (no timing is asserted); figures go in the README.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spfgate-c-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

scripts/install-c.sh "$tmp/prefix" >/dev/null
cargo build --quiet --release -p spfgate-c-tests
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
"$target_dir/release/suite-wire" data "$tmp/suite.data"
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
cc -std=c99 -O2 tests/c/suite.c $(pkg-config --cflags --libs spfgate) -Wl,-rpath,"$tmp/prefix/lib" -o "$tmp/suite"

rust=$("$target_dir/release/suite-wire" bench "$tmp/suite.data" "$seconds")
c=$("$tmp/suite" "$tmp/suite.data" --bench "$seconds")
echo "$rust"
echo "$c"
python3 - "$rust" "$c" <<'PY'
import sys
rust = float(sys.argv[1].split()[1])
c = float(sys.argv[2].split()[1])
print(f"C ABI / Rust API: {c / rust:.3f} (the C ABI costs {100 * (1 - c / rust):.1f}%)")
PY

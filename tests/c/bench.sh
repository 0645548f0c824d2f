#!/usr/bin/env bash
# The cost of the C ABI: the RFC 7208 suite evaluated again and again with one
# restarted evaluator and every answer as a DNS wire message, through the C
# ABI (tests/c/suite.c --bench, against the installed release libspfgate.so)
# and through the Rust API (suite-wire bench, release), on the same data.
#
#   tests/c/bench.sh [SECONDS]     # per side, default 5; best of five rounds
#
# Also counts instructions per evaluation on both sides with callgrind (the
# difference between 6 passes and 1, so start-up is left out), which the load
# of a shared machine does not disturb.
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

# Instructions per evaluation, from callgrind's total for 6 passes minus 1 pass.
evaluations=$(grep -c '^test ' "$tmp/suite.data")
instructions() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
rust_1=$(instructions "$target_dir/release/suite-wire" passes "$tmp/suite.data" 1)
rust_6=$(instructions "$target_dir/release/suite-wire" passes "$tmp/suite.data" 6)
c_1=$(instructions "$tmp/suite" "$tmp/suite.data" --passes 1)
c_6=$(instructions "$tmp/suite" "$tmp/suite.data" --passes 6)
python3 - "$evaluations" "$rust_1" "$rust_6" "$c_1" "$c_6" <<'PY'
import sys
n, r1, r6, c1, c6 = map(int, sys.argv[1:])
rust = (r6 - r1) / (5 * n)
c = (c6 - c1) / (5 * n)
print(f"instructions per evaluation: rust {rust:.0f}, c {c:.0f}: the C ABI costs {100 * (c / rust - 1):.1f}% more")
PY

#!/usr/bin/env bash
# Fuzzing campaign: builds every target in fuzz/ with nightly, writes the seed corpora,
# then runs each target (or the ones named) for SECONDS (default 1200), one after the
# other with a single libFuzzer job. Exits non-zero if a target crashed.
#
#   scripts/fuzz-campaign.sh [SECONDS] [TARGET...]
#
# Corpora grow in fuzz/corpus/<target>, crashes land in fuzz/artifacts/<target>,
# libFuzzer's log is fuzz/logs/<target>.log. Reproduce or minimize a crash with
#   cd fuzz && cargo +nightly fuzz run <target> artifacts/<target>/<file>
#   cd fuzz && cargo +nightly fuzz tmin <target> artifacts/<target>/<file>
# and keep it as a test in core/tests/fuzz_regressions.rs.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
seconds=${1:-1200}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if [[ $(cargo fuzz --version 2>/dev/null || true) != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

cd "$root/fuzz"
cargo +nightly fuzz build
"$root/scripts/fuzz-seed.sh"

if (($# > 0)); then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
mkdir -p logs
failed=()
for target in "${targets[@]}"; do
    echo "== $target: ${seconds}s"
    log=logs/$target.log
    status=0
    # One fuzzing process, its output straight into the target's own log, so
    # campaigns of different targets can run at once.
    # -max_len=4096: longer inputs add nothing an SPF record or a whitelist needs, and
    # the whitelist seeds (every corpus network in one text) would slow it to ~10 exec/s.
    cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -timeout=10 \
        -max_len=4096 -dict=spf.dict -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E '^#[0-9]+' "$log" | tail -n 1 || true
    grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" || true
    if ((status != 0)); then
        grep -E 'panicked at|ERROR: libFuzzer|Test unit written' "$log" || true
        failed+=("$target")
    fi
done

if ((${#failed[@]} > 0)); then
    echo "fuzz: crashes in ${failed[*]} (see fuzz/artifacts/ and fuzz/logs/)" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash"

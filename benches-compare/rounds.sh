#!/usr/bin/env bash
# Criterion ratios that survive a shared machine: runs one criterion benchmark per
# library in turn, ROUNDS times, and prints each round's medians, the median of the
# per-round ratios and the ratio of the fastest rounds.
#
#   ./rounds.sh [GROUP] [ROUNDS] [LIBRARY...]   # default: parse_corpus 10 spfgate mail-auth
#
# Why: on this 2-core virtual machine the host's load changes over seconds to
# minutes, so two libraries benchmarked one after the other in one `cargo bench`
# can differ by a third for no reason of their own. Alternating short runs puts
# both under the same conditions, round by round. The first LIBRARY is the one
# the others are divided by (the ratio is the others' time ÷ its time: its speedup).
set -euo pipefail
cd "$(dirname "$0")"

group=${1:-parse_corpus}
rounds=${2:-10}
shift $(($# < 2 ? $# : 2))
libraries=("$@")
[[ ${#libraries[@]} -gt 0 ]] || libraries=(spfgate mail-auth)

target=${CARGO_TARGET_DIR:-target}
cargo bench --bench compare --no-run --quiet

results=$(mktemp)
log=$(mktemp)
trap 'rm -f "$results" "$log"' EXIT
for round in $(seq "$rounds"); do
  for library in "${libraries[@]}"; do
    if ! cargo bench --bench compare --quiet -- --exact "$group/$library" \
      --warm-up-time 1 --measurement-time 2 --noplot >"$log" 2>&1; then
      cat "$log" >&2
      exit 1
    fi
    estimates="$target/criterion/$group/$library/new/estimates.json"
    median=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"])' "$estimates")
    echo "$round $library $median" >>"$results"
  done
done

python3 - "$results" "${libraries[@]}" <<'EOF'
import statistics, sys
path, first, others = sys.argv[1], sys.argv[2], sys.argv[3:]
by_round = {}
for line in open(path):
    round_, library, ns = line.split()
    by_round.setdefault(int(round_), {})[library] = float(ns)
rounds = [by_round[r] for r in sorted(by_round)]
print("round " + " ".join(f"{lib:>12}" for lib in [first] + others) + "  (µs, criterion medians)")
for i, r in enumerate(rounds, 1):
    print(f"{i:5} " + " ".join(f"{r[lib] / 1000:12.2f}" for lib in [first] + others))
for lib in others:
    ratios = [r[lib] / r[first] for r in rounds]
    fastest = min(r[lib] for r in rounds) / min(r[first] for r in rounds)
    print(f"{lib} ÷ {first}: median of rounds {statistics.median(ratios):.2f} "
          f"(range {min(ratios):.2f}–{max(ratios):.2f}), fastest rounds {fastest:.2f}")
EOF

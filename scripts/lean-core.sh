#!/usr/bin/env bash
# The core as a lean embedder builds it: no default features, so no serde,
# serde_json or toml. Builds it, runs clippy on it, runs its unit tests, and
# checks that its normal dependencies stay thiserror, ipnet and hickory-proto
# (plus the grammar's parser crate, nom, and memchr, which nom itself depends on
# and the record parser uses to split terms).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -p spfgate --no-default-features
cargo clippy -p spfgate --no-default-features --lib -- -D warnings
cargo test -p spfgate --no-default-features --lib

deps=$(cargo tree -p spfgate --no-default-features -e normal --prefix none --depth 1 \
  | awk 'NR > 1 {print $1}' | sort -u)
allowed='^(thiserror|ipnet|hickory-proto|nom|memchr)$'
if bad=$(grep -Ev "$allowed" <<<"$deps"); then
  echo "the core without default features depends on: $bad" >&2
  exit 1
fi
if cargo tree -p spfgate --no-default-features -e normal --prefix none | grep -Eq '^(serde|serde_json|toml) '; then
  echo "serde, serde_json or toml in the lean core's dependency tree" >&2
  exit 1
fi
echo "lean core: $(tr '\n' ' ' <<<"$deps")"

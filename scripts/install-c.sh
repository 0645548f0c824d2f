#!/usr/bin/env bash
# Builds libspfgate and installs it the way C users expect:
#
#   scripts/install-c.sh PREFIX
#
#   PREFIX/include/spfgate.h
#   PREFIX/lib/libspfgate.so.X.Y.Z, libspfgate.so.X -> it (the soname), libspfgate.so -> that
#   PREFIX/lib/libspfgate.a
#   PREFIX/lib/pkgconfig/spfgate.pc
#
# Then: PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs spfgate
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 PREFIX" >&2; exit 2; }
mkdir -p "$1"
prefix=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."

cargo build --release -p spfgate-c
version=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "spfgate-c"))')
major=${version%%.*}
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
release=$target_dir/release

install -D -m 644 include/spfgate.h "$prefix/include/spfgate.h"
install -D -m 755 "$release/libspfgate.so" "$prefix/lib/libspfgate.so.$version"
ln -sfn "libspfgate.so.$version" "$prefix/lib/libspfgate.so.$major"
ln -sfn "libspfgate.so.$major" "$prefix/lib/libspfgate.so"
install -m 644 "$release/libspfgate.a" "$prefix/lib/libspfgate.a"
mkdir -p "$prefix/lib/pkgconfig"
# Libs.private: what the Rust standard library needs when linking libspfgate.a
# statically (`rustc --print native-static-libs` on Linux).
cat >"$prefix/lib/pkgconfig/spfgate.pc" <<PC
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: spfgate
Description: Sans-IO SPF (RFC 7208) engine and mail-gateway account policy
URL: https://example.invalid/spfgate
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lspfgate
Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
PC
echo "installed libspfgate $version under $prefix"

#!/usr/bin/env bash
# The C side of the test run (scripts/test.sh calls it once):
#
#   1. the committed include/spfgate.h equals what the pinned cbindgen generates;
#   2. scripts/install-c.sh into a temporary PREFIX; pkg-config finds it; a
#      prog.c builds with `cc -std=c99 prog.c $(pkg-config --cflags --libs spfgate)`
#      and runs, also linked statically; `make -C examples/c` builds the examples;
#   3. tests/c/status.c (every status path, the version macros) and
#      tests/c/suite.c (the RFC 7208 suite over DNS wire messages: 203 passed,
#      0 failed), compiled with -std=c99 -Wall -Wextra -Werror, run plain, under
#      AddressSanitizer + UBSan, and under valgrind (zero errors, zero leaks);
#   4. examples/c/spfquery against `spfgate check --server` on every suite
#      scenario NSD can serve.
#
# Installs what it needs, idempotently: Debian's gcc, pkg-config, valgrind and
# nsd, and cbindgen at the pinned version.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
CBINDGEN_VERSION=0.29.4

step() { printf '\n==> c: %s\n' "$*"; }

apt_need() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  step "installing ${missing[*]}"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" \
    || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; }
}

apt_need gcc libc6-dev pkg-config valgrind nsd libasan8 libubsan1
if [[ $(cbindgen --version 2>/dev/null) != "cbindgen $CBINDGEN_VERSION" ]]; then
  step "installing cbindgen $CBINDGEN_VERSION"
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked \
    || cargo install cbindgen --version "$CBINDGEN_VERSION"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spfgate-c.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

step "header: include/spfgate.h is what cbindgen $CBINDGEN_VERSION generates"
cbindgen --quiet --config bindings/c/cbindgen.toml --crate spfgate-c --output "$tmp/spfgate.h"
diff -u include/spfgate.h "$tmp/spfgate.h" \
  || { echo "include/spfgate.h is stale: regenerate it with the command in bindings/c/cbindgen.toml" >&2; exit 1; }

step "install into a temporary PREFIX"
prefix=$tmp/prefix
scripts/install-c.sh "$prefix"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
pkg-config --cflags --libs spfgate
[[ $(readelf -d "$prefix/lib/libspfgate.so" | grep SONAME) == *"[libspfgate.so.0]"* ]] \
  || { echo "libspfgate.so has no soname libspfgate.so.0" >&2; exit 1; }

step "a prog.c against the installed library, shared and static"
cat >"$tmp/prog.c" <<'C'
#include <spfgate.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    spfgate_error *error = NULL;
    const char *record = "v=spf1 ip4:192.0.2.0/24 -all";
    if (spfgate_record_validate((const uint8_t *)record, strlen(record), &error) != SPFGATE_OK) {
        return 1;
    }
    printf("libspfgate %s: valid record\n", spfgate_version());
    return 0;
}
C
(cd "$tmp" && cc -std=c99 -Wall -Wextra -Werror prog.c $(pkg-config --cflags --libs spfgate) -o prog)
LD_LIBRARY_PATH=$prefix/lib "$tmp/prog"
(cd "$tmp" && cc -std=c99 prog.c $(pkg-config --cflags spfgate) "$prefix/lib/libspfgate.a" \
  $(pkg-config --static --libs-only-l spfgate | sed 's/-lspfgate//') -o prog-static)
"$tmp/prog-static"

step "make -C examples/c"
make -C examples/c clean all

step "C tests"
cargo build --quiet -p spfgate-c-tests -p spfgate-cli
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
"$target_dir/debug/suite-wire" data "$tmp/suite.data"
cflags=(-std=c99 -Wall -Wextra -Werror -g $(pkg-config --cflags spfgate))
libs=($(pkg-config --libs spfgate) "-Wl,-rpath,$prefix/lib")
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
for t in status suite; do
  cc "${cflags[@]}" -O1 "tests/c/$t.c" "${libs[@]}" -o "$tmp/$t"
  cc "${cflags[@]}" -O1 "${sanitize[@]}" "tests/c/$t.c" "${libs[@]}" -o "$tmp/$t-asan"
done
# Negative control: the leak checkers see memory the library allocated and
# the caller never freed, so a clean run above means something.
cat >"$tmp/leak.c" <<'C'
#include <spfgate.h>
int main(void) {
    spfgate_request *request;
    for (int i = 0; i < 2; i++) {
        if (spfgate_request_new(&request) != SPFGATE_OK) { /* the first is lost */
            return 2;
        }
    }
    spfgate_request_free(request);
    return 0;
}
C
cc "${cflags[@]}" "$tmp/leak.c" "${libs[@]}" -o "$tmp/leak"
cc "${cflags[@]}" "${sanitize[@]}" "$tmp/leak.c" "${libs[@]}" -o "$tmp/leak-asan"
if valgrind -q --leak-check=full --errors-for-leak-kinds=all --error-exitcode=1 "$tmp/leak" 2>/dev/null \
  || ASAN_OPTIONS=detect_leaks=1 "$tmp/leak-asan" 2>/dev/null; then
  echo "a leaked spfgate_request went unnoticed by valgrind or LeakSanitizer" >&2
  exit 1
fi
args_status=()
args_suite=("$tmp/suite.data")
for t in status suite; do
  args_var="args_$t[@]"
  step "$t"
  "$tmp/$t" "${!args_var}"
  step "$t under AddressSanitizer + UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 "$tmp/$t-asan" "${!args_var}"
  step "$t under valgrind"
  valgrind -q --leak-check=full --errors-for-leak-kinds=all --error-exitcode=1 "$tmp/$t" "${!args_var}"
done

step "spfquery against spfgate check --server, over NSD"
"$target_dir/debug/spfquery-vs-check" "$root/examples/c/spfquery" "$target_dir/debug/spfgate"
step "all C checks passed"

#!/usr/bin/env bash
# Writes seed corpora for the fuzz targets into fuzz/corpus/<target>/ (ignored by git):
# every TXT/SPF value of the RFC 7208 and RFC 4408 test suites, every record of the
# published-records corpus, the macro-strings found in them, and the records' ip4/ip6
# networks as whitelist texts. The data is read from ../shared beside the repository
# (override with SPFGATE_SHARED). The structure-aware `evaluate` and `dns_wire` targets
# build their inputs from the fuzzer's bytes and start from the dictionary alone.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SPFGATE_SHARED:-$root/../shared}
corpus=$root/fuzz/corpus
suites=("$shared/spf-test-suite/rfc7208-tests.yml" "$shared/spf-test-suite/rfc4408-tests.yml")
records=$shared/corpus/records.txt

for f in "${suites[@]}" "$records"; do
    [[ -r $f ]] || { echo "fuzz-seed: cannot read $f" >&2; exit 1; }
done
mkdir -p "$corpus"/{parse_record,roundtrip,macro_expand,whitelist}

# Stores stdin under its SHA-1 (libFuzzer's own naming) in the given targets' corpora.
store() {
    local tmp sum dir
    tmp=$(mktemp)
    cat >"$tmp"
    sum=$(sha1sum <"$tmp")
    for dir in "$@"; do
        cp "$tmp" "$corpus/$dir/${sum%% *}"
    done
    rm -f "$tmp"
}

# Decodes one YAML scalar as the suites write them: "double-quoted" with \x escapes,
# 'single-quoted', [ "flow", "lists" ] of character-strings (joined), or plain.
decode() {
    local value=$1 item
    case $value in
        \[*)
            { grep -oE "\"([^\"\\\\]|\\\\.)*\"|'[^']*'" <<<"$value" || true; } |
                while IFS= read -r item; do
                    decode "$item"
                done
            ;;
        \"*\") printf '%b' "${value:1:${#value}-2}" ;;
        \'*\') value=${value:1:${#value}-2}; printf '%s' "${value//\'\'/\'}" ;;
        *) printf '%s' "$value" ;;
    esac
}

# Macro-strings of the record terms that use macros.
macro_strings() {
    tr ' ' '\n' | grep -F '%' | sed -E 's/^[^:=]*[:=]//' || true
}

count=0
while IFS= read -r line; do
    value=$(sed -E 's/^[[:space:]]*-[[:space:]]*(SPF|TXT):[[:space:]]*//; s/[[:space:]]+$//' <<<"$line")
    decode "$value" | store parse_record roundtrip
    if [[ $value != *v=spf1* && $value == *%* ]]; then
        decode "$value" | store macro_expand
    fi
    count=$((count + 1))
done < <(grep -hE '^[[:space:]]*-[[:space:]]*(SPF|TXT):' "${suites[@]}")

while IFS= read -r record; do
    printf '%s' "$record" | store parse_record roundtrip
    count=$((count + 1))
done <"$records"

macro_strings <"$records" | sort -u | while IFS= read -r ms; do
    printf '%s' "$ms" | store macro_expand
done
decode "$(grep -hE '^[[:space:]]*-[[:space:]]*(SPF|TXT):' "${suites[@]}" | sed -E 's/^[^:]*:[[:space:]]*//')" \
    | macro_strings | sort -u | while IFS= read -r ms; do
        printf '%s' "$ms" | store macro_expand
    done

# RFC 7208 §7.4 examples, and the fields the target reads after the macro-string
# (NUL-separated: local-part, sender domain, domain, helo, receiver, validated name, IP, time).
for ms in '%{s}' '%{o}' '%{d}' '%{d4}' '%{d3}' '%{d2}' '%{d1}' '%{dr}' '%{d2r}' '%{l}' \
    '%{l-}' '%{lr}' '%{lr-}' '%{l1r-}' '%{ir}.%{v}._spf.%{d2}' '%{lr-}.lp._spf.%{d2}' \
    '%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}' '%{d2}.trusted-domains.example.net' \
    '%{c} is not one of %{d}'"'"'s designated mail senders.' '%{S}%{L}%{O}%{C}' \
    '%{p}.%{r}.%{t}' 'a%%b%_c%-d' '%{h20r+-./_=,}'; do
    printf '%s' "$ms" | store macro_expand
done
printf '%s\0%s\0%s\0%s\0%s\0%s\0%s\0%s\0%s' '%{ir}.%{v}._spf.%{d2}' 'strong-bad' \
    'email.example.com' 'email.example.com' 'mx.example.org' 'mx.example.net' \
    'mail.example.com' '2001:db8::cb01' '1700000000' | store macro_expand

# Whitelist texts: each record's networks, comma-separated, and all of them one per line.
awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[+]?ip[46]:/) { sub(/^[+]?ip[46]:/, "", $i); printf "%s%s", (n++ ? ", " : ""), $i } if (n) print "" }' \
    "$records" | sort -u | while IFS= read -r nets; do
        printf '%s' "$nets" | store whitelist
    done
grep -oE '(^| )[+]?ip[46]:[^ ]+' "$records" | sed -E 's/^ ?[+]?ip[46]://' | sort -u | store whitelist
printf '10.0.0.1-10.0.0.6 # office\n192.0.2.0 - 192.0.2.255; 2001:db8::/32,,\n::ffff:192.0.2.1\n' |
    store whitelist

for target in parse_record roundtrip macro_expand whitelist; do
    echo "fuzz-seed: $target: $(find "$corpus/$target" -type f | wc -l) files (from $count values)"
done

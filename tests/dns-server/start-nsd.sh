#!/usr/bin/env bash
# Start NSD as an authoritative DNS server on 127.0.0.1:PORT for tests.
#
#   tests/dns-server/start-nsd.sh ZONE_DIR PORT [MORE_ZONE_DIRS...]
#   tests/dns-server/stop-nsd.sh PORT
#
# Every ZONE_DIR/NAME.zone file is served as zone NAME (e.g. resolver.test.zone
# is the zone resolver.test), except root.zone, which is the root zone `.`.
# NSD runs without root privileges being needed: no chroot, no user switch,
# all state in $SPFGATE_NSD_STATE (default /tmp/spfgate-nsd-PORT), which
# stop-nsd.sh removes. Installs Debian's nsd when it is missing, so a fresh
# machine or CI needs nothing beforehand. Returns once the server answers
# queries, or fails with NSD's log.
set -euo pipefail

usage() { echo "usage: $0 ZONE_DIR PORT [MORE_ZONE_DIRS...]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
zone_dirs=("$1")
port=$2
shift 2
zone_dirs+=("$@")
if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then usage; fi
state=${SPFGATE_NSD_STATE:-/tmp/spfgate-nsd-$port}
PATH=$PATH:/usr/sbin:/sbin

if ! command -v nsd >/dev/null; then
    # The package lists may be stale on a fresh machine; update only if needed.
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q nsd >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y -q nsd >/dev/null; }
fi

if [[ -f $state/nsd.pid ]] && kill -0 "$(cat "$state/nsd.pid")" 2>/dev/null; then
    echo "nsd already running for port $port (state in $state); stop it first" >&2
    exit 1
fi
rm -rf "$state"
mkdir -p "$state"

conf=$state/nsd.conf
cat >"$conf" <<CONF
server:
    ip-address: 127.0.0.1@$port
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "$state"
    pidfile: "$state/nsd.pid"
    xfrdfile: "$state/xfrd.state"
    zonelistfile: "$state/zone.list"
    database: ""
    logfile: "$state/nsd.log"
    server-count: 1
    hide-version: yes
    verbosity: 1
    # No response rate limiting: load tests ask the same names hundreds of
    # times a second from 127.0.0.1, which RRL would drop or truncate.
    rrl-ratelimit: 0
remote-control:
    control-enable: no
CONF

first_zone=
for dir in "${zone_dirs[@]}"; do
    dir=$(cd "$dir" && pwd)
    shopt -s nullglob
    for file in "$dir"/*.zone; do
        zone=$(basename "$file" .zone)
        if [[ $zone == root ]]; then zone=.; fi
        # A broken zone file is reported here, not as a silent SERVFAIL later.
        nsd-checkzone "$zone" "$file" >/dev/null
        printf 'zone:\n    name: "%s"\n    zonefile: "%s"\n' "$zone" "$file" >>"$conf"
        first_zone=${first_zone:-$zone}
    done
done
if [[ -z $first_zone ]]; then
    echo "no *.zone file in ${zone_dirs[*]}" >&2
    exit 1
fi
nsd-checkconf "$conf"
if ! nsd -c "$conf"; then
    echo "nsd failed to start on 127.0.0.1:$port; its log:" >&2
    cat "$state/nsd.log" >&2 || true
    exit 1
fi

# Readiness: the SOA query for the first zone gets a reply. Plain bash
# (/dev/udp), so no dig is needed.
# The query is a printf format: header, labels, QTYPE SOA, QCLASS IN.
query='\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00'
labels=()
[[ $first_zone == . ]] || IFS=. read -ra labels <<<"$first_zone"
for label in "${labels[@]}"; do
    query+=$(printf '\\x%02x' "${#label}")${label//%/%%}
done
query+='\x00\x00\x06\x00\x01'
ready() {
    local bytes
    bytes=$(
        exec 3<>"/dev/udp/127.0.0.1/$port" || exit 1
        # shellcheck disable=SC2059 # the query is the format
        printf "$query" >&3
        timeout 0.5 head -c 12 <&3 | wc -c
    ) 2>/dev/null
    [[ ${bytes:-0} -ge 12 ]]
}
for _ in $(seq 100); do
    if ready; then
        echo "nsd serving on 127.0.0.1:$port (state in $state)"
        exit 0
    fi
    sleep 0.1
done
echo "nsd did not answer on 127.0.0.1:$port within 10 s; its log:" >&2
cat "$state/nsd.log" >&2 || true
"$(dirname "$0")/stop-nsd.sh" "$port" || true
exit 1

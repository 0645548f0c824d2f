#!/usr/bin/env bash
# Stop the NSD that start-nsd.sh started for PORT and remove its state.
#
#   tests/dns-server/stop-nsd.sh PORT
#
# Does nothing (successfully) when no such server runs, so it can sit in a trap.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 PORT" >&2; exit 2; }
state=${SPFGATE_NSD_STATE:-/tmp/spfgate-nsd-$1}
pidfile=$state/nsd.pid

if [[ -f $pidfile ]]; then
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
fi
rm -rf "$state"

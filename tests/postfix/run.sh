#!/usr/bin/env bash
# End-to-end test of examples/c/spfgate-policyd under a real Postfix.
#
#   tests/postfix/run.sh
#
# 1. Installs what it needs when missing (postfix with the debconf preseed,
#    swaks, nsd, valgrind, python3, a C compiler, pkg-config).
# 2. Installs libspfgate with scripts/install-c.sh into a temporary PREFIX and
#    builds the daemon with examples/c/Makefile through pkg-config.
# 3. Starts NSD with tests/postfix/zones, the DNS front (dns-front.py: drops
#    timeout.e2e.test, delays slow.e2e.test) before it, the daemon, and
#    Postfix configured in a temporary directory on 127.0.0.1 with
#    check_policy_service and XCLIENT for 127.0.0.0/8.
# 4. SMTP sessions (smtp_e2e.py), policy reloads by SIGHUP (a broken file
#    keeps the old policy), the garbage test, the load test (twice, with fd
#    and memory counts around it, SIGHUPs during the second), a clean SIGTERM,
#    then a short run under valgrind on a UNIX socket.
# Stops everything it started; fails on any unexpected reply.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
here=$root/tests/postfix
PATH=$PATH:/usr/sbin:/sbin

step() { printf '\n==> postfix e2e: %s\n' "$*"; }
fail() { echo "postfix e2e: FAILED: $*" >&2; exit 1; }

# Debian packages, installed only when missing.
missing=()
for pkg in postfix swaks nsd valgrind python3 gcc make libc6-dev pkg-config; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
    step "installing ${missing[*]}"
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
        { "${sudo[@]}" apt-get update -q >/dev/null &&
            "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
fi
id postfix >/dev/null 2>&1 || fail "the postfix user is missing (postfix package not installed?)"

work=$(mktemp -d "${TMPDIR:-/tmp}/spfgate-postfix.XXXXXX")
chmod 755 "$work"
read -r nsd_port front_port policy_port smtp_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
export SPFGATE_NSD_STATE=$work/nsd
pids=()
postfix_dir=$work/postfix
cleanup() {
    local rc=$?
    [[ -f $postfix_dir/conf/main.cf ]] && postfix -c "$postfix_dir/conf" stop >/dev/null 2>&1 || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    "$root/tests/dns-server/stop-nsd.sh" "$nsd_port" >/dev/null 2>&1 || true
    if ((rc != 0)); then
        for log in policyd.log valgrind.log postfix/maillog front.log; do
            [[ -f $work/$log ]] && { echo "--- $log (last 40 lines)"; tail -n 40 "$work/$log"; }
        done
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

step "libspfgate into $work/prefix, spfgate-policyd with examples/c/Makefile"
scripts/install-c.sh "$work/prefix" >/dev/null
export PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig
make -B -s -C examples/c spfgate-policyd
daemon=$root/examples/c/spfgate-policyd

step "nsd on 127.0.0.1:$nsd_port, DNS front on 127.0.0.1:$front_port"
tests/dns-server/start-nsd.sh "$here/zones" "$nsd_port"
python3 "$here/dns-front.py" --port "$front_port" --upstream "$nsd_port" \
    --drop timeout.e2e.test --delay slow.e2e.test:300 >"$work/front.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q ready "$work/front.log" && break; sleep 0.1; done
grep -q ready "$work/front.log" || fail "the DNS front did not start"

policy=$work/policy.json
cp "$here/policy.json" "$policy"
start_daemon() { # LISTEN LOG [wrapper...]
    local listen=$1 log=$2
    shift 2
    "$@" "$daemon" --listen "$listen" --policy "$policy" --server "127.0.0.1:$front_port" \
        --timeout 2 --receiver mx.gateway.test 2>"$log" &
    pids+=($!)
    daemon_pid=$!
    for _ in $(seq 300); do grep -qs "listening on" "$log" && return 0; sleep 0.1; done
    fail "spfgate-policyd did not start: $(cat "$log")"
}
step "spfgate-policyd on 127.0.0.1:$policy_port"
start_daemon "127.0.0.1:$policy_port" "$work/policyd.log"
policyd_pid=$daemon_pid

step "postfix in $postfix_dir on 127.0.0.1:$smtp_port"
mkdir -p "$postfix_dir"/{conf,queue,data,mail}
cp /etc/postfix/master.cf "$postfix_dir/conf/master.cf"
cat >"$postfix_dir/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $postfix_dir/queue
data_directory = $postfix_dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.gateway.test
mydomain = gateway.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = all
mynetworks = 127.0.0.0/8
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$policy_port, reject_unauth_destination
virtual_mailbox_domains = gateway.test
virtual_mailbox_base = $postfix_dir/mail
virtual_mailbox_maps = texthash:$postfix_dir/conf/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
alias_maps =
alias_database =
local_recipient_maps =
maillog_file = /dev/stdout
biff = no
EOF
printf 'inbox@gateway.test inbox\nother@gateway.test other\n' >"$postfix_dir/conf/vmailbox"
chown postfix "$postfix_dir/data"
chown 65534:65534 "$postfix_dir/mail"
postconf -c "$postfix_dir/conf" -F '*/*/chroot = n'
postconf -c "$postfix_dir/conf" -M# smtp/inet
postconf -c "$postfix_dir/conf" -M "127.0.0.1:$smtp_port/inet = 127.0.0.1:$smtp_port inet n - n - - smtpd"
# start-fg keeps the master in the foreground and logs to maillog_file;
# `postfix stop` ends it.
postfix -c "$postfix_dir/conf" start-fg >"$postfix_dir/maillog" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $smtp_port), 0.2)" 2>/dev/null && break
    sleep 0.1
done

step "SMTP sessions through postfix"
python3 "$here/smtp_e2e.py" --port "$smtp_port" --mail-dir "$postfix_dir/mail/"
decisions=$(grep -c 'sender=<dave@spf.e2e.test> action=accept' "$work/policyd.log" || true)
[[ $decisions == 1 ]] || fail "the two-recipient message was decided $decisions times, want once"
echo "the two-recipient message was decided once: $(grep 'sender=<dave@spf.e2e.test> action=accept' "$work/policyd.log")"

ask() { python3 "$here/policy_load.py" once --connect "$1" --ip "$2" --sender "$3"; }
expect_reply() { # ADDR IP SENDER PREFIX
    local got
    got=$(ask "$1" "$2" "$3")
    [[ $got == "$4"* ]] || fail "$3 from $2: $got, want $4..."
    echo "$3 from $2: $got"
}
wait_log() { # LOG PATTERN COUNT
    for _ in $(seq 100); do
        (($(grep -c "$2" "$1" || true) >= $3)) && return 0
        sleep 0.1
    done
    fail "no '$2' (x$3) in $1"
}

step "SIGHUP: a broken policy file keeps the old policy, a good one replaces it"
addr=127.0.0.1:$policy_port
expect_reply "$addr" 192.0.2.7 alice@wl.e2e.test "action=DUNNO"
printf '{"authserv_id": "mx.gateway.test", "accounts": [\n  {"id": "wl", "senders": ["alice@wl.e2e.test"],\n   "security": {"mode": "ip-whitelist", "whitelist": "192.0.2.0/33"}}]}\n' >"$policy"
kill -HUP "$policyd_pid"
wait_log "$work/policyd.log" "not loaded, keeping the previous policy" 1
grep "not loaded, keeping the previous policy" "$work/policyd.log"
expect_reply "$addr" 192.0.2.7 alice@wl.e2e.test "action=DUNNO"
sed 's|192.0.2.0/24  # office|198.51.100.0/24|' "$here/policy.json" >"$policy"
kill -HUP "$policyd_pid"
wait_log "$work/policyd.log" "policy $policy loaded" 2
expect_reply "$addr" 192.0.2.7 alice@wl.e2e.test "action=550 5.7.1 Client 192.0.2.7 is not in the IP whitelist"
cp "$here/policy.json" "$policy"
kill -HUP "$policyd_pid"
wait_log "$work/policyd.log" "policy $policy loaded" 3
expect_reply "$addr" 192.0.2.7 alice@wl.e2e.test "action=DUNNO"

step "garbage: broken, oversized, binary and half requests"
python3 "$here/policy_load.py" garbage --connect "$addr" | grep -v 'random bytes #'
kill -0 "$policyd_pid" || fail "spfgate-policyd died"

counts() { echo "$(ls "/proc/$1/fd" | wc -l) $(awk '/VmRSS/ {print $2}' "/proc/$1/status")"; }
step "load: 32 connections x 200 requests, mixed accounts, a slow DNS answer in the mix"
python3 "$here/policy_load.py" load --connect "$addr" --connections 32 --requests 200
read -r fds1 rss1 < <(counts "$policyd_pid")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks1=$(cpu_ticks "$policyd_pid")
python3 "$here/policy_load.py" load --connect "$addr" --connections 32 --requests 200 &
load_pid=$!
for _ in 1 2 3 4 5; do sleep 0.3; kill -HUP "$policyd_pid"; done
wait "$load_pid" || fail "the load run during reloads had errors"
read -r fds2 rss2 < <(counts "$policyd_pid")
ticks2=$(cpu_ticks "$policyd_pid")
echo "daemon CPU during the second run: $(( (ticks2 - ticks1) * 1000000 / $(getconf CLK_TCK) / 6400 )) us per decision (user + system, all threads)"
echo "after the first load run: $fds1 fds, RSS $rss1 kB; after the second (with 5 reloads): $fds2 fds, RSS $rss2 kB"
((fds2 <= fds1)) || fail "file descriptors grew from $fds1 to $fds2"
((rss2 - rss1 < 4096)) || fail "RSS grew from $rss1 kB to $rss2 kB"

step "SIGTERM stops the daemon cleanly"
kill -TERM "$policyd_pid"
rc=0
wait "$policyd_pid" || rc=$?
((rc == 0)) || fail "spfgate-policyd exited with $rc after SIGTERM"
tail -n 2 "$work/policyd.log"

step "valgrind: garbage, a short load, reloads and SIGTERM on a UNIX socket"
sock=$work/policyd.sock
start_daemon "$sock" "$work/valgrind.log" valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99
vg_pid=$daemon_pid
python3 "$here/policy_load.py" garbage --connect "$sock" | tail -n 1
python3 "$here/policy_load.py" load --connect "$sock" --connections 8 --requests 25
printf '{"broken": ' >"$policy"
kill -HUP "$vg_pid"
wait_log "$work/valgrind.log" "not loaded, keeping the previous policy" 1
cp "$here/policy.json" "$policy"
kill -HUP "$vg_pid"
wait_log "$work/valgrind.log" "policy $policy loaded" 2
python3 "$here/policy_load.py" load --connect "$sock" --connections 8 --requests 25
kill -TERM "$vg_pid"
rc=0
wait "$vg_pid" || rc=$?
if ((rc != 0)) || grep -q '^==[0-9]*==' "$work/valgrind.log"; then
    grep '^==' "$work/valgrind.log" | head -n 60 >&2
    fail "valgrind: exit status $rc"
fi
[[ ! -e $sock ]] || fail "the UNIX socket $sock was left behind"
echo "valgrind: no errors, no leaks; the daemon stopped and removed its socket"

step "passed"

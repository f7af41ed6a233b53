#!/bin/bash
# The PROXY protocol on a listen line: behind a balancer (127.0.0.9, played
# by tests/tools/proxyhdr.py as ssh's ProxyCommand) the client the header
# names is the peer everywhere: session_start (peer, and via the balancer),
# per_source_max_startups, authorized_keys from=.  A connection from an
# address not in proxy_from, or with a header that is malformed, of the
# other version, oversized, cut short or too slow, is closed and audited as
# proxy_refused with the parser's reason, while other clients are served;
# a LOCAL header (a health check) is closed without a record, also when
# the balancer resets the connection right after it, as HAProxy's checks
# do.  The header's bytes only are consumed.  v2 first, then the same on a
# v1 listener.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

PROXYHDR=$TOOLS/proxyhdr.py
BALANCER=127.0.0.9

# pc BIND VERSION SRC: PC is ssh's options for a ProxyCommand that connects
# to hopd from BIND and sends a VERSION (v1, v2) header naming SRC.
pc() {
	local cmd="$PY $PROXYHDR --bind $1 --$2 --src $3 127.0.0.1 $HOPD_PORT"
	PC=(-o "ProxyCommand=$cmd")
}

# probe NAME BIND ARGS...: proxyhdr.py --check from BIND with ARGS (the
# header, and --check SECONDS); its report line in PROBE, also shown.
probe() {
	local name=$1 bind=$2
	shift 2
	PROBE=$(timeout 60 "$PY" "$PROXYHDR" --bind "$bind" "$@" 127.0.0.1 \
	    "$HOPD_PORT" 2>&1) || fail "$name: proxyhdr.py: $PROBE"
	echo "   $name: $PROBE"
}

# refused NAME REASON ARGS...: a connection from the balancer sending the
# header of ARGS is closed by hopd before any SSH byte, and audited as
# proxy_refused with REASON and the balancer's address:port as peer.
refused() {
	local name=$1 reason=$2 port
	shift 2
	probe "$name" "$BALANCER" "$@" --check 10
	assert_contains "$PROBE" "closed=1 " "$name: closed by hopd"
	assert_contains "$PROBE" "banner=0 " "$name: SSH bytes from hopd"
	port=$(report_get <(echo "$PROBE") port)
	audit_wait "$name: proxy_refused of $BALANCER:$port" \
	    event=proxy_refused "peer=$BALANCER:$port"
	assert_eq "$reason" "$(audit_field reason event=proxy_refused \
	    "peer=$BALANCER:$port")" "$name: reason of the proxy_refused"
	assert_eq "$LISTEN_TEXT" "$(audit_field local event=proxy_refused \
	    "peer=$BALANCER:$port")" "$name: local of the proxy_refused"
}

# login_via NAME SRC VERSION [USER]: USER (alice) logs in through the
# balancer with a header naming SRC (IP:PORT) and echoes 20000 bytes;
# audited as a session_start with peer SRC, via the balancer.
login_via() {
	local name=$1 src=$2 user=${4:-alice}
	pc "$BALANCER" "$3" "$src"
	KEY=$user w_roundtrip 20000 "$name" "${PC[@]}" -W "127.0.0.1:$ECHO" \
	    "$user@127.0.0.1"
	audit_wait "$name: session_start of $src" event=session_start \
	    "peer=$src"
	assert_contains "$(audit_field via event=session_start "peer=$src")" \
	    "$BALANCER:" "$name: via of the session_start of $src"
	audit_wait "$name: $user's successful auth in the session of $src" \
	    event=auth "session=$(audit_session_of "$src")" "user=$user" \
	    result=success
}

hex() {	# < BYTES: them in hex, for proxyhdr.py --raw
	od -An -v -tx1 | tr -d ' \n'
}

ms_now() {
	date +%s%3N
}

mkdir -p "$T/auth"
chmod 755 "$T/auth"
# keyline USER OPTIONS: USER's authorized_keys is "OPTIONS KEY".
keyline() {
	keygen "$1"
	echo "$2 $(cat "$T/id_$1.pub")" > "$T/auth/$1"
	chmod 600 "$T/auth/$1"
}
keyline fromnet 'from="203.0.113.0/24"'
keyline frombal "from=\"$BALANCER\""

start_server ECHO echo echo
POLICY="[user alice]
allow = 127.0.0.1:$ECHO
[user fromnet]
allow = 127.0.0.1:$ECHO
[user frombal]
allow = 127.0.0.1:$ECHO"

HOPD_PORT=$(free_port 127.0.0.1)
LISTEN_TEXT=127.0.0.1:$HOPD_PORT
HOPD_LISTEN="$LISTEN_TEXT proxy_protocol=v2 proxy_from=$BALANCER/32,127.0.0.10"
HOPD_SERVER=("per_source_max_startups = 2")
hopd_start <<< "$POLICY"
assert_file_contains "$HOPD_LOG" \
    "listening on $LISTEN_TEXT (PROXY protocol v2)" "hopd's log"

# ------------------------------------------------------------------------
step "v2_header_names_the_peer_and_the_balancer_is_via"
login_via v2-ipv4 203.0.113.7:4242 v2
login_via v2-ipv6 '[2001:db8::7]:4243' v2
# The second proxy_from entry, a plain address.
BALANCER=127.0.0.10 login_via v2-second-balancer 203.0.113.8:4244 v2
assert_contains "$(audit_field via event=session_start \
    peer=203.0.113.8:4244)" "127.0.0.10:" "via of the second balancer"
assert_eq 0 "$(audit_count event=proxy_refused)" "proxy_refused records"

# ------------------------------------------------------------------------
step "connection_from_outside_proxy_from_is_closed_and_audited"
probe outsider 127.0.0.3 --v2 --src 203.0.113.9:1 --check 10
assert_contains "$PROBE" "closed=1 " "outsider: closed by hopd"
assert_contains "$PROBE" "banner=0 " "outsider: SSH bytes from hopd"
PORT3=$(report_get <(echo "$PROBE") port)
audit_wait "proxy_refused of 127.0.0.3:$PORT3" event=proxy_refused \
    "peer=127.0.0.3:$PORT3" "local=$LISTEN_TEXT" \
    "reason=not a proxy_from address"
# The same through ssh: no session at all.
pc 127.0.0.3 v2 203.0.113.9:2
RC=0
hop_ssh "${PC[@]}" -W "127.0.0.1:$ECHO" alice@127.0.0.1 < /dev/null \
    > "$T/outsider.out" 2> "$T/outsider.err" || RC=$?
assert_eq 255 "$RC" "exit status of ssh from 127.0.0.3"
[ ! -s "$T/outsider.out" ] || fail "data came through from 127.0.0.3"
wait_for 10 "two proxy_refused records of 127.0.0.3" audit_count_is 2 \
    event=proxy_refused "peer~127.0.0.3:" "reason=not a proxy_from address"
assert_eq 0 "$(audit_count event=session_start "peer~203.0.113.9:")" \
    "session_start records of 203.0.113.9"
assert_eq 0 "$(audit_count event=session_start "peer~127.0.0.3:")" \
    "session_start records of 127.0.0.3"

# ------------------------------------------------------------------------
step "bad_headers_are_closed_with_the_parsers_reason"
SIG=0d0a0d0a000d0a515549540a
refused not-a-header "not a PROXY v2 header" \
    --raw "$(printf 'GET / HTTP/1.0\r\n\r\n' | hex)"
refused ssh-banner-without-header "not a PROXY v2 header" \
    --raw "$(printf 'SSH-2.0-OpenSSH_9.2\r\n' | hex)"
refused v1-on-v2 "PROXY v1 header on a v2 listener" --v1 \
    --src 203.0.113.7:4242
refused oversized "oversized" --raw "${SIG}2111ffff"
refused bad-version "bad version" --raw "${SIG}3111000c"
refused udp-family "unsupported family" --raw "${SIG}2112000c"
refused truncated-then-closed "closed before a complete header" --v2 \
    --src 203.0.113.7:4242 --partial 20 --close
assert_eq 0 "$(audit_count event=session_start "peer~$BALANCER:")" \
    "session_start records naming the balancer as peer"
hopd_alive

# ------------------------------------------------------------------------
step "slow_headers_time_out_while_others_are_served"
pc "$BALANCER" v2 203.0.113.20:5000
live_start live alice "127.0.0.1:$ECHO" "${PC[@]}"
SLOW_BEFORE=$(audit_count event=proxy_refused \
    "reason=no complete header in time")
bg timeout 60 "$PY" "$PROXYHDR" --bind "$BALANCER" --v2 \
    --src 203.0.113.7:4242 --partial 10 --count 20 --check 10 \
    127.0.0.1 "$HOPD_PORT" > "$T/slow.out"
SLOW=$BG_LAST
sleep 1
for i in 1 2 3; do
	T0=$(ms_now)
	live_echoes live "during-slow-$i" ||
	    fail "the live tunnel does not echo while 20 headers are pending"
	MS=$(($(ms_now) - T0))
	echo "   echo $i through the live tunnel: ${MS} ms"
	assert_le 1000 "$MS" "ms for an echo while 20 headers are pending"
done
T0=$(ms_now)
login_via login-during-slow 203.0.113.21:5001 v2
MS=$(($(ms_now) - T0))
echo "   new login and echo while 20 headers are pending: ${MS} ms"
[ ! -s "$T/slow.out" ] ||
    fail "the slow headers were closed before the new login was done: $(
    cat "$T/slow.out")"
wait "$SLOW" || fail "proxyhdr.py of the slow headers failed"
SLOW_OUT=$(cat "$T/slow.out")
echo "   slow headers: $SLOW_OUT"
assert_contains "$SLOW_OUT" "closed=20 open=0 banner=0 " \
    "the 20 slow headers"
MIN=$(report_get <(echo "$SLOW_OUT") min)
MAX=$(report_get <(echo "$SLOW_OUT") max)
awk -v a="$MIN" -v b="$MAX" 'BEGIN { exit !(a >= 4.5 && b <= 7) }' ||
    fail "slow headers closed after ${MIN}..${MAX} s, not about 5 s"
wait_for 10 "20 more proxy_refused 'no complete header in time'" \
    audit_count_is $((SLOW_BEFORE + 20)) event=proxy_refused \
    "reason=no complete header in time"
live_echoes live after-slow || fail "the live tunnel died"
hopd_alive

# ------------------------------------------------------------------------
step "header_and_ssh_banner_in_one_segment"
# hopd consumes the header only: the banner right behind it is libssh's.
probe header-and-banner "$BALANCER" --v2 --src 203.0.113.30:7000 \
    --append "$(printf 'SSH-2.0-OpenSSH_9.2\r\n' | hex)" --check 2
assert_contains "$PROBE" "banner=1 " "header and banner: SSH bytes from hopd"
PORTB=$(report_get <(echo "$PROBE") port)
audit_wait "the session_start of 203.0.113.30:7000" event=session_start \
    peer=203.0.113.30:7000 "via=$BALANCER:$PORTB"
assert_eq 0 "$(audit_count event=proxy_refused "peer=$BALANCER:$PORTB")" \
    "proxy_refused records of the header-and-banner connection"

# ------------------------------------------------------------------------
# quiet NAME MARKER ARGS...: LOCAL headers (ARGS) are closed without an
# audit record.  A record, had there been one, is written before the
# close, and before that of the next connection: MARKER, a refused header
# ("not a PROXY vN header") sent after them, proves the log has been
# written; it must be the one new proxy_refused.
quiet() {
	local name=$1 marker=$2 starts refusals
	shift 2
	starts=$(audit_count event=session_start)
	refusals=$(audit_count event=proxy_refused)
	probe "$name" "$BALANCER" "$@"
	case $PROBE in
	reset=*) ;;
	*)
		assert_contains "$PROBE" "closed=1 " "$name: closed by hopd"
		assert_contains "$PROBE" "banner=0 " "$name: SSH bytes"
		;;
	esac
	refused "after-$name" "$marker" --raw 00
	check assert_eq $((refusals + 1)) "$(audit_count event=proxy_refused)" \
	    "$name: proxy_refused records (the marker's only); new ones:
$(audit_q event=proxy_refused | tail -n +$((refusals + 1)) | head -n 5)"
	check assert_eq "$starts" "$(audit_count event=session_start)" \
	    "$name: session_start records"
}

step "local_header_is_closed_quietly"
quiet v2-local "not a PROXY v2 header" --v2 --local --check 10

# ------------------------------------------------------------------------
step "from_option_matches_the_client_not_the_balancer"
login_via from-inside 203.0.113.7:4301 v2 fromnet
pc "$BALANCER" v2 198.51.100.1:4302
KEY=fromnet login_refused from-outside fromnet "${PC[@]}" \
    -W "127.0.0.1:$ECHO"
auth_failure_wait from-outside fromnet "from="
pc "$BALANCER" v2 203.0.113.7:4303
KEY=frombal login_refused from-balancer frombal "${PC[@]}" \
    -W "127.0.0.1:$ECHO"
auth_failure_wait from-balancer frombal "from="
assert_eq 0 "$(audit_count event=auth user=frombal result=success)" \
    "successful auths of frombal (from= the balancer)"
assert_eq 1 "$(audit_count event=auth user=fromnet result=success)" \
    "successful auths of fromnet"

# ------------------------------------------------------------------------
step "per_source_max_startups_counts_the_client"
# Two connections claiming 198.51.100.1 take the header and then hold
# still: unauthenticated, each holds a startup of 198.51.100.1.
bg timeout 120 "$PY" "$PROXYHDR" --bind "$BALANCER" --v2 \
    --src 198.51.100.1:6001 --count 2 --check 60 127.0.0.1 "$HOPD_PORT" \
    > "$T/hold.out"
HOLD=$BG_LAST
wait_for 10 "two session_start records of 198.51.100.1" audit_count_is 2 \
    event=session_start "peer=198.51.100.1:6001"
probe third-of-198.51.100.1 "$BALANCER" --v2 --src 198.51.100.1:6003 \
    --check 10
assert_contains "$PROBE" "closed=1 " "third connection of 198.51.100.1"
assert_contains "$PROBE" "banner=0 " "third connection of 198.51.100.1"
wait_for 5 "hopd's log of the refused third connection" log_count_above \
    "refused connection from 198.51.100.1:6003 via $BALANCER:" 0
assert_eq 0 "$(audit_count event=session_start peer=198.51.100.1:6003)" \
    "session_start records of the third connection"
# Another client through the same balancer is not held back.
login_via other-client 198.51.100.2:6004 v2
kill -0 "$HOLD" 2>/dev/null || fail "the two holding connections ended"
[ ! -s "$T/hold.out" ] || fail "holders ended early: $(cat "$T/hold.out")"
# Their startups are given back when they go (counted for the client).
stop "$HOLD"
holders_ended() {
	local id
	for id in $(audit_q event=session_start peer=198.51.100.1:6001 |
	    sed -n 's/.*"session":"\([0-9a-f]*\)".*/\1/p'); do
		audit_has event=session_end "session=$id" || return 1
	done
}
wait_for 10 "the session_end of both holders" holders_ended
login_via after-holders 198.51.100.1:6005 v2
hopd_alive

# ------------------------------------------------------------------------
step "local_header_then_reset_is_quiet_too"
# HAProxy's health checks (check-send-proxy) send a LOCAL header and
# reset the connection at once (SO_LINGER 0); the header stays readable
# after the reset.  Thirty of them: whether hopd reads before the reset
# comes is a race.
quiet v2-local-reset "not a PROXY v2 header" --v2 --local --check 10 \
    --reset --count 30

# ------------------------------------------------------------------------
step "v1_header_on_a_v1_listener"
stop "$HOPD_PID"
HOPD_PID=""
HOPD_SERVER=()
HOPD_PORT=$(free_port 127.0.0.1)
LISTEN_TEXT=127.0.0.1:$HOPD_PORT
HOPD_LISTEN="$LISTEN_TEXT proxy_protocol=v1 proxy_from=$BALANCER"
hopd_start <<< "$POLICY"
assert_file_contains "$HOPD_LOG" \
    "listening on $LISTEN_TEXT (PROXY protocol v1)" "hopd's log"
login_via v1-ipv4 203.0.113.7:4242 v1
login_via v1-ipv6 '[2001:db8::7]:4243' v1
assert_eq 0 "$(audit_count event=proxy_refused)" "proxy_refused records"

step "v1_listener_refuses_v2_oversized_and_outsiders"
refused v2-on-v1 "PROXY v2 header on a v1 listener" --v2 \
    --src 203.0.113.7:4242
refused v1-oversized "oversized" \
    --raw "$(printf 'PROXY UNKNOWN %0100d' 0 | hex)"
refused v1-garbage "not a PROXY v1 header" \
    --raw "$(printf 'SSH-2.0-OpenSSH_9.2\r\n' | hex)"
probe v1-outsider 127.0.0.3 --v1 --src 203.0.113.9:1 --check 10
assert_contains "$PROBE" "closed=1 " "v1 outsider: closed by hopd"
audit_wait "proxy_refused of 127.0.0.3 on the v1 listener" \
    event=proxy_refused "peer~127.0.0.3:" "reason=not a proxy_from address"

step "v1_unknown_is_closed_quietly"
quiet v1-unknown "not a PROXY v1 header" --v1 --local --check 10
quiet v1-unknown-reset "not a PROXY v1 header" --v1 --local --check 10 \
    --reset --count 30
assert_eq 2 "$(audit_count event=session_start)" "session_start records"
hopd_alive
checks_done

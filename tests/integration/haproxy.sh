#!/bin/bash
# Several hopd behind a real HAProxy (TCP mode, round robin, PROXY protocol
# v2 to the servers, from 127.0.0.9, health checks that send a LOCAL
# header): sessions from a client on 127.0.0.5 are spread over both hopd,
# each audited with the client as peer and HAProxy as via; the health
# checks leave no proxy_refused; when one hopd dies, HAProxy marks it down
# and every new session goes to the other one, and succeeds.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
[ -x "$HAPROXY" ] || skip "haproxy not installed ($HAPROXY)"

BALANCER=127.0.0.9
CLIENT=127.0.0.5

start_server ECHO echo echo

# The first hopd through lib.sh; the second from the same config (same
# host key, keys and policy) on another port, with its own audit log.
P1=$(free_port 127.0.0.1)
HOPD_PORT=$P1
HOPD_LISTEN="127.0.0.1:$P1 proxy_protocol=v2 proxy_from=$BALANCER"
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2
H1_PID=$HOPD_PID
AUDIT1=$AUDIT

P2=$(free_port 127.0.0.1)
AUDIT2=$T/audit2.jsonl
: > "$AUDIT2"
sed -e "s|^listen = 127.0.0.1:$P1 |listen = 127.0.0.1:$P2 |" \
    -e "s|^audit_log = .*|audit_log = $AUDIT2|" "$HOPD_CONF" > "$T/hopd2.ini"
grep -q "^listen = 127.0.0.1:$P2 proxy_protocol=v2" "$T/hopd2.ini" ||
    fail "no listen line for the second hopd in $T/hopd2.ini"
bg "$HOPD" -f "$T/hopd2.ini" 2>> "$T/hopd2.log"
H2_PID=$BG_LAST
wait_for 10 "the second hopd listening on $P2" is_listening "$P2"

# audit_of N ARGS...: audit_count on hopd N's audit log.
audit_of() {
	local n=$1
	shift
	if [ "$n" = 1 ]; then
		AUDIT=$AUDIT1 audit_count "$@"
	else
		AUDIT=$AUDIT2 audit_count "$@"
	fi
}

# starts_are N [N1]: both hopd logged N session_start records together
# (and the first one N1, if given).
starts_are() {
	local n1
	n1=$(audit_of 1 event=session_start)
	[ $((n1 + $(audit_of 2 event=session_start))) -eq "$1" ] || return 1
	[ -z "${2:-}" ] || [ "$n1" -eq "$2" ]
}

HP=$(free_port 127.0.0.1)
HAPROXY_LOG=$T/haproxy.log
cat > "$T/haproxy.cfg" <<EOF2
global
	maxconn 200
	log stderr format short local0 notice

defaults
	mode tcp
	log global
	timeout connect 5s
	timeout client 120s
	timeout server 120s
	timeout check 2s

frontend ssh_in
	bind 127.0.0.1:$HP
	default_backend hopds

backend hopds
	balance roundrobin
	source $BALANCER
	default-server send-proxy-v2 check check-send-proxy inter 500 fall 2
	server h1 127.0.0.1:$P1
	server h2 127.0.0.1:$P2
EOF2
"$HAPROXY" -c -f "$T/haproxy.cfg" > "$T/haproxy-check.out" 2>&1 ||
    fail "haproxy -c refuses the config: $(cat "$T/haproxy-check.out")"
bg "$HAPROXY" -db -f "$T/haproxy.cfg" 2>> "$HAPROXY_LOG"
HAPROXY_PID=$BG_LAST
wait_for 10 "haproxy listening on $HP" is_listening "$HP"
# From now on ssh (hop_ssh) goes to HAProxy, from the client's address.
HOPD_PORT=$HP
write_ssh_config

# session NAME: one ssh -W to the echo server through HAProxy.
session() {
	w_roundtrip 20000 "$1" -o "BindAddress=$CLIENT" \
	    -W "127.0.0.1:$ECHO" alice@127.0.0.1
}

# ------------------------------------------------------------------------
step "sessions_are_spread_over_both_hopd_with_the_client_as_peer"
sleep 2		# a few rounds of health checks
for i in 1 2 3 4 5 6; do
	session "s$i"
done
wait_for 10 "6 session_start records over both hopd" starts_are 6
N1=$(audit_of 1 event=session_start)
N2=$(audit_of 2 event=session_start)
echo "   sessions: h1 $N1, h2 $N2"
assert_ne 0 "$N1" "session_start records of the first hopd"
assert_ne 0 "$N2" "session_start records of the second hopd"
for n in 1 2; do
	assert_eq "$(audit_of "$n" event=session_start)" \
	    "$(audit_of "$n" event=session_start "peer~$CLIENT:" \
	    "via~$BALANCER:")" \
	    "hopd $n: session_start records with peer $CLIENT: via $BALANCER:"
	assert_eq 0 "$(audit_of "$n" event=session_start "peer~127.0.0.1:")" \
	    "hopd $n: session_start records naming 127.0.0.1 as peer"
	assert_eq "$(audit_of "$n" event=session_start)" \
	    "$(audit_of "$n" event=auth user=alice result=success)" \
	    "hopd $n: successful auths"
done

step "health_checks_leave_no_proxy_refused"
# By now each hopd had about ten checks (every 500 ms): a LOCAL header,
# then a reset.
assert_not_contains "$(cat "$HAPROXY_LOG")" " is DOWN" "haproxy's log"
for n in 1 2; do
	check assert_eq 0 "$(audit_of "$n" event=proxy_refused)" \
	    "hopd $n: proxy_refused records; the first ones:
$(AUDIT=$([ "$n" = 1 ] && echo "$AUDIT1" || echo "$AUDIT2") \
	    audit_q event=proxy_refused | head -n 3)"
done

# ------------------------------------------------------------------------
step "a_dead_hopd_is_marked_down_and_the_other_takes_every_session"
stop "$H2_PID"
wait_for 15 "haproxy to mark h2 down" grep -q "hopds/h2 is DOWN" \
    "$HAPROXY_LOG"
BEFORE=$(audit_of 1 event=session_start)
for i in 1 2 3 4; do
	session "after-down-$i"
done
wait_for 10 "4 more session_start records in the first hopd" \
    starts_are $((6 + 4)) $((BEFORE + 4))
echo "   sessions: h1 $(audit_of 1 event=session_start), h2 $(audit_of 2 \
    event=session_start)"
assert_eq "$(audit_of 1 event=session_start)" \
    "$(audit_of 1 event=session_start "peer~$CLIENT:" "via~$BALANCER:")" \
    "session_start records with peer $CLIENT: via $BALANCER:"
assert_eq 0 "$(audit_count event=auth result=failure)" \
    "failed auths in the first hopd"
kill -0 "$HAPROXY_PID" 2>/dev/null || fail "haproxy died"
kill -0 "$H1_PID" 2>/dev/null || fail "the first hopd died"
if grep -qE "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$T/hopd2.log"; then
	fail "sanitizer report in the second hopd's log: $(cat "$T/hopd2.log")"
fi
checks_done

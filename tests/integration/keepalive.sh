#!/bin/bash
# Keepalives: ssh -o ServerAliveInterval=1 -o ServerAliveCountMax=2 keeps
# an idle -W tunnel for 5 s (an unanswered keepalive would end ssh after
# ~2 s), then data still flows both ways, byte-exact.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2

step "idle_tunnel_survives_keepalives_then_flows"
{
	sleep 5
	"$PY" "$NETUTIL" gen --bytes 1000000 --sha-file "$T/ka.sent"
} | hop_ssh -vvv -o ServerAliveInterval=1 -o ServerAliveCountMax=2 \
    -W "127.0.0.1:$ECHO" alice@127.0.0.1 2> "$T/ka.err" |
    "$PY" "$NETUTIL" count --out "$T/ka.got" ||
    fail "ssh -W with keepalives failed: $(grep -v debug "$T/ka.err")"
assert_eq "$(cat "$T/ka.sent")" "$(cat "$T/ka.got")" \
    "bytes and sha256 that came back after the idle time"
# Each keepalive is a global request (80) answered by a success (81) or a
# failure (82): either reply keeps OpenSSH's client alive.
SENT=$(grep -c "send packet: type 80.\?$" "$T/ka.err" || true)
ANSWERED=$(grep -c "receive packet: type 8[12].\?$" "$T/ka.err" || true)
echo "global requests sent: $SENT, answered: $ANSWERED"
[ "$ANSWERED" -ge 3 ] ||
    fail "hopd answered $ANSWERED of $SENT keepalives in 5 s idle; expected 3 or more"
assert_not_contains "$(cat "$T/ka.err")" "Timeout, server" "ssh's stderr"
hopd_alive
echo "PASS $TEST_NAME"

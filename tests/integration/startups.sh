#!/bin/bash
# One address holding hundreds of half-open handshakes must not lock anyone
# else out: 300 connections from 127.0.0.2 send a version string and stall
# (reopened when hopd drops them), while a client from 127.0.0.1 logs in
# and tunnels 3 times out of 3.  Default max_startups (10:30:100) and
# per_source_max_startups (10), which is the point.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2

step "flood_from_127.0.0.2_is_capped"
bg "$PY" "$NETUTIL" flood --host 127.0.0.1 --port "$HOPD_PORT" \
    --source 127.0.0.2 --count 300 --duration 90 --retry 1 \
    --status-file "$T/flood.status"
FLOOD=$BG_LAST

flood_opened_300() {
	[ -s "$T/flood.status" ] &&
	    [ "$(report_get "$T/flood.status" opened)" -ge 300 ]
}
wait_for 20 "the flood to open 300 connections" flood_opened_300
sleep 2
cat "$T/flood.status"
[ "$(report_get "$T/flood.status" closed)" -gt 0 ] ||
    fail "hopd dropped none of 300 stalled connections from one address"
kill -0 "$FLOOD" 2>/dev/null || fail "the flood ended early"

step "client_from_127.0.0.1_tunnels_3_of_3"
for i in 1 2 3; do
	SSH_TIMEOUT=30 w_roundtrip 200000 "legit$i" \
	    -W "127.0.0.1:$ECHO" alice@127.0.0.1
	kill -0 "$FLOOD" 2>/dev/null || fail "the flood ended during try $i"
done
cat "$T/flood.status"
assert_eq 3 "$(audit_count event=auth user=alice result=success)" \
    "alice's successful logins"
hopd_alive
echo "PASS $TEST_NAME"

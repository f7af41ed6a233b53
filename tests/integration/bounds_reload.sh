#!/bin/bash
# Issue 12, attack 6: a forwarded-tcpip connection outlives the remote
# forward it came through (cancel-tcpip-forward keeps live connections),
# but not the policy: once a reload takes away the listen rule, that
# connection is closed and audited (channel_close reason policy_reload).
# Another user's echo still answers within 1 s.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
add_user bob
RP=$(free_port)
hopd_start <<EOF2
[user alice]
listen = 127.0.0.1:$RP

[user bob]
allow = 127.0.0.1:$ECHO
EOF2
# The [server] part hopd_start wrote, up to its blank line.
sed '/^$/q' "$HOPD_CONF" > "$T/server.part"

set_policy() {	# < POLICY: replaces the policy part, atomically
	{
		cat "$T/server.part"
		cat
	} > "$HOPD_CONF.new"
	mv "$HOPD_CONF.new" "$HOPD_CONF"
}

step "bob_is_served"
echo_probe "bob's echo before" bob "127.0.0.1:$ECHO"

step "a_cancelled_forward_leaves_its_live_connection"
mkdir -p "$T/rf"
bg timeout -k 5 60 "$PY" "$HOSTILE2" rforward-cancel --port "$HOPD_PORT" \
    --user alice --key "$T/id_alice" --listen-port "$RP" \
    --state-dir "$T/rf" --wait 10 > "$T/rf.out" 2>&1
RF=$BG_LAST
rf_cancelled() {
	[ -e "$T/rf/cancelled" ] ||
	    { kill -0 "$RF" 2>/dev/null ||
	    fail "rforward-cancel tool: $(cat "$T/rf.out")"; false; }
}
wait_for 20 "the forward, an echo through it, its cancel" rf_cancelled
audit_wait "the forwarded connection" event=channel_open \
    type=forwarded-tcpip result=open
audit_wait "the cancel" event=forward_cancel "port=$RP" "reason~cancel"
not_listening() { ! is_listening "$RP"; }
wait_for 10 "port $RP to close after the cancel" not_listening

step "a_reload_that_takes_the_listen_rule_away_closes_it"
set_policy <<EOF2
[user alice]

[user bob]
allow = 127.0.0.1:$ECHO
EOF2
hopd_reload "reloaded $HOPD_CONF"
touch "$T/rf/go"
wait "$RF" || fail "rforward-cancel tool: $(cat "$T/rf.out")"
OUT=$(cat "$T/rf.out")
echo "   $OUT"
check assert_contains "$OUT" "closed=yes" \
    "the forwarded TCP connection after the reload"
check audit_wait "the forwarded connection closed by the reload" \
    event=channel_close type=forwarded-tcpip reason=policy_reload

step "others_still_served"
hopd_alive
echo_probe "bob's echo after" bob "127.0.0.1:$ECHO"
checks_done

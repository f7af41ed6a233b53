#!/bin/bash
# Issue 12, before authentication (attacks 1 and item 11): clients that
# finish the key exchange, never log in, stop reading their sockets and
# flood hopd with messages libssh answers (SERVICE_REQUEST, GLOBAL_REQUEST
# keepalive@openssh.com with want_reply, USERAUTH_REQUEST "none") are
# ended after a few messages ("... before authentication") and cost hopd
# at most 64 KiB of RSS each, plus a fixed slack; failing logins end with
# a DISCONNECT that says "Too many authentication failures"; a user name
# with a NUL byte is answered at once.  Meanwhile another user's echo
# through hopd answers within 1 s.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

# Four flooders: hopd answers some 50,000 requests a second, and the
# kernel holds up to 4 MiB of answers per connection; with more flooders the
# kernel would absorb most of today's growth.
CLIENTS=4
# Per hostile connection, and fixed, in KiB (HOPD_RSS_SLACK_KB: what a
# sanitizer build adds).
PER_CONN_KB=64
FIXED_KB=4096

start_server ECHO echo echo
add_user bob
keygen mallory
HOPD_SERVER=("max_startups = 100" "per_source_max_startups = 50"
    "login_grace_time = 60s")
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO

[user bob]
allow = 127.0.0.1:$ECHO
EOF2

step "bob_is_served_before_any_attack"
echo_probe "bob's echo, no attack" bob "127.0.0.1:$ECHO"
echo_probe "bob's echo, no attack (again)" bob "127.0.0.1:$ECHO"

# preauth_flood KIND SECONDS: CLIENTS flooding connections for SECONDS
# while bob's echo is measured; checks hopd's RSS growth.  Leaves the
# tool's report in $T/preauth-KIND.out.
preauth_flood() {
	local kind=$1 secs=$2 out=$T/preauth-$1.out pid delta limit
	bg timeout -k 5 60 nice -n 10 "$PY" "$HOSTILE2" preauth \
	    --port "$HOPD_PORT" --kind "$kind" --clients "$CLIENTS" \
	    --duration "$secs" --hold 1 --rcvbuf 4096 --pid "$HOPD_PID" \
	    --rss-abort-kb $((256 << 10)) > "$out" 2>&1
	pid=$BG_LAST
	sleep 2
	check echo_probe "bob's echo during the $kind flood" bob \
	    "127.0.0.1:$ECHO"
	wait "$pid" || fail "preauth $kind flood tool: $(cat "$out")"
	sed 's/^/   /' "$out"
	grep -q '^rss_base_kb=' "$out" || fail "no RSS report: $(cat "$out")"
	delta=$(sed -n 's/.*rss_delta_kb=\([0-9-]*\).*/\1/p' "$out")
	limit=$((CLIENTS * PER_CONN_KB + FIXED_KB + ${HOPD_RSS_SLACK_KB:-0}))
	hopd_alive
	check assert_le "$limit" "$delta" \
	    "growth of hopd's RSS (KiB) with $CLIENTS $kind flooders"
}

# flooders_ended: every flooder's session ended for the flood (not for the
# client leaving at the end).
flooders_ended() {
	[ "$(audit_count event=session_end "reason~before authentication")" \
	    -ge "$CLIENTS" ]
}

step "service_request_flood_unread_is_bounded_and_ended"
preauth_flood service 10
# Each flooder's session ends for the flood, not for the client leaving.
check wait_for 10 \
    "$CLIENTS session_end records with reason~'before authentication'" \
    flooders_ended
echo "   reason: $(audit_field reason event=session_end \
    "reason~before authentication")"

step "global_request_flood_unread_is_bounded"
preauth_flood global 4

step "userauth_none_flood_unread_is_bounded"
preauth_flood none 4

step "auth_failures_end_with_a_disconnect_that_says_why"
OUT=$(timeout -k 5 60 "$PY" "$HOSTILE2" auth-fail --port "$HOPD_PORT" \
    --user alice --key "$T/id_mallory" 2>&1) ||
    fail "auth-fail tool: $OUT"
echo "   $OUT"
check assert_contains "$OUT" "Too many authentication failures" \
    "the description of hopd's SSH_MSG_DISCONNECT"
audit_wait "the session_end" event=session_end \
    "reason=too many authentication failures"

step "user_name_with_nul_is_answered_at_once"
# "none" (answered today too), then "publickey" signed with alice's own key:
# libssh verifies the signature over the name it cut at the NUL, fails, and
# today nothing is sent back until the login grace time.
for how in none publickey; do
	if [ "$how" = publickey ]; then
		set -- --key "$T/id_alice"
	else
		set --
	fi
	OUT=$(timeout -k 5 60 "$PY" "$HOSTILE2" nul-user --port "$HOPD_PORT" \
	    --user alice --timeout 8 "$@" 2>&1) || fail "nul-user tool: $OUT"
	echo "   $how: $OUT"
	check assert_contains "$OUT" "answer=failure" \
	    "the answer to USERAUTH_REQUEST $how for user 'alice\\0x'"
	MS=$(echo "$OUT" | sed -n 's/.* ms=\([0-9]*\).*/\1/p')
	check assert_le 2000 "$MS" \
	    "ms until the answer to $how for user 'alice\\0x'"
done

step "others_still_served"
hopd_alive
echo_probe "bob's echo after the attacks" bob "127.0.0.1:$ECHO"
checks_done

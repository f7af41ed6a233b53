#!/bin/bash
# Issue 12, after authentication (attacks 2, 3, 4 and item 12): idle
# channels cost at most 8 KiB each, also once they have carried data;
# pipelined opens never get more than max_channels_per_session channels
# and end the session, with few audit records; data past the window of
# "session" channels ends the session; a client that grants a 4 GiB window
# and stops reading makes hopd hold at most about 256 KiB + 64 KiB per
# tunnel.  Another user's echo answers within 1 s throughout, and hopd
# stays up.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

MAXCH=20
IDLE_SESSIONS=20	# x MAXCH channels
IDLE_PER_CHANNEL_KB=8
SLACK=${HOPD_RSS_SLACK_KB:-0}

start_server ECHO echo echo
# A target that sends 1 GiB as fast as it can, to whoever connects.
start_server SOURCE sink source --send $((1 << 30))
add_user bob
HOPD_SERVER=("max_channels_per_session = $MAXCH")
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO,$SOURCE

[user bob]
allow = 127.0.0.1:$ECHO
EOF2

step "bob_is_served_before_any_attack"
echo_probe "bob's echo, no attack" bob "127.0.0.1:$ECHO"

# ------------------------------------------------------------------------
step "idle_channels_cost_at_most_${IDLE_PER_CHANNEL_KB}_KiB_each"
# 400 channels over 20 sessions; RSS before (sessions up), once they are
# open, and once 64 KiB went through each and back (then idle 2 s): a
# channel that carried data and is idle again costs no more.
N=$((IDLE_SESSIONS * MAXCH))
OUT=$(timeout -k 5 120 "$PY" "$HOSTILE2" idle-channels --port "$HOPD_PORT" \
    --user alice --key "$T/id_alice" --target "127.0.0.1:$ECHO" \
    --sessions "$IDLE_SESSIONS" --per "$MAXCH" --pid "$HOPD_PID" \
    --settle 2 --echo 65536 2>&1) || fail "idle-channels tool: $OUT"
echo "   $OUT"
assert_contains "$OUT" "opened=$N " "idle channels opened"
BEFORE=$(echo "$OUT" | sed -n 's/.*rss_before_kb=\([0-9]*\).*/\1/p')
OPENED=$(echo "$OUT" | sed -n 's/.*rss_opened_kb=\([0-9]*\).*/\1/p')
ECHOED=$(echo "$OUT" | sed -n 's/.*rss_echoed_kb=\([0-9]*\).*/\1/p')
echo "   per channel: $(((OPENED - BEFORE) * 1024 / N)) bytes open," \
    "$(((ECHOED - BEFORE) * 1024 / N)) bytes after the echo"
check assert_le $((N * IDLE_PER_CHANNEL_KB + SLACK)) $((OPENED - BEFORE)) \
    "RSS growth (KiB) for $N idle channels that never carried data"
check assert_le $((N * IDLE_PER_CHANNEL_KB + SLACK)) $((ECHOED - BEFORE)) \
    "RSS growth (KiB) for $N idle channels after 64 KiB each went through"

# ------------------------------------------------------------------------
step "pipelined_opens_meet_the_cap_and_end_the_session"
OPENS=5000
bg timeout -k 5 60 "$PY" "$HOSTILE2" pipelined-opens --port "$HOPD_PORT" \
    --user alice --key "$T/id_alice" --target "127.0.0.1:$ECHO" \
    --count "$OPENS" --duration 20 --wait 10 --hold 2 > "$T/opens.out" 2>&1
FLOOD=$BG_LAST
sleep 0.3
check echo_probe "bob's echo during the open flood" bob "127.0.0.1:$ECHO"
wait "$FLOOD" || fail "pipelined-opens tool: $(cat "$T/opens.out")"
OUT=$(cat "$T/opens.out")
echo "   $OUT"
CONFIRMED=$(echo "$OUT" | sed -n 's/.* confirmed=\([0-9]*\) .*/\1/p')
PORT=$(echo "$OUT" | sed -n 's/.* port=\([0-9]*\) .*/\1/p')
check assert_le "$MAXCH" "$CONFIRMED" "channels confirmed in one session"
SID=$(audit_session_of "127.0.0.1:$PORT")
[ -n "$SID" ] || fail "no session_start for peer 127.0.0.1:$PORT"
has_cap_end() {
	local r
	r=$(audit_field reason event=session_end "session=$SID") || return 1
	case $r in
	*max_channels_per_session* | *max_pending_opens_per_session*) ;;
	*) return 1 ;;
	esac
}
check wait_for 10 "session_end of $SID with a reason naming\
 max_channels_per_session or max_pending_opens_per_session" has_cap_end
echo "   session_end reason: $(audit_field reason event=session_end \
    "session=$SID" || echo none)"
RECS=$(audit_count "session=$SID")
echo "   audit records of the flooding session: $RECS"
check assert_le 199 "$RECS" "audit records for $OPENS pipelined opens"
hopd_alive

# ------------------------------------------------------------------------
step "session_channel_data_past_the_window_ends_the_session"
timeout -k 5 90 "$PY" "$HOSTILE2" session-past-window \
    --port "$HOPD_PORT" --user alice --key "$T/id_alice" --nch 3 \
    --bytes $((48 << 20)) --duration 30 --wait 5 --pid "$HOPD_PID" \
    --rss-abort-kb $((256 << 10)) > "$T/spw.out" 2>&1 ||
    fail "session-past-window tool: $(cat "$T/spw.out")"
sed 's/^/   /' "$T/spw.out"
OUT=$(cat "$T/spw.out")
check assert_contains "$OUT" "disconnected=yes" "the flooding session's end"
check audit_wait "the session_end" event=session_end \
    "reason=protocol violation: data past the window"
DELTA=$(echo "$OUT" | sed -n 's/.*rss_delta_kb=\([0-9-]*\).*/\1/p')
check assert_le $((16384 + SLACK)) "$DELTA" \
    "growth of hopd's RSS (KiB) with data past the window of 3 sessions"
hopd_alive
check echo_probe "bob's echo after the session flood" bob "127.0.0.1:$ECHO"

# ------------------------------------------------------------------------
step "huge_window_and_no_reading_holds_little"
# 4 sessions, one tunnel each from a fast source, window ~4 GiB, the
# client reads nothing: per tunnel about 256 KiB queued for the socket and
# one 64 KiB read; 4 MiB in all is generous.
bg timeout -k 5 60 "$PY" "$HOSTILE2" huge-window --port "$HOPD_PORT" \
    --user alice --key "$T/id_alice" --target "127.0.0.1:$SOURCE" \
    --conns 4 --duration 8 --rcvbuf 4096 --pid "$HOPD_PID" \
    --rss-abort-kb $((128 << 10)) > "$T/huge.out" 2>&1
HUGE=$BG_LAST
sleep 4
check echo_probe "bob's echo during the huge-window attack" bob \
    "127.0.0.1:$ECHO"
wait "$HUGE" || fail "huge-window tool: $(cat "$T/huge.out")"
sed 's/^/   /' "$T/huge.out"
assert_contains "$(cat "$T/huge.out")" "huge-window conns=4" \
    "the huge-window tunnels"
DELTA=$(sed -n 's/.*rss_delta_kb=\([0-9-]*\).*/\1/p' "$T/huge.out")
check assert_le $((4096 + SLACK)) "$DELTA" \
    "growth of hopd's RSS (KiB) with 4 unread tunnels granted 4 GiB each"

step "others_still_served"
hopd_alive
echo_probe "bob's echo after the attacks" bob "127.0.0.1:$ECHO"
checks_done

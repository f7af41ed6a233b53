#!/bin/bash
# Hostile clients: data past the granted window ends the session (libssh
# would buffer it without limit); a flood of channel opens meets
# max_channels_per_session; a flood of auth requests ends the connection;
# tiny pieces on six channels in turn each arrive whole and in order; hopd
# stays up and another client's tunnel keeps flowing byte-exact.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
start_server STALL stall stall
HOPD_SERVER=("max_channels_per_session = 20")
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO,$STALL
EOF2
HOSTILE=("$PY" "$TOOLS/hostile.py" 127.0.0.1 "$HOPD_PORT" alice "$T/id_alice")

step "data_past_the_window_ends_the_session"
BASE=$(rss_kb "$HOPD_PID")
OUT=$(timeout 60 "${HOSTILE[@]}" 127.0.0.1 "$STALL" past-window) ||
    fail "hostile client: $OUT"
assert_contains "$OUT" "disconnected after" "hostile client's outcome"
assert_file_contains "$HOPD_LOG" "protocol violation: data past the window" \
    "hopd's log"
audit_wait "the session_end" event=session_end \
    "reason=protocol violation: data past the window"
hopd_alive
RSS=$(rss_kb "$HOPD_PID")
# HOPD_RSS_SLACK_KB: what a sanitizer build adds (make sanitize sets it).
assert_le $((BASE + 16384 + ${HOPD_RSS_SLACK_KB:-0})) "$RSS" \
    "hopd's RSS (KiB) after the attack"

step "channel_flood_meets_the_cap"
OUT=$(timeout 60 "${HOSTILE[@]}" 127.0.0.1 "$ECHO" flood-opens) ||
    fail "flooding client: $OUT"
ACCEPTED=$(echo "$OUT" | sed -n 's/^accepted \([0-9]*\) .*/\1/p')
assert_le 20 "$ACCEPTED" "channels accepted in one session"
assert_ne 0 "$ACCEPTED" "channels accepted in one session"
audit_wait "a refusal for too many channels" event=channel_open \
    "reason=too many channels (max_channels_per_session)"

step "auth_request_flood_ends_the_connection"
OUT=$(timeout 60 "${HOSTILE[@]}" 127.0.0.1 1 auth-flood) ||
    fail "auth flood client: $OUT"
ANSWERED=$(echo "$OUT" | sed -n 's/^answered \([0-9]*\) .*/\1/p')
# max_auth_tries 6: at most 4 x 6 requests of any kind are answered.
assert_le 24 "$ANSWERED" "auth requests answered in one connection"
assert_ne 0 "$ANSWERED" "auth requests answered in one connection"
audit_wait "the session's end" event=session_end \
    "reason=too many authentication requests"

step "tiny_pieces_on_six_channels_in_turn_arrive_intact"
# hopd is paused while the client sends, so that its reads find pieces of
# six channels in turn, megabytes of them: what it gathers for each channel
# (more pieces than a tunnel keeps, more bytes than the gather buffer
# holds) must reach that channel's target, whole and in order.
coproc IL { exec timeout 120 "${HOSTILE[@]}" 127.0.0.1 "$ECHO" interleave; }
BG_PIDS+=("$IL_PID")
read -r -t 60 LINE <&"${IL[0]}" || LINE=
assert_eq open "$LINE" "the interleaving client's channels"
kill -STOP "$HOPD_PID"
echo go >&"${IL[1]}" || true
sleep 1
kill -CONT "$HOPD_PID"
read -r -t 110 OUT <&"${IL[0]}" || OUT=
assert_eq "intact 6 of 6" "$OUT" "echoes of six interleaved channels"

step "others_keep_flowing"
hopd_alive
w_roundtrip $((4 << 20)) after -W "127.0.0.1:$ECHO" alice@127.0.0.1
echo "PASS $TEST_NAME"

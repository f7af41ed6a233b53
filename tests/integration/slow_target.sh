#!/bin/bash
# An upload to a target that reads slowly (16 MB/s) arrives whole: the SSH
# window must stay what hopd granted however often the window opens and
# closes.  libssh tops a channel's window up to 1,280,000 after any read
# that leaves it low, whatever it still holds: reading what it kept back a
# little at a time let OpenSSH's client, respecting every window it was
# given, push libssh past the window hopd granted, and hopd ended the
# session as for a hostile client ("data past the window").  Meanwhile
# hopd's RSS stays within the per-tunnel bound.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

BYTES=$((64 << 20))
start_server SLOW stall slow --rate $((16 << 20))
start_server ECHO echo echo
HOPD_SERVER=("workers = 1")
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$SLOW,$ECHO
EOF2
w_roundtrip $((1 << 20)) warmup -W "127.0.0.1:$ECHO" alice@127.0.0.1
BASE_KB=$(rss_kb "$HOPD_PID")

step "upload_to_a_slow_reader_arrives_whole"
# The first bytes come after the channel is open: a far client to hopd,
# which grants it 4 MiB.
{ sleep 1; "$PY" "$NETUTIL" gen --bytes "$BYTES" --sha-file "$T/sent"; } |
    hop_ssh -W "127.0.0.1:$SLOW" alice@127.0.0.1 > /dev/null 2> "$T/ssh.err" &
SSH_PID=$!
PEAK_KB=$BASE_KB
for ((i = 0; i < 600; i++)); do
	kill -0 "$SSH_PID" 2>/dev/null || break
	R=$(rss_kb "$HOPD_PID")
	[ "$R" -gt "$PEAK_KB" ] && PEAK_KB=$R
	sleep 0.1
done
wait "$SSH_PID" || fail "ssh -W to the slow reader: $(cat "$T/ssh.err")"
wait_for 30 "the slow reader's report" reports_at_least slow 1
REPORT=$(find "$T/slow.d" -name 'conn-*' | head -n 1)
read -r SENT_BYTES SENT_SHA < "$T/sent"
assert_eq "$SENT_BYTES" "$(report_get "$REPORT" bytes_in)" "bytes that arrived"
assert_eq "$SENT_SHA" "$(report_get "$REPORT" sha_in)" "sha256 of what arrived"
audit_count_is 0 "reason=protocol violation: data past the window" ||
    fail "a session ended for data past the window"

step "rss_stays_within_the_tunnel_bound"
# The window (2 MiB) may move at once to the target's queue, with libssh's
# top-up (1.28 MB) and the read buffers: well under 16 MiB.
assert_le $((BASE_KB + 16384 + ${HOPD_RSS_SLACK_KB:-0})) "$PEAK_KB" \
    "hopd's peak RSS (KiB) during the slow upload"
echo "PASS $TEST_NAME"

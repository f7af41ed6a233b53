#!/bin/bash
# Flow control both ways: while 256 MiB wait behind a reader that does not
# read, hopd's RSS stays within its per-tunnel bound (DESIGN.md: channel
# buffer <= 1.96 MB + 256 KiB to TCP + 64 KiB read buffer + the client's
# window <= 2 MiB, ~4.5 MB; asserted as baseline + 24 MiB) and other
# tunnels on the same worker flow; when the reader wakes up, all 256 MiB
# arrive byte-exact.  (a) the target does not read what ssh -W pushes;
# (b) ssh -W's stdout is a pipe nobody reads while the target pushes.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

BIG=$((256 << 20))
LIMIT_KB=$((24 << 10))
start_server ECHO echo echo
start_server STALL stall stall --resume-file "$T/resume-target"
start_server SRC sink source --send "$BIG"
HOPD_SERVER=("workers = 1")
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO,$STALL,$SRC
EOF2

# Warm up (crypto init, first session) so the baseline is a real one.
w_roundtrip $((4 << 20)) warmup -W "127.0.0.1:$ECHO" alice@127.0.0.1
wait_for 10 "the warm-up session to end" audit_has event=session_end
BASE_KB=$(rss_kb "$HOPD_PID")
echo "baseline RSS ${BASE_KB} kB"
ssh_args

# rss_stays_bounded WHAT: samples hopd's RSS for 4 s after 2 s to settle.
rss_stays_bounded() {
	local i rss max=0
	sleep 2
	for ((i = 0; i < 20; i++)); do
		hopd_alive
		rss=$(rss_kb "$HOPD_PID")
		[ "$rss" -gt "$max" ] && max=$rss
		sleep 0.2
	done
	echo "$1: max RSS ${max} kB (baseline ${BASE_KB} kB)"
	assert_le $((BASE_KB + LIMIT_KB)) "$max" \
	    "$1: hopd's RSS in kB while 256 MiB wait"
}

# exits_0 PID WHAT: waits (60 s) for PID to end, with status 0.
exits_0() {
	local i rc=0
	for ((i = 0; i < 600; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && fail "$2 still runs after 60 s"
	wait "$1" || rc=$?
	assert_eq 0 "$rc" "exit status of $2"
}

step "stalled_target_bounds_memory"
# The pusher: 256 MiB into ssh -W towards a target that does not read.
mkfifo "$T/up.fifo"
(exec "$PY" "$NETUTIL" gen --bytes "$BIG" --sha-file "$T/up.sent" \
    > "$T/up.fifo") &
BG_PIDS+=("$!")
(exec ssh "${SSH_ARGS[@]}" -W "127.0.0.1:$STALL" alice@127.0.0.1 \
    < "$T/up.fifo" > /dev/null 2> "$T/up.err") &
UP=$!
BG_PIDS+=("$UP")
audit_wait "the stalled tunnel to open" event=channel_open \
    "target=127.0.0.1:$STALL" result=open
rss_stays_bounded "stalled target"
[ ! -e "$T/up.sent" ] ||
    fail "all 256 MiB were taken from a client whose target does not read"
kill -0 "$UP" 2>/dev/null ||
    fail "ssh -W to the stalled target ended: $(cat "$T/up.err")"

step "other_tunnel_flows_while_a_target_stalls"
SSH_TIMEOUT=30 w_roundtrip $((8 << 20)) during-up \
    -W "127.0.0.1:$ECHO" alice@127.0.0.1

step "stalled_target_resumes_and_gets_every_byte"
touch "$T/resume-target"
exits_0 "$UP" "ssh -W to the resumed target"
wait_for 10 "the resumed target to report" reports_at_least stall 1
R=$T/stall.d/conn-1
assert_eq "$(cat "$T/up.sent")" \
    "$(report_get "$R" bytes_in) $(report_get "$R" sha_in)" \
    "bytes and sha256 the resumed target read"

step "stalled_client_bounds_memory"
# The target pushes 256 MiB; ssh -W writes into a pipe that is not read.
mkfifo "$T/down.fifo"
(exec "$PY" "$NETUTIL" count --start-file "$T/resume-client" \
    --out "$T/down.got" < "$T/down.fifo") &
BG_PIDS+=("$!")
(exec ssh "${SSH_ARGS[@]}" -W "127.0.0.1:$SRC" alice@127.0.0.1 \
    < /dev/null > "$T/down.fifo" 2> "$T/down.err") &
DOWN=$!
BG_PIDS+=("$DOWN")
audit_wait "the stalled-client tunnel to open" event=channel_open \
    "target=127.0.0.1:$SRC" result=open
rss_stays_bounded "stalled client"
assert_eq 0 "$(reports source)" \
    "source connections that ended (its 256 MiB cannot all be taken)"
kill -0 "$DOWN" 2>/dev/null ||
    fail "ssh -W from the source ended: $(cat "$T/down.err")"

step "other_tunnel_flows_while_a_client_stalls"
SSH_TIMEOUT=30 w_roundtrip $((8 << 20)) during-down \
    -W "127.0.0.1:$ECHO" alice@127.0.0.1

step "stalled_client_resumes_and_gets_every_byte"
touch "$T/resume-client"
exits_0 "$DOWN" "ssh -W from the source after the client resumed"
wait_for 10 "the source to report" reports_at_least source 1
wait_for 10 "the client's reader to finish" test -s "$T/down.got"
R=$T/source.d/conn-1
assert_eq "$(report_get "$R" bytes_out) $(report_get "$R" sha_out)" \
    "$(cat "$T/down.got")" "bytes and sha256 the resumed client read"
hopd_alive
echo "PASS $TEST_NAME"

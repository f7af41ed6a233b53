#!/bin/bash
# Flow control both ways: while 256 MiB wait behind a reader that never
# reads, hopd's RSS stays within its per-tunnel bound (DESIGN.md: channel
# buffer <= 1.96 MB + 256 KiB to TCP + 64 KiB read buffer + the client's
# window <= 2 MiB, ~4.5 MB; asserted as baseline + 24 MiB).  (a) the target
# never reads what ssh -W pushes; (b) ssh -W's stdout is a pipe nobody
# reads while the target pushes.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

BIG=$((256 << 20))
LIMIT_KB=$((24 << 10))
start_server ECHO echo echo
start_server STALL stall stall
start_server SRC sink source --send "$BIG"
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

step "stalled_target_bounds_memory"
# The pusher: 256 MiB into ssh -W towards a target that never reads.
mkfifo "$T/up.fifo"
(exec "$PY" "$NETUTIL" gen --bytes "$BIG" --sha-file "$T/up.sent" \
    > "$T/up.fifo") &
GEN=$!
BG_PIDS+=("$GEN")
(exec ssh "${SSH_ARGS[@]}" -W "127.0.0.1:$STALL" alice@127.0.0.1 \
    < "$T/up.fifo" > /dev/null 2> "$T/up.err") &
UP=$!
BG_PIDS+=("$UP")
audit_wait "the stalled tunnel to open" event=channel_open \
    "target=127.0.0.1:$STALL" result=open
rss_stays_bounded "stalled target"
[ ! -e "$T/up.sent" ] ||
    fail "all 256 MiB were taken from a client whose target never reads"
kill -0 "$UP" 2>/dev/null || fail "ssh -W to the stalled target ended: $(cat "$T/up.err")"
stop "$UP"
stop "$GEN"

step "stalled_client_bounds_memory"
# The target pushes 256 MiB; ssh -W writes into a pipe nobody reads.
mkfifo "$T/down.fifo"
# sleep holds the pipe's read end and, on purpose, never reads it.
# shellcheck disable=SC2217
(exec sleep 120 < "$T/down.fifo") &
HOLD=$!
BG_PIDS+=("$HOLD")
(exec ssh "${SSH_ARGS[@]}" -W "127.0.0.1:$SRC" alice@127.0.0.1 \
    < /dev/null > "$T/down.fifo" 2> "$T/down.err") &
DOWN=$!
BG_PIDS+=("$DOWN")
audit_wait "the stalled-client tunnel to open" event=channel_open \
    "target=127.0.0.1:$SRC" result=open
rss_stays_bounded "stalled client"
assert_eq 0 "$(reports source)" \
    "source connections that ended (its 256 MiB cannot all be taken)"
kill -0 "$DOWN" 2>/dev/null || fail "ssh -W from the source ended: $(cat "$T/down.err")"
stop "$DOWN"
stop "$HOLD"

step "hopd_still_serves"
w_roundtrip 100000 after -W "127.0.0.1:$ECHO" alice@127.0.0.1
echo "PASS $TEST_NAME"

#!/bin/bash
# A client killed (SIGKILL) in the middle of a transfer, each direction:
# hopd closes the target connection within seconds, audits the tunnel's
# end, and holds no more file descriptors than before.  The other way
# round, a target that resets the connection mid-transfer ends the client.
# A client that hangs up right behind its data still has it delivered.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

BIG=$((1 << 30))
start_server ECHO echo echo
start_server SINK sink sink
start_server SRC sink source --send "$BIG"
start_server RST sink reset --abort-after 1000000
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO,$SINK,$SRC,$RST
EOF2

# A first tunnel: one-off allocations (crypto, audit file) happen here.
w_roundtrip 100000 warmup -W "127.0.0.1:$ECHO" alice@127.0.0.1
wait_for 10 "the warm-up session to end" audit_has event=session_end
FDS_BEFORE=$(fd_count "$HOPD_PID")
ssh_args

fd_back_to_baseline() {
	[ "$(fd_count "$HOPD_PID")" -le "$FDS_BEFORE" ]
}

wait_fds() {
	local i
	for ((i = 0; i < 100; i++)); do
		fd_back_to_baseline && return 0
		sleep 0.1
	done
	fail "hopd holds $(fd_count "$HOPD_PID") fds 10s after the kill, $FDS_BEFORE before:
$(ls -l "/proc/$HOPD_PID/fd")"
}

# killed_mid_transfer NAME PORT STDIN: ssh -W to 127.0.0.1:PORT, reading
# STDIN, is killed with SIGKILL while bytes flow.
killed_mid_transfer() {
	local name=$1 port=$2 stdin=$3 pid
	mkfifo "$T/$name.fifo"
	(exec "$PY" "$NETUTIL" gen --bytes "$stdin" --sha-file "$T/$name.sent" \
	    > "$T/$name.fifo") &
	BG_PIDS+=("$!")
	(exec ssh "${SSH_ARGS[@]}" -W "127.0.0.1:$port" alice@127.0.0.1 \
	    < "$T/$name.fifo" > /dev/null 2> "$T/$name.err") &
	pid=$!
	BG_PIDS+=("$pid")
	audit_wait "the $name tunnel to open" event=channel_open \
	    "target=127.0.0.1:$port" result=open
	sleep 0.5
	kill -0 "$pid" 2>/dev/null ||
	    fail "$name: ssh ended before it was killed: $(cat "$T/$name.err")"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
}

step "client_killed_while_sending_closes_the_target"
killed_mid_transfer up "$SINK" "$BIG"
wait_for 10 "the sink to see its connection end" reports_at_least sink 1
R=$T/sink.d/conn-1
N=$(report_get "$R" bytes_in)
if [ "$N" -le 0 ] || [ "$N" -ge "$BIG" ]; then
	fail "the sink read $N bytes; expected some, not all $BIG"
fi
audit_wait "the up tunnel's channel_close" event=channel_close \
    "target=127.0.0.1:$SINK"
wait_fds

step "client_killed_while_receiving_closes_the_target"
killed_mid_transfer down "$SRC" 0
wait_for 10 "the source to see its connection end" reports_at_least source 1
assert_eq "" "$(report_get "$T/source.d/conn-1" sha_out)" \
    "sha of a complete send (the send must have been cut)"
audit_wait "the down tunnel's channel_close" event=channel_close \
    "target=127.0.0.1:$SRC"
wait_fds
wait_for 10 "the 3 sessions so far to end" audit_count_is 3 event=session_end

step "target_reset_mid_transfer_ends_the_client"
rc=0
"$PY" "$NETUTIL" gen --bytes "$BIG" --sha-file "$T/rst.sent" 2> /dev/null |
    SSH_TIMEOUT=20 hop_ssh -W "127.0.0.1:$RST" alice@127.0.0.1 \
    > /dev/null 2> "$T/rst.err" || rc=$?
echo "ssh -W exited $rc after its target's reset"
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	fail "ssh -W still ran 20 s after its target reset the connection"
fi
[ ! -e "$T/rst.sent" ] || fail "all $BIG bytes were taken after a reset"
assert_eq aborted "$(report_get "$T/reset.d/conn-1" end)" \
    "how the resetting target ended"
audit_wait "the reset tunnel's channel_close" event=channel_close \
    "target=127.0.0.1:$RST"
wait_fds

step "client_gone_right_after_its_data_still_delivers_it"
# Data, then the TCP FIN, likely read in one go: the bytes hopd took from
# libssh must reach the target although the session ends at once.
OUT=$(timeout 60 "$PY" "$TOOLS/hostile.py" 127.0.0.1 "$HOPD_PORT" alice \
    "$T/id_alice" 127.0.0.1 "$SINK" send-and-vanish) ||
    fail "send-and-vanish client: $OUT"
read -r _ N _ SHA <<< "$OUT"
wait_for 10 "the sink to see the second connection end" reports_at_least sink 2
assert_eq "$N" "$(report_get "$T/sink.d/conn-2" bytes_in)" \
    "bytes that reached the sink from a client gone at once"
assert_eq "$SHA" "$(report_get "$T/sink.d/conn-2" sha_in)" \
    "sha256 of what reached the sink from a client gone at once"
wait_fds

step "hopd_still_serves"
w_roundtrip 100000 after -W "127.0.0.1:$ECHO" alice@127.0.0.1
hopd_alive
echo "PASS $TEST_NAME"

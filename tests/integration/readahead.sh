#!/bin/bash
# The read-ahead of libssh's socket (libssh_compat.c, trick 1) is in
# effect: an upload through -W is read in 256 KiB recv()s, counted and
# logged at exit; HOPD_READAHEAD=0 turns it off and the bytes still arrive
# intact.  A libssh whose recv() hopd no longer replaces would read 0 here.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo

reads_at_exit() {
	kill -TERM "$HOPD_PID"
	wait_for 10 "hopd to stop" bash -c "! kill -0 $HOPD_PID 2>/dev/null"
	sed -n 's/.*read-ahead: \([0-9]*\) reads.*/\1/p' "$HOPD_LOG" | tail -n 1
}

step "upload_is_read_ahead"
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2
w_roundtrip $((16 << 20)) on -W "127.0.0.1:$ECHO" alice@127.0.0.1
N=$(reads_at_exit)
[ -n "$N" ] || fail "no read-ahead count in hopd's log"
[ "$N" -ge 16 ] || fail "read-ahead reads for 16 MiB uploaded: $N, want >= 16"

step "hopd_readahead_0_turns_it_off"
: > "$HOPD_LOG"
HOPD_READAHEAD=0 hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2
w_roundtrip $((4 << 20)) off -W "127.0.0.1:$ECHO" alice@127.0.0.1
N=$(reads_at_exit)
assert_eq 0 "$N" "read-ahead reads with HOPD_READAHEAD=0"
HOPD_PID=""
echo "PASS $TEST_NAME"

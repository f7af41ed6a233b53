#!/bin/bash
# EOF crosses hopd each way, as a half-close: ssh -W closing its stdin makes
# the target read EOF (with every byte before it), and a target that sends
# N bytes and closes makes ssh write exactly those N bytes and exit 0.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

N=3000000
start_server SINK sink sink
start_server SRC sink source --send "$N"
start_server SRCX sink sourceclose --send "$N" --close-after-send
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$SINK,$SRC,$SRCX
EOF2

step "w_eof_propagates_to_target"
# The target keeps its side open: only the EOF of ssh's stdin ends it.
"$PY" "$NETUTIL" gen --bytes 777777 --sha-file "$T/up.sent" |
    hop_ssh -W "127.0.0.1:$SINK" alice@127.0.0.1 > "$T/up.out" ||
    fail "ssh -W to the sink exited $?"
wait_for 10 "the sink to read EOF" reports_at_least sink 1
R=$T/sink.d/conn-1
assert_eq eof "$(report_get "$R" end)" "how the sink's read ended"
assert_eq "$(cat "$T/up.sent")" \
    "$(report_get "$R" bytes_in) $(report_get "$R" sha_in)" \
    "bytes and sha256 the sink read before EOF"

step "w_eof_propagates_to_client"
# ssh's stdin stays open (gen --bytes 0 --hold): the target's EOF alone
# must reach ssh, which then writes EOF on its stdout...
mkfifo "$T/in"
# (the subshell opens the fifo, which blocks until ssh opens it too)
(exec "$PY" "$NETUTIL" gen --bytes 0 --hold 60 --sha-file "$T/in.sha" \
    > "$T/in") &
HOLDER=$!
BG_PIDS+=("$HOLDER")
hop_ssh -W "127.0.0.1:$SRC" alice@127.0.0.1 < "$T/in" 2> "$T/down.err" |
    "$PY" "$NETUTIL" count --out "$T/down.got" &
SSHJOB=$!
BG_PIDS+=("$SSHJOB")
wait_for 20 "ssh's stdout to end after the target's EOF" \
    test -s "$T/down.got"
wait_for 10 "the source to report" reports_at_least source 1
R=$T/source.d/conn-1
assert_eq "$(report_get "$R" bytes_out) $(report_get "$R" sha_out)" \
    "$(cat "$T/down.got")" "bytes and sha256 ssh wrote"
# ...and ssh exits 0 once its stdin ends too.
stop "$HOLDER"
rc=0
wait "$SSHJOB" || rc=$?
assert_eq 0 "$rc" "exit status of ssh -W after both EOFs"
assert_eq eof "$(report_get "$R" end)" "how the source's read ended"

step "w_target_bytes_after_client_eof_arrive"
# ssh's stdin is empty: its EOF reaches the target first, which then
# still sends N bytes on its half of the connection.
hop_ssh -W "127.0.0.1:$SRC" alice@127.0.0.1 < /dev/null 2> "$T/half.err" |
    "$PY" "$NETUTIL" count --out "$T/half.got" ||
    fail "ssh -W with an empty stdin exited non-zero: $(cat "$T/half.err")"
wait_for 10 "the source's second connection to report" \
    reports_at_least source 2
R=$T/source.d/conn-2
assert_eq "0 eof" "$(report_get "$R" bytes_in) $(report_get "$R" end)" \
    "what the source read before EOF"
assert_eq "$(report_get "$R" bytes_out) $(report_get "$R" sha_out)" \
    "$(cat "$T/half.got")" "bytes and sha256 ssh wrote after its own EOF"

step "w_target_close_ends_ssh_with_exit_0"
# A target that sends N bytes and closes at once, with ssh's stdin empty.
hop_ssh -W "127.0.0.1:$SRCX" alice@127.0.0.1 < /dev/null 2> "$T/x.err" |
    "$PY" "$NETUTIL" count --out "$T/x.got" ||
    fail "ssh -W from a closing target exited non-zero: $(cat "$T/x.err")"
wait_for 10 "the closing source to report" reports_at_least sourceclose 1
R=$T/sourceclose.d/conn-1
assert_eq "$(report_get "$R" bytes_out) $(report_get "$R" sha_out)" \
    "$(cat "$T/x.got")" "bytes and sha256 ssh wrote"
echo "PASS $TEST_NAME"

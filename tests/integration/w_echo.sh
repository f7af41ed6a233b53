#!/bin/bash
# ssh -W through hopd: 32 MiB to an echo server come back byte-exact, and
# the audit log of a 1 MiB tunnel to a sink counts exactly 1 MiB.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
start_server SINK sink sink
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO,$SINK
EOF2

step "w_echo_32mib_byte_exact"
w_roundtrip $((32 << 20)) echo32 -W "127.0.0.1:$ECHO" alice@127.0.0.1
wait_for 10 "the echo server to see the tunnel end" reports_at_least echo 1
assert_eq $((32 << 20)) "$(report_get "$T/echo.d/conn-1" bytes_in)" \
    "bytes the echo server received"

step "w_audit_counts_1mib_bytes_in"
"$PY" "$NETUTIL" gen --bytes 1048576 --sha-file "$T/sink.sent" |
    hop_ssh -W "127.0.0.1:$SINK" alice@127.0.0.1 > "$T/sink.out" ||
    fail "ssh -W to the sink failed"
wait_for 10 "the sink to see EOF" reports_at_least sink 1
assert_eq "$(cat "$T/sink.sent")" \
    "$(report_get "$T/sink.d/conn-1" bytes_in) $(report_get "$T/sink.d/conn-1" sha_in)" \
    "what the sink received"
audit_wait "channel_close of the sink tunnel" event=channel_close \
    "target=127.0.0.1:$SINK"
assert_eq 1048576 "$(audit_field bytes_in event=channel_close \
    "target=127.0.0.1:$SINK")" "channel_close bytes_in"
assert_eq 0 "$(audit_field bytes_out event=channel_close \
    "target=127.0.0.1:$SINK")" "channel_close bytes_out"
assert_eq allow "$(audit_field decision event=channel_open \
    "target=127.0.0.1:$SINK")" "channel_open decision"
echo "PASS $TEST_NAME"

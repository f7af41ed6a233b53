#!/bin/bash
# hopd grants a client sshd's 2 MiB window per channel, through libssh's
# one public way to raise it (libssh_compat.c, trick 5): libssh alone stops
# at 1,280,000.  OpenSSH's client logs every window adjust it receives
# (-vvv); an upload must see one of about 2 MiB, and none above 4 MiB.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server SINK sink sink
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$SINK
EOF2

step "upload_gets_a_2_MiB_window"
"$PY" "$NETUTIL" gen --bytes $((8 << 20)) --sha-file "$T/sent" |
    hop_ssh -vvv -W "127.0.0.1:$SINK" alice@127.0.0.1 2> "$T/ssh.err" ||
    fail "ssh -W: $(tail -n 5 "$T/ssh.err")"
MAX=$(sed -n 's/.*rcvd adjust \([0-9]*\).*/\1/p' "$T/ssh.err" |
    sort -n | tail -n 1)
[ -n "$MAX" ] || fail "no window adjust in ssh -vvv's log"
[ "$MAX" -gt 1280000 ] ||
    fail "largest window adjust $MAX: libssh's own top-up, not hopd's"
assert_le $((4 << 20)) "$MAX" "largest window adjust"
wait_for 10 "the sink's report" reports_at_least sink 1
echo "PASS $TEST_NAME"

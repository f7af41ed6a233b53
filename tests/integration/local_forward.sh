#!/bin/bash
# ssh -N -L through hopd: 20 concurrent connections through one local
# forward each get back exactly what they sent from an echo target.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2

step "local_forward_20_concurrent_byte_exact"
LPORT=$(free_port 127.0.0.1)
ssh_args
bg ssh "${SSH_ARGS[@]}" -N -o ExitOnForwardFailure=yes \
    -L "127.0.0.1:$LPORT:127.0.0.1:$ECHO" alice@127.0.0.1 2> "$T/ssh.err"
SSH_PID=$BG_LAST
wait_for 15 "ssh -L to listen on $LPORT" is_listening "$LPORT"
"$PY" "$NETUTIL" clients --port "$LPORT" --parallel 20 --bytes 1000000 ||
    fail "not every connection through -L was byte-exact"
wait_for 10 "20 tunnels to end at the echo server" reports_at_least echo 20
wait_for 10 "20 channel_close records of 1000000 bytes each way" \
    audit_count_is 20 event=channel_close bytes_in=1000000 \
    bytes_out=1000000

step "local_forward_refused_target_closes_the_connection"
# A -L whose target hopd refuses: the local connection is closed, no data.
DENIED=$(free_port 127.0.0.1)
LPORT2=$(free_port 127.0.0.1)
bg ssh "${SSH_ARGS[@]}" -o LogLevel=INFO -N -L "127.0.0.1:$LPORT2:127.0.0.1:$DENIED" \
    alice@127.0.0.1 2> "$T/ssh2.err"
wait_for 15 "ssh -L to listen on $LPORT2" is_listening "$LPORT2"
if "$PY" "$NETUTIL" clients --port "$LPORT2" --parallel 1 --bytes 10 \
    > "$T/denied.out"; then
	fail "a connection to a denied target came back as an echo"
fi
assert_file_contains "$T/denied.out" "clients: 0 of 1 byte-exact" \
    "the denied -L connection"
wait_for 10 "ssh to report the failed open (ssh said: $(cat "$T/ssh2.err"))" grep -q \
    "open failed: administratively prohibited" "$T/ssh2.err"
kill -0 "$SSH_PID" 2>/dev/null || fail "the first ssh -L died"
hopd_alive
echo "PASS $TEST_NAME"

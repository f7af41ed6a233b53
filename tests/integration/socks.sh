#!/bin/bash
# ssh -N -D through hopd: a SOCKS5 CONNECT to an allowed target echoes
# byte-exact; one to a denied target gets a refusal (a SOCKS failure code
# or a close before any reply), never a fake success.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
start_server DENIED_ECHO echo denied
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2

DPORT=$(free_port 127.0.0.1)
ssh_args
bg ssh "${SSH_ARGS[@]}" -N -o ExitOnForwardFailure=yes \
    -D "127.0.0.1:$DPORT" alice@127.0.0.1 2> "$T/ssh.err"
SSH_PID=$BG_LAST
wait_for 15 "ssh -D to listen on $DPORT" is_listening "$DPORT"

step "socks_connect_to_allowed_target_echoes"
"$PY" "$NETUTIL" socks --proxy-port "$DPORT" --host 127.0.0.1 \
    --port "$ECHO" --bytes 500000 > "$T/ok.out" ||
    fail "SOCKS5 to the allowed target: $(cat "$T/ok.out")"
assert_file_contains "$T/ok.out" "socks: echoed 500000 bytes" "SOCKS client"

step "socks_connect_to_denied_target_is_refused"
rc=0
"$PY" "$NETUTIL" socks --proxy-port "$DPORT" --host 127.0.0.1 \
    --port "$DENIED_ECHO" > "$T/denied.out" || rc=$?
assert_eq 3 "$rc" "exit status of the SOCKS client (3: refused; output: $(cat "$T/denied.out"))"
assert_not_contains "$(cat "$T/denied.out")" "reply=0" "SOCKS reply"
assert_eq 0 "$(reports denied)" "connections that reached the denied target"
audit_wait "the denial" event=channel_open "target=127.0.0.1:$DENIED_ECHO" \
    decision=deny result=refused

step "socks_proxy_survives_a_denial"
"$PY" "$NETUTIL" socks --proxy-port "$DPORT" --host 127.0.0.1 \
    --port "$ECHO" --bytes 1000 > "$T/ok2.out" ||
    fail "SOCKS5 after a denial: $(cat "$T/ok2.out")"
kill -0 "$SSH_PID" 2>/dev/null || fail "ssh -D died"
hopd_alive
echo "PASS $TEST_NAME"

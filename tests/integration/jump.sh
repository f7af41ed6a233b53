#!/bin/bash
# ssh -J through hopd to a destination sshd started by the test: a command
# runs there and its output comes back; 4 MiB of stdin arrive intact; a jump
# to a port the policy does not allow never reaches the destination.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	skip "the destination sshd needs root (/run/sshd, privilege separation)"
fi
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || fail "no sshd (openssh-server) to jump to"

DEST=$(free_port 127.0.0.1)
OTHER=$(free_port 127.0.0.1)
ME=$(id -un)
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$T/dest_host_key"
keygen dest
mkdir -p "$T/dest_auth"
cp "$T/id_dest.pub" "$T/dest_auth/$ME"
chmod 600 "$T/dest_auth/$ME"
cat > "$T/sshd_config" <<EOF2
ListenAddress 127.0.0.1
Port $DEST
HostKey $T/dest_host_key
AuthorizedKeysFile $T/dest_auth/%u
StrictModes no
UsePAM no
PidFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
LogLevel VERBOSE
EOF2
bg "$SSHD" -D -e -f "$T/sshd_config" 2> "$T/sshd.log"
wait_for 10 "the destination sshd to listen on $DEST (log: $(cat "$T/sshd.log"))" \
    is_listening "$DEST"

hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$DEST
EOF2

# jump ARGS...: ssh -J hop to the destination as $ME with the dest key.
jump() {
	timeout -k 5 60 ssh -F "$SSH_CONFIG" -i "$T/id_dest" -J hop "$@"
}

step "jump_runs_a_command_on_the_destination"
OUT=$(jump -p "$DEST" "$ME@127.0.0.1" 'echo hello-from-dest' 2> "$T/j1.err") ||
    fail "ssh -J exited $?: $(cat "$T/j1.err")"
assert_eq hello-from-dest "$OUT" "output of the command run through -J"
audit_wait "the -J tunnel's close" event=channel_close \
    "target=127.0.0.1:$DEST"
assert_eq allow "$(audit_field decision event=channel_open \
    "target=127.0.0.1:$DEST")" "decision of the -J open"

step "jump_carries_4mib_of_stdin_intact"
"$PY" "$NETUTIL" gen --bytes 4194304 --sha-file "$T/j2.sent" |
    jump -p "$DEST" "$ME@127.0.0.1" 'sha256sum' > "$T/j2.out" \
    2> "$T/j2.err" || fail "ssh -J with stdin exited $?: $(cat "$T/j2.err")"
assert_eq "$(cut -d' ' -f2 "$T/j2.sent")" "$(cut -d' ' -f1 "$T/j2.out")" \
    "sha256 the destination computed of stdin"

step "jump_to_a_denied_port_fails_before_the_destination"
CONNS_BEFORE=$(grep -c "Connection from" "$T/sshd.log" || true)
rc=0
jump -p "$OTHER" "$ME@127.0.0.1" true 2> "$T/j3.err" || rc=$?
assert_eq 255 "$rc" "exit status of ssh -J to a denied port"
assert_file_contains "$T/j3.err" "stdio forwarding failed" "ssh -J's stderr"
assert_eq "$CONNS_BEFORE" "$(grep -c "Connection from" "$T/sshd.log" || true)" \
    "connections the destination sshd saw"
audit_wait "the denial" event=channel_open "target=127.0.0.1:$OTHER" \
    decision=deny
hopd_alive
echo "PASS $TEST_NAME"

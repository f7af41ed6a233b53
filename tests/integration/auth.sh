#!/bin/bash
# Public key authentication: a wrong key and an unknown user get the same
# "Permission denied (publickey)" and are audited as failures; a plain
# `ssh alice@hop` (with or without a command) gets hopd's one-line message
# and exit status 1.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
keygen mallory
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
[user bob]
allow = 127.0.0.1:$ECHO
EOF2
# bob is in the policy but has no authorized_keys file.

# denied NAME USER: ssh as USER with mallory's key is refused.
denied() {
	local name=$1 user=$2 rc=0
	KEY=mallory hop_ssh -W "127.0.0.1:$ECHO" "$user@127.0.0.1" \
	    < /dev/null > "$T/$name.out" 2> "$T/$name.err" || rc=$?
	assert_eq 255 "$rc" "$name: exit status of ssh"
	assert_file_contains "$T/$name.err" "Permission denied (publickey)" \
	    "$name: ssh's stderr"
	[ ! -s "$T/$name.out" ] || fail "$name: data came through"
}

step "wrong_key_is_refused_and_audited"
denied wrongkey alice
audit_wait "the failed auth of alice" event=auth user=alice result=failure
MALLORY_FP=$(ssh-keygen -l -E sha256 -f "$T/id_mallory.pub" | cut -d' ' -f2)
assert_eq "$MALLORY_FP" "$(audit_field key event=auth user=alice \
    result=failure)" "key fingerprint in the failed auth record"
assert_eq publickey "$(audit_field method event=auth user=alice \
    result=failure)" "method in the failed auth record"
assert_eq 0 "$(audit_count event=channel_open)" "channel opens"
assert_eq 0 "$(audit_count event=auth result=success)" "successful auths"

step "unknown_user_and_missing_file_look_the_same"
denied unknown nosuchuser
denied nofile bob
audit_wait "the failed auth of nosuchuser" event=auth user=nosuchuser \
    result=failure
audit_wait "the failed auth of bob" event=auth user=bob result=failure
assert_eq 0 "$(audit_count event=auth result=success)" "successful auths"

step "right_key_still_works"
w_roundtrip 1000 ok -W "127.0.0.1:$ECHO" alice@127.0.0.1
audit_wait "alice's successful auth" event=auth user=alice result=success

MSG="hopd: this host only forwards TCP connections; try: ssh -J USER@HOST TARGET"

# session NAME ARGS...: ssh ARGS... prints hopd's message and exits 1.
session() {
	local name=$1 rc=0
	shift
	hop_ssh "$@" < /dev/null > "$T/$name.out" 2> "$T/$name.err" || rc=$?
	assert_eq 1 "$rc" "$name: exit status of ssh $*"
	assert_file_contains "$T/$name.err" "$MSG" "$name: ssh's stderr"
	[ ! -s "$T/$name.out" ] || fail "$name: ssh wrote to stdout: $(head -c 200 "$T/$name.out")"
}

step "plain_session_prints_message_and_exits_1"
session shell alice@127.0.0.1
step "session_with_command_prints_message_and_exits_1"
session exec alice@127.0.0.1 'echo pwned; id'
step "session_with_pty_prints_message_and_exits_1"
session pty -tt alice@127.0.0.1

step "subsystem_request_is_refused"
rc=0
hop_ssh -s alice@127.0.0.1 sftp < /dev/null > "$T/sftp.out" \
    2> "$T/sftp.err" || rc=$?
assert_eq 255 "$rc" "exit status of ssh -s sftp"
assert_file_contains "$T/sftp.err" "subsystem request failed" \
    "ssh -s sftp's stderr"
[ ! -s "$T/sftp.out" ] || fail "ssh -s sftp got data on stdout"
hopd_alive
echo "PASS $TEST_NAME"

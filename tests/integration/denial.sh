#!/bin/bash
# What a client sees when hopd refuses a direct-tcpip open, and what the
# audit log records: a policy denial, a connect failure (closed port), an
# invalid target, and a name rule that must not unlock loopback.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
CLOSED=$(free_port 127.0.0.1)	# nothing listens there
DENIED=$(free_port 127.0.0.1)
NAMED=$(free_port 127.0.0.1)
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO,$CLOSED
allow = 127.0.0.0/8:$DENIED
deny = 127.0.0.1:$DENIED
allow = localhost:$NAMED
EOF2

# refused_w NAME TARGET REASON: ssh -v -W TARGET exits 255, says that
# stdio forwarding failed, and shows hopd's debug message with REASON.
refused_w() {
	local name=$1 target=$2 reason=$3 rc=0
	hop_ssh -v -W "$target" alice@127.0.0.1 < /dev/null \
	    > "$T/$name.out" 2> "$T/$name.err" || rc=$?
	assert_eq 255 "$rc" "$name: exit status of ssh -W $target"
	assert_file_contains "$T/$name.err" "stdio forwarding failed" \
	    "$name: ssh's stderr"
	assert_file_contains "$T/$name.err" \
	    "open failed: administratively prohibited" "$name: ssh's stderr"
	assert_file_contains "$T/$name.err" \
	    "debug1: Remote: hopd: open $target refused: $reason" \
	    "$name: ssh's stderr"
	[ ! -s "$T/$name.out" ] || fail "$name: ssh wrote to stdout"
}

step "w_allowed_target_still_works"
w_roundtrip 100000 ok -W "127.0.0.1:$ECHO" alice@127.0.0.1

step "denied_by_policy_is_shown_and_audited"
refused_w policy "127.0.0.1:$DENIED" "denied by policy"
audit_wait "the denial" event=channel_open "target=127.0.0.1:$DENIED"
assert_eq deny "$(audit_field decision event=channel_open \
    "target=127.0.0.1:$DENIED")" "decision of the denied open"
assert_eq "$(conf_rule "deny = 127.0.0.1:$DENIED")" "$(audit_field rule event=channel_open \
    "target=127.0.0.1:$DENIED")" "rule of the denied open (the deny line)"
assert_eq refused "$(audit_field result event=channel_open \
    "target=127.0.0.1:$DENIED")" "result of the denied open"
assert_eq "denied by policy" "$(audit_field reason event=channel_open \
    "target=127.0.0.1:$DENIED")" "reason of the denied open"
assert_eq 0 "$(audit_count event=connect "addr=127.0.0.1:$DENIED")" \
    "connect attempts to a denied target"

step "connect_failure_is_shown_and_audited"
refused_w closed "127.0.0.1:$CLOSED" "connection refused"
audit_wait "the failed open" event=channel_open "target=127.0.0.1:$CLOSED"
assert_eq allow "$(audit_field decision event=channel_open \
    "target=127.0.0.1:$CLOSED")" "decision of the open to a closed port"
assert_eq "$(conf_rule "allow = 127.0.0.1:$ECHO,$CLOSED")" "$(audit_field rule event=channel_open \
    "target=127.0.0.1:$CLOSED")" "rule of the open to a closed port"
assert_eq "connection refused" "$(audit_field reason event=channel_open \
    "target=127.0.0.1:$CLOSED")" "reason of the open to a closed port"
assert_eq ECONNREFUSED "$(audit_field result event=connect \
    "addr=127.0.0.1:$CLOSED")" "result of the connect to a closed port"

step "integer_ipv4_target_is_invalid"
refused_w invalid "0x7f000001:$ECHO" "invalid target"
refused_w invalid2 "2130706433:$ECHO" "invalid target"
audit_wait "the invalid target" event=channel_open "target=0x7f000001:$ECHO"
assert_eq "invalid target" "$(audit_field reason event=channel_open \
    "target=0x7f000001:$ECHO")" "reason of the open to 0x7f000001"
assert_eq deny "$(audit_field decision event=channel_open \
    "target=0x7f000001:$ECHO")" "decision of the open to 0x7f000001"

step "name_rule_does_not_unlock_loopback"
start_server NAMED_ECHO echo named --port "$NAMED"
refused_w named "localhost:$NAMED" "denied by policy"
assert_eq 0 "$(reports named)" "connections that reached the named target"
assert_eq 0 "$(audit_count event=connect "addr~:$NAMED")" \
    "connect attempts to localhost:$NAMED"

step "name_resolving_to_an_allowed_address_connects"
# localhost is no rule's name, but it resolves to 127.0.0.1, which an
# address rule allows: hopd connects by that address.
w_roundtrip 1000 byname -W "localhost:$ECHO" alice@127.0.0.1
audit_wait "the open by name" event=channel_open "target=localhost:$ECHO" \
    result=open
assert_eq "$(conf_rule "allow = 127.0.0.1:$ECHO,$CLOSED")" \
    "$(audit_field rule event=channel_open "target=localhost:$ECHO")" \
    "rule of the open by name"

step "hostile_target_string_is_refused_and_escaped"
HOSTILE='a"b}{ c:22'
rc=0
hop_ssh -W "$HOSTILE" alice@127.0.0.1 < /dev/null > /dev/null \
    2> "$T/hostile.err" || rc=$?
assert_eq 255 "$rc" "exit status of ssh -W to a hostile target string"
audit_wait "the hostile open" event=channel_open "target~}{"
assert_eq "$HOSTILE" "$(audit_field target event=channel_open "target~}{")" \
    "target of the hostile open, read back from JSON"
assert_eq "invalid target" "$(audit_field reason event=channel_open \
    "target~}{")" "reason of the hostile open"

step "default_deny_names_no_rule"
refused_w default "127.0.0.1:$NAMED" "denied by policy"
assert_eq default "$(audit_field rule event=channel_open \
    "target=127.0.0.1:$NAMED")" "rule of an open no rule allows"

hopd_alive
echo "PASS $TEST_NAME"

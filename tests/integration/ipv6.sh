#!/bin/bash
# IPv6: hopd listening on [::1] only; ssh -W through it to an echo server
# on [::1], allowed by an explicit [::1] rule, byte-exact; the same target
# under its IPv4-mapped form is no way around the policy.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

if ! "$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	skip "no IPv6 loopback here"
fi
start_server ECHO echo echo --bind ::1
HOPD_PORT=$(free_port ::1)
HOPD_LISTEN="[::1]:$HOPD_PORT"
hopd_start <<EOF2
[user alice]
allow = [::1]:$ECHO
EOF2

step "listens_on_ipv6_only"
ss -Hltn "sport = :$HOPD_PORT" > "$T/ss.out"
assert_file_contains "$T/ss.out" "[::1]:$HOPD_PORT" "hopd's listening sockets"
[ "$(wc -l < "$T/ss.out")" -eq 1 ] ||
    fail "hopd listens on more than [::1]: $(cat "$T/ss.out")"

step "w_over_ipv6_to_ipv6_target_byte_exact"
w_roundtrip $((8 << 20)) v6 -W "[::1]:$ECHO" alice@::1
audit_wait "the tunnel's close" event=channel_close target~"$ECHO"
assert_contains "$(audit_field peer event=session_start)" "::1" \
    "session_start peer"
assert_eq $((8 << 20)) "$(audit_field bytes_in event=channel_close)" \
    "channel_close bytes_in"

step "ipv4_mapped_form_is_refused"
rc=0
hop_ssh -v -W "[::ffff:127.0.0.1]:$ECHO" alice@::1 < /dev/null \
    > /dev/null 2> "$T/mapped.err" || rc=$?
assert_eq 255 "$rc" "exit status of ssh -W to ::ffff:127.0.0.1"
assert_file_contains "$T/mapped.err" "refused" "ssh's stderr"
assert_eq 1 "$(reports echo)" "connections that reached the echo server"
hopd_alive
echo "PASS $TEST_NAME"

#!/bin/bash
# hopd -t checks the files the configuration names, not only its text: a
# host key that is missing, not a key, a directory, unreadable or too weak,
# an audit log that cannot be written, an authorized_keys or
# authorized_principals directory that is not there, a revoked_keys file
# that does not parse, and a trusted_user_ca_keys line that is no key
# (named with the CA file's own line) each fail with one "FILE: key:
# reason" line; a good configuration prints "configuration ok", exits 0
# and creates nothing.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

ssh-keygen -q -t ed25519 -N '' -C hopd-test -f "$T/host_key"
mkdir -p "$T/keys" "$T/logs"

# conf HOST_KEY [AUDIT_LOG [AUTHORIZED_KEYS [EXTRA]]]: writes $HOPD_CONF;
# EXTRA is more [server] lines.
conf() {
	cat > "$HOPD_CONF" <<EOF2
[server]
listen = 127.0.0.1:2222
host_key = $1
authorized_keys = ${3:-$T/keys/%u}
audit_log = ${2:-$T/logs/audit.jsonl}
${4:-}

[user alice]
allow = 127.0.0.1:22
EOF2
}

# check_fails WHAT NEEDLE: hopd -t exits 1 and says NEEDLE on stderr.
check_fails() {
	local rc=0
	"$HOPD" -t -f "$HOPD_CONF" > "$T/t.out" 2> "$T/t.err" || rc=$?
	assert_eq 1 "$rc" "exit status of hopd -t with $1"
	assert_file_contains "$T/t.err" "$2" "hopd -t's stderr with $1"
	assert_not_contains "$(cat "$T/t.out")" "configuration ok" \
	    "hopd -t's stdout with $1"
}

step "good_config_is_ok_and_creates_nothing"
conf "$T/host_key"
OUT=$("$HOPD" -t -f "$HOPD_CONF" 2> "$T/t.err") ||
    fail "hopd -t on a good config exited $?: $(cat "$T/t.err")"
assert_eq "$HOPD_CONF: configuration ok" "$OUT" "hopd -t's stdout"
assert_eq "" "$(cat "$T/t.err")" "hopd -t's stderr"
[ ! -e "$T/logs/audit.jsonl" ] || fail "hopd -t created the audit log"

step "missing_host_key_is_named"
conf "$T/no_such_key"
check_fails "a missing host key" \
    "$T/no_such_key: host_key: No such file or directory"

step "host_key_that_is_not_a_key_is_named"
head -c 300 /dev/urandom > "$T/garbage"
conf "$T/garbage"
check_fails "garbage as host key" "$T/garbage: host_key: not a private key"

step "host_key_that_is_a_directory_is_named"
mkdir "$T/keydir"
conf "$T/keydir"
check_fails "a directory as host key" "$T/keydir: host_key: not a regular file"

step "unreadable_host_key_is_named"
if [ "$(id -u)" -ne 0 ]; then
	cp "$T/host_key" "$T/locked_key"
	chmod 000 "$T/locked_key"
	conf "$T/locked_key"
	check_fails "an unreadable host key" \
	    "$T/locked_key: host_key: Permission denied"
else
	echo "(as root every file is readable: covered by the cases above)"
fi

step "short_rsa_host_key_is_named"
ssh-keygen -q -t rsa -b 1024 -N '' -f "$T/rsa1024"
conf "$T/rsa1024"
check_fails "a 1024-bit RSA host key" "$T/rsa1024: host_key: "
assert_file_contains "$T/t.err" "too small" "hopd -t on a 1024-bit RSA key"

step "audit_log_in_a_missing_directory_is_named"
conf "$T/host_key" "$T/nowhere/audit.jsonl"
check_fails "an audit log in a missing directory" \
    "$T/nowhere/audit.jsonl: audit_log: cannot create it in $T/nowhere"

step "audit_log_that_is_a_directory_is_named"
conf "$T/host_key" "$T/logs"
check_fails "a directory as audit log" "$T/logs: audit_log: Is a directory"

step "missing_authorized_keys_directory_is_named"
conf "$T/host_key" "" "$T/nokeys/%u"
check_fails "a missing authorized_keys directory" \
    "$T/nokeys: authorized_keys: No such file or directory"

step "missing_authorized_principals_directory_is_named"
conf "$T/host_key" "" "" "authorized_principals = $T/noprinc/%u"
check_fails "a missing authorized_principals directory" \
    "$T/noprinc: authorized_principals: No such file or directory"

step "revoked_keys_that_do_not_parse_are_named"
echo "not a key" > "$T/revoked"
conf "$T/host_key" "" "" "revoked_keys = $T/revoked"
check_fails "a revoked_keys file that does not parse" \
    "$T/revoked: revoked_keys: "
assert_file_contains "$T/t.err" "every key is refused" \
    "hopd -t on a bad revoked_keys"
: > "$T/revoked"
conf "$T/host_key" "" "" "revoked_keys = $T/revoked"
"$HOPD" -t -f "$HOPD_CONF" > "$T/t.out" 2> "$T/t.err" ||
    fail "hopd -t with an empty revoked_keys: $(cat "$T/t.err")"

step "trusted_user_ca_keys_line_that_is_no_key_is_named"
ssh-keygen -q -t ed25519 -N '' -f "$T/ca"
{ cat "$T/ca.pub"; echo "ssh-ed25519 AAAAnotbase64"; } > "$T/cas"
conf "$T/host_key" "" "" "trusted_user_ca_keys = $T/cas"
check_fails "a CA file with a bad line" \
    "trusted_user_ca_keys: $T/cas:2: "

step "every_problem_is_reported_once"
conf "$T/garbage" "$T/nowhere/audit.jsonl" "$T/nokeys/%u"
check_fails "three problems" "$T/garbage: host_key: "
assert_eq 3 "$(wc -l < "$T/t.err")" "lines on hopd -t's stderr:
$(cat "$T/t.err")"
echo "PASS $TEST_NAME"

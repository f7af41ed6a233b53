#!/bin/bash
# SIGHUP with another audit_log: the new file is opened before anything
# changes and the records of later sessions land there, none in the old
# file; a reload naming an audit log that cannot be opened is refused as a
# whole (the old policy and the old audit file stay).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

AUDIT1=$AUDIT
AUDIT2=$T/audit2.jsonl

start_server ECHO echo echo
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2

# set_conf AUDIT_LOG POLICY_LINE: the config with another audit_log and
# alice's one allow line, written atomically.
set_conf() {
	sed -e "s|^audit_log = .*|audit_log = $1|" \
	    -e "s|^allow = .*|$2|" "$HOPD_CONF" > "$HOPD_CONF.new"
	mv "$HOPD_CONF.new" "$HOPD_CONF"
}

# tunnel NAME: one ssh -W session through hopd, 64 KiB echoed byte-exact.
tunnel() {
	w_roundtrip 65536 "$1" -W "127.0.0.1:$ECHO" hop
}

step "records_go_to_the_configured_file"
tunnel first
audit_wait "the first tunnel's close" event=channel_close
FIRST=$(audit_field session event=session_start)

step "reload_with_another_audit_log_switches_files"
set_conf "$AUDIT2" "allow = 127.0.0.1:$ECHO"
hopd_reload "reloaded $HOPD_CONF"
[ -f "$AUDIT2" ] || fail "no $AUDIT2 after the reload"
tunnel second
AUDIT=$AUDIT2 audit_wait "the second tunnel's close in the new file" \
    event=channel_close
SECOND=$(AUDIT=$AUDIT2 audit_field session event=session_start)
assert_ne "$FIRST" "$SECOND" "session id of the second session"
assert_eq 0 "$(AUDIT=$AUDIT1 audit_count "session=$SECOND")" \
    "records of the second session in the old file"
AUDIT=$AUDIT2 audit_wait "the second session's end in the new file" \
    event=session_end "session=$SECOND"

step "reload_with_an_unopenable_audit_log_is_refused_whole"
# The same reload also drops alice's rule: refused, the rule stays.
set_conf "$T/nowhere/audit.jsonl" "allow = 127.0.0.1:1"
hopd_reload "reload failed: cannot open the audit log $T/nowhere/audit.jsonl"
grep -qF "audit: $T/nowhere/audit.jsonl" "$HOPD_LOG" ||
    fail "hopd's log does not say why $T/nowhere/audit.jsonl failed"
N1=$(wc -l < "$AUDIT1")
tunnel third
AUDIT=$AUDIT2 wait_for 10 "the third tunnel's close in the current file" \
    audit_count_is 2 event=channel_close
assert_eq 2 "$(AUDIT=$AUDIT2 audit_count event=channel_open decision=allow)" \
    "channel opens allowed (the old rule) in the current file"
assert_eq "$N1" "$(wc -l < "$AUDIT1")" "lines of the first audit file"
[ ! -e "$T/nowhere" ] || fail "the refused reload created $T/nowhere"
hopd_alive
echo "PASS $TEST_NAME"

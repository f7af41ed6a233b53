#!/bin/bash
# audit_log = FILE journal: every audit record also goes to the journal as
# one structured entry (MESSAGE = the human line, SYSLOG_IDENTIFIER=hopd,
# HOPD_<FIELD> per field), through libsystemd's native protocol.  systemd
# is not PID 1 here: the whole script runs in a private mount namespace
# with a tmpfs on /run/systemd/journal (or above it, when that does not
# exist), where tests/tools/journalsink.py binds journald's socket and
# writes what it receives as JSON lines.  Root only: skips (77) otherwise.
if [ -z "${HOPD_JOURNAL_NS:-}" ] && [ "$(id -u)" -eq 0 ] &&
    command -v unshare > /dev/null; then
	export HOPD_JOURNAL_NS=1
	exec unshare -m --propagation private /bin/bash "$0" "$@"
fi
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

need_root "a private mount namespace over /run/systemd/journal"
[ -n "${HOPD_JOURNAL_NS:-}" ] || skip "unshare -m did not run"

# ---------------------------------------------------------------- the fake journald
JDIR=/run/systemd/journal
for m in /run/systemd/journal /run/systemd /run; do
	if [ -d "$m" ]; then
		mount -t tmpfs -o mode=755,size=4m hopd-journal-test "$m" ||
		    skip "cannot mount a tmpfs on $m"
		break
	fi
done
mkdir -p "$JDIR"
JSOCK=$JDIR/socket

# sink_start NAME: journalsink.py on $JSOCK, its entries in $T/NAME.jsonl;
# its pid in SINK.
sink_start() {
	rm -f "$T/$1.ready"
	: > "$T/$1.jsonl"
	bg "$PY" "$TOOLS/journalsink.py" --socket "$JSOCK" \
	    --out "$T/$1.jsonl" --ready-file "$T/$1.ready" --lifetime 300 \
	    2>> "$T/$1.err"
	SINK=$BG_LAST
	wait_for 10 "journalsink $1 ready" test -s "$T/$1.ready"
	JOURNAL=$T/$1.jsonl
}

# use_audit_log VALUE: hopd_start runs hopd with audit_log = VALUE (its
# config as lib.sh writes it, the audit_log line replaced).
HOPD_REAL=$HOPD
use_audit_log() {
	# shellcheck disable=SC2016 # $2 is the wrapper's
	{
		echo '#!/bin/sh'
		printf 'sed "s|^audit_log = .*|audit_log = %s|" "$2" > "$2.j" &&\n' \
		    "$1"
		printf 'exec %q -f "$2.j"\n' "$HOPD_REAL"
	} > "$T/hopd-journal"
	chmod 755 "$T/hopd-journal"
	HOPD=$T/hopd-journal
}

jcount() {	# journal lines
	wc -l < "$JOURNAL"
}

# journal_matches_audit: the journal entries are the audit records, one for
# one (every field equal, as text), each with MESSAGE the human line that
# hopd logged, SYSLOG_IDENTIFIER=hopd and its priority.
journal_matches_audit() {
	"$PY" - "$AUDIT" "$JOURNAL" "$HOPD_LOG" <<'EOF'
import collections, json, sys
audit = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
jour = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
logged = set()
for l in open(sys.argv[3], errors="surrogateescape"):
    if " hopd: " in l:
        logged.add(l.rstrip("\n").split(" hopd: ", 1)[1])
def want(rec):
    f = []
    for k, v in rec.items():
        if v is None or v == []:
            continue
        key = "HOPD_" + k.upper()
        if isinstance(v, list):
            v = v[0] if len(v) == 1 else tuple(str(x) for x in v)
        f.append((key, str(v) if not isinstance(v, tuple) else v))
    return tuple(sorted(f))
def got(ent):
    f = []
    for k, v in ent.items():
        if k.startswith("HOPD_"):
            f.append((k, tuple(v) if isinstance(v, list) else v))
    return tuple(sorted(f))
bad = []
for e in jour:
    if "_error" in e:
        bad.append("undecodable entry: %r" % e)
        continue
    if e.get("SYSLOG_IDENTIFIER") != "hopd":
        bad.append("SYSLOG_IDENTIFIER %r" % e.get("SYSLOG_IDENTIFIER"))
    deny = e.get("HOPD_DECISION") == "deny"
    if e.get("PRIORITY") != ("5" if deny else "6") and not (
            e.get("PRIORITY") == "5" and e.get("HOPD_RESULT") not in (
                None, "ok", "open", "success")):
        bad.append("PRIORITY %r of %r" % (e.get("PRIORITY"), e))
    if not isinstance(e.get("MESSAGE"), str) or e["MESSAGE"] not in logged:
        bad.append("MESSAGE %r is not a line hopd logged" % e.get("MESSAGE"))
wa = collections.Counter(want(r) for r in audit)
gj = collections.Counter(got(e) for e in jour if "_error" not in e)
for k in (wa - gj):
    bad.append("audit record without its journal entry: %r" % (k,))
for k in (gj - wa):
    bad.append("journal entry without its audit record: %r" % (k,))
ea = collections.Counter(r["event"] for r in audit)
ej = collections.Counter(e.get("HOPD_EVENT") for e in jour)
print("   audit %s / journal %s" % (dict(ea), dict(ej)))
if ea != ej:
    bad.append("records per event differ")
for b in bad[:10]:
    print("   " + b)
sys.exit(1 if bad or not audit else 0)
EOF
}

# jfield FIELD FILTER...: FIELD of the last journal entry whose fields
# equal each KEY=VALUE of FILTER (a list value: one element equal).
jfield() {
	"$PY" - "$JOURNAL" "$@" <<'EOF'
import json, sys
field, flt = sys.argv[2], [a.split("=", 1) for a in sys.argv[3:]]
out = None
for l in open(sys.argv[1]):
    e = json.loads(l)
    def eq(k, v):
        x = e.get(k)
        return x == v or (isinstance(x, list) and v in x)
    if all(eq(k, v) for k, v in flt):
        out = e.get(field)
if out is None:
    sys.exit(1)
print(json.dumps(out) if not isinstance(out, str) else out)
EOF
}

jhas() {	# FILTER...
	jfield HOPD_EVENT "$@" > /dev/null
}

start_server ECHO echo echo
sink_start journal
use_audit_log "$AUDIT journal"
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2

step "hopd_t_accepts_a_file_and_journal"
OUT=$("$HOPD_REAL" -t -f "$HOPD_CONF.j" 2>&1) ||
    fail "hopd -t with audit_log = $AUDIT journal: $OUT"
assert_contains "$OUT" "configuration ok" "hopd -t"

# ------------------------------------------------------------------------
step "every_record_is_a_journal_entry"
w_roundtrip 65536 first -W "127.0.0.1:$ECHO" hop
# A denied channel to a target whose name tries to forge fields: with
# newlines, a quote and a line that looks like a field of its own.
EVIL=$'evil"q\nHOPD_USER=mallory\nMESSAGE=forged\nx'
OUT=$(timeout -k 5 30 "$PY" "$HOSTILE2" probe --port "$HOPD_PORT" \
    --user alice --key "$T/id_alice" --target "$EVIL:$ECHO" --timeout 5 \
    2>&1) && fail "the hostile target was allowed: $OUT"
audit_wait "the first session's end" event=session_end
wait_for 10 "two session ends in the journal" \
    test "$(grep -c '"HOPD_EVENT": "session_end"' "$JOURNAL")" -eq 2
wait_for 10 "as many journal entries as audit records" \
    test "$(jcount)" -eq "$(wc -l < "$AUDIT")"
check journal_matches_audit

step "the_fields_are_right"
check assert_eq alice "$(jfield HOPD_USER HOPD_EVENT=channel_open \
    HOPD_DECISION=allow)" "HOPD_USER of the allowed open"
check assert_eq "127.0.0.1:$ECHO" "$(jfield HOPD_TARGET \
    HOPD_EVENT=channel_open HOPD_DECISION=allow)" \
    "HOPD_TARGET of the allowed open"
check assert_eq 65536 "$(jfield HOPD_BYTES_IN HOPD_EVENT=channel_close)" \
    "HOPD_BYTES_IN of the close"
check assert_eq 6 "$(jfield PRIORITY HOPD_EVENT=channel_open \
    HOPD_DECISION=allow)" "PRIORITY of the allowed open"
check assert_eq 5 "$(jfield PRIORITY HOPD_EVENT=channel_open \
    HOPD_DECISION=deny)" "PRIORITY of the denied open"
check assert_eq hopd "$(jfield SYSLOG_IDENTIFIER HOPD_EVENT=channel_close)" \
    "SYSLOG_IDENTIFIER"
HUMAN=$(jfield MESSAGE HOPD_EVENT=channel_close)
check assert_contains "$HUMAN" "channel_close" "MESSAGE of the close"
check assert_contains "$HUMAN" "bytes_in=65536" "MESSAGE of the close"

step "a_hostile_target_arrives_intact_and_forges_nothing"
check assert_eq "$EVIL:$ECHO" "$(jfield HOPD_TARGET HOPD_EVENT=channel_open \
    HOPD_DECISION=deny)" "HOPD_TARGET of the denied open (byte for byte)"
check assert_eq alice "$(jfield HOPD_USER HOPD_EVENT=channel_open \
    HOPD_DECISION=deny)" "HOPD_USER of the denied open (one, not mallory)"
check assert_eq '["HOPD_TARGET"]' "$(jfield _binary HOPD_EVENT=channel_open \
    HOPD_DECISION=deny)" "fields sent in the binary form"
MSG=$(jfield MESSAGE HOPD_EVENT=channel_open HOPD_DECISION=deny)
check assert_not_contains "$MSG" $'\n' "MESSAGE of the denied open"
check assert_contains "$MSG" 'evil\"q\nHOPD_USER=mallory' \
    "MESSAGE of the denied open (escaped)"

# ------------------------------------------------------------------------
step "a_journald_that_does_not_read_stalls_nothing"
# Its socket queue holds 10 datagrams; the journal thread then waits in
# sendmsg(2), never a worker.
kill -STOP "$SINK"
for i in 1 2 3 4; do
	check echo_probe "echo $i while journald is stopped" alice \
	    "127.0.0.1:$ECHO"
done
kill -CONT "$SINK"
wait_for 10 "the journal catching up after journald reads again" \
    test "$(jcount)" -eq "$(wc -l < "$AUDIT")"
check journal_matches_audit

step "hopd_keeps_serving_when_the_socket_is_removed"
rm -f "$JSOCK"
N=$(jcount)
CLOSES=$(audit_count event=channel_close)
check echo_probe "echo without journald" alice "127.0.0.1:$ECHO"
wait_for 10 "hopd logging that journal records are lost" \
    grep -qF "audit: cannot send to the journal (no socket $JSOCK)" \
    "$HOPD_LOG"
check echo_probe "echo again without journald" alice "127.0.0.1:$ECHO"
audit_wait "the file still gets the records" event=channel_close
wait_for 10 "both closes in the audit file" \
    audit_count_is $((CLOSES + 2)) event=channel_close
check assert_eq "$N" "$(jcount)" "journal entries after the socket went"
hopd_alive
stop "$SINK"

# ------------------------------------------------------------------------
step "journal_only_needs_no_file"
sink_start journal2
use_audit_log journal
hopd_restart <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2
OUT=$("$HOPD_REAL" -t -f "$HOPD_CONF.j" 2>&1) ||
    fail "hopd -t with audit_log = journal: $OUT"
assert_contains "$OUT" "configuration ok" "hopd -t (journal only)"
w_roundtrip 4096 second -W "127.0.0.1:$ECHO" hop
wait_for 10 "the session's end in the journal" jhas HOPD_EVENT=session_end
check assert_eq 4096 "$(jfield HOPD_BYTES_IN HOPD_EVENT=channel_close)" \
    "HOPD_BYTES_IN (journal only)"
check assert_eq 0 "$(wc -c < "$AUDIT")" "bytes in the audit file"
hopd_alive
checks_done

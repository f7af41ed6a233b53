#!/bin/bash
# Signals of a running hopd.  SIGHUP: a tunnel the new policy still allows
# goes on byte-exact across the reload, one it no longer allows is closed
# and audited (policy_reload), a broken file is refused with FILE:LINE and
# the old policy stays in force.  SIGUSR1 after the audit file was moved
# makes a new one.  SIGTERM with live tunnels closes them with audit records
# and exits 0 within a bound.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

HALF_BYTES=$((4 << 20))
STOP_BOUND_S=10

start_server ECHO echo echo
start_server ECHO2 echo echo2
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO,$ECHO2
EOF2
# The [server] part hopd_start wrote, up to its blank line.
sed '/^$/q' "$HOPD_CONF" > "$T/server.part"

# set_policy < POLICY: replaces the config's policy part, atomically, so
# that a reload never reads half a file.
set_policy() {
	{
		cat "$T/server.part"
		cat
	} > "$HOPD_CONF.new"
	mv "$HOPD_CONF.new" "$HOPD_CONF"
}

log_has() {	# TEXT
	grep -qF -- "$1" "$HOPD_LOG"
}

# paced_gen: HALF_BYTES random bytes, then, once $T/go exists, HALF_BYTES
# more; writes "BYTES SHA" of everything to $T/paced.sent.  Keeps stdout
# open afterwards until $T/done exists (so ssh -W does not end early).
paced_gen() {
	"$PY" - "$HALF_BYTES" "$T" <<'PYEOF'
import hashlib, os, sys, time
half, t = int(sys.argv[1]), sys.argv[2]
out, h = sys.stdout.buffer, hashlib.sha256()
def send(n):
    while n > 0:
        b = os.urandom(min(65536, n))
        out.write(b); h.update(b); n -= len(b)
    out.flush()
deadline = time.monotonic() + 100
def wait(name):
    # Ends with the test: lib.sh kills the pipeline's shell, not us.
    while not os.path.exists(os.path.join(t, name)):
        if not os.path.isdir(t) or time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.05)
send(half)
wait("go")
send(half)
with open(os.path.join(t, "paced.sent.tmp"), "w") as f:
    f.write("%d %s\n" % (2 * half, h.hexdigest()))
os.rename(os.path.join(t, "paced.sent.tmp"), os.path.join(t, "paced.sent"))
wait("done")
PYEOF
}

progress_at_least() {	# FILE N
	[ -s "$1" ] && [ "$(cat "$1")" -ge "$2" ]
}

audit_count_above() {	# N FILTER...
	local n=$1
	shift
	[ "$(audit_count "$@")" -gt "$n" ]
}

sessions_ended() {
	[ "$(audit_count event=session_start)" -eq \
	    "$(audit_count event=session_end)" ]
}

# ------------------------------------------------------------------------
step "reload_keeps_allowed_tunnel_byte_exact"
step "reload_closes_tunnel_no_longer_allowed"
ssh_args
bg bash -c "$(declare -f paced_gen); PY=$PY HALF_BYTES=$HALF_BYTES T=$T \
    paced_gen | ssh ${SSH_ARGS[*]} -W 127.0.0.1:$ECHO alice@127.0.0.1 \
    2> $T/paced.err | $PY $NETUTIL count --out $T/paced.got \
    --progress $T/paced.progress"
wait_for 30 "the first half to come back through the tunnel" \
    progress_at_least "$T/paced.progress" "$HALF_BYTES"

bg bash -c "$PY $NETUTIL gen --bytes 1000 --sha-file $T/doomed.sent \
    --hold 60 | ssh ${SSH_ARGS[*]} -W 127.0.0.1:$ECHO2 alice@127.0.0.1 \
    2> $T/doomed.err | $PY $NETUTIL count --out $T/doomed.got \
    --progress $T/doomed.progress"
wait_for 20 "the second tunnel to echo its 1000 bytes" \
    progress_at_least "$T/doomed.progress" 1000

set_policy <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2
hopd_reload "reloaded $HOPD_CONF"
audit_wait "the disallowed tunnel closed by the reload" event=channel_close \
    "target=127.0.0.1:$ECHO2" reason=policy_reload
wait_for 10 "ssh -W of the closed tunnel to end" test -s "$T/doomed.got"
assert_eq 0 "$(audit_count event=channel_close "target=127.0.0.1:$ECHO")" \
    "channel_close records of the still-allowed tunnel before its end"

touch "$T/go"
wait_for 30 "the second half to come back" \
    progress_at_least "$T/paced.progress" $((2 * HALF_BYTES))
touch "$T/done"
wait_for 20 "the straddling transfer to end" test -s "$T/paced.got"
wait_for 5 "the sender's sha" test -s "$T/paced.sent"
assert_eq "$(cat "$T/paced.sent")" "$(cat "$T/paced.got")" \
    "bytes and sha256 through a tunnel that straddled the reload"
audit_wait "the straddling tunnel's close" event=channel_close \
    "target=127.0.0.1:$ECHO"
assert_ne policy_reload "$(audit_field reason event=channel_close \
    "target=127.0.0.1:$ECHO")" "reason of the straddling tunnel's close"
assert_eq $((2 * HALF_BYTES)) "$(audit_field bytes_in event=channel_close \
    "target=127.0.0.1:$ECHO")" "bytes_in of the straddling tunnel"

step "new_policy_applies_to_new_channels"
w_roundtrip 1000 after_ok -W "127.0.0.1:$ECHO" alice@127.0.0.1
if hop_ssh -W "127.0.0.1:$ECHO2" alice@127.0.0.1 < /dev/null \
    > /dev/null 2>&1; then
	fail "a tunnel to 127.0.0.1:$ECHO2 opened after the reload denied it"
fi
audit_wait "the refusal under the new policy" event=channel_open \
    "target=127.0.0.1:$ECHO2" decision=deny

# ------------------------------------------------------------------------
step "reload_closes_forwarded_connections_no_longer_allowed"
RP=$(free_port)
set_policy <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
listen = localhost:$RP
EOF2
hopd_reload "reloaded $HOPD_CONF"
bg timeout -k 5 60 ssh "${SSH_ARGS[@]}" -N -o ExitOnForwardFailure=yes \
    -R "$RP:127.0.0.1:$ECHO" alice@127.0.0.1 2> "$T/rfwd.err"
RFWD=$BG_LAST
wait_for 10 "the remote forward on $RP" is_listening "$RP"
bg "$PY" "$TOOLS/roundtrip.py" 127.0.0.1 "$RP" --bytes 1000 --hold 30 \
    --timeout 40
audit_wait "the forwarded connection" event=channel_open \
    type=forwarded-tcpip result=open
set_policy <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2
hopd_reload "reloaded $HOPD_CONF"
audit_wait "the forwarded connection closed by the reload" \
    event=channel_close type=forwarded-tcpip reason=policy_reload
audit_wait "the listener closed by the reload" event=forward_cancel \
    "port=$RP" reason=policy_reload
not_listening() { ! is_listening "$1"; }
wait_for 10 "port $RP to close" not_listening "$RP"
stop "$RFWD"

# ------------------------------------------------------------------------
step "broken_reload_keeps_old_policy"
set_policy <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO2
allow = 127.0.0.1:notaport
EOF2
bad_line=$(grep -n notaport "$HOPD_CONF" | cut -d: -f1)
hopd_reload "reload failed"
log_has "$HOPD_CONF:$bad_line:" ||
    fail "the log names $HOPD_CONF:$bad_line; it has:
$(tail -n 5 "$HOPD_LOG")"
hopd_alive
denied_before=$(audit_count event=channel_open "target=127.0.0.1:$ECHO2" \
    decision=deny)
if hop_ssh -W "127.0.0.1:$ECHO2" alice@127.0.0.1 < /dev/null \
    > /dev/null 2>&1; then
	fail "the broken file's rule was applied: 127.0.0.1:$ECHO2 opened"
fi
wait_for 10 "the old policy's refusal of 127.0.0.1:$ECHO2" \
    audit_count_above "$denied_before" event=channel_open \
    "target=127.0.0.1:$ECHO2" decision=deny
w_roundtrip 1000 old_ok -W "127.0.0.1:$ECHO" alice@127.0.0.1

# ------------------------------------------------------------------------
step "usr1_reopens_moved_audit_log"
wait_for 10 "every session so far to be audited as ended" sessions_ended
mv "$AUDIT" "$AUDIT.1"
kill -USR1 "$HOPD_PID"
wait_for 10 "a new audit file after SIGUSR1" test -e "$AUDIT"
w_roundtrip 1000 reopened -W "127.0.0.1:$ECHO" alice@127.0.0.1
audit_wait "the new tunnel's records in the new file" event=channel_close \
    "target=127.0.0.1:$ECHO"
old_lines=$(wc -l < "$AUDIT.1")
sleep 0.5
assert_eq "$old_lines" "$(wc -l < "$AUDIT.1")" \
    "lines of the moved audit file (nothing written after SIGUSR1)"

# ------------------------------------------------------------------------
step "sigterm_closes_live_tunnels_and_exits_0"
for i in 1 2; do
	bg bash -c "$PY $NETUTIL gen --bytes 100 --sha-file $T/live$i.sent \
	    --hold 60 | ssh ${SSH_ARGS[*]} -W 127.0.0.1:$ECHO \
	    alice@127.0.0.1 2> $T/live$i.err | $PY $NETUTIL count \
	    --out $T/live$i.got --progress $T/live$i.progress"
	wait_for 20 "live tunnel $i to echo" \
	    progress_at_least "$T/live$i.progress" 100
done
opens=$(audit_count event=channel_open result=open)
sessions=$(audit_count event=session_start)
closes_before=$(audit_count event=channel_close)
ends_before=$(audit_count event=session_end)
start=$(date +%s%N)
kill -TERM "$HOPD_PID"
rc=0
timeout "$STOP_BOUND_S" tail --pid="$HOPD_PID" -f /dev/null ||
    fail "hopd still runs ${STOP_BOUND_S}s after SIGTERM"
wait "$HOPD_PID" || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "hopd stopped ${ms} ms after SIGTERM"
assert_eq 0 "$rc" "hopd's exit status after SIGTERM"
assert_eq 2 $(($(audit_count event=channel_close) - closes_before)) \
    "channel_close records written at shutdown (one per live tunnel)"
assert_eq 2 $(($(audit_count event=session_end) - ends_before)) \
    "session_end records written at shutdown (one per live session)"
# The file as a whole (the part after SIGUSR1): every open is closed.
assert_eq "$opens" "$(audit_count event=channel_close)" \
    "channel_close records against channel_open in the new audit file"
assert_eq "$sessions" "$(audit_count event=session_end)" \
    "session_end records against session_start in the new audit file"
log_has "hopd stopped" || fail "no 'hopd stopped' in the log"
echo "PASS $TEST_NAME"

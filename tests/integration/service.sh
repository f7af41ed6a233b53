#!/bin/bash
# hopd as a Type=notify service: with NOTIFY_SOCKET pointed at a datagram
# socket this test reads (as systemd would), hopd sends READY=1 once it
# accepts connections, RELOADING=1 (with MONOTONIC_USEC) then READY=1
# around a SIGHUP reload, good or bad, STATUS= with the live sessions and
# tunnels, and STOPPING=1 on SIGTERM.  Runs whether or not systemd is PID 1.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
	echo "service: systemd is PID 1; this test plays its part anyway"
else
	echo "service: systemd is not PID 1 here; the test plays systemd's" \
	    "part with its own NOTIFY_SOCKET"
fi

MSGS=$T/notify.msgs

# A systemd stand-in: each datagram is one line of $MSGS, its fields joined
# by " | ".  On the first READY=1 it also notes whether hopd's port takes
# a connection at that moment.
start_notify_listener() {	# SOCKET PORT
	cat > "$T/notify.py" <<'PYEOF'
import os, socket, sys, time
path, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(1.0)
ready_seen = False
deadline = time.monotonic() + 280
while time.monotonic() < deadline and os.path.exists(path):
    try:
        msg = s.recv(4096).decode("utf-8", "replace")
    except socket.timeout:
        continue
    line = " | ".join(msg.strip("\n").split("\n"))
    if "READY=1" in msg.split("\n") and not ready_seen:
        ready_seen = True
        try:
            socket.create_connection(("127.0.0.1", port), 2).close()
            line += " | (listening)"
        except OSError:
            line += " | (NOT listening)"
    with open(out, "a") as f:
        f.write(line + "\n")
PYEOF
	bg "$PY" "$T/notify.py" "$1" "$2" "$MSGS"
}

msg_count() {	# FIELD: datagrams that have the field (e.g. READY=1)
	grep -c -- "\(^\| | \)$1\( | \|$\)" "$MSGS" 2>/dev/null || true
}

msg_count_above() {	# FIELD N
	[ "$(msg_count "$1")" -gt "$2" ]
}

# after_line N FIELD: some datagram after the first N has FIELD.
after_line() {
	tail -n +"$(($1 + 1))" "$MSGS" 2>/dev/null |
	    grep -q -- "\(^\| | \)$2\( | \|$\)"
}

echoed_100() {
	[ -s "$T/live.progress" ] && [ "$(cat "$T/live.progress")" -ge 100 ]
}

start_server ECHO echo echo
HOPD_PORT=$(free_port 127.0.0.1)
start_notify_listener "$T/notify.sock" "$HOPD_PORT"
wait_for 10 "the notify socket" test -S "$T/notify.sock"

export NOTIFY_SOCKET=$T/notify.sock
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2
unset NOTIFY_SOCKET

step "ready_once_listening"
wait_for 10 "READY=1" msg_count_above READY=1 0
assert_eq 1 "$(msg_count READY=1)" "READY=1 datagrams after startup"
grep -q "READY=1.*(listening)" "$MSGS" ||
    fail "hopd did not accept connections when it sent READY=1:
$(cat "$MSGS")"

step "status_counts_sessions_and_tunnels"
wait_for 15 "STATUS=0 sessions, 0 tunnels" \
    msg_count_above "STATUS=0 sessions, 0 tunnels" 0
ssh_args
bg bash -c "$PY $NETUTIL gen --bytes 100 --sha-file $T/live.sent \
    --hold 60 | ssh ${SSH_ARGS[*]} -W 127.0.0.1:$ECHO alice@127.0.0.1 \
    2> $T/live.err | $PY $NETUTIL count --out $T/live.got \
    --progress $T/live.progress"
wait_for 20 "the tunnel to echo" echoed_100
wait_for 15 "STATUS=1 sessions, 1 tunnels" \
    msg_count_above "STATUS=1 sessions, 1 tunnels" 0

step "reloading_then_ready_around_sighup"
n=$(wc -l < "$MSGS")
kill -HUP "$HOPD_PID"
wait_for 10 "RELOADING=1 after SIGHUP" after_line "$n" RELOADING=1
wait_for 10 "READY=1 after RELOADING=1" msg_count_above READY=1 1
reloading=$(grep -n "RELOADING=1" "$MSGS" | tail -n 1)
ready=$(grep -n "READY=1" "$MSGS" | tail -n 1)
[ "${reloading%%:*}" -lt "${ready%%:*}" ] ||
    fail "READY=1 before RELOADING=1:
$(cat "$MSGS")"
assert_contains "$reloading" "MONOTONIC_USEC=" \
    "the RELOADING=1 datagram"

step "reloading_then_ready_around_failed_reload"
printf '[user alice]\nallow = 127.0.0.1:notaport\n' >> "$HOPD_CONF"
n=$(wc -l < "$MSGS")
kill -HUP "$HOPD_PID"
wait_for 10 "RELOADING=1 after the bad SIGHUP" after_line "$n" RELOADING=1
wait_for 10 "READY=1 after the failed reload" msg_count_above READY=1 2
wait_for 10 "the reload failure in the log" \
    grep -qF "reload failed" "$HOPD_LOG"
hopd_alive

step "stopping_on_sigterm"
kill -TERM "$HOPD_PID"
rc=0
wait "$HOPD_PID" || rc=$?
assert_eq 0 "$rc" "hopd's exit status after SIGTERM"
wait_for 5 "STOPPING=1" msg_count_above STOPPING=1 0
assert_eq 1 "$(msg_count STOPPING=1)" "STOPPING=1 datagrams"
assert_eq 3 "$(msg_count READY=1)" "READY=1 datagrams in all"

echo "---- what hopd told the service manager:"
cut -c1-120 "$MSGS"
echo "PASS $TEST_NAME"

#!/bin/bash
# Socket activation as systemd does it (systemd-socket-activate passes the
# listening sockets with LISTEN_FDS and LISTEN_PID, and starts hopd on the
# first connection): hopd serves on the sockets it was given, each matched
# to its listen line (a PROXY protocol one keeps its protocol), and refuses
# to start when what was passed and the listen lines differ.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

command -v systemd-socket-activate > /dev/null ||
    skip "systemd-socket-activate (package systemd) is not installed"

start_server ECHO echo echo
add_user alice
ssh-keygen -q -t ed25519 -N '' -C hopd-test -f "$T/host_key"
P1=$(free_port 127.0.0.1)
P2=$(free_port 127.0.0.1)
P3=$(free_port 127.0.0.1)

# conf LISTEN...: $HOPD_CONF with these listen lines.
conf() {
	{
		echo "[server]"
		for l in "$@"; do
			echo "listen = $l"
		done
		echo "host_key = $T/host_key"
		echo "authorized_keys = $T/auth/%u"
		echo "audit_log = $AUDIT"
		echo "log_level = verbose"
		echo
		echo "[user alice]"
		echo "allow = 127.0.0.1:$ECHO"
	} > "$HOPD_CONF"
}

# activate PORT...: systemd-socket-activate listening on the ports, hopd
# started by it on the first connection; its log in $HOPD_LOG.
activate() {
	local args=() p
	for p in "$@"; do
		args+=(-l "127.0.0.1:$p")
	done
	: > "$HOPD_LOG"
	bg systemd-socket-activate "${args[@]}" "$HOPD" -f "$HOPD_CONF" \
	    2>> "$HOPD_LOG"
	ACT_PID=$BG_LAST
	wait_for 10 "systemd-socket-activate listening on $1" is_listening "$1"
}

step "hopd_serves_on_the_sockets_systemd_passed"
conf "127.0.0.1:$P1" "127.0.0.1:$P2"
activate "$P1" "$P2"
HOPD_PORT=$P1
write_ssh_config
w_roundtrip 1000 first -W "127.0.0.1:$ECHO" alice@127.0.0.1
assert_file_contains "$HOPD_LOG" "listening on 127.0.0.1:$P1 (from systemd)" \
    "hopd's log"
assert_file_contains "$HOPD_LOG" "listening on 127.0.0.1:$P2 (from systemd)" \
    "hopd's log"
HOPD_PORT=$P2
write_ssh_config
w_roundtrip 1000 second -W "127.0.0.1:$ECHO" alice@127.0.0.1
assert_eq 2 "$(audit_count event=auth result=success)" "logins"
# hopd bound nothing itself: the activator's sockets are the only ones.
assert_eq 0 "$(grep -c "cannot listen" "$HOPD_LOG" || true)" "bind errors"
stop "$ACT_PID"

step "a_proxy_listen_line_keeps_its_protocol"
conf "127.0.0.1:$P1 proxy_protocol=v2 proxy_from=127.0.0.9"
activate "$P1"
"$PY" - "$P1" <<'PY' || fail "a connection without a PROXY header was not closed"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.settimeout(10)
end = time.monotonic() + 10
while time.monotonic() < end:
    if s.recv(4096) == b"":
        sys.exit(0)
sys.exit(1)
PY
audit_wait "the refused header" event=proxy_refused \
    "reason=not a proxy_from address"
assert_file_contains "$HOPD_LOG" \
    "listening on 127.0.0.1:$P1 (from systemd) (PROXY protocol v2)" \
    "hopd's log"
stop "$ACT_PID"

# refused WHAT TEXT: hopd, started on a first connection, exits with TEXT.
refused() {
	local what=$1 text=$2
	"$PY" -c 'import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
except OSError:
    pass' "$P1"
	wait_for 10 "hopd's refusal ($what)" grep -q -- "$text" "$HOPD_LOG"
	wait_for 10 "the activator to end when hopd exits" \
	    eval "! kill -0 $ACT_PID 2>/dev/null"
}

step "a_socket_no_listen_line_names_is_refused"
conf "127.0.0.1:$P1" "127.0.0.1:$P3"
activate "$P1" "$P2"
refused "a socket not in hopd.ini" \
    "systemd passed a socket on 127.0.0.1:$P2, which no listen line names"

step "a_count_mismatch_is_refused"
conf "127.0.0.1:$P1" "127.0.0.1:$P2"
activate "$P1"
refused "one socket for two lines" \
    "systemd passed 1 socket, the configuration has 2 listen lines"
echo "PASS $TEST_NAME"

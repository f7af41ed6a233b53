#!/bin/bash
# ssh -R through hopd: listen rules decide, the forward carries bytes exactly
# both ways, port 0 allocates inside the rule, a port held by one session is
# refused to another, listeners end with their session or a cancel, and a
# client killed with connections in flight leaks nothing.
. "$(dirname "$0")/../lib.sh"

RT="$TOOLS/roundtrip.py"
start_server ECHO echo echo
P1=$(free_port)
LO=$(free_port)
if [ "$LO" -gt 65000 ]; then LO=50000; fi
HI=$((LO + 20))
OUTSIDE=$(free_port)
while [ "$OUTSIDE" -ge "$LO" ] && [ "$OUTSIDE" -le "$HI" ] ||
    [ "$OUTSIDE" = "$P1" ]; do
	OUTSIDE=$(free_port)
done
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
listen = localhost:$P1
listen = 127.0.0.1:$LO-$HI
EOF2

not_listening() { ! is_listening "$1"; }

# forward_bg NAME ARGS...: a backgrounded `ssh -N` with remote forwards.
forward_bg() {
	local name=$1
	shift
	ssh_args
	bg timeout -k 5 120 ssh "${SSH_ARGS[@]}" -N \
	    -o ExitOnForwardFailure=yes -o LogLevel=INFO "$@" hop \
	    2> "$T/$name.err"
}

step "r_allowed_8mib_byte_exact_both_ways"
forward_bg r1 -R "$P1:127.0.0.1:$ECHO"
R1=$BG_LAST
wait_for 10 "hopd listening on $P1" is_listening "$P1"
"$PY" "$RT" 127.0.0.1 "$P1" --bytes $((8 << 20)) ||
    fail "8 MiB round trip through -R $P1"
audit_wait "channel_close of the forwarded connection" \
    event=channel_close type=forwarded-tcpip
assert_eq $((8 << 20)) "$(audit_field bytes_in event=channel_close \
    type=forwarded-tcpip)" "forwarded channel_close bytes_in"
assert_eq $((8 << 20)) "$(audit_field bytes_out event=channel_close \
    type=forwarded-tcpip)" "forwarded channel_close bytes_out"
assert_eq allow "$(audit_field decision event=forward_listen "port=$P1")" \
    "forward_listen decision"
assert_contains "$(audit_field rule event=forward_listen "port=$P1")" \
    "hopd.ini:" "forward_listen rule"

step "r_ten_concurrent_connections_byte_exact"
"$PY" "$RT" 127.0.0.1 "$P1" --bytes $((1 << 20)) --conns 10 ||
    fail "10 concurrent round trips through one -R"

step "r_second_session_cannot_take_a_held_port"
KEY=alice hop_ssh -N -o ExitOnForwardFailure=yes \
    -R "$P1:127.0.0.1:$ECHO" hop 2> "$T/steal.err" && rc=0 || rc=$?
assert_eq 255 "$rc" "exit status of a second -R $P1"
assert_contains "$(cat "$T/steal.err")" \
    "remote port forwarding failed for listen port $P1" "client's error"
audit_wait "the refusal" event=forward_listen "port=$P1" decision=allow \
    "reason=port in use"
"$PY" "$RT" 127.0.0.1 "$P1" --bytes 4096 ||
    fail "the first session's forward broke"

step "r_listener_gone_after_disconnect"
stop "$R1"
wait_for 10 "port $P1 to close" not_listening "$P1"

step "r_port_zero_allocates_inside_the_rule"
forward_bg r0 -R "0:127.0.0.1:$ECHO"
R0=$BG_LAST
wait_for 10 "the allocated port" grep -q "Allocated port" "$T/r0.err"
PORT0=$(sed -n 's/.*Allocated port \([0-9]*\) .*/\1/p' "$T/r0.err")
# Any port the rules allow: the range, or $P1 (free again by now).
{ [ "$PORT0" -ge "$LO" ] && [ "$PORT0" -le "$HI" ]; } ||
    [ "$PORT0" -eq "$P1" ] ||
    fail "allocated port $PORT0 is outside $LO-$HI and not $P1"
"$PY" "$RT" 127.0.0.1 "$PORT0" --bytes 65536 ||
    fail "round trip through the allocated port $PORT0"
stop "$R0"		# it may hold $P1, which the next steps use
wait_for 10 "port $PORT0 to close" not_listening "$PORT0"

step "r_client_eof_in_the_open_burst_reaches_the_connection"
OUT=$(timeout 60 "$PY" "$TOOLS/rforward_eof.py" "$HOPD_PORT" "$T/id_alice" 8) ||
    fail "forwarded connections that missed the client's EOF: $OUT"

step "r_refused_outside_rules_low_port_and_wildcard"
for spec in "$OUTSIDE" "80" "0.0.0.0:$P1" "[::]:$P1" "10.0.0.1:$P1"; do
	hop_ssh -N -o ExitOnForwardFailure=yes -R "$spec:127.0.0.1:$ECHO" hop \
	    2> "$T/refused.err" && rc=0 || rc=$?
	assert_eq 255 "$rc" "exit status of -R $spec"
	assert_contains "$(cat "$T/refused.err")" \
	    "remote port forwarding failed for listen port" "client's error for -R $spec"
done
# Without ExitOnForwardFailure the client only warns.
SSH_TIMEOUT=3 hop_ssh -N -o ExitOnForwardFailure=no -o LogLevel=INFO \
    -R "$OUTSIDE:127.0.0.1:$ECHO" hop 2> "$T/warn.err" || true
assert_contains "$(cat "$T/warn.err")" \
    "Warning: remote port forwarding failed for listen port $OUTSIDE" \
    "client's warning"
assert_eq deny "$(audit_field decision event=forward_listen \
    "port=$OUTSIDE")" "forward_listen decision outside the rules"
assert_eq default "$(audit_field rule event=forward_listen "port=80")" \
    "forward_listen rule of the low port"
not_listening "$OUTSIDE" || fail "port $OUTSIDE listens after a refusal"

step "r_cancel_closes_the_listener"
ssh_args
bg timeout -k 5 120 ssh "${SSH_ARGS[@]}" -M -S "$T/cm" -N hop
wait_for 10 "the control socket" test -S "$T/cm"
ssh "${SSH_ARGS[@]}" -S "$T/cm" -O forward -R "$P1:127.0.0.1:$ECHO" hop ||
    fail "ssh -O forward"
wait_for 10 "port $P1 to listen" is_listening "$P1"
ssh "${SSH_ARGS[@]}" -S "$T/cm" -O cancel -R "$P1:127.0.0.1:$ECHO" hop ||
    fail "ssh -O cancel"
wait_for 10 "port $P1 to close after the cancel" not_listening "$P1"
audit_wait "forward_cancel" event=forward_cancel "port=$P1" \
    "reason=cancelled by client"

step "r_client_killed_with_connections_in_flight_leaks_no_fd"
wait_for 10 "sessions of the previous steps to end" \
    test "$(audit_count event=session_start)" -le \
    "$(( $(audit_count event=session_end) + 2 ))"
BASE=$(fd_count "$HOPD_PID")
forward_bg rk -R "$P1:127.0.0.1:$ECHO"
RK=$BG_LAST
wait_for 10 "hopd listening on $P1" is_listening "$P1"
bg "$PY" "$RT" 127.0.0.1 "$P1" --bytes $((1 << 20)) --conns 5 --hold 5 \
    --timeout 20
sleep 1
pkill -KILL -P "$RK" ssh || kill -KILL "$RK"
wait_for 10 "port $P1 to close after the kill" not_listening "$P1"
fds_back() { [ "$(fd_count "$HOPD_PID")" -le "$BASE" ]; }
wait_for 15 "hopd's fds back to $BASE (now $(fd_count "$HOPD_PID"))" fds_back
hopd_alive
echo "PASS $TEST_NAME"

#!/bin/bash
# A client that opens direct-tcpip channels with a maximum packet size below
# 1024 (10: libssh 0.10.6 would spin forever writing to it) is refused, and
# meanwhile another client's tunnels on the same hopd, same worker, flow.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
HOPD_SERVER=("workers = 1")
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2

# hostile MAXPACKET EXPECT [ARGS...]: the paramiko client of tools/.
hostile() {
	local size=$1 expect=$2
	shift 2
	timeout -k 5 120 "$PY" "$TOOLS/maxpacket.py" --port "$HOPD_PORT" \
	    --key "$T/id_alice" --target-port "$ECHO" --max-packet "$size" \
	    --expect "$expect" "$@"
}

step "max_packet_1024_is_accepted"
hostile 1024 open --attempts 1 --interval 0 > "$T/p1024.out" 2>&1 ||
    fail "max packet 1024: $(cat "$T/p1024.out")"

step "max_packet_1023_is_refused"
hostile 1023 refused --attempts 1 --interval 0 > "$T/p1023.out" 2>&1 ||
    fail "max packet 1023: $(cat "$T/p1023.out")"
assert_file_contains "$T/p1023.out" "refused (code 1)" "max packet 1023"

step "max_packet_10_is_refused_while_another_tunnel_flows"
bg hostile 10 refused --attempts 60 --interval 0.1 \
    --origin-port 4444 > "$T/p10.out" 2>&1
HOSTILE=$BG_LAST
for i in 1 2 3; do
	SSH_TIMEOUT=30 w_roundtrip $((16 << 20)) "flow$i" \
	    -W "127.0.0.1:$ECHO" alice@127.0.0.1
done
kill -0 "$HOSTILE" 2>/dev/null ||
    fail "the hostile client ended before the transfers did: $(cat "$T/p10.out")"
rc=0
wait "$HOSTILE" || rc=$?
assert_eq 0 "$rc" "the hostile client's result ($(tail -n 3 "$T/p10.out"))"
assert_eq 60 "$(grep -c "refused (code 1)" "$T/p10.out")" \
    "refused opens with max packet 10"
assert_eq 0 "$(audit_count event=channel_open result=open \
    origin=127.0.0.1:4444)" "small-packet channels that hopd opened"
# The 1023 of the previous step and these 60: every refusal on the record.
assert_eq 61 "$(audit_count event=channel_open result=refused \
    "reason=maximum packet size too small")" "audited small-packet refusals"
hopd_alive
echo "PASS $TEST_NAME"

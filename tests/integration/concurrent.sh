#!/bin/bash
# 50 ssh -W tunnels at once through one hopd (two worker threads), each
# to the echo server, each byte-exact both ways; the audit log has 50
# channel_close records with the exact counts.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

N=50
BYTES=2000000
start_server ECHO echo echo
# 50 handshakes at once from one address: lift the startup limits, which
# startups.sh tests on their own.
HOPD_SERVER=("workers = 2" "per_source_max_startups = 100"
    "max_startups = 100")
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2

step "w_50_concurrent_tunnels_byte_exact"
pids=()
for i in $(seq 1 "$N"); do
	(
		"$PY" "$NETUTIL" gen --bytes "$BYTES" --sha-file "$T/$i.sent" |
		    hop_ssh -W "127.0.0.1:$ECHO" alice@127.0.0.1 \
		    2> "$T/$i.err" |
		    "$PY" "$NETUTIL" count --out "$T/$i.got"
	) &
	pids+=("$!")
	BG_PIDS+=("$!")
done
bad=0
for i in $(seq 1 "$N"); do
	rc=0
	wait "${pids[$((i - 1))]}" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "tunnel $i: exit $rc: $(cat "$T/$i.err")"
		bad=$((bad + 1))
	elif [ "$(cat "$T/$i.sent")" != "$(cat "$T/$i.got")" ]; then
		echo "tunnel $i: sent $(cat "$T/$i.sent"), got $(cat "$T/$i.got")"
		bad=$((bad + 1))
	fi
done
assert_eq 0 "$bad" "tunnels that failed or were not byte-exact"
wait_for 10 "$N channel_close records with $BYTES bytes each way" \
    audit_count_is "$N" event=channel_close "bytes_in=$BYTES" \
    "bytes_out=$BYTES"
assert_eq "$N" "$(audit_count event=auth result=success)" \
    "successful logins"
hopd_alive
echo "PASS $TEST_NAME"

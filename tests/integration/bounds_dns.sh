#!/bin/bash
# Issue 12, name lookups (attacks 7 and 5), with hopd in a private mount
# namespace whose /etc/resolv.conf names a fake DNS server on loopback:
# a name that resolves only through a search domain of resolv.conf is not
# a target (x.allowed.test must not become x.allowed.test.corp.example);
# lookups that never end are capped per user (max_lookups_per_user, 16 by
# default: the excess is refused with a reason that says "lookups"), and
# another user's lookup (from /etc/hosts) and echo still answer within 1 s.
# Root only: skips (77) otherwise.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

need_root "a private mount namespace and a DNS server on port 53"

# ---------------------------------------------------------------- the fake DNS
# On a random 127.53.X.Y (resolv.conf has no port: 53 it is): answers
# ok.allowed.test and x.allowed.test.corp.example with 127.0.0.1, drops
# every query for a name with "slow.test" in it, NXDOMAIN for the rest.
DNS=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	addr=127.53.$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	rm -f "$T/dns.ready"
	bg "$PY" "$TOOLS/dnsfake.py" --bind "$addr" --mode answer \
	    --a ok.allowed.test=127.0.0.1 \
	    --a x.allowed.test.corp.example=127.0.0.1 \
	    --drop slow.test --ready-file "$T/dns.ready" --log "$T/dns.log" \
	    --lifetime 300 2>> "$T/dns.err"
	for ((j = 0; j < 50; j++)); do
		[ -s "$T/dns.ready" ] && break
		kill -0 "$BG_LAST" 2>/dev/null || break
		sleep 0.1
	done
	if [ -s "$T/dns.ready" ]; then
		DNS=$addr
		break
	fi
done
[ -n "$DNS" ] || fail "no fake DNS server could bind: $(cat "$T/dns.err")"

cat > "$T/resolv.conf" <<EOF2
nameserver $DNS
search corp.example
options timeout:3 attempts:2
EOF2
cat > "$T/hosts" <<EOF2
127.0.0.1	localhost
::1	localhost
127.0.0.1	echo.hopd-test
EOF2

start_server ECHO echo echo
add_user bob
hopd_in_mount_ns "$T/resolv.conf" "$T/hosts"
# 127.0.0.1 by address: loopback is only reachable when a rule names it.
hopd_start <<EOF2
[user alice]
allow = *.slow.test:$ECHO
allow = *.allowed.test:$ECHO
allow = 127.0.0.1:$ECHO

[user bob]
allow = echo.hopd-test:$ECHO
allow = 127.0.0.1:$ECHO
EOF2

step "lookups_work_in_the_namespace"
echo_probe "bob's echo by name, from /etc/hosts" bob "echo.hopd-test:$ECHO"
echo_probe "alice's echo by name, from the fake DNS" alice \
    "ok.allowed.test:$ECHO"
assert_file_contains "$T/dns.log" "ok.allowed.test A" "the fake DNS's log"

# ------------------------------------------------------------------------
step "no_target_through_a_search_domain"
OUT=$(timeout -k 5 30 "$PY" "$HOSTILE2" probe --port "$HOPD_PORT" \
    --user alice --key "$T/id_alice" --target "x.allowed.test:$ECHO" \
    --timeout 8 2>&1) && RC=0 || RC=$?
echo "   x.allowed.test: $OUT"
audit_wait "the open of x.allowed.test" event=channel_open \
    "target=x.allowed.test:$ECHO"
echo "   audit: result=$(audit_field result event=channel_open \
    "target=x.allowed.test:$ECHO") reason=$(audit_field reason \
    event=channel_open "target=x.allowed.test:$ECHO")"
check assert_ne 0 "$RC" "exit status of alice's open of x.allowed.test\
:$ECHO (only x.allowed.test.corp.example exists)"
check assert_eq refused "$(audit_field result event=channel_open \
    "target=x.allowed.test:$ECHO")" \
    "audited result of the open of x.allowed.test:$ECHO"

# ------------------------------------------------------------------------
step "lookups_that_never_end_are_capped_per_user"
# Two sessions of alice, 16 opens each to distinct names that never
# resolve, sent without waiting; bob's lookup and echo meanwhile.
for k in 1 2; do
	bg timeout -k 5 60 "$PY" "$HOSTILE2" pipelined-opens \
	    --port "$HOPD_PORT" --user alice --key "$T/id_alice" \
	    --target "s$k-%d.slow.test:$ECHO" --count 16 --duration 5 \
	    --wait 20 --fast 1 > "$T/slow$k.out" 2>&1
	eval "SLOW$k=\$BG_LAST"
done
slow_asked() { grep -q 'slow\.test' "$T/dns.log" 2>/dev/null; }
wait_for 10 "a query for a slow.test name at the fake DNS" slow_asked
sleep 0.5
check echo_probe "bob's echo by name during the lookup flood" bob \
    "echo.hopd-test:$ECHO"
check assert_eq 0 "$(audit_count event=channel_open user=bob \
    "reason=timed out")" "bob's opens refused as 'timed out'"
wait "$SLOW1" || true
wait "$SLOW2" || true
sed 's/^/   /' "$T/slow1.out" "$T/slow2.out"
# The 16 over the cap are refused at once (the others wait for a lookup
# that takes 6 s); hopd audits the first refusal per cap and session.
FAST=$(sed -n 's/.* failed_fast=\([0-9]*\) .*/\1/p' "$T/slow1.out" \
    "$T/slow2.out" | awk '{ n += $1 } END { print n + 0 }')
check assert_ge 16 "$FAST" "alice's opens refused at once (of 32, cap 16)"
check audit_wait "a refusal of alice's for lookups" event=channel_open \
    user=alice "target~slow.test" "reason~lookups"
echo "   reason: $(audit_field reason event=channel_open user=alice \
    "target~slow.test" "reason~lookups" || echo none)"

step "others_still_served"
hopd_alive
echo_probe "bob's echo by name after the attacks" bob "echo.hopd-test:$ECHO"
checks_done

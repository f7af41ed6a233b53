#!/bin/bash
# Policy cases (hopd.ini(5), POLICY CASES): an edit that flips one is caught
# by hopd -t (exit 1, the case and the rule that decided), refused at start
# and refused at reload (the old policy stays, the log names the case);
# malformed case lines exit 2 with FILE:LINE; listen cases decide as -R
# does; a name with "= ADDR" is decided on those addresses, one without is
# resolved (localhost, from /etc/hosts) and the run says so.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
start_server ECHO2 echo echo2
RP=$(free_port)
OTHER=$(free_port)
while [ "$OTHER" = "$RP" ]; do
	OTHER=$(free_port)
done
CASES=$T/hopd.cases

cat > "$CASES" <<EOF2
# What the policy must keep deciding.
alice 127.0.0.1:$ECHO allow
alice 127.0.0.1:$ECHO2 deny		# line 3: the one an edit flips
alice localhost:$ECHO allow = 127.0.0.1
alice localhost:$ECHO allow		# line 5: resolved
alice localhost:$ECHO deny = 127.0.0.2	# the given address, not the lookup
bob localhost:$ECHO deny		# no rule: decided before any lookup
alice 127.0.0.2:$ECHO deny
alice listen localhost:$RP allow
alice listen localhost:$OTHER deny
alice listen *:$RP deny			# line 11
EOF2
NCASES=10

HOPD_SERVER=("policy_cases = $CASES")
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
listen = localhost:$RP
EOF2
# The [server] part hopd_start wrote, up to its blank line.
sed '/^$/q' "$HOPD_CONF" > "$T/server.part"

# run_t OUT ARGS...: hopd -t ARGS; stdout in OUT.out, stderr in OUT.err,
# the exit status in RC.
run_t() {
	local out=$1
	shift
	RC=0
	"$HOPD" -t "$@" > "$T/$out.out" 2> "$T/$out.err" || RC=$?
}

# policy_file FILE < POLICY: the [server] part, then the policy.
policy_file() {
	{
		cat "$T/server.part"
		cat
	} > "$1.new"
	mv "$1.new" "$1"
}

# line_of FILE LINE: "FILE:N" of the first line of FILE equal to LINE.
line_of() {
	local n
	n=$(grep -nxF -- "$2" "$1" | head -n 1 | cut -d: -f1)
	[ -n "$n" ] || fail "no line '$2' in $1"
	echo "$1:$n"
}

# ------------------------------------------------------------------------
step "cases_run_at_start_and_pass"
assert_file_contains "$HOPD_LOG" "cases: $NCASES passed, 0 failed" \
    "hopd's log at start"

step "t_runs_the_cases_and_says_which_name_it_resolved"
run_t good -f "$HOPD_CONF"
assert_eq 0 "$RC" "hopd -t's exit status with passing cases:
$(cat "$T/good.out" "$T/good.err")"
assert_file_contains "$T/good.out" "cases: $NCASES passed, 0 failed" \
    "hopd -t's summary"
assert_file_contains "$T/good.out" "$HOPD_CONF: configuration ok" \
    "hopd -t's stdout"
assert_file_contains "$T/good.out" "$CASES:5: localhost resolved to " \
    "the line saying the name of line 5 was resolved"
grep -F "$CASES:5: localhost resolved to " "$T/good.out" |
    grep -qF "127.0.0.1" || fail "localhost did not resolve to 127.0.0.1:
$(cat "$T/good.out")"
assert_eq 1 "$(grep -c "resolved to" "$T/good.out")" \
    "resolved lines (names with '= ADDR' and names a rule denies before
any lookup are not resolved)"
assert_eq "" "$(cat "$T/good.err")" "hopd -t's stderr"

step "t_runs_extra_cases_files_once_each"
cat > "$T/extra.cases" <<EOF2
alice 127.0.0.1:$ECHO2 allow	# wrong on purpose
EOF2
run_t extra -f "$HOPD_CONF" --cases "$T/extra.cases" --cases "$CASES"
assert_eq 1 "$RC" "hopd -t's exit status with a failing --cases file"
WANT="$T/extra.cases:1: alice 127.0.0.1:$ECHO2: expected allow, got deny"
assert_file_contains "$T/extra.out" "$WANT by default" \
    "the failing case of the --cases file"
assert_file_contains "$T/extra.out" \
    "cases: $NCASES passed, 1 failed" "the summary (hopd.cases run once)"
assert_not_contains "$(cat "$T/extra.out")" "configuration ok" \
    "hopd -t's stdout with a failing case"

# ------------------------------------------------------------------------
step "flipped_case_caught_at_t_with_the_rule"
V2=$T/v2.ini
policy_file "$V2" <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO,$ECHO2
listen = localhost:$RP
EOF2
RULE=$(line_of "$V2" "allow = 127.0.0.1:$ECHO,$ECHO2")
run_t flip -f "$V2"
assert_eq 1 "$RC" "hopd -t's exit status with a flipped case"
WANT="$CASES:3: alice 127.0.0.1:$ECHO2: expected deny, got allow by $RULE"
WANT="$WANT (allow = 127.0.0.1:$ECHO,$ECHO2) for 127.0.0.1: allowed by rule"
assert_file_contains "$T/flip.out" "$WANT" \
    "the flipped case, with the rule that flipped it"
assert_file_contains "$T/flip.out" "cases: $((NCASES - 1)) passed, 1 failed" \
    "the summary"
assert_not_contains "$(cat "$T/flip.out")" "configuration ok" \
    "hopd -t's stdout with a flipped case"

step "flipped_listen_case_caught_at_t"
V3=$T/v3.ini
policy_file "$V3" <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
listen = *:$RP
listen = localhost:$RP
EOF2
RULE=$(line_of "$V3" "listen = *:$RP")
run_t listen -f "$V3"
assert_eq 1 "$RC" "hopd -t's exit status with a flipped listen case"
WANT="$CASES:11: alice listen *:$RP: expected deny, got allow by $RULE"
assert_file_contains "$T/listen.out" \
    "$WANT (listen = *:$RP): allowed by rule" "the flipped listen case"

# ------------------------------------------------------------------------
step "flipped_case_refused_at_start"
PORT2=$(free_port)
# Another port: the [server] listen line only, not alice's listen rule.
sed "0,/^listen = .*/s//listen = 127.0.0.1:$PORT2/" "$V2" > "$T/v2start.ini"
RULE=$(line_of "$T/v2start.ini" "allow = 127.0.0.1:$ECHO,$ECHO2")
RC=0
timeout -k 5 30 "$HOPD" -f "$T/v2start.ini" 2> "$T/start.err" || RC=$?
assert_eq 1 "$RC" "hopd's exit status at start with a flipped case"
assert_file_contains "$T/start.err" \
    "$CASES:3: alice 127.0.0.1:$ECHO2: expected deny, got allow by $RULE" \
    "hopd's log at a refused start"
assert_file_contains "$T/start.err" "cases: $((NCASES - 1)) passed, 1 failed" \
    "hopd's log at a refused start"
assert_file_contains "$T/start.err" \
    "the policy fails its cases ($CASES): not starting" \
    "hopd's log at a refused start"
is_listening "$PORT2" && fail "a hopd listens on $PORT2"

# ------------------------------------------------------------------------
step "flipped_case_refused_at_reload_old_policy_stays"
policy_file "$HOPD_CONF" <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO,$ECHO2
listen = localhost:$RP
EOF2
RULE=$(conf_rule "allow = 127.0.0.1:$ECHO,$ECHO2")
hopd_reload "reload failed: the policy fails its cases"
assert_file_contains "$HOPD_LOG" \
    "$CASES:3: alice 127.0.0.1:$ECHO2: expected deny, got allow by $RULE" \
    "the failing case in hopd's log"
hopd_alive
if hop_ssh -W "127.0.0.1:$ECHO2" alice@127.0.0.1 < /dev/null \
    > /dev/null 2>&1; then
	fail "the refused policy was applied: 127.0.0.1:$ECHO2 opened"
fi
audit_wait "the old policy's refusal" event=channel_open \
    "target=127.0.0.1:$ECHO2" decision=deny
w_roundtrip 1000 old_ok -W "127.0.0.1:$ECHO" alice@127.0.0.1

step "reload_reads_the_cases_again"
sed -i "s/^alice 127.0.0.1:$ECHO2 deny/alice 127.0.0.1:$ECHO2 allow/" \
    "$CASES"
hopd_reload "reloaded $HOPD_CONF"
w_roundtrip 1000 new_ok -W "127.0.0.1:$ECHO2" alice@127.0.0.1

step "listen_case_decides_as_ssh_r"
ssh_args
bg timeout -k 5 60 ssh "${SSH_ARGS[@]}" -N -o ExitOnForwardFailure=yes \
    -R "$RP:127.0.0.1:$ECHO" alice@127.0.0.1 2> "$T/rfwd.err"
RFWD=$BG_LAST
wait_for 10 "the remote forward on $RP (alice listen localhost:$RP allow)" \
    is_listening "$RP"
stop "$RFWD"
if timeout -k 5 30 ssh "${SSH_ARGS[@]}" -N -o ExitOnForwardFailure=yes \
    -R "$OTHER:127.0.0.1:$ECHO" alice@127.0.0.1 2> "$T/rfwd2.err"; then
	fail "a remote forward on $OTHER was allowed"
fi

# ------------------------------------------------------------------------
step "malformed_cases_exit_2_with_file_and_line"
cat > "$T/bad.cases" <<EOF2
alice 127.0.0.1:$ECHO allow
alice 127.0.0.1 allow
# a comment
alice listen localhost:$RP maybe
alice 127.0.0.1:$ECHO allow = 127.0.0.1
EOF2
run_t bad -f "$HOPD_CONF" --cases "$T/bad.cases"
assert_eq 2 "$RC" "hopd -t's exit status with a malformed cases file"
assert_file_contains "$T/bad.err" \
    "$T/bad.cases:2: invalid target '127.0.0.1' (no port); expected HOST:PORT" \
    "hopd -t's stderr"
assert_file_contains "$T/bad.err" \
    "$T/bad.cases:4: expected allow or deny, got 'maybe'" "hopd -t's stderr"
assert_file_contains "$T/bad.err" "$T/bad.cases:5: '= ADDR' is for names" \
    "hopd -t's stderr"
assert_eq 3 "$(wc -l < "$T/bad.err")" "lines on hopd -t's stderr"
assert_not_contains "$(cat "$T/bad.out")" "cases:" \
    "hopd -t's stdout (no case is run)"
run_t missing -f "$HOPD_CONF" --cases "$T/none.cases"
assert_eq 2 "$RC" "hopd -t's exit status with a missing cases file"
assert_file_contains "$T/missing.err" "$T/none.cases: cannot read" \
    "hopd -t's stderr"
RC=0
"$HOPD" --cases "$CASES" -f "$HOPD_CONF" > /dev/null 2>&1 || RC=$?
assert_eq 2 "$RC" "exit status of --cases without -t"

step "malformed_cases_refused_at_reload"
echo "alice 127.0.0.1:$ECHO maybe" >> "$CASES"
BAD=$(wc -l < "$CASES")
hopd_reload "reload failed: the policy cases cannot be run"
assert_file_contains "$HOPD_LOG" "$CASES:$BAD: expected allow or deny" \
    "the malformed line in hopd's log"
hopd_alive
w_roundtrip 1000 still_ok -W "127.0.0.1:$ECHO2" alice@127.0.0.1
echo "PASS $TEST_NAME"

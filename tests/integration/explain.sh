#!/bin/bash
# hopd --explain decides as a tunnel does (one decision function, one
# lookup): for a denied and an allowed target, the rule it prints is the
# rule of the tunnel's channel_open record, and its exit status says the
# decision.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
hopd_start <<EOF2
[user alice]
allow = 127.0.0.0/8:$ECHO
deny = 127.0.0.2:*
allow = 127.0.0.1:$ECHO
EOF2

# explain_rule TARGET: the rule of explain's "decision:" line.
explain_rule() {
	{ "$HOPD" --explain alice "$1" "$ECHO" -f "$HOPD_CONF" || true; } |
	    sed -n 's/^decision: [a-z]* (\(.*\))$/\1/p'
}

step "explain_names_the_rule_a_denied_tunnel_was_refused_by"
set +e
"$HOPD" --explain alice 127.0.0.2 "$ECHO" -f "$HOPD_CONF" > /dev/null
RC=$?
set -e
assert_eq 1 "$RC" "explain's exit status for a denied target"
RULE=$(explain_rule 127.0.0.2)
assert_eq "$(conf_rule "deny = 127.0.0.2:*")" "$RULE" "explain's rule"
hop_ssh -W "127.0.0.2:$ECHO" alice@127.0.0.1 < /dev/null 2> /dev/null &&
    fail "a tunnel to 127.0.0.2 opened"
audit_wait "the refusal" event=channel_open target="127.0.0.2:$ECHO"
assert_eq "$RULE" "$(audit_field rule event=channel_open \
    target="127.0.0.2:$ECHO")" "the tunnel's rule"

step "explain_names_the_rule_an_allowed_tunnel_was_opened_by"
RULE=$(explain_rule 127.0.0.1)
assert_eq "$(conf_rule "allow = 127.0.0.0/8:$ECHO")" "$RULE" "explain's rule"
w_roundtrip 1000 allowed -W "127.0.0.1:$ECHO" alice@127.0.0.1
assert_eq "$RULE" "$(audit_field rule event=channel_open \
    target="127.0.0.1:$ECHO")" "the tunnel's rule"
echo "PASS $TEST_NAME"

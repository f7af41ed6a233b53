#!/bin/bash
# hopd --explain decides as a tunnel does (one decision function, one
# lookup): for a denied and an allowed target, the rule it prints is the
# rule of the tunnel's channel_open record, and its exit status says the
# decision.  With --key it decides the login first, as a login does
# (a certificate's CA, a revoked key, from=), then the key's permitopen.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
ca_make ex
cp "$T/ca_ex.pub" "$T/trusted_cas"
: > "$T/revoked"
HOPD_SERVER=("trusted_user_ca_keys = $T/trusted_cas"
    "revoked_keys = $T/revoked")
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

# explain_key ARGS...: hopd --explain alice ARGS..., its output in $OUT and
# its exit status in $RC.
explain_key() {
	set +e
	OUT=$("$HOPD" --explain alice "$@" -f "$HOPD_CONF" 2>&1)
	RC=$?
	set -e
}

step "explain_key_decides_a_certificate_login_as_hopd_does"
cert_make ex-good ex excert alice 5 "-5m:+1h"
explain_key 127.0.0.1 "$ECHO" --key "$(cert_of ex-good)"
assert_eq 0 "$RC" "explain's exit status for a good certificate"
assert_contains "$OUT" "login: allow: certificate authorized" "explain"
assert_contains "$OUT" "certificate \"ex-good\" serial 5" "explain"
assert_contains "$OUT" "$(fp "$T/id_excert.pub")" "explain: the key"
KEY=excert w_roundtrip 100 ex-good -o "CertificateFile=$(cert_of ex-good)" \
    -W "127.0.0.1:$ECHO" alice@127.0.0.1
cert_make ex-bob ex excert bob 6 "-5m:+1h"
explain_key 127.0.0.1 "$ECHO" --key "$(cert_of ex-bob)"
assert_eq 1 "$RC" "explain's exit status for another's certificate"
assert_contains "$OUT" "login: deny: certificate principal" "explain"

step "explain_key_sees_revocation_and_from_and_permitopen"
echo "serial: 5" > "$T/krl.spec"
ssh-keygen -q -k -f "$T/revoked" -s "$T/ca_ex.pub" "$T/krl.spec"
explain_key 127.0.0.1 "$ECHO" --key "$(cert_of ex-good)"
assert_eq 1 "$RC" "explain's exit status for a revoked certificate"
assert_contains "$OUT" "login: deny: certificate revoked" "explain"
keygen exopt
echo "from=\"10.0.0.0/8\",permitopen=\"127.0.0.1:$ECHO\" $(cat \
    "$T/id_exopt.pub")" >> "$T/auth/alice"
explain_key 127.0.0.1 "$ECHO" --key "$T/id_exopt.pub"
assert_eq 1 "$RC" "explain's exit status from outside from="
assert_contains "$OUT" "from=" "explain"
explain_key 127.0.0.1 "$ECHO" --key "$T/id_exopt.pub" --from 10.1.2.3
assert_eq 0 "$RC" "explain's exit status from inside from="
explain_key 127.0.0.2 "$ECHO" --key "$T/id_exopt.pub" --from 10.1.2.3
assert_eq 1 "$RC" "explain's exit status outside permitopen"
assert_contains "$OUT" "not in the key's permitopen" "explain"
echo "PASS $TEST_NAME"

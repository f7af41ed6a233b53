#!/bin/bash
# OpenSSH user certificates: a certificate signed by a CA of
# trusted_user_ca_keys (ed25519, ECDSA P-256/384/521, RSA signing
# rsa-sha2-512) logs in and forwards, audited with its key id, serial, CA
# fingerprint, matched principal and end of validity; expired, not yet
# valid, wrong or no principal, unknown CA, no permit-port-forwarding,
# source-address elsewhere, an unknown critical option and a host
# certificate are refused with their reason; force-command is accepted and
# audited; authorized_principals maps certificate principals to users;
# cert-authority,principals= in authorized_keys is a CA for that user only;
# a tampered CA signature, trailing bytes or a cut blob
# (tests/tools/certforge.py) are refused.  The user key is in no
# authorized_keys file, so that the certificate is what gets judged (ssh
# 9.2 offers it before the plain key, which then fails too: the records of
# a certificate are found by their cert_id).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
TARGET=127.0.0.1:$ECHO

ca_make ed ed25519
ca_make p256 ecdsa 256
ca_make p384 ecdsa 384
ca_make p521 ecdsa 521
ca_make rsa rsa 3072
ca_make rogue ed25519		# trusted by no one
ca_make personal ed25519	# carol's own, through authorized_keys
cat "$T/ca_ed.pub" "$T/ca_p256.pub" "$T/ca_p384.pub" "$T/ca_p521.pub" \
    "$T/ca_rsa.pub" > "$T/trusted_cas"

keygen ucert			# the certified key, listed nowhere
UFP=$(fp "$T/id_ucert.pub")
keygen carol
mkdir -p "$T/auth"
# carol's file: her personal CA only (no plain key).
echo "cert-authority,principals=\"deploy,release\" $(cat "$T/ca_personal.pub")" \
    > "$T/auth/carol"
chmod 600 "$T/auth/carol"

POLICY="[user alice]
allow = $TARGET
[user bob]
allow = $TARGET
[user carol]
allow = $TARGET"
HOPD_SERVER=("trusted_user_ca_keys = $T/trusted_cas")
hopd_start <<< "$POLICY"

# cert_login NAME ID USER: USER logs in with the ucert key and certificate
# ID and echoes 1000 bytes through ssh -W.
cert_login() {
	KEY=ucert w_roundtrip 1000 "$1" -o "CertificateFile=$(cert_of "$2")" \
	    -W "$TARGET" "$3@127.0.0.1"
}

# cert_refused NAME ID USER WORD: USER's login with certificate ID is
# refused, audited as a failure of that certificate (cert_id) whose reason
# contains WORD, and no auth with it succeeded.
cert_refused() {
	local name=$1 id=$2 user=$3 word=$4
	KEY=ucert login_refused "$name" "$user" \
	    -o "CertificateFile=$(cert_of "$id")" -W "$TARGET"
	auth_failure_wait "$name" "$user" "$word" "cert_id=$id"
	assert_eq "$UFP" "$(audit_field key event=auth result=failure \
	    "cert_id=$id" "user=$user")" "$name: key of the failed auth (the certified key)"
	no_success "$id" "$name" "user=$user"
}

# cert_audited ID USER PRINCIPAL SERIAL CA: the successful auth record of
# certificate ID says exactly who, with what, signed by whom, until when.
cert_audited() {
	local id=$1 f=(event=auth result=success "cert_id=$1")
	audit_wait "$id: the successful auth" "${f[@]}"
	assert_eq "$2" "$(audit_field user "${f[@]}")" "$id: user"
	assert_eq publickey "$(audit_field method "${f[@]}")" "$id: method"
	assert_eq "$UFP" "$(audit_field key "${f[@]}")" \
	    "$id: key (fingerprint of the certified key, not of the cert)"
	assert_eq "$4" "$(audit_field cert_serial "${f[@]}")" "$id: cert_serial"
	assert_eq "$(fp "$T/ca_$5.pub")" "$(audit_field ca "${f[@]}")" \
	    "$id: ca (fingerprint of the CA key)"
	assert_eq "$3" "$(audit_field principal "${f[@]}")" "$id: principal"
	assert_valid_before "$(cert_of "$id")" \
	    "$(audit_field valid_before "${f[@]}")" "$id: valid_before"
}

audit_count_above() {	# N FILTER...
	local n=$1
	shift
	[ "$(audit_count "$@")" -gt "$n" ]
}

# ------------------------------------------------------------------------
step "each_ca_type_logs_in_forwards_and_is_audited"
serial=100
for ca in ed p256 p384 p521 rsa; do
	serial=$((serial + 1))
	cert_make "ok-$ca" "$ca" ucert alice "$serial" "-5m:+1h"
	cert_login "ok-$ca" "ok-$ca" alice
	cert_audited "ok-$ca" alice alice "$serial" "$ca"
	assert_eq 0 "$(audit_count event=auth "cert_id=ok-$ca" \
	    force_command?)" "ok-$ca: auth records with a force_command"
done

step "the_principal_that_matched_is_audited"
cert_make multi ed ucert "ops,alice,dev" 110 "-5m:+1h"
cert_login multi multi alice
cert_audited multi alice alice 110 ed

step "cert_without_end_is_valid_forever"
cert_make forever ed ucert alice 111 ""
cert_login forever forever alice
cert_audited forever alice alice 111 ed
assert_eq forever "$(audit_field valid_before event=auth result=success \
    cert_id=forever)" "valid_before of a certificate without an end"

step "cert_with_only_permit_port_forwarding_logs_in"
cert_make onlypf ed ucert alice 112 "-5m:+1h" -O clear \
    -O permit-port-forwarding
cert_login onlypf onlypf alice
cert_audited onlypf alice alice 112 ed

# ------------------------------------------------------------------------
step "expired_cert_is_refused"
cert_make expired ed ucert alice 120 "20200101:20200102"
cert_refused expired expired alice expired

step "not_yet_valid_cert_is_refused"
cert_make early ed ucert alice 121 "+1d:+2d"
cert_refused early early alice "not yet valid"

step "cert_for_other_principals_is_refused"
cert_make others ed ucert "bob,carol" 122 "-5m:+1h"
cert_refused others others alice principal
# ...and the same certificate is good for bob.
cert_login others-bob others bob
cert_audited others bob bob 122 ed

step "cert_without_principals_is_refused"
cert_make noprinc ed ucert "" 123 "-5m:+1h"
cert_refused noprinc noprinc alice principal

step "cert_of_untrusted_ca_is_refused"
cert_make rogue rogue ucert alice 124 "-5m:+1h"
cert_refused rogue rogue alice "CA not trusted"

step "cert_without_permit_port_forwarding_is_refused"
cert_make clear ed ucert alice 125 "-5m:+1h" -O clear
cert_refused clear clear alice permit-port-forwarding
cert_make nopf ed ucert alice 126 "-5m:+1h" -O no-port-forwarding
cert_refused nopf nopf alice permit-port-forwarding

# ------------------------------------------------------------------------
step "source_address_matching_the_client_logs_in"
cert_make src-ok ed ucert alice 130 "-5m:+1h" \
    -O source-address=127.0.0.1/32
cert_login src-ok src-ok alice
cert_audited src-ok alice alice 130 ed
cert_make src-list ed ucert alice 131 "-5m:+1h" \
    -O source-address=10.0.0.0/8,127.0.0.0/8
cert_login src-list src-list alice
cert_audited src-list alice alice 131 ed

step "source_address_elsewhere_is_refused"
cert_make src-bad ed ucert alice 132 "-5m:+1h" \
    -O source-address=10.0.0.0/8
cert_refused src-bad src-bad alice source-address

step "force_command_is_accepted_and_audited"
cert_make forced ed ucert alice 133 "-5m:+1h" \
    -O force-command=/usr/bin/false
cert_login forced forced alice
cert_audited forced alice alice 133 ed
assert_eq /usr/bin/false "$(audit_field force_command event=auth \
    result=success cert_id=forced)" "force_command of the auth record"

step "unknown_critical_option_is_refused"
cp "$T/id_ucert.pub" "$T/crit-probe.pub"
if ssh-keygen -q -s "$T/ca_ed" -I probe -O critical:foo=bar \
    "$T/crit-probe.pub" 2> /dev/null; then
	cert_make crit ed ucert alice 134 "-5m:+1h" -O critical:foo=bar
	cert_refused crit crit alice "critical option"
else
	echo "   (this ssh-keygen cannot write -O critical:foo=bar; not tested)"
fi

step "host_cert_is_refused_as_user_cert"
# ssh does not offer a host certificate ("not a user certificate"):
# certforge offers it.
cert_make hostcert ed ucert alice 135 "-5m:+1h" -h
before=$(audit_count event=auth user=alice result=failure)
OUT=$(timeout -k 5 60 "$PY" "$TOOLS/certforge.py" --port "$HOPD_PORT" \
    --user alice --key "$T/id_ucert" --cert "$(cert_of hostcert)") ||
    fail "certforge with the host certificate: $OUT"
assert_contains "$OUT" "auth=failure" "certforge with the host certificate"
wait_for 10 "the failed auth of the host certificate" \
    audit_count_above "$before" event=auth user=alice result=failure
no_success hostcert "host certificate"

# ------------------------------------------------------------------------
step "cert_authority_in_authorized_keys_is_a_ca_for_that_user"
cert_make deploy personal ucert "deploy" 140 "-5m:+1h"
cert_login deploy deploy carol
cert_audited deploy carol deploy 140 personal

step "cert_authority_principals_option_limits_the_principals"
cert_make pers-carol personal ucert "carol" 141 "-5m:+1h"
cert_refused pers-carol pers-carol carol principal

step "cert_authority_of_one_user_is_no_ca_for_another"
cert_make pers-alice personal ucert "alice,deploy" 142 "-5m:+1h"
cert_refused pers-alice pers-alice alice "CA not trusted"

# ------------------------------------------------------------------------
# forge NAME CA MUTATION: certforge offers certificate NAME (made here,
# alice, from CA) with MUTATION; its output is in OUT.
forge() {
	cert_make "$1" "$2" ucert alice "$4" "-5m:+1h"
	OUT=$(timeout -k 5 60 "$PY" "$TOOLS/certforge.py" \
	    --port "$HOPD_PORT" --user alice --key "$T/id_ucert" \
	    --cert "$(cert_of "$1")" --mutate "$3" --target "$TARGET") ||
	    fail "$1: certforge could not get an answer: $OUT"
	echo "   $1: $OUT"
}

step "certforge_logs_in_with_a_good_cert"
forge forge-good ed none 150
assert_contains "$OUT" "auth=success" "certforge with a good certificate"
assert_contains "$OUT" "echo=ok" "certforge's echo after logging in"
cert_audited forge-good alice alice 150 ed

step "flipped_ca_signature_is_refused"
serial=150
for ca in ed p256 rsa; do
	serial=$((serial + 1))
	before=$(audit_count event=auth user=alice result=failure \
	    reason~signature)
	forge "forge-flip-$ca" "$ca" flip-sig "$serial"
	assert_contains "$OUT" "auth=failure" \
	    "certforge with a flipped $ca signature"
	wait_for 10 "a failed auth with reason ~ signature ($ca CA)" \
	    audit_count_above "$before" event=auth user=alice \
	    result=failure reason~signature
	no_success "forge-flip-$ca" "flipped $ca signature"
done

step "cert_with_trailing_bytes_is_refused"
before=$(audit_count event=auth user=alice result=failure reason~malformed)
forge forge-trail ed trailing 160
assert_contains "$OUT" "auth=failure" "certforge with trailing bytes"
wait_for 10 "a failed auth with reason ~ malformed" audit_count_above \
    "$before" event=auth user=alice result=failure reason~malformed
no_success forge-trail "trailing bytes"

step "truncated_cert_is_refused"
before=$(audit_count event=auth user=alice result=failure reason~malformed)
forge forge-trunc ed truncate 161
assert_contains "$OUT" "auth=failure" "certforge with a truncated blob"
wait_for 10 "a failed auth with reason ~ malformed" audit_count_above \
    "$before" event=auth user=alice result=failure reason~malformed
no_success forge-trunc "truncated blob"
hopd_alive

# ------------------------------------------------------------------------
# authorized_principals: a second hopd, the principals file of the user
# replaces the login name as what a certificate must name.
mkdir -p "$T/principals"
cat > "$T/principals/alice" <<'EOF2'
# alice's roles
db-admins
from="127.0.0.1" ops
from="10.0.0.0/8" netops
EOF2
cat > "$T/principals/bob" <<'EOF2'
# db-admins
web
EOF2
HOPD_SERVER=("trusted_user_ca_keys = $T/trusted_cas"
	"authorized_principals = $T/principals/%u")
hopd_restart <<< "$POLICY"

step "principals_file_maps_cert_principal_to_user"
cert_make ap-db ed ucert "db-admins" 170 "-5m:+1h"
cert_login ap-db ap-db alice
cert_audited ap-db alice db-admins 170 ed

step "principal_not_in_the_users_file_is_refused"
cert_refused ap-db-bob ap-db bob principal

step "principals_file_replaces_the_login_name"
cert_make ap-name ed ucert "alice" 171 "-5m:+1h"
cert_refused ap-name ap-name alice principal

step "principals_file_options_apply"
cert_make ap-ops ed ucert "ops" 172 "-5m:+1h"
cert_login ap-ops ap-ops alice
cert_audited ap-ops alice ops 172 ed
cert_make ap-netops ed ucert "netops" 173 "-5m:+1h"
KEY=ucert login_refused ap-netops alice \
    -o "CertificateFile=$(cert_of ap-netops)" -W "$TARGET"
audit_wait "ap-netops: the certificate's failed auth" event=auth \
    user=alice result=failure cert_id=ap-netops
no_success ap-netops "principal whose from= does not match"
hopd_alive
echo "PASS $TEST_NAME"

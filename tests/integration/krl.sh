#!/bin/bash
# Revocation (revoked_keys) and the end of certificate sessions.  A KRL made
# by ssh-keygen -k refuses certificates by serial, by serial range, by key
# id, by their certified key and by their CA, and plain keys; the serials
# next to a revoked one still log in; a plain-text list of keys works too;
# a revoked_keys file that is malformed or unreadable refuses every key
# (fail closed), at start and on reload.  On SIGHUP, a live session whose
# certificate is now revoked, or whose CA left trusted_user_ca_keys, ends
# (session_end reason=revoked, its tunnel closed, ssh -W exits) while
# another user's session goes on forwarding.  A certificate session ends
# when its certificate does (reason=cert_expired), unless cert_expiry =
# keep.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
start_server ECHOV echo echov		# the target of sessions to be ended
start_server ECHOB echo echob		# the bystander's target
TARGET=127.0.0.1:$ECHO

ca_make one ed25519
ca_make two ecdsa 256
CAS=$T/trusted_cas
cat "$T/ca_one.pub" "$T/ca_two.pub" > "$CAS"
keygen ucert
keygen ucert2
add_user bob
add_user carol
KRL=$T/revoked_keys

# krl_make < SPEC: writes the KRL of SPEC (ssh-keygen -k lines: serial:,
# id:, key:; serials and ids of CA one) to $KRL, atomically.
krl_make() {
	cat > "$T/krl.spec"
	rm -rf "$KRL.new"
	ssh-keygen -k -f "$KRL.new" -s "$T/ca_one.pub" "$T/krl.spec" \
	    > "$T/krl.err" 2>&1 || fail "ssh-keygen -k: $(cat "$T/krl.err")"
	mv -T "$KRL.new" "$KRL"
}

reload() {
	hopd_reload "reloaded "
}

krl_make < /dev/null
HOPD_SERVER=("trusted_user_ca_keys = $CAS" "revoked_keys = $KRL")
POLICY="[user alice]
allow = $TARGET,$ECHOV,$ECHOB
[user bob]
allow = $TARGET,$ECHOV,$ECHOB
[user carol]
allow = $TARGET,$ECHOV,$ECHOB"
hopd_start <<< "$POLICY"

# cert_login NAME ID [KEYNAME]: alice logs in with certificate ID (of key
# KEYNAME, default ucert) and echoes 1000 bytes.
cert_login() {
	KEY=${3:-ucert} w_roundtrip 1000 "$1" \
	    -o "CertificateFile=$(cert_of "$2")" -W "$TARGET" alice@127.0.0.1
}

# cert_revoked NAME ID WORD [KEYNAME]: alice's login with certificate ID is
# refused, audited with cert_id ID and a reason containing WORD.
cert_revoked() {
	KEY=${4:-ucert} login_refused "$1" alice \
	    -o "CertificateFile=$(cert_of "$2")" -W "$TARGET"
	auth_failure_wait "$1" alice "$3" "cert_id=$2"
}

# cert_refused_any NAME ID WORD: as cert_revoked, for refusals that may
# come before hopd reads the certificate (no cert_id required): a new
# failed auth of alice with a reason containing WORD.
cert_refused_any() {
	local before
	before=$(audit_count event=auth user=alice result=failure "reason~$3")
	KEY=ucert login_refused "$1" alice \
	    -o "CertificateFile=$(cert_of "$2")" -W "$TARGET"
	wait_for 10 "$1: a new failed auth of alice with reason ~ '$3'" \
	    audit_count_above "$before" event=auth user=alice result=failure \
	    "reason~$3"
}

# plain_login NAME USER: USER logs in with its plain key.
plain_login() {
	KEY=$2 w_roundtrip 1000 "$1" -W "$TARGET" "$2@127.0.0.1"
}

# plain_refused NAME USER WORD: USER's plain key is refused, audited with
# its fingerprint and a reason containing WORD; returns once the record
# written after this attempt is there.
plain_refused() {
	local before
	before=$(audit_count event=auth "user=$2" result=failure "reason~$3" \
	    "key=$(fp "$T/id_$2.pub")")
	KEY=$2 login_refused "$1" "$2" -W "$TARGET"
	wait_for 10 "$1: a new failed auth of $2's key with reason ~ '$3'" \
	    audit_count_above "$before" event=auth "user=$2" result=failure \
	    "reason~$3" "key=$(fp "$T/id_$2.pub")"
}

audit_count_above() {	# N FILTER...
	local n=$1
	shift
	[ "$(audit_count "$@")" -gt "$n" ]
}

# session_of ID: the session id of the successful auth with certificate ID
# (KEY=plain:USER: of USER's plain key).
session_of() {
	local s
	case $1 in
	plain:*) s=$(audit_field session event=auth result=success \
	    "user=${1#plain:}" "key=$(fp "$T/id_${1#plain:}.pub")") ;;
	*) s=$(audit_field session event=auth result=success "cert_id=$1") ;;
	esac
	[ -n "$s" ] || fail "no session id in the successful auth of $1"
	echo "$s"
}

# ------------------------------------------------------------------------
step "every_cert_logs_in_before_revocation"
cert_make c10 one ucert alice 10 "-5m:+1h"
cert_make c11 one ucert alice 11 "-5m:+1h"
cert_make c19 one ucert alice 19 "-5m:+1h"
cert_make c20 one ucert alice 20 "-5m:+1h"
cert_make c30 one ucert alice 30 "-5m:+1h"
cert_make c31 one ucert alice 31 "-5m:+1h"
cert_make revoke-me one ucert alice 40 "-5m:+1h"
cert_make ckey one ucert2 alice 50 "-5m:+1h"
cert_make ctwo two ucert alice 11 "-5m:+1h"	# serial 11 of the other CA
for id in c10 c11 c19 c20 c30 c31 revoke-me ctwo; do
	cert_login "before-$id" "$id"
done
cert_login before-ckey ckey ucert2
plain_login before-bob bob
plain_login before-carol carol
BOB_OK=$(audit_count event=auth result=success "key=$(fp "$T/id_bob.pub")")

krl_make <<EOF2
serial: 10
serial: 20-30
id: revoke-me
key: $(cat "$T/id_ucert2.pub")
key: $(cat "$T/ca_two.pub")
key: $(cat "$T/id_bob.pub")
EOF2
reload

step "cert_revoked_by_serial_is_refused"
cert_revoked serial c10 revoked
step "neighbour_serial_still_logs_in"
cert_login after-c11 c11
step "cert_revoked_by_serial_range_is_refused"
cert_revoked range-low c20 revoked
cert_revoked range-high c30 revoked
step "serials_just_outside_the_range_log_in"
cert_login after-c19 c19
cert_login after-c31 c31
step "cert_revoked_by_key_id_is_refused"
cert_revoked keyid revoke-me revoked
step "cert_of_a_revoked_key_is_refused"
cert_revoked certkey ckey revoked ucert2
step "cert_of_a_revoked_ca_is_refused"
cert_revoked ca ctwo revoked
step "revoked_plain_key_is_refused"
plain_refused plain-bob bob revoked
step "other_plain_keys_log_in"
plain_login after-alice alice
plain_login after-carol carol
assert_eq "$BOB_OK" "$(audit_count event=auth result=success \
    "key=$(fp "$T/id_bob.pub")")" "successful auths of bob's key (those \
before its revocation)"

# ------------------------------------------------------------------------
step "plain_text_revoked_keys_file_refuses_its_keys"
cat "$T/id_carol.pub" > "$KRL.new"
mv "$KRL.new" "$KRL"
reload
plain_refused text-carol carol revoked
plain_login text-bob bob		# in the KRL, not in this list
cert_login text-c10 c10
plain_login text-alice alice

# ------------------------------------------------------------------------
step "malformed_revoked_keys_refuses_every_key"
printf 'SSHKRL\n\0\0\0\0\1this is no KRL\n' > "$KRL.new"
mv "$KRL.new" "$KRL"
reload
plain_refused garbage-alice alice revoked_keys
cert_refused_any garbage-c11 c11 revoked_keys

step "unreadable_revoked_keys_refuses_every_key"
rm -f "$KRL"
mkdir "$KRL"				# not readable as a file, even by root
reload
plain_refused dir-alice alice revoked_keys
plain_refused dir-carol carol revoked_keys

step "a_good_revoked_keys_again_lets_keys_in"
rmdir "$KRL"
krl_make < /dev/null
reload
plain_login again-alice alice
cert_login again-c11 c11

# ------------------------------------------------------------------------
step "reload_ends_a_session_whose_cert_is_now_revoked"
KEY=carol live_start by carol "127.0.0.1:$ECHOB"
SID_BY=$(session_of plain:carol)
cert_make live-70 one ucert alice 70 "-5m:+1h"
KEY=ucert live_start v70 alice "127.0.0.1:$ECHOV" \
    -o "CertificateFile=$(cert_of live-70)"
SID=$(session_of live-70)
krl_make <<EOF2
serial: 70
EOF2
reload
wait_for 5 "session_end reason=revoked of the session of live-70" \
    audit_has event=session_end "session=$SID" reason=revoked
wait_for 5 "ssh -W of live-70 to exit" live_exited v70
audit_wait "the channel_close of live-70's tunnel" event=channel_close \
    "session=$SID" "target=127.0.0.1:$ECHOV"

step "reload_keeps_a_session_that_is_not_revoked"
live_echoes by by-1 || fail "carol's tunnel no longer echoes after the reload"
assert_eq 0 "$(audit_count event=session_end "session=$SID_BY")" \
    "session_end records of carol's session"
cert_login after-live c11

step "reload_ends_a_session_whose_ca_is_no_longer_trusted"
cert_make live-ca two ucert alice 80 "-5m:+1h"
KEY=ucert live_start vca alice "127.0.0.1:$ECHOV" \
    -o "CertificateFile=$(cert_of live-ca)"
SID=$(session_of live-ca)
cat "$T/ca_one.pub" > "$CAS.new"
mv "$CAS.new" "$CAS"
reload
wait_for 5 "session_end reason=revoked of the session of live-ca" \
    audit_has event=session_end "session=$SID" reason=revoked
wait_for 5 "ssh -W of live-ca to exit" live_exited vca
audit_wait "the channel_close of live-ca's tunnel" event=channel_close \
    "session=$SID" "target=127.0.0.1:$ECHOV"
live_echoes by by-2 || fail "carol's tunnel no longer echoes after the reload"
assert_eq 0 "$(audit_count event=session_end "session=$SID_BY")" \
    "session_end records of carol's session"
cert_revoked untrusted live-ca "CA not trusted"
cert_login still-one c11

# ------------------------------------------------------------------------
# expiring_cert ID SERIAL SECONDS: a certificate of CA one that ends
# SECONDS from now (whole seconds); its end, in epoch seconds, in VB.
expiring_cert() {
	VB=$(($(date +%s) + $3))
	cert_make "$1" one ucert alice "$2" \
	    "-1m:$(date -u -d "@$VB" +%Y%m%d%H%M%S)Z"
}

# now_ge EPOCH: the clock has reached EPOCH.
now_ge() {
	[ "$(date +%s)" -ge "$1" ]
}

step "session_ends_when_its_cert_does"
expiring_cert exp-end 90 8
STARTED=$(date +%s)
KEY=ucert live_start vexp alice "127.0.0.1:$ECHOV" \
    -o "CertificateFile=$(cert_of exp-end)"
SID=$(session_of exp-end)
assert_valid_before "$(cert_of exp-end)" "$(audit_field valid_before \
    event=auth result=success cert_id=exp-end)" "valid_before of exp-end"
wait_for 15 "3 s before the certificate's end" now_ge $((VB - 3))
live_echoes vexp vexp-1 ||
    fail "the session ended 3 s before its certificate did"
assert_eq 0 "$(audit_count event=session_end "session=$SID")" \
    "session_end records 3 s before the certificate's end"
wait_for 15 "session_end reason=cert_expired of exp-end" \
    audit_has event=session_end "session=$SID" reason=cert_expired
END=$(audit_field ts event=session_end "session=$SID")
END_S=$(iso_epoch "$END")
echo "   session started at $STARTED, cert ends at $VB, session_end at $END_S"
awk -v e="$END_S" -v vb="$VB" 'BEGIN { exit !(e >= vb - 1 && e <= vb + 5) }' ||
    fail "session_end at $END ($END_S): expected within [$((VB - 1)), $((VB + 5))] (the certificate ends at $VB)"
awk -v e="$END_S" -v s="$STARTED" 'BEGIN { exit !(e - s >= 3) }' ||
    fail "session_end at $END_S, only $(awk -v e="$END_S" -v s="$STARTED" \
    'BEGIN { print e - s }') s after the login"
wait_for 5 "ssh -W of exp-end to exit" live_exited vexp
audit_wait "the channel_close of exp-end's tunnel" event=channel_close \
    "session=$SID" "target=127.0.0.1:$ECHOV"
cert_revoked exp-end-again exp-end expired

# ------------------------------------------------------------------------
step "cert_expiry_keep_lets_the_session_outlive_its_cert"
HOPD_SERVER=("trusted_user_ca_keys = $CAS" "revoked_keys = $KRL"
	"cert_expiry = keep")
hopd_restart <<< "$POLICY"
expiring_cert exp-keep 91 6
KEY=ucert live_start vkeep alice "127.0.0.1:$ECHOV" \
    -o "CertificateFile=$(cert_of exp-keep)"
SID=$(session_of exp-keep)
wait_for 15 "3 s past the certificate's end" now_ge $((VB + 3))
live_echoes vkeep vkeep-1 ||
    fail "the session did not outlive its certificate with cert_expiry = keep"
assert_eq 0 "$(audit_count event=session_end "session=$SID")" \
    "session_end records of the kept session"
cert_revoked exp-keep-again exp-keep expired

# ------------------------------------------------------------------------
step "malformed_revoked_keys_at_start_refuses_every_key"
printf 'not a public key, not a KRL\n' > "$KRL.new"
mv "$KRL.new" "$KRL"
hopd_restart <<< "$POLICY"
plain_refused start-alice alice revoked_keys
cert_refused_any start-c11 c11 revoked_keys
hopd_alive
echo "PASS $TEST_NAME"

#!/bin/bash
# authorized_keys options narrow what a key may do, never widen it: from=
# (addresses, wildcards, CIDR, !negation) against the client's address,
# expiry-time, permitopen for -W and -L targets (a target the policy allows
# but the key does not is denied; one the key names but the policy does not
# stays denied), permitlisten for -R, no-port-forwarding (the line is
# skipped: another line may still match), restrict,port-forwarding,
# command= (accepted and audited as force_command); a line with an option
# hopd does not implement (tunnel=, environment=) is refused.  Each user
# has one key and an authorized_keys file written before hopd starts.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
start_server ECHO2 echo echo2
start_server ECHO3 echo echo3		# in no allow rule
RP1=$(free_port)
RP2=$(free_port)

USERS=()
# keyline USER OPTIONS: a line "OPTIONS KEY" in USER's authorized_keys,
# KEY the public key id_USER; OPTIONS "" for a plain line.
keyline() {
	keygen "$1"
	mkdir -p "$T/auth"
	chmod 755 "$T/auth"
	echo "${2:+$2 }$(cat "$T/id_$1.pub")" >> "$T/auth/$1"
	chmod 600 "$T/auth/$1"
	case " ${USERS[*]} " in
	*" $1 "*) ;;
	*) USERS+=("$1") ;;
	esac
}

keyline fromok 'from="127.0.0.1"'
keyline fromwild 'from="10.*,127.0.0.?"'
keyline fromcidr 'from="192.168.0.0/16,127.0.0.0/8"'
keyline fromneg2 'from="!10.1.2.3,127.*"'
keyline frombad 'from="10.*"'
keyline fromneg 'from="!127.0.0.1,*"'
keyline expold 'expiry-time="20200101"'
keyline expoldz 'expiry-time="20200101000000Z"'
keyline expnew 'expiry-time="20991231"'
keyline expnewz 'expiry-time="209912312359Z"'
keyline popen "permitopen=\"127.0.0.1:$ECHO\""
keyline popen2 "permitopen=\"127.0.0.1:$ECHO\",permitopen=\"127.0.0.1:$ECHO3\""
keyline plisten "permitlisten=\"$RP1\""
keyline nopf 'no-port-forwarding'
keyline nopf2 'no-port-forwarding'
keyline nopf2 ''
keyline rpf 'restrict,port-forwarding'
keyline ronly 'restrict'
keyline cmd 'command="/usr/bin/false"'
keyline tunnel 'tunnel="0"'
keyline envx 'environment="X=1"'

POLICY=""
for u in "${USERS[@]}"; do
	POLICY+="[user $u]
allow = 127.0.0.1:$ECHO,$ECHO2
listen = localhost:$RP1
listen = localhost:$RP2
"
done
hopd_start <<< "$POLICY"

# key_ok NAME USER [TARGET]: USER logs in with its key and echoes 1000
# bytes through ssh -W TARGET (default the first echo server); audited as
# a success of that key.
key_ok() {
	KEY=$2 w_roundtrip 1000 "$1" -W "${3:-127.0.0.1:$ECHO}" "$2@127.0.0.1"
	audit_wait "$1: the successful auth of $2" event=auth "user=$2" \
	    result=success "key=$(fp "$T/id_$2.pub")"
}

# key_refused NAME USER [WORD]: USER's login with its key is refused and
# audited as a failure of that key (reason containing WORD, if given); no
# auth of that key ever succeeded.
key_refused() {
	local f
	f=(event=auth "user=$2" result=failure "key=$(fp "$T/id_$2.pub")")
	[ -z "${3:-}" ] || f+=("reason~$3")
	KEY=$2 login_refused "$1" "$2" -W "127.0.0.1:$ECHO"
	audit_wait "$1: the failed auth of $2's key${3:+ (reason ~ $3)}" "${f[@]}"
	assert_eq 0 "$(audit_count event=auth result=success \
	    "key=$(fp "$T/id_$2.pub")")" "$1: successful auths of $2's key"
}

# w_denied NAME USER TARGET: USER logs in, but ssh -W TARGET is refused:
# nothing comes through and the channel_open is a deny.
w_denied() {
	if KEY=$2 hop_ssh -W "$3" "$2@127.0.0.1" < /dev/null > "$T/$1.out" \
	    2> "$T/$1.err"; then
		fail "$1: ssh -W $3 as $2 succeeded"
	fi
	[ ! -s "$T/$1.out" ] || fail "$1: data came through"
	audit_wait "$1: the denied channel_open of $2 to $3" \
	    event=channel_open "user=$2" "target=$3" decision=deny
	assert_eq 0 "$(audit_count event=channel_open "user=$2" "target=$3" \
	    result=open)" "$1: opened channels of $2 to $3"
}

# ------------------------------------------------------------------------
step "from_matching_the_client_logs_in"
key_ok from-exact fromok
key_ok from-wildcard fromwild
key_ok from-cidr fromcidr
key_ok from-negated-other fromneg2

step "from_not_matching_the_client_is_refused"
key_refused from-elsewhere frombad "from="
key_refused from-negated fromneg "from="

step "expiry_time_in_the_past_is_refused"
key_refused expired-date expold expiry-time
key_refused expired-utc expoldz expiry-time

step "expiry_time_in_the_future_logs_in"
key_ok expires-later expnew
key_ok expires-later-utc expnewz

# ------------------------------------------------------------------------
step "permitopen_target_is_forwarded"
key_ok permitopen-ok popen "127.0.0.1:$ECHO"
assert_eq allow "$(audit_field decision event=channel_open user=popen \
    "target=127.0.0.1:$ECHO")" "decision of popen's open to its permitopen"

step "target_allowed_by_policy_but_not_permitopen_is_denied"
w_denied permitopen-other popen "127.0.0.1:$ECHO2"
hopd_alive

step "permitopen_does_not_widen_the_policy"
key_ok permitopen2-ok popen2 "127.0.0.1:$ECHO"
w_denied permitopen2-policy popen2 "127.0.0.1:$ECHO3"
w_denied permitopen2-other popen2 "127.0.0.1:$ECHO2"

step "permitopen_applies_to_local_forwards"
L1=$(free_port)
L2=$(free_port)
KEY=popen ssh_args
bg ssh "${SSH_ARGS[@]}" -N -o ExitOnForwardFailure=yes \
    -L "127.0.0.1:$L1:127.0.0.1:$ECHO" -L "127.0.0.1:$L2:127.0.0.1:$ECHO2" \
    popen@127.0.0.1 2> "$T/lfwd.err"
LFWD=$BG_LAST
wait_for 15 "ssh -L to listen on $L1" is_listening "$L1"
wait_for 15 "ssh -L to listen on $L2" is_listening "$L2"
"$PY" "$NETUTIL" clients --port "$L1" --parallel 1 --bytes 1000 \
    > "$T/lfwd-ok.out" || fail "-L to popen's permitopen target: $(cat \
    "$T/lfwd-ok.out")"
if "$PY" "$NETUTIL" clients --port "$L2" --parallel 1 --bytes 10 \
    --timeout 10 > "$T/lfwd-denied.out"; then
	fail "a -L connection to a target outside permitopen echoed"
fi
audit_wait "the denied -L channel_open to 127.0.0.1:$ECHO2" \
    event=channel_open user=popen type=direct-tcpip \
    "target=127.0.0.1:$ECHO2" decision=deny
stop "$LFWD"

# ------------------------------------------------------------------------
step "permitlisten_port_is_forwarded"
KEY=plisten ssh_args
bg timeout -k 5 60 ssh "${SSH_ARGS[@]}" -N -o ExitOnForwardFailure=yes \
    -R "$RP1:127.0.0.1:$ECHO" plisten@127.0.0.1 2> "$T/rfwd.err"
RFWD=$BG_LAST
wait_for 10 "the remote forward on $RP1" is_listening "$RP1"
"$PY" "$TOOLS/roundtrip.py" 127.0.0.1 "$RP1" --bytes 1000 --timeout 20 ||
    fail "no echo through the remote forward on $RP1"
audit_wait "the allowed forward_listen on $RP1" event=forward_listen \
    user=plisten "port=$RP1" decision=allow
stop "$RFWD"

step "listen_allowed_by_policy_but_not_permitlisten_is_denied"
rc=0
KEY=plisten SSH_TIMEOUT=15 hop_ssh -N -o ExitOnForwardFailure=yes \
    -R "$RP2:127.0.0.1:$ECHO" plisten@127.0.0.1 < /dev/null \
    > /dev/null 2> "$T/rfwd2.err" || rc=$?
assert_ne 0 "$rc" "exit status of ssh -R $RP2 (ExitOnForwardFailure)"
audit_wait "the denied forward_listen on $RP2" event=forward_listen \
    user=plisten "port=$RP2" decision=deny
if is_listening "$RP2"; then
	fail "port $RP2 listens"
fi

# ------------------------------------------------------------------------
step "no_port_forwarding_line_is_refused"
key_refused no-pf nopf

step "no_port_forwarding_line_is_skipped_for_the_next"
key_ok no-pf-then-plain nopf2

step "restrict_then_port_forwarding_logs_in"
key_ok restrict-pf rpf

step "restrict_alone_is_refused"
key_refused restrict-only ronly

step "command_is_accepted_and_audited"
key_ok command cmd
assert_eq /usr/bin/false "$(audit_field force_command event=auth \
    user=cmd result=success)" "force_command of cmd's auth record"

step "unsupported_options_refuse_the_line"
key_refused tunnel tunnel
key_refused environment envx
hopd_alive
echo "PASS $TEST_NAME"

# shellcheck shell=bash
# Shared helpers of tests/integration/*.sh: a temp dir per test, background
# processes killed on exit, hopd started on a free port with a temp config,
# OpenSSH and the helper servers of tests/tools/netutil.py, assertions that
# say what was expected and what came, and audit log queries.
#
# A script sources this file, then calls hopd_start with its policy on
# stdin.  On failure the tails of hopd's log and of the audit log are shown.
# A script that cannot run here calls skip (exit 77), never exit 0.

set -euo pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=$TESTS_DIR/tools
# Debian's python: it has paramiko; a python3 first on PATH may not.
PY=/usr/bin/python3
NETUTIL=$TOOLS/netutil.py
TEST_NAME=$(basename "$0" .sh)

if [ -z "${HOPD:-}" ]; then
	HOPD=$(cd "$TESTS_DIR/.." && pwd)/build/hopd
fi
if [ ! -x "$HOPD" ]; then
	echo "FAIL $TEST_NAME: no hopd binary at HOPD=$HOPD" >&2
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hopd-$TEST_NAME.XXXXXX")
chmod 755 "$T"
HOPD_LOG=$T/hopd.log
AUDIT=$T/audit.jsonl
SSH_CONFIG=$T/ssh_config
HOPD_CONF=$T/hopd.ini
HOPD_PID=""
HOPD_PORT=""
BG_PIDS=()
BG_LAST=""
SSH_ARGS=()
HOPD_SERVER=()

# ---------------------------------------------------------------- lifecycle

lib_cleanup() {
	local rc=$? pid="" i
	set +e
	# hopd first, given time to exit cleanly: a sanitizer build reports
	# leaks at exit, and any report fails the test.
	if [ -n "$HOPD_PID" ] && kill -TERM "$HOPD_PID" 2>/dev/null; then
		for i in $(seq 1 100); do
			kill -0 "$HOPD_PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
	for pid in "${BG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for i in $(seq 1 20); do
		for pid in "${BG_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && break
			pid=""
		done
		[ -z "$pid" ] && break
		sleep 0.1
	done
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	if grep -qE "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$HOPD_LOG" \
	    2>/dev/null; then
		echo "FAIL $TEST_NAME: sanitizer report in hopd's log:"
		grep -A 30 -E "ERROR: [A-Za-z]+Sanitizer|runtime error:" \
		    "$HOPD_LOG" | head -n 60
		case $rc in 0 | 77) rc=1 ;; esac
	fi
	# 77 is a skip (see skip), not a failure: it passes through as is.
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		echo "---- $TEST_NAME failed (exit $rc); tail of hopd's log:"
		tail -n 40 "$HOPD_LOG" 2>/dev/null
		echo "---- tail of the audit log:"
		tail -n 15 "$AUDIT" 2>/dev/null
		echo "----"
	fi
	if [ -n "${HOPD_KEEP_TMP:-}" ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bg CMD ARGS...: runs CMD in the background, killed when the test ends;
# its pid is in BG_LAST.  Redirections given to bg apply to CMD.
bg() {
	"$@" &
	BG_LAST=$!
	BG_PIDS+=("$BG_LAST")
}

# stop PID: kill one background process now (and reap it).
stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

step() {
	echo "== $TEST_NAME: $*"
}

# ---------------------------------------------------------------- assertions

fail() {
	echo "FAIL $TEST_NAME: $*" >&2
	exit 1
}

assert_eq() {	# EXPECTED ACTUAL WHAT
	[ "$1" = "$2" ] ||
	    fail "$3: expected '$1', got '$2'"
}

assert_ne() {	# UNEXPECTED ACTUAL WHAT
	[ "$1" != "$2" ] ||
	    fail "$3: expected anything but '$1'"
}

assert_le() {	# LIMIT ACTUAL WHAT
	[ "$2" -le "$1" ] ||
	    fail "$3: expected at most $1, got $2"
}

assert_contains() {	# HAYSTACK NEEDLE WHAT
	case "$1" in
	*"$2"*) ;;
	*) fail "$3: expected to contain '$2', got:
$1" ;;
	esac
}

assert_not_contains() {	# HAYSTACK NEEDLE WHAT
	case "$1" in
	*"$2"*) fail "$3: expected not to contain '$2', got:
$1" ;;
	*) ;;
	esac
}

assert_file_contains() {	# FILE NEEDLE WHAT
	grep -qF -- "$2" "$1" 2>/dev/null ||
	    fail "$3: expected $1 to contain '$2'; it has:
$(tail -n 20 "$1" 2>/dev/null)"
}

# wait_for SECONDS WHAT CMD ARGS...: polls CMD every 0.1 s until it succeeds.
wait_for() {
	local secs=$1 what=$2 i n
	shift 2
	n=$((secs * 10))
	for ((i = 0; i < n; i++)); do
		if "$@"; then
			return 0
		fi
		sleep 0.1
	done
	fail "timed out after ${secs}s waiting for: $what"
}

# ---------------------------------------------------------------- ports, keys

free_port() {	# [BIND]
	"$PY" "$NETUTIL" free-port --bind "${1:-127.0.0.1}"
}

is_listening() {	# PORT
	[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# keygen NAME: an ed25519 key pair in $T/id_NAME(.pub).
keygen() {
	[ -f "$T/id_$1" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C "$1@hopd-test" -f "$T/id_$1"
}

# add_user USER [KEYNAME]: USER may log in with key KEYNAME (default USER).
add_user() {
	local key=${2:-$1}
	keygen "$key"
	mkdir -p "$T/auth"
	chmod 755 "$T/auth"
	cat "$T/id_$key.pub" >> "$T/auth/$1"
	chmod 600 "$T/auth/$1"
}

# ---------------------------------------------------------------- hopd

# hopd_start < POLICY: writes $HOPD_CONF with the common [server] lines,
# the extra ones of the array HOPD_SERVER (e.g. "workers = 2"), then the
# policy from stdin; starts hopd and waits until it listens.  alice always
# exists.  HOPD_LISTEN (default 127.0.0.1:PORT) replaces the listen line.
hopd_start() {
	local policy line i
	policy=$(cat)
	[ -f "$T/auth/alice" ] || add_user alice
	[ -f "$T/host_key" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C hopd-test -f "$T/host_key"
	: > "$AUDIT"
	[ -n "$HOPD_PORT" ] || HOPD_PORT=$(free_port 127.0.0.1)
	{
		echo "[server]"
		echo "listen = ${HOPD_LISTEN:-127.0.0.1:$HOPD_PORT}"
		echo "host_key = $T/host_key"
		echo "authorized_keys = $T/auth/%u"
		echo "audit_log = $AUDIT"
		echo "connect_timeout = 5s"
		echo "log_level = verbose"
		for line in "${HOPD_SERVER[@]}"; do
			echo "$line"
		done
		echo
		echo "$policy"
	} > "$HOPD_CONF"
	write_ssh_config
	bg "$HOPD" -f "$HOPD_CONF" 2>> "$HOPD_LOG"
	HOPD_PID=$BG_LAST
	for ((i = 0; i < 100; i++)); do
		kill -0 "$HOPD_PID" 2>/dev/null ||
		    fail "hopd exited at startup; config:
$(cat "$HOPD_CONF")"
		if is_listening "$HOPD_PORT"; then
			return 0
		fi
		sleep 0.1
	done
	fail "hopd does not listen on port $HOPD_PORT after 10s"
}

hopd_alive() {
	kill -0 "$HOPD_PID" 2>/dev/null || fail "hopd (pid $HOPD_PID) died"
}

write_ssh_config() {
	cat > "$SSH_CONFIG" <<EOF
Host hop
	HostName 127.0.0.1
	Port $HOPD_PORT
	User alice
	IdentityFile $T/id_alice
Host *
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking no
	BatchMode yes
	IdentitiesOnly yes
	ConnectTimeout 10
	LogLevel ERROR
	ControlMaster no
	ControlPath none
	ForwardAgent no
EOF
}

# hop_ssh ARGS...: OpenSSH towards hopd as alice (KEY=name selects another
# key of $T), killed after SSH_TIMEOUT (120) s; the caller names the host
# (alice@127.0.0.1, or "hop").  ssh_args sets SSH_ARGS to the same options
# for running ssh without the timeout wrapper (to get its own pid).
hop_ssh() {
	ssh_args
	timeout -k 5 "${SSH_TIMEOUT:-120}" ssh "${SSH_ARGS[@]}" "$@"
}

ssh_args() {
	SSH_ARGS=(-F "$SSH_CONFIG" -i "$T/id_${KEY:-alice}" -p "$HOPD_PORT")
}

rss_kb() {	# PID
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

fd_count() {	# PID
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# ---------------------------------------------------------------- helper servers

# start_server VAR KIND NAME [ARGS...]: runs `netutil.py KIND` (echo, sink,
# stall) in the background, sets VAR to its port.  Per-connection reports
# land in $T/NAME.d/conn-N.
start_server() {
	local var=$1 kind=$2 name=$3 i
	shift 3
	mkdir -p "$T/$name.d"
	bg "$PY" "$NETUTIL" "$kind" --port-file "$T/$name.port" \
	    --report-dir "$T/$name.d" --lifetime 600 "$@"
	for ((i = 0; i < 100; i++)); do
		if [ -s "$T/$name.port" ]; then
			printf -v "$var" '%s' "$(cat "$T/$name.port")"
			return 0
		fi
		kill -0 "$BG_LAST" 2>/dev/null ||
		    fail "helper server $kind ($name) exited at startup"
		sleep 0.1
	done
	fail "helper server $kind ($name) gave no port after 10s"
}

reports() {	# NAME: how many connections of server NAME have ended
	find "$T/$1.d" -name 'conn-*' ! -name '*.tmp.*' 2>/dev/null | wc -l
}

reports_at_least() {	# NAME N
	[ "$(reports "$1")" -ge "$2" ]
}

report_get() {	# FILE KEY: the value of KEY=... in a report line
	tr ' ' '\n' < "$1" | sed -n "s/^$2=//p"
}

# ---------------------------------------------------------------- transfers

# sha_pair FILE: "BYTES SHA" as written by netutil gen/count.
sha_pair() {
	cat "$1"
}

# w_roundtrip BYTES NAME [SSH ARGS...]: sends BYTES random bytes through
# `ssh -W` (the ssh arguments name the target and host) and compares what
# came back with what was sent; for an echo target.
w_roundtrip() {
	local bytes=$1 name=$2
	shift 2
	"$PY" "$NETUTIL" gen --bytes "$bytes" --sha-file "$T/$name.sent" |
	    hop_ssh "$@" 2> "$T/$name.err" |
	    "$PY" "$NETUTIL" count --out "$T/$name.got" ||
	    fail "$name: ssh $* failed: $(cat "$T/$name.err")"
	assert_eq "$(sha_pair "$T/$name.sent")" "$(sha_pair "$T/$name.got")" \
	    "$name: bytes and sha256 of what came back"
}

# ---------------------------------------------------------------- audit log

# audit_q ARGS...: tests/tools/auditq.py on $AUDIT (see its --help).
audit_q() {
	"$PY" "$TOOLS/auditq.py" "$AUDIT" "$@"
}

audit_count() {	# FILTER...
	audit_q --count "$@"
}

audit_count_is() {	# N FILTER...: exactly N records match
	local n=$1
	shift
	[ "$(audit_q --count "$@")" -eq "$n" ]
}

audit_has() {	# FILTER...
	[ "$(audit_q --count "$@")" -ge 1 ]
}

# audit_wait WHAT FILTER...: waits (10 s) for a matching record.
audit_wait() {
	local what=$1
	shift
	wait_for 10 "audit record $what ($*)" audit_has "$@"
}

audit_field() {	# FIELD FILTER...: FIELD of the last matching record
	local field=$1
	shift
	audit_q --field "$field" "$@"
}

# conf_rule LINE: "FILE:N" of the first line of $HOPD_CONF equal to LINE, as
# the audit log's "rule" names it.
conf_rule() {
	local n
	n=$(grep -nxF -- "$1" "$HOPD_CONF" | head -n 1 | cut -d: -f1)
	[ -n "$n" ] || fail "no line '$1' in $HOPD_CONF"
	echo "$HOPD_CONF:$n"
}

# ---------------------------------------------------------------- skipping

# skip REASON: this script cannot run here; it ends with status 77, which
# the runner counts as skipped (and, as root, as a failure of the run).
skip() {
	echo "SKIP $TEST_NAME: $*"
	exit 77
}

# ---------------------------------------------------------------- hostile clients (bounds_*.sh)

HOSTILE2=$TOOLS/hostile2.py

# echo_probe NAME USER TARGET [MAX_MS]: USER (key id_USER) logs in, then
# opens a direct-tcpip channel to TARGET (an echo server, HOST:PORT) and
# echoes 1 KiB; the open and the echo together must take at most MAX_MS
# (default HOPD_PROBE_MAX_MS or 1000) ms after the login.  Prints what it
# measured.
echo_probe() {
	local name=$1 user=$2 target=$3 max=${4:-${HOPD_PROBE_MAX_MS:-1000}}
	local out ms
	out=$(timeout -k 5 60 "$PY" "$HOSTILE2" probe --port "$HOPD_PORT" \
	    --user "$user" --key "$T/id_$user" --target "$target" \
	    --bytes 1024 --timeout 5 2>&1) ||
	    fail "$name: $user's echo through hopd to $target: $out"
	echo "   $name: $out"
	ms=$(echo "$out" | sed -n 's/^probe ms=\([0-9]*\) .*/\1/p')
	[ -n "$ms" ] || fail "$name: no measure in: $out"
	assert_le "$max" "$ms" \
	    "$name: ms from $user's login to the 1 KiB echo from $target"
}

# audit_session_of PEER: the session id of the session_start whose peer is
# PEER (ip:port), empty if none.
audit_session_of() {
	audit_q --field session event=session_start "peer=$1" || true
}

# need_root WHAT: skip unless root (mount namespaces, port 53).
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "$1 needs root"
	command -v unshare > /dev/null || skip "$1 needs unshare(1)"
}

# hopd_in_mount_ns RESOLV_CONF HOSTS: from now on hopd_start runs hopd in a
# private mount namespace where RESOLV_CONF is bind-mounted over
# /etc/resolv.conf and HOSTS over /etc/hosts (root only).  The wrapper
# execs all the way down, so HOPD_PID is hopd's own pid.
hopd_in_mount_ns() {
	# shellcheck disable=SC2016 # expanded by the wrapper's sh
	local script='mount --bind "$0" /etc/resolv.conf &&
	    mount --bind "$1" /etc/hosts && shift && exec "$@"'
	{
		echo '#!/bin/bash'
		printf 'exec unshare -m --propagation private /bin/sh -c %q \\\n' \
		    "$script"
		printf '    %q %q %q "$@"\n' "$1" "$2" "$HOPD"
	} > "$T/hopd-ns"
	chmod 755 "$T/hopd-ns"
	HOPD=$T/hopd-ns
}

# check ASSERTION ARGS...: runs one assertion (fail, assert_*, wait_for,
# echo_probe...) in a subshell.  It fails the script as usual, unless
# HOPD_KEEP_GOING is set: then the failure is counted and the script goes
# on, to show every step that fails; checks_done fails if any did.
CHECKS_FAILED=0
check() {
	if ("$@"); then
		return 0
	fi
	[ -n "${HOPD_KEEP_GOING:-}" ] || exit 1
	CHECKS_FAILED=$((CHECKS_FAILED + 1))
}

checks_done() {
	[ "$CHECKS_FAILED" -eq 0 ] || fail "$CHECKS_FAILED checks failed"
	echo "PASS $TEST_NAME"
}

assert_ge() {	# MINIMUM ACTUAL WHAT
	[ "$2" -ge "$1" ] ||
	    fail "$3: expected at least $1, got $2"
}

# ---------------------------------------------------------------- hopd's log

log_count() {	# TEXT
	grep -cF -- "$1" "$HOPD_LOG" || true
}

log_count_above() {	# TEXT N
	[ "$(log_count "$1")" -gt "$2" ]
}

# hopd_reload TEXT: SIGHUP, then wait for the log line TEXT to appear once more.
hopd_reload() {
	local before
	before=$(log_count "$1")
	kill -HUP "$HOPD_PID"
	wait_for 10 "log line '$1' after SIGHUP" \
	    log_count_above "$1" "$before"
}

# ================================================================ certificates
# Helpers of certs.sh, krl.sh and keyopts.sh: CAs and user certificates
# made with ssh-keygen, refused logins, audit checks of certificate logins,
# long-lived ssh -W sessions fed through a fifo, and a second hopd.

# ca_make NAME [TYPE [BITS]]: a CA key pair $T/ca_NAME(.pub), ed25519
# unless TYPE (ecdsa, rsa) says otherwise.
ca_make() {
	[ -f "$T/ca_$1" ] && return 0
	ssh-keygen -q -t "${2:-ed25519}" ${3:+-b "$3"} -N '' \
	    -C "ca-$1@hopd-test" -f "$T/ca_$1" ||
	    fail "ssh-keygen could not make CA $1"
}

# fp FILE: the SHA256 fingerprint of the key in FILE (a .pub or a cert:
# the certified key's), as `ssh-keygen -l -E sha256` prints it.
fp() {
	ssh-keygen -l -E sha256 -f "$1" | cut -d' ' -f2
}

# cert_make ID CA KEYNAME PRINCIPALS SERIAL VALIDITY [SSH-KEYGEN ARGS...]:
# signs $T/id_KEYNAME.pub with $T/ca_CA into $(cert_of ID), key id ID.
# PRINCIPALS "" gives none (no -n), VALIDITY "" no -V (forever); the extra
# arguments go to ssh-keygen (-O ..., -h).  An RSA CA signs rsa-sha2-512.
cert_make() {
	local id=$1 ca=$2 key=$3 princ=$4 serial=$5 validity=$6 args=()
	shift 6
	keygen "$key"
	mkdir -p "$T/certs"
	cp "$T/id_$key.pub" "$T/certs/$id.pub"
	case $(cut -d' ' -f1 "$T/ca_$ca.pub") in
	ssh-rsa) args+=(-t rsa-sha2-512) ;;
	esac
	[ -z "$princ" ] || args+=(-n "$princ")
	[ -z "$validity" ] || args+=(-V "$validity")
	ssh-keygen -q -s "$T/ca_$ca" -I "$id" -z "$serial" "${args[@]}" "$@" \
	    "$T/certs/$id.pub" ||
	    fail "ssh-keygen could not sign certificate $id"
}

cert_of() {	# ID: the certificate file cert_make wrote
	echo "$T/certs/$1-cert.pub"
}

# cert_valid_before CERT: the end of CERT's validity, in UTC, as
# YYYY-MM-DDTHH:MM:SS (what ssh-keygen -L says), or "forever".
cert_valid_before() {
	local v
	v=$(TZ=UTC ssh-keygen -L -f "$1" | sed -n 's/^ *Valid: //p')
	case $v in
	forever | *" to forever") echo forever ;;
	"from "*" to "*) echo "${v##* to }" ;;
	*) fail "no validity in ssh-keygen -L of $1: '$v'" ;;
	esac
}

# assert_valid_before CERT ACTUAL WHAT: ACTUAL (an audit log valid_before)
# is CERT's end as an ISO-8601 UTC time (with or without milliseconds, with
# Z), or "forever" for a certificate without an end.
assert_valid_before() {
	local want
	want=$(cert_valid_before "$1")
	if [ "$want" = forever ]; then
		assert_eq forever "$2" "$3"
		return 0
	fi
	case $2 in
	"$want"Z | "$want".[0-9][0-9][0-9]Z) ;;
	*) fail "$3: expected ${want}Z (UTC, milliseconds optional), got '$2'" ;;
	esac
}

# login_refused NAME USER SSH-ARGS...: ssh SSH-ARGS... USER@127.0.0.1 with
# key KEY (as hop_ssh) is refused: exit 255, "Permission denied" on stderr,
# nothing on stdout.  The arguments say what to forward (-W TARGET).
login_refused() {
	local name=$1 user=$2 rc=0
	shift 2
	hop_ssh "$@" "$user@127.0.0.1" < /dev/null > "$T/$name.out" \
	    2> "$T/$name.err" || rc=$?
	assert_eq 255 "$rc" "$name: exit status of ssh $*"
	assert_file_contains "$T/$name.err" "Permission denied" \
	    "$name: ssh's stderr"
	[ ! -s "$T/$name.out" ] ||
	    fail "$name: data came through: $(head -c 200 "$T/$name.out")"
}

# auth_failure_wait NAME USER WORD [FILTER...]: waits for a failed auth
# record of USER whose reason contains WORD.
auth_failure_wait() {
	local name=$1 user=$2 word=$3
	shift 3
	audit_wait "$name: a failed auth of $user with reason ~ '$word'" \
	    event=auth "user=$user" result=failure "reason~$word" "$@"
}

# no_success CERT_ID WHAT [FILTER...]: no auth record of key id CERT_ID
# (and FILTER, e.g. user=bob) is a success.
no_success() {
	local id=$1 what=$2
	shift 2
	assert_eq 0 "$(audit_count event=auth result=success "cert_id=$id" \
	    "$@")" "$what: successful auths with certificate $id"
}

# hopd_restart < POLICY: stops this script's hopd and starts a new one (a
# new port, the current HOPD_SERVER); the audit file starts empty.
hopd_restart() {
	stop "$HOPD_PID"
	HOPD_PID=""
	HOPD_PORT=""
	hopd_start
}

# live_start NAME USER TARGET [SSH ARGS...]: a long-lived ssh -W TARGET as
# USER (key KEY) in the background.  Its stdin is the fifo $T/NAME.fifo,
# opened read-write by ssh itself (so it never sees EOF), its stdout
# $T/NAME.out; once ssh exits, its status is in $T/NAME.rc.  Returns once
# a first line ("NAME-0") came back through the tunnel.
live_start() {
	local name=$1 user=$2 target=$3
	shift 3
	mkfifo "$T/$name.fifo"
	ssh_args
	# shellcheck disable=SC2016 # expanded by the inner bash
	bg bash -c '"$@" <> "$0.fifo" > "$0.out" 2> "$0.err"; echo $? > "$0.rc"' \
	    "$T/$name" timeout -k 5 300 ssh "${SSH_ARGS[@]}" "$@" \
	    -W "$target" "$user@127.0.0.1"
	live_echoes "$name" "$name-0" ||
	    fail "$name: the live tunnel to $target does not echo; ssh said:
$(cat "$T/$name.err")"
}

# live_echoes NAME LINE: sends LINE through live tunnel NAME; true once it
# came back (within 10 s), false if it does not (or ssh is gone).
live_echoes() {
	local i
	[ ! -e "$T/$1.rc" ] || return 1
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 5 bash -c 'printf "%s\n" "$1" > "$0"' "$T/$1.fifo" "$2" ||
	    return 1
	for ((i = 0; i < 100; i++)); do
		grep -qxF -- "$2" "$T/$1.out" && return 0
		sleep 0.1
	done
	return 1
}

live_exited() {	# NAME: ssh of live tunnel NAME has exited
	[ -s "$T/$1.rc" ]
}

# iso_epoch TS: seconds since the epoch (with a fraction) of an ISO-8601
# time as the audit log writes it.
iso_epoch() {
	date -u -d "$1" +%s.%N
}

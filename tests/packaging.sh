#!/bin/bash
# The Debian package, end to end, on this machine (CI only: it installs and
# purges a system package, so it needs root and a disposable machine).
# Builds it with `make deb`, installs it with apt-get, checks what the
# postinst made, the installed unit (systemd-analyze verify, exposure
# <= 2.0), the shipped config (hopd -t), a start of the installed binary as
# the hopd user, lintian; then purges it and checks that nothing is left.
# Where systemd is not PID 1 the service cannot be started: that is said,
# and the rest is tested.
set -euo pipefail

cd "$(dirname "$0")/.."
MAX_EXPOSURE=2.0
PASSED=0
FAILED=0
T=$(mktemp -d /tmp/hopd-packaging.XXXXXX)
HOPD_PID=""

cleanup() {
	local rc=$?
	set +e
	[ -n "$HOPD_PID" ] && kill -KILL "$HOPD_PID" 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

ok() {
	echo "ok   $*"
	PASSED=$((PASSED + 1))
}

not_ok() {
	echo "FAIL $*"
	FAILED=$((FAILED + 1))
}

# check WHAT CMD ARGS...: one test; its output is shown when it fails.
check() {
	local what=$1
	shift
	if "$@" > "$T/out" 2>&1; then
		ok "$what"
	else
		not_ok "$what"
		sed 's/^/     | /' "$T/out"
	fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "packaging: needs root (it installs and purges the package)" >&2
	exit 1
fi

pid1=$(ps -p 1 -o comm= 2>/dev/null || echo unknown)
if [ -d /run/systemd/system ] && [ "$pid1" = systemd ]; then
	SYSTEMD=1
	echo "packaging: systemd is PID 1"
else
	SYSTEMD=0
	echo "packaging: systemd is NOT PID 1 here (PID 1 is '$pid1'):" \
	    "the service is not started; checked instead: the unit's" \
	    "syntax and sandbox rating, the shipped config, and the" \
	    "installed hopd started by hand as the hopd user"
fi

echo "packaging: build dependencies"
sh tests/deps.sh
missing=""
for p in debhelper dpkg-dev lintian mandoc; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $missing
fi
if dpkg-query -W -f='${Status}' hopd 2>/dev/null | grep -q installed; then
	echo "packaging: purging an earlier hopd package first"
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq hopd
fi

echo "packaging: make deb"
rm -f build/hopd_*.deb build/hopd-dbgsym_*.deb
if ! make deb > "$T/deb.log" 2>&1; then
	tail -n 60 "$T/deb.log"
	echo "packaging: make deb failed"
	exit 1
fi
deb=$(ls build/hopd_*.deb)
echo "packaging: built $deb"

check "lintian: no error or warning" \
    lintian --fail-on error,warning "$deb"

check "apt-get install $deb" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y "./$deb"

# ------------------------------------------------------------ what it made
check "the system user hopd exists, without a shell or a home" \
    sh -c 'getent passwd hopd | grep -q ":/nonexistent:/usr/sbin/nologin$"'
check "the host key was generated, root:hopd 0640" \
    sh -c 'test "$(stat -c %U:%G:%a /etc/hopd/ssh_host_ed25519_key)" = \
        root:hopd:640'
check "/etc/hopd/keys/ exists" test -d /etc/hopd/keys
check "/etc/hopd/hopd.ini is a conffile" \
    sh -c "dpkg-query -W -f='\${Conffiles}' hopd | grep -q ' /etc/hopd/hopd.ini '"
check "/var/log/hopd is hopd's, 0750" \
    sh -c 'test "$(stat -c %U:%G:%a /var/log/hopd)" = hopd:hopd:750'
check "the unit is enabled" \
    test -L /etc/systemd/system/multi-user.target.wants/hopd.service
check "hopd.socket is shipped" test -f /lib/systemd/system/hopd.socket
check "hopd.socket is not enabled (its ports must match hopd.ini's)" \
    sh -c '! test -e /etc/systemd/system/sockets.target.wants/hopd.socket'
check "the logrotate file is installed" test -f /etc/logrotate.d/hopd
if command -v logrotate > /dev/null; then
	check "logrotate accepts it" logrotate -d /etc/logrotate.d/hopd
fi
check "man hopd and man hopd.ini are installed" \
    sh -c 'man -w hopd && man -w 5 hopd.ini'
check "hopd(8) renders without mandoc warnings" \
    sh -c 'zcat "$(man -w hopd)" | mandoc -T lint -W warning'

# ------------------------------------------------------------ the unit
unit=/lib/systemd/system/hopd.service
check "systemd-analyze verify $unit is clean" \
    sh -c "out=\$(systemd-analyze verify $unit 2>&1) &&
        { [ -z \"\$out\" ] || { echo \"\$out\"; false; }; }"
check "systemd-analyze verify hopd.socket is clean" \
    sh -c "out=\$(systemd-analyze verify /lib/systemd/system/hopd.socket \
        2>&1) && { [ -z \"\$out\" ] || { echo \"\$out\"; false; }; }"
exposure=$(systemd-analyze security --offline=true "$unit" 2>/dev/null |
    sed -n 's/.*Overall exposure level for hopd.service: \([0-9.]*\).*/\1/p')
echo "packaging: systemd-analyze security: exposure ${exposure:-?}"
check "exposure ${exposure:-?} <= $MAX_EXPOSURE" \
    awk -v e="${exposure:-99}" -v m="$MAX_EXPOSURE" \
    'BEGIN { exit !(e != "" && e + 0 <= m + 0) }'

# ------------------------------------------------------------ the binary
check "hopd -t accepts the shipped config (as the hopd user)" \
    runuser -u hopd -- /usr/sbin/hopd -t -f /etc/hopd/hopd.ini

# The installed binary, as the unit runs it (user hopd, the generated host
# key, the log directory), on a free port instead of 22.
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$T/hopd.ini" <<EOF
[server]
listen = 127.0.0.1:$port
host_key = /etc/hopd/ssh_host_ed25519_key
authorized_keys = /etc/hopd/keys/%u
audit_log = /var/log/hopd/packaging-test.jsonl
EOF
chmod 755 "$T"
chmod 644 "$T/hopd.ini"
# setpriv execs hopd (runuser would stay as its parent and take SIGTERM).
setpriv --reuid=hopd --regid=hopd --init-groups --inh-caps=-all \
    /usr/sbin/hopd -f "$T/hopd.ini" 2> "$T/hopd.log" &
HOPD_PID=$!
for _ in $(seq 1 50); do
	ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && break
	sleep 0.1
done
check "the installed hopd serves the generated host key" \
    sh -c "ssh-keyscan -t ed25519 -p $port 127.0.0.1 2>/dev/null |
        awk '{ print \$3 }' | grep -qxF \"\$(awk '{ print \$2 }' \
        /etc/hopd/ssh_host_ed25519_key.pub)\""
kill -TERM "$HOPD_PID" 2>/dev/null || true
rc=0
wait "$HOPD_PID" || rc=$?
HOPD_PID=""
check "it stops on SIGTERM with status 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/     | /' "$T/hopd.log"

if [ "$SYSTEMD" = 1 ]; then
	systemctl daemon-reload
	check "systemctl is-enabled hopd" systemctl is-enabled --quiet hopd
fi

# ------------------------------------------------------------ purge
check "apt-get purge hopd" \
    env DEBIAN_FRONTEND=noninteractive apt-get purge -y hopd
for path in /usr/sbin/hopd "$unit" /etc/hopd /var/log/hopd /var/lib/hopd \
    /etc/logrotate.d/hopd \
    /etc/systemd/system/multi-user.target.wants/hopd.service; do
	check "purge removed $path" test ! -e "$path" -a ! -L "$path"
done
check "purge removed the user and the group hopd" \
    sh -c '! getent passwd hopd && ! getent group hopd'

echo "packaging: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]

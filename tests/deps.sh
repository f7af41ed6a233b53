#!/bin/sh
# Installs, with apt-get, what a fresh Debian 12 lacks to build, run and test
# hopd; does nothing when everything is there.  Needs root (or sudo) only
# when something is missing.
set -e
PKGS="build-essential pkg-config clang libssh-dev libuv1-dev libinih-dev
check libsystemd-dev libssl-dev openssh-client openssh-server python3 python3-paramiko
curl procps iproute2 haproxy systemd"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "hopd: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing

#!/bin/sh
# `make bench`: hopd against OpenSSH's sshd as a jump host, same scenarios,
# same run, on loopback.  Usage: sh bench/run.sh [--quick] [--json FILE]
#   [--only tput,wan,agg,hs,cert,jump,idle,10k] [--keep]
# Needs root (sshd must start as root), openssh-client, openssh-server and
# python3 (+ python3-paramiko for the 10,000-tunnel check of the full run):
# `make deps` installs them.  See bench/README.md.
set -e
cd "$(dirname "$0")/.."
HOPD=${HOPD:-$(pwd)/build/hopd}
[ -x "$HOPD" ] || { echo "bench: $HOPD missing: run make" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (sshd only runs as root); try sudo make bench" >&2
	exit 1
fi
# 1000 client processes, 10,000 tunnels: each side needs file descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec /usr/bin/python3 bench/bench.py --hopd "$HOPD" "$@"

#!/bin/sh
# `make run`: a demo host key, a policy and authorized_keys in demo/ (kept
# between runs), then hopd in the foreground on 127.0.0.1:2222.
set -e
HOPD=${1:-build/hopd}
DIR=$(pwd)/demo
PORT=${HOPD_DEMO_PORT:-2222}
USER_NAME=$(id -un)
mkdir -p "$DIR/keys"
chmod 700 "$DIR"
[ -f "$DIR/ssh_host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N '' -C hopd-demo-host -f "$DIR/ssh_host_ed25519_key"
# The invoking user's own public keys, or a demo key made for the purpose.
KEYS="$DIR/keys/$USER_NAME"
if [ ! -s "$KEYS" ]; then
	for k in "$HOME"/.ssh/id_ed25519.pub "$HOME"/.ssh/id_ecdsa.pub "$HOME"/.ssh/id_rsa.pub; do
		[ -f "$k" ] && cat "$k" >> "$KEYS"
	done
fi
if [ ! -s "$KEYS" ]; then
	[ -f "$DIR/id_ed25519" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C hopd-demo-user -f "$DIR/id_ed25519"
	cat "$DIR/id_ed25519.pub" > "$KEYS"
fi
IDENT=""
if [ -f "$DIR/id_ed25519" ] && grep -qF "$(cut -d' ' -f2 "$DIR/id_ed25519.pub")" "$KEYS"; then
	IDENT=yes
fi
chmod 600 "$KEYS"
cat > conf/demo.ini <<EOT
# Written by \`make run\`: a demo policy for $USER_NAME on this machine only.
[server]
listen = 127.0.0.1:$PORT
host_key = $DIR/ssh_host_ed25519_key
authorized_keys = $DIR/keys/%u
audit_log = $DIR/audit.jsonl
log_level = info
policy_cases = $DIR/demo.cases

[user $USER_NAME]
# This machine's sshd and anything on loopback ports 1024 and up.
allow = 127.0.0.1:22
allow = 127.0.0.0/8:1024-65535
allow = [::1]:22
EOT
# What the demo policy must decide: checked at start and on every reload.
cat > "$DIR/demo.cases" <<EOT
# Written by \`make run\`: the demo policy's cases (hopd.ini(5), POLICY CASES).
$USER_NAME	127.0.0.1:22 allow
$USER_NAME	[::1]:22 allow
$USER_NAME	localhost:22 allow = 127.0.0.1
$USER_NAME	127.0.0.1:8080 allow
$USER_NAME	127.0.0.1:80 deny	# below 1024, only 22 is named
$USER_NAME	10.0.0.1:22 deny	# this machine only
$USER_NAME	listen localhost:8080 deny	# no remote forwards
EOT
# An ssh_config for the demo: -F passes it on to the ProxyJump connection.
{
	echo "Host hop"
	echo "	HostName 127.0.0.1"
	echo "	Port $PORT"
	echo "	User $USER_NAME"
	echo "Host *"
	[ -n "${IDENT:-}" ] && echo "	IdentityFile $DIR/id_ed25519"
	echo "	UserKnownHostsFile $DIR/known_hosts"
	echo "	StrictHostKeyChecking accept-new"
} > "$DIR/ssh_config"
cat <<EOT

hopd demo: listening on 127.0.0.1:$PORT as a jump host for $USER_NAME.
Audit log: $DIR/audit.jsonl    Policy: conf/demo.ini
Policy cases (hopd -t -f conf/demo.ini runs them): $DIR/demo.cases
${IDENT:+Demo user key (hopd accepts it for $USER_NAME): $DIR/id_ed25519
}Try, from another terminal (add -v to see hopd's reason for a refusal):
  ssh -F demo/ssh_config -J hop $USER_NAME@127.0.0.1        # this machine's sshd, through hopd
  ssh -F demo/ssh_config -W 127.0.0.1:22 hop
  ssh -F demo/ssh_config hop                            # prints why not, exits 1
Stop with Ctrl-C.

EOT
exec "$HOPD" -f conf/demo.ini

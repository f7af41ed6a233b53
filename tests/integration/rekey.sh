#!/bin/bash
# Rekeying under load: ssh -o RekeyLimit=1M pushes 256 MiB through -W to an
# echo server and back (hundreds of key exchanges each way mid-stream);
# every byte comes back, in order.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

start_server ECHO echo echo
hopd_start <<EOF2
[user alice]
allow = 127.0.0.1:$ECHO
EOF2

step "w_256mib_byte_exact_with_rekeylimit_1m"
w_roundtrip $((256 << 20)) rekey -o RekeyLimit=1M -v \
    -W "127.0.0.1:$ECHO" alice@127.0.0.1
N=$(grep -c "SSH2_MSG_KEXINIT sent" "$T/rekey.err" || true)
echo "key exchanges: $N"
[ "$N" -ge 100 ] || fail "expected at least 100 key exchanges, saw $N"
audit_wait "the tunnel's close" event=channel_close \
    "target=127.0.0.1:$ECHO"
assert_eq $((256 << 20)) "$(audit_field bytes_out event=channel_close \
    "target=127.0.0.1:$ECHO")" "channel_close bytes_out"
hopd_alive
echo "PASS $TEST_NAME"

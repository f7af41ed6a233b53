#!/usr/bin/python3
"""Log in to hopd with an OpenSSH user certificate, as ssh-keygen made it
or tampered with, for tests/integration/certs.sh.  Paramiko from Debian's
python3.

  certforge.py --port P --user U --key PRIVATE_KEY --cert CERT.pub
               [--mutate none|flip-sig|trailing|truncate]
               [--target HOST:PORT]

The certificate's blob is changed as --mutate says, then offered in a
publickey USERAUTH_REQUEST with the user's signature over exactly the blob
sent (paramiko signs whatever public blob it is given, so only the
certificate itself is bad, never the user's proof):
  none      as it is (proves that the tool logs in)
  flip-sig  one bit of the CA's signature flipped: bit 0 of the 13th byte
            of the signature proper (ed25519: inside R; RSA: inside the
            signature; ECDSA: inside r), every length field left intact
  trailing  4 bytes appended to the blob, after the CA's signature
  truncate  the last byte of the blob dropped (the signature string then
            claims more bytes than there are)
Prints "auth=success" or "auth=failure error=CLASS: TEXT"; with --target
after a success, opens a direct-tcpip channel there, echoes 1000 bytes and
prints "echo=ok" or "echo=failed ...".  Exits 0 when the outcome was seen
(whatever it was), 2 when it could not get that far (connection, key
exchange, a file it cannot read).  Every wait is bounded.
"""

import argparse
import os
import socket
import sys

import paramiko
from paramiko.message import Message
from paramiko.pkey import PublicBlob


def load_key(path):
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key_file(path)
        except (paramiko.SSHException, ValueError):
            continue
    raise SystemExit("certforge: cannot load private key %s" % path)


def signature_offset(blob):
    """Offset in blob of the first byte of the CA's signature proper (past
    the signature's own length, its algorithm name and the length of the
    signature bytes), after parsing every field before it (PROTOCOL.certkeys).
    """
    m = Message(blob)
    ktype = m.get_text()
    m.get_binary()                      # nonce
    if ktype.startswith("ssh-ed25519"):
        m.get_binary()                  # pk
    elif ktype.startswith("ecdsa-sha2-"):
        m.get_text()                    # curve
        m.get_binary()                  # public point
    elif ktype.startswith("ssh-rsa"):
        m.get_mpint()                   # e
        m.get_mpint()                   # n
    else:
        raise SystemExit("certforge: unsupported certificate type " + ktype)
    m.get_int64()                       # serial
    m.get_int()                         # type
    m.get_binary()                      # key id
    m.get_binary()                      # valid principals
    m.get_int64()                       # valid after
    m.get_int64()                       # valid before
    m.get_binary()                      # critical options
    m.get_binary()                      # extensions
    m.get_binary()                      # reserved
    m.get_binary()                      # signature key
    sig_at = m.packet.tell()
    sig = m.get_binary()
    if m.packet.tell() != len(blob):
        raise SystemExit("certforge: the certificate has trailing bytes")
    s = Message(sig)
    s.get_text()                        # signature algorithm
    inner_len_at = s.packet.tell()
    inner = s.get_binary()
    if len(inner) < 16:
        raise SystemExit("certforge: signature too short to flip a bit in")
    return sig_at + 4 + inner_len_at + 4


def mutate(blob, how):
    if how == "none":
        return blob
    if how == "flip-sig":
        b = bytearray(blob)
        b[signature_offset(blob) + 12] ^= 0x01
        return bytes(b)
    if how == "trailing":
        return blob + b"\x00\x00\x00\x00"
    if how == "truncate":
        return blob[:-1]
    raise SystemExit("certforge: unknown mutation " + how)


def echo(t, target, timeout):
    host, port = target.rsplit(":", 1)
    data = os.urandom(1000)
    try:
        ch = t.open_channel("direct-tcpip", (host, int(port)),
                            ("127.0.0.1", 1), timeout=timeout)
        ch.settimeout(timeout)
        ch.sendall(data)
        got = b""
        while len(got) < len(data):
            b = ch.recv(65536)
            if not b:
                break
            got += b
        ch.close()
    except Exception as e:  # ChannelException, timeout, SSHException
        return "echo=failed %s: %s" % (e.__class__.__name__, e)
    if got != data:
        return "echo=failed sent 1000 bytes, got %d back" % len(got)
    return "echo=ok"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--mutate", default="none",
                    choices=("none", "flip-sig", "trailing", "truncate"))
    ap.add_argument("--target")
    ap.add_argument("--timeout", type=float, default=10)
    a = ap.parse_args()

    key = load_key(a.key)
    with open(a.cert) as f:
        fields = f.read().split()
    if len(fields) < 2:
        raise SystemExit("certforge: %s is not a certificate line" % a.cert)
    good = PublicBlob.from_string(" ".join(fields[:2]))
    # Set directly: PKey.load_certificate parses what it loads, and a
    # tampered blob is what this tool is for.
    key.public_blob = PublicBlob(good.key_type, mutate(good.key_blob,
                                                       a.mutate))
    try:
        sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
        t = paramiko.Transport(sock)
        t.start_client(timeout=a.timeout)
    except Exception as e:  # socket errors, SSHException
        print("certforge: no SSH connection: %s: %s" % (
            e.__class__.__name__, e))
        return 2
    t.auth_timeout = a.timeout
    try:
        t.auth_publickey(a.user, key)
    except Exception as e:  # AuthenticationException, SSHException, EOF
        print("auth=failure error=%s: %s" % (e.__class__.__name__, e))
        t.close()
        return 0
    if not t.is_authenticated():
        print("auth=failure error=not authenticated")
        t.close()
        return 0
    print("auth=success", flush=True)
    if a.target:
        print(echo(t, a.target, a.timeout))
    t.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

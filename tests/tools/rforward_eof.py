#!/usr/bin/python3
"""A remote-forward client whose forwarded connections answer at once and
half-close (paramiko, Debian's python3): confirmation, data and EOF leave in
one TCP segment (TCP_CORK), the burst in which hopd once lost the EOF.

  rforward_eof.py HOPD_PORT KEYFILE N

Asks hopd for -R 127.0.0.1:0, then connects N times to the allocated port;
each connection must read "hello\\n" and then EOF within 3 s.  Prints
"eof N of N" and exits 0 when all did, else says which did not, exit 1.
"""

import logging
import socket
import sys
import time

import paramiko

GREETING = b"hello\n"


def main(argv):
    logging.getLogger("paramiko").setLevel(logging.CRITICAL + 1)
    port, key, n = int(argv[1]), argv[2], int(argv[3])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    t = paramiko.Transport(sock)
    t.start_client(timeout=10)
    t.auth_publickey("alice", paramiko.Ed25519Key.from_private_key_file(key))
    held = []

    def handler(chan, origin, server):
        held.append(chan)              # the channel stays open: only EOF
        chan.sendall(GREETING)
        chan.shutdown_write()
        time.sleep(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)

    bound = t.request_port_forward("127.0.0.1", 0, handler=handler)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    bad = []
    for i in range(n):
        c = socket.create_connection(("127.0.0.1", bound), timeout=3)
        got = b""
        try:
            while True:
                d = c.recv(4096)
                if not d:
                    break
                got += d
            if got != GREETING:
                bad.append("conn %d: got %r" % (i, got))
        except socket.timeout:
            bad.append("conn %d: no EOF after %r" % (i, got))
        c.close()
    t.close()
    if bad:
        print("\n".join(bad))
        return 1
    print("eof %d of %d" % (n, n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

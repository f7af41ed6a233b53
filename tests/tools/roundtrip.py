#!/usr/bin/python3
"""Echo round trips straight to HOST:PORT, for the remote-forward tests.

  roundtrip.py HOST PORT --bytes N [--conns K] [--timeout S] [--hold S]

Opens K connections at once; each sends N random bytes while reading what
comes back, half-closes, and must get exactly the same bytes (sha256)
before the peer closes.  Prints "ok K N" and exits 0, or says which
connection failed and how, and exits 1.  --hold keeps every connection open
S seconds after it started sending (to have connections in flight).
Standard library only; every wait is bounded by --timeout.
"""

import argparse
import hashlib
import os
import socket
import sys
import threading
import time


def one(host, port, nbytes, timeout, hold, results, i):
    try:
        s = socket.create_connection((host, port), timeout=timeout)
        data = os.urandom(nbytes)
        want = hashlib.sha256(data).hexdigest()
        got = hashlib.sha256()
        count = 0

        def sender():
            s.sendall(data)
            if hold:
                time.sleep(hold)
            s.shutdown(socket.SHUT_WR)

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            got.update(chunk)
            count += len(chunk)
        t.join(timeout)
        s.close()
        if count != nbytes or got.hexdigest() != want:
            results[i] = "conn %d: got %d bytes (sha %s), want %d (sha %s)" % (
                i, count, got.hexdigest()[:16], nbytes, want[:16])
        else:
            results[i] = None
    except OSError as e:
        results[i] = "conn %d: %s" % (i, e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--hold", type=float, default=0)
    a = ap.parse_args()
    results = ["not run"] * a.conns
    threads = [threading.Thread(target=one, daemon=True, args=(
        a.host, a.port, a.bytes, a.timeout, a.hold, results, i))
        for i in range(a.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.timeout + a.hold + 5)
    bad = [r for r in results if r is not None]
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    print("ok %d %d" % (a.conns, a.bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main())

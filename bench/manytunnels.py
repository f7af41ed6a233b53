#!/usr/bin/python3
"""Many idle direct-tcpip tunnels through one bastion, with paramiko.

--sessions SSH connections, each opening --per direct-tcpip channels to the
echo server; a line is echoed through every channel.  Prints
"OPEN <channels that echoed> <seconds>", waits for a line on stdin (the
driver measures the bastion meanwhile), echoes a second line through every
channel, prints "ECHO <channels that echoed>", closes all and exits.
(One ssh process per tunnel, as in the 1000-tunnel scenario, would need
10,000 client processes; the bastion sees the same channels either way,
only packed 100 to a session.)
"""
import argparse
import sys
import threading
import time

import paramiko


def open_session(a, key, out, i):
    chans = []
    try:
        t = paramiko.Transport(("127.0.0.1", a.port))
        t.banner_timeout = 60
        t.start_client(timeout=60)
        t.auth_publickey(a.user, key)
        for k in range(a.per):
            c = t.open_channel("direct-tcpip", ("127.0.0.1", a.echo),
                               ("127.0.0.1", 40000 + k), timeout=60)
            chans.append(c)
        out[i] = (t, chans)
    except Exception as e:
        out[i] = (None, chans)
        print("session %d: %r" % (i, e), file=sys.stderr)


def echo_all(chans, tag):
    for k, c in enumerate(chans):
        c.sendall(b"%s %d\n" % (tag, k))
    good = 0
    for k, c in enumerate(chans):
        want = b"%s %d\n" % (tag, k)
        got = b""
        c.settimeout(60)
        try:
            while len(got) < len(want):
                d = c.recv(len(want) - len(got))
                if not d:
                    break
                got += d
        except Exception:
            pass
        good += got == want
    return good


def parallel(fn, items):
    res = [0] * len(items)
    th = [threading.Thread(target=lambda i=i: res.__setitem__(
        i, fn(items[i]))) for i in range(len(items))]
    for t in th:
        t.start()
    for t in th:
        t.join(600)
    return sum(res)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--echo", type=int, required=True)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--per", type=int, default=100)
    ap.add_argument("--parallel", type=int, default=10)
    ap.add_argument("--hold-file")
    a = ap.parse_args()
    key = paramiko.Ed25519Key.from_private_key_file(a.key)
    t0 = time.monotonic()
    out = [None] * a.sessions
    # A few sessions at a time: each one's opens are sequential anyway.
    for start in range(0, a.sessions, a.parallel):
        th = [threading.Thread(target=open_session, args=(a, key, out, i))
              for i in range(start, min(a.sessions, start + a.parallel))]
        for t in th:
            t.start()
        for t in th:
            t.join(600)
    sessions = [o for o in out if o and o[0]]
    good = parallel(lambda s: echo_all(s[1], b"hello"), sessions)
    print("OPEN %d %.1f" % (good, time.monotonic() - t0), flush=True)
    sys.stdin.readline()
    good = parallel(lambda s: echo_all(s[1], b"again"), sessions)
    print("ECHO %d" % good, flush=True)
    for t, chans in sessions:
        for c in chans:
            c.close()
        t.close()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""A TCP relay that delays every byte by a fixed time each way, to emulate a
long link on loopback (no netem here): bench/run.sh uses it to measure what
the SSH window allows over a given round-trip time.

  delayrelay.py LISTEN_PORT TARGET_PORT DELAY_MS [--lifetime S]

Listens on 127.0.0.1:LISTEN_PORT, connects each client to
127.0.0.1:TARGET_PORT; bytes are forwarded DELAY_MS after they arrived, in
order, both directions (round trip = 2 x DELAY_MS).  Exits after --lifetime
seconds (default 600).
"""

import argparse
import collections
import socket
import threading
import time


def pipe(src, dst, delay):
    q = collections.deque()
    cv = threading.Condition()
    done = [False]

    def reader():
        while True:
            try:
                data = src.recv(262144)
            except OSError:
                data = b""
            with cv:
                q.append((time.monotonic() + delay, data))
                cv.notify()
            if not data:
                return

    def writer():
        while True:
            with cv:
                while not q:
                    cv.wait()
                due, data = q.popleft()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
            except OSError:
                return

    threading.Thread(target=reader, daemon=True).start()
    threading.Thread(target=writer, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen", type=int)
    ap.add_argument("target", type=int)
    ap.add_argument("delay_ms", type=float)
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    threading.Timer(a.lifetime, lambda: __import__("os")._exit(0)).start()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen))
    ls.listen(64)
    while True:
        c, _ = ls.accept()
        t = socket.create_connection(("127.0.0.1", a.target))
        for s in (c, t):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        pipe(c, t, a.delay_ms / 1000)
        pipe(t, c, a.delay_ms / 1000)


if __name__ == "__main__":
    main()

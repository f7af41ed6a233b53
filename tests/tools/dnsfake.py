#!/usr/bin/python3
"""A fake DNS server for hopd's tests, on UDP and TCP (standard library).

  dnsfake.py --bind 127.x.y.z [--port 53] --mode drop|answer
             [--a NAME=IPV4 ...] [--drop TEXT ...] [--ready-file F]
             [--log F] [--lifetime S]

--mode drop: reads every query and never answers (a resolver that hangs).
--mode answer: an A query for a NAME given with --a gets that address; any
other type for such a name gets an empty answer (NOERROR); every other
name gets NXDOMAIN.  In either mode a query for a name that contains a
--drop TEXT is read and never answered.  Names compare case-insensitively,
without a trailing dot.  --log gets one line per query: "udp|tcp NAME
TYPE".  --ready-file is written once both sockets are bound; a bind
failure exits 2 at once.  Exits by itself after --lifetime seconds.
"""

import argparse
import os
import socket
import struct
import sys
import threading

QTYPES = {1: "A", 28: "AAAA", 5: "CNAME", 15: "MX", 16: "TXT", 33: "SRV",
          12: "PTR", 2: "NS", 6: "SOA", 65: "HTTPS"}


def parse_question(msg):
    """(id, flags, name, qtype, end of the question) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", msg[:6])
    if qd < 1:
        return None
    i, labels = 12, []
    while True:
        if i >= len(msg):
            return None
        n = msg[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            return None
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 4 > len(msg):
        return None
    qtype, _ = struct.unpack(">HH", msg[i:i + 4])
    return qid, flags, ".".join(labels).lower(), qtype, i + 4


def answer(msg, records):
    q = parse_question(msg)
    if q is None:
        return None, None
    qid, flags, name, qtype, qend = q
    rd = flags & 0x0100
    question = msg[12:qend]
    addr = records.get(name)
    if addr is None:
        rcode, ans = 3, b""                     # NXDOMAIN
    elif qtype == 1:
        rcode = 0
        ans = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + \
            socket.inet_aton(addr)
    else:
        rcode, ans = 0, b""                     # NODATA
    flags = 0x8000 | 0x0400 | rd | 0x0080 | rcode   # QR AA RD RA
    head = struct.pack(">HHHHHH", qid, flags, 1, 1 if ans else 0, 0, 0)
    return head + question + ans, q


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--mode", choices=["drop", "answer"], required=True)
    ap.add_argument("--a", action="append", default=[])
    ap.add_argument("--drop", action="append", default=[])
    ap.add_argument("--ready-file")
    ap.add_argument("--log")
    ap.add_argument("--lifetime", type=float, default=300)
    a = ap.parse_args()
    if not a.bind.startswith("127."):
        raise SystemExit("dnsfake: loopback addresses only")
    records = {}
    for spec in a.a:
        name, addr = spec.split("=", 1)
        records[name.lower().rstrip(".")] = addr
    lock = threading.Lock()
    logf = open(a.log, "a", buffering=1) if a.log else None

    def dropped(msg):
        q = parse_question(msg)
        return a.mode == "drop" or (
            q is not None and any(d.lower() in q[2] for d in a.drop))

    def log(proto, q):
        if logf is not None and q is not None:
            with lock:
                logf.write("%s %s %s\n" % (proto, q[2],
                                           QTYPES.get(q[3], q[3])))

    try:
        # No SO_REUSEADDR on UDP: it would let two servers share the port.
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((a.bind, a.port))
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((a.bind, a.port))
        t.listen(64)
    except OSError as e:
        print("dnsfake: cannot bind %s:%d: %s" % (a.bind, a.port, e),
              file=sys.stderr)
        sys.exit(2)
    timer = threading.Timer(a.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()

    def reply(msg, proto):
        """The answer to one query, or None for one that is dropped."""
        if dropped(msg):
            log(proto, parse_question(msg))
            return None
        out, q = answer(msg, records)
        log(proto, q)
        return out

    def tcp_conn(c):
        c.settimeout(30)
        try:
            while True:
                head = c.recv(2)
                if len(head) < 2:
                    break
                n = struct.unpack(">H", head)[0]
                msg = b""
                while len(msg) < n:
                    b = c.recv(n - len(msg))
                    if not b:
                        return
                    msg += b
                out = reply(msg, "tcp")
                if out is not None:
                    c.sendall(struct.pack(">H", len(out)) + out)
        except OSError:
            pass
        finally:
            c.close()

    def tcp_loop():
        while True:
            c, _ = t.accept()
            threading.Thread(target=tcp_conn, args=(c,), daemon=True).start()

    threading.Thread(target=tcp_loop, daemon=True).start()
    if a.ready_file:
        with open(a.ready_file + ".tmp", "w") as f:
            f.write("%s %d\n" % (a.bind, a.port))
        os.rename(a.ready_file + ".tmp", a.ready_file)
    while True:
        msg, peer = u.recvfrom(4096)
        out = reply(msg, "udp")
        if out is not None:
            u.sendto(out, peer)


if __name__ == "__main__":
    main()

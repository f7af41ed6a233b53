#!/usr/bin/python3
"""Network helpers for hopd's integration tests (tests/integration/*.sh).

Servers (bind 127.0.0.1 or ::1 only, exit by themselves after --lifetime s):
  echo   send back what arrives; shut down writing on EOF
  sink   read until EOF; optionally send --send N random bytes first, or
         reset the connection after reading --abort-after N bytes
  stall  accept and never read (or only once --resume-file exists, or
         slowly: --rate bytes/s)
Each server writes its port to --port-file once it listens, and one report
line per finished connection to --report-dir/conn-N:
  "bytes_in=N sha_in=HEX bytes_out=N sha_out=HEX end=eof|reset|timeout"

Client side:
  gen    write --bytes N random bytes to stdout, "N SHA" to --sha-file
  count  read stdin until EOF, write "N SHA" to --out (--start-file: not
         before that file exists)
  socks  SOCKS5 CONNECT through a proxy, then an echo round trip
  clients  N concurrent echo round trips to HOST:PORT
  flood  hold N connections from --source that send a banner and stall
  wait-port  wait until HOST:PORT accepts connections

Run with /usr/bin/python3 (Debian's); nothing here needs more than the
standard library.
"""

import argparse
import hashlib
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

CHUNK = 65536


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def exit_after(seconds):
    """A bounded lifetime: no helper outlives a broken test for long."""
    def fire():
        os._exit(0)
    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()


class Reporter:
    def __init__(self, directory):
        self.dir = directory
        self.lock = threading.Lock()
        self.n = 0

    def next_id(self):
        with self.lock:
            self.n += 1
            return self.n

    def write(self, cid, **fields):
        if not self.dir:
            return
        text = " ".join("%s=%s" % (k, v) for k, v in fields.items())
        write_atomic(os.path.join(self.dir, "conn-%d" % cid), text + "\n")


def listen(args):
    s = socket.socket(family_of(args.bind), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.bind, args.port))
    s.listen(512)
    port = s.getsockname()[1]
    if args.port_file:
        write_atomic(args.port_file, "%d\n" % port)
    else:
        print(port, flush=True)
    return s


def serve(args, handler):
    exit_after(args.lifetime)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    s = listen(args)
    rep = Reporter(args.report_dir)
    while True:
        c, _ = s.accept()
        cid = rep.next_id()
        t = threading.Thread(target=handler, args=(c, cid, rep, args),
                             daemon=True)
        t.start()


def recv_all(c, on_data=None, rate=0):
    """Read until EOF, at most rate bytes/s if rate (a twentieth every 50
    ms); returns (bytes, sha256 hex, end)."""
    h = hashlib.sha256()
    n = 0
    end = "eof"
    size = max(1, rate // 20) if rate else CHUNK
    while True:
        if rate and n:
            time.sleep(0.05)
        try:
            b = c.recv(size)
        except ConnectionResetError:
            end = "reset"
            break
        except socket.timeout:
            end = "timeout"
            break
        except OSError:
            end = "error"
            break
        if not b:
            break
        n += len(b)
        h.update(b)
        if on_data is not None:
            on_data(b)
    return n, h.hexdigest(), end


def echo_handler(c, cid, rep, args):
    out = hashlib.sha256()
    sent = [0]

    def back(b):
        c.sendall(b)
        out.update(b)
        sent[0] += len(b)

    try:
        n, sha, end = recv_all(c, back)
    except OSError:
        n, sha, end = 0, "", "error"
    try:
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    rep.write(cid, bytes_in=n, sha_in=sha, bytes_out=sent[0],
              sha_out=out.hexdigest(), end=end)
    c.close()


def send_random(c, count):
    h = hashlib.sha256()
    left = count
    while left > 0:
        b = os.urandom(min(CHUNK, left))
        c.sendall(b)
        h.update(b)
        left -= len(b)
    return h.hexdigest()


def sink_handler(c, cid, rep, args):
    result = {}

    def sender():
        try:
            result["sha_out"] = send_random(c, args.send)
            result["bytes_out"] = args.send
            if args.close_after_send:
                c.close()
            else:
                c.shutdown(socket.SHUT_WR)
        except OSError as e:
            result["send_error"] = e.__class__.__name__

    if args.abort_after:
        # Read that much, then reset the connection (RST, not FIN).
        got = 0
        while got < args.abort_after:
            b = c.recv(min(CHUNK, args.abort_after - got))
            if not b:
                break
            got += len(b)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        c.close()
        rep.write(cid, bytes_in=got, end="aborted")
        return
    t = None
    if args.send:
        t = threading.Thread(target=sender, daemon=True)
        t.start()
        if args.close_after_send:
            t.join()
            rep.write(cid, bytes_out=result.get("bytes_out", 0),
                      sha_out=result.get("sha_out", ""), end="closed")
            return
    n, sha, end = recv_all(c)
    if t is not None:
        t.join()
    rep.write(cid, bytes_in=n, sha_in=sha,
              bytes_out=result.get("bytes_out", 0),
              sha_out=result.get("sha_out", ""), end=end)
    c.close()


def wait_file(path, seconds):
    deadline = time.time() + seconds
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.1)


def stall_handler(c, cid, rep, args):
    if args.rate:
        # A slow reader: the sender's window opens and closes all along.
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        n, sha, end = recv_all(c, rate=args.rate)
        rep.write(cid, bytes_in=n, sha_in=sha, end=end)
        c.close()
        return
    # Keep the socket open, read nothing: the sender's window must close.
    if not args.resume_file:
        time.sleep(args.lifetime)
        return
    # ...until the test creates --resume-file; then read everything.
    wait_file(args.resume_file, args.lifetime)
    n, sha, end = recv_all(c)
    rep.write(cid, bytes_in=n, sha_in=sha, end=end)
    c.close()


def cmd_gen(args):
    h = hashlib.sha256()
    left = args.bytes
    out = sys.stdout.buffer
    try:
        while left > 0:
            b = os.urandom(min(CHUNK * 4, left))
            out.write(b)
            h.update(b)
            left -= len(b)
        out.flush()
    except BrokenPipeError:
        # The reader went away (a test killed it): say so, no traceback.
        sys.stderr.write("gen: reader gone after %d of %d bytes\n"
                         % (args.bytes - left, args.bytes))
        os._exit(1)
    write_atomic(args.sha_file, "%d %s\n" % (args.bytes, h.hexdigest()))
    if args.hold:
        # Keep stdout open: the reader must not see EOF from us.
        time.sleep(args.hold)


def cmd_count(args):
    if args.start_file:
        # Hold stdin unread until the test creates --start-file.
        wait_file(args.start_file, 600)
    h = hashlib.sha256()
    n = 0
    inp = sys.stdin.buffer
    while True:
        b = inp.read1(CHUNK * 4)
        if not b:
            break
        n += len(b)
        h.update(b)
        if args.progress:
            write_atomic(args.progress, "%d\n" % n)
    write_atomic(args.out, "%d %s\n" % (n, h.hexdigest()))


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += b
    return buf


def cmd_socks(args):
    """Exit 0: connected and echoed; 3: the proxy refused (a SOCKS
    failure code or a close before any reply); 1: anything else."""
    s = socket.create_connection((args.proxy_host, args.proxy_port),
                                 timeout=args.timeout)
    s.sendall(b"\x05\x01\x00")
    if recv_exact(s, 2) != b"\x05\x00":
        print("socks: bad method reply")
        return 1
    host = args.host
    try:
        addr = b"\x01" + socket.inet_pton(socket.AF_INET, host)
    except OSError:
        try:
            addr = b"\x04" + socket.inet_pton(socket.AF_INET6, host)
        except OSError:
            addr = b"\x03" + bytes([len(host)]) + host.encode()
    s.sendall(b"\x05\x01\x00" + addr + struct.pack(">H", args.port))
    try:
        head = recv_exact(s, 4)
    except (EOFError, ConnectionResetError) as e:
        print("socks: reply=closed (%s)" % e)
        return 3
    if head[1] != 0:
        print("socks: reply=%d" % head[1])
        return 3
    atyp = head[3]
    if atyp == 1:
        recv_exact(s, 4 + 2)
    elif atyp == 4:
        recv_exact(s, 16 + 2)
    else:
        recv_exact(s, recv_exact(s, 1)[0] + 2)
    print("socks: reply=0")
    data = os.urandom(args.bytes)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = s.recv(CHUNK)
        if not b:
            break
        got += b
    if got != data:
        print("socks: echo mismatch: sent %d bytes, got %d" %
              (len(data), len(got)))
        return 1
    print("socks: echoed %d bytes" % len(got))
    return 0


def cmd_flood(args):
    """Hold --count connections from --source to HOST:PORT, each sending an
    SSH banner and then nothing.  A slot the server closes is reopened
    after --retry seconds.  Writes "open=N opened=N closed=N" to
    --status-file every second; exits after --duration s."""
    exit_after(args.duration + 5)
    deadline = time.time() + args.duration
    slots = [None] * args.count
    next_try = [0.0] * args.count
    opened = closed = 0
    banner = b"SSH-2.0-x\r\n"
    last_status = 0.0
    while time.time() < deadline:
        now = time.time()
        for i in range(args.count):
            if slots[i] is None and now >= next_try[i]:
                s = socket.socket(family_of(args.host), socket.SOCK_STREAM)
                s.setblocking(False)
                try:
                    s.bind((args.source, 0))
                    s.connect_ex((args.host, args.port))
                except OSError:
                    s.close()
                    next_try[i] = now + args.retry
                    continue
                slots[i] = [s, False]
                opened += 1
        want_w = [x[0] for x in slots if x is not None and not x[1]]
        want_r = [x[0] for x in slots if x is not None]
        r, w, _ = select.select(want_r, want_w, [], 0.2)
        for i, x in enumerate(slots):
            if x is None:
                continue
            s = x[0]
            if s in w and not x[1]:
                try:
                    s.send(banner)
                    x[1] = True
                except OSError:
                    pass
            if s in r:
                try:
                    b = s.recv(4096)
                except OSError:
                    b = b""
                if not b:
                    s.close()
                    slots[i] = None
                    closed += 1
                    next_try[i] = time.time() + args.retry
        if args.status_file and time.time() - last_status >= 1:
            last_status = time.time()
            n = sum(1 for x in slots if x is not None and x[1])
            write_atomic(args.status_file, "open=%d opened=%d closed=%d\n"
                         % (n, opened, closed))
    return 0


def cmd_clients(args):
    """--parallel connections to HOST:PORT at once, each sending --bytes
    random bytes, then EOF, and reading until EOF: exit 0 iff every one
    got back exactly what it sent (an echo target)."""
    results = [None] * args.parallel
    start = threading.Barrier(args.parallel)

    def one(i):
        try:
            data = os.urandom(args.bytes)
            s = socket.create_connection((args.host, args.port),
                                         timeout=args.timeout)
            start.wait(timeout=args.timeout)
            got = []

            def reader():
                while True:
                    try:
                        b = s.recv(CHUNK)
                    except OSError:
                        break
                    if not b:
                        break
                    got.append(b)
            t = threading.Thread(target=reader, daemon=True)
            t.start()
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            t.join(args.timeout)
            back = b"".join(got)
            if back == data:
                results[i] = "ok"
            else:
                results[i] = "sent %d bytes, got %d back%s" % (
                    len(data), len(back),
                    "" if len(back) != len(data) else " (different)")
            s.close()
        except Exception as e:  # reported below, per connection
            results[i] = "%s: %s" % (e.__class__.__name__, e)

    threads = [threading.Thread(target=one, args=(i,), daemon=True)
               for i in range(args.parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.timeout * 2)
    bad = [(i, r) for i, r in enumerate(results) if r != "ok"]
    for i, r in bad:
        print("connection %d: %s" % (i, r))
    print("clients: %d of %d byte-exact" % (args.parallel - len(bad),
                                            args.parallel))
    return 1 if bad else 0


def cmd_wait_port(args):
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        try:
            socket.create_connection((args.host, args.port), timeout=1).close()
            return 0
        except OSError:
            time.sleep(0.05)
    print("nothing accepts on %s:%d after %gs" %
          (args.host, args.port, args.timeout))
    return 1


def cmd_free_port(args):
    s = socket.socket(family_of(args.bind), socket.SOCK_STREAM)
    while True:
        s.bind((args.bind, 0))
        port = s.getsockname()[1]
        if port != 2024:
            break
        s.close()
        s = socket.socket(family_of(args.bind), socket.SOCK_STREAM)
    s.close()
    print(port)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    for name in ("echo", "sink", "stall"):
        sp = sub.add_parser(name)
        sp.add_argument("--bind", default="127.0.0.1",
                        choices=["127.0.0.1", "::1"])
        sp.add_argument("--port", type=int, default=0)
        sp.add_argument("--port-file")
        sp.add_argument("--report-dir")
        sp.add_argument("--lifetime", type=float, default=300)
        if name == "sink":
            sp.add_argument("--send", type=int, default=0)
            sp.add_argument("--close-after-send", action="store_true")
            sp.add_argument("--abort-after", type=int, default=0)
        if name == "stall":
            sp.add_argument("--resume-file")
            sp.add_argument("--rate", type=int, default=0,
                            help="read, but at most this many bytes/s")

    sp = sub.add_parser("gen")
    sp.add_argument("--bytes", type=int, required=True)
    sp.add_argument("--sha-file", required=True)
    sp.add_argument("--hold", type=float, default=0)

    sp = sub.add_parser("count")
    sp.add_argument("--out", required=True)
    sp.add_argument("--progress")
    sp.add_argument("--start-file")

    sp = sub.add_parser("socks")
    sp.add_argument("--proxy-host", default="127.0.0.1")
    sp.add_argument("--proxy-port", type=int, required=True)
    sp.add_argument("--host", required=True)
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--bytes", type=int, default=100000)
    sp.add_argument("--timeout", type=float, default=20)

    sp = sub.add_parser("flood")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--source", default="127.0.0.2")
    sp.add_argument("--count", type=int, default=300)
    sp.add_argument("--duration", type=float, default=60)
    sp.add_argument("--retry", type=float, default=1.0)
    sp.add_argument("--status-file")

    sp = sub.add_parser("clients")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--parallel", type=int, default=20)
    sp.add_argument("--bytes", type=int, default=1 << 20)
    sp.add_argument("--timeout", type=float, default=60)

    sp = sub.add_parser("wait-port")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--timeout", type=float, default=10)

    sp = sub.add_parser("free-port")
    sp.add_argument("--bind", default="127.0.0.1")

    args = p.parse_args()
    if args.cmd == "echo":
        serve(args, echo_handler)
    elif args.cmd == "sink":
        serve(args, sink_handler)
    elif args.cmd == "stall":
        serve(args, stall_handler)
    elif args.cmd == "gen":
        cmd_gen(args)
    elif args.cmd == "count":
        cmd_count(args)
    else:
        fn = {"socks": cmd_socks, "clients": cmd_clients, "flood": cmd_flood,
              "wait-port": cmd_wait_port, "free-port": cmd_free_port}
        sys.exit(fn[args.cmd](args))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""A client of hopd's PROXY protocol listeners, for tests/integration/proxy.sh.

  proxyhdr.py [--bind ADDR] [--v1 | --v2] [--src IP:PORT] [--dst IP:PORT]
              [--local] [--raw HEX] [--partial N] [--append HEX]
              [--sleep S] [--check S [--count N] [--close | --reset]]
              HOST PORT

Connects to HOST:PORT (from ADDR, e.g. 127.0.0.9, when --bind is given),
sends a PROXY header, then:

  relay (the default): copies stdin to the socket and the socket to stdout
      until both directions reached EOF, as OpenSSH wants of a ProxyCommand:
        ssh -o ProxyCommand="proxyhdr.py --bind 127.0.0.9 --v2 \\
            --src 203.0.113.7:4242 127.0.0.1 PORT" ...
  --check S: sends nothing else (after --close, shuts down its writing
      side) and waits up to S seconds for the server to close each of
      --count connections (opened at once).  Prints one line
        "closed=N open=N banner=N min=SECS max=SECS port=P"
      closed: connections the server closed (EOF or reset) in time, open:
      still open after S s, banner: connections on which data came (hopd's
      SSH banner: the header was taken), min/max: the earliest and latest
      close, in seconds after the header was sent (-1 if none), port: the
      local port of the first connection (the balancer's port that hopd
      sees).  With --reset, each connection is reset right after its
      header instead, as HAProxy ends a health check, and the line is
      "reset=N port=P".

The header: --v1 ("PROXY TCP4|TCP6 SRC DST SPORT DPORT\\r\\n", or "PROXY
UNKNOWN\\r\\n" with --local) or --v2 (binary, PROXY command over TCP, or the
LOCAL command with --local and no address block), from --src and --dst
(default 192.0.2.1:1234 and the server's address); or --raw HEX, these
bytes as they are.  --partial N sends only the first N bytes of it;
--append HEX sends these bytes right after it, in the same write (the
client's first bytes, e.g. its SSH banner).
--sleep S waits S seconds after the header before relaying.

Exit status: 0, or 2 if the connection could not be made.  Every mode
ends by itself (--lifetime, 300 s by default).  Standard library only.
"""

import argparse
import ipaddress
import os
import select
import socket
import struct
import sys
import threading
import time

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
V2_LOCAL = 0x20
V2_PROXY = 0x21
V2_TCP4 = 0x11
V2_TCP6 = 0x21
CHUNK = 65536


def exit_after(seconds):
    """A bounded lifetime: no helper outlives a broken test for long."""
    def fire():
        os._exit(3)
    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()


def endpoint(text):
    """IP:PORT or [IPv6]:PORT -> (ip_address, port)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    return ipaddress.ip_address(host), int(port)


def header(args, dst_default):
    if args.raw is not None:
        return bytes.fromhex(args.raw)
    src = endpoint(args.src)
    dst = endpoint(args.dst) if args.dst else dst_default
    if src[0].version == 6 and dst[0].version == 4:
        # One family for both: the server's address, IPv4-mapped.
        dst = (ipaddress.ip_address("::ffff:" + str(dst[0])), dst[1])
    if args.v1:
        if args.local:
            return b"PROXY UNKNOWN\r\n"
        proto = "TCP4" if src[0].version == 4 else "TCP6"
        return ("PROXY %s %s %s %d %d\r\n" % (proto, src[0], dst[0], src[1],
                                              dst[1])).encode()
    if args.local:
        return V2_SIG + struct.pack("!BBH", V2_LOCAL, 0, 0)
    if src[0].version == 4:
        block = struct.pack("!4s4sHH", src[0].packed, dst[0].packed,
                            src[1], dst[1])
        fam = V2_TCP4
    else:
        block = struct.pack("!16s16sHH", src[0].packed, dst[0].packed,
                            src[1], dst[1])
        fam = V2_TCP6
    return V2_SIG + struct.pack("!BBH", V2_PROXY, fam, len(block)) + block


def connect(args):
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if args.bind:
        s.bind((args.bind, 0))
    s.settimeout(10)
    s.connect((args.host, args.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def send_header(s, args):
    name = s.getpeername()
    hdr = header(args, (ipaddress.ip_address(name[0]), name[1]))
    if args.partial is not None:
        hdr = hdr[:args.partial]
    if args.append is not None:
        hdr += bytes.fromhex(args.append)
    s.sendall(hdr)


def relay(s):
    """stdin -> socket and socket -> stdout until EOF both ways."""
    s.setblocking(False)
    inp, out = 0, 1
    to_sock = b""
    to_out = b""
    in_open = sock_open = True
    while in_open or sock_open or to_sock or to_out:
        rl, wl = [], []
        if in_open and not to_sock:
            rl.append(inp)
        if sock_open and not to_out:
            rl.append(s)
        if to_sock:
            wl.append(s)
        if to_out:
            wl.append(out)
        if not rl and not wl:
            break
        r, w, _ = select.select(rl, wl, [], 1.0)
        if inp in r:
            b = os.read(inp, CHUNK)
            if b:
                to_sock += b
            else:
                in_open = False
                if not to_sock:
                    shut(s)
        if s in r:
            try:
                b = s.recv(CHUNK)
            except OSError:
                b = b""
            if b:
                to_out += b
            else:
                sock_open = False
                if not to_out:
                    close_stdout()
        if s in w and to_sock:
            try:
                n = s.send(to_sock)
            except OSError:
                return 1
            to_sock = to_sock[n:]
            if not to_sock and not in_open:
                shut(s)
        if out in w and to_out:
            try:
                n = os.write(out, to_out)
            except OSError:
                return 1
            to_out = to_out[n:]
            if not to_out and not sock_open:
                close_stdout()
        if not sock_open and not to_out and not in_open and not to_sock:
            break
        if not sock_open and in_open and not to_out:
            # The server is gone: nothing more can be sent to it.
            break
    return 0


def close_stdout():
    """EOF to the reader of stdout (ssh), fd 1 kept valid for Python."""
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.close(fd)


def shut(s):
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def check(args):
    socks = []
    for _ in range(args.count):
        try:
            socks.append(connect(args))
        except OSError as e:
            print("connect error: %s" % e)
            return 2
    start = {}
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        send_header(s, args)
        start[s] = time.monotonic()
        if args.close:
            shut(s)
        if args.reset:
            # As HAProxy ends a health check: a reset right after the
            # header (SO_LINGER 0).
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            s.close()
        else:
            s.setblocking(False)
    if args.reset:
        print("reset=%d port=%d" % (len(socks), ports[0]))
        return 0
    banner = set()
    closed = {}
    deadline = time.monotonic() + args.check
    while len(closed) < len(socks):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        live = [s for s in socks if s not in closed]
        r, _, _ = select.select(live, [], [], min(left, 0.5))
        for s in r:
            try:
                b = s.recv(CHUNK)
            except OSError:
                b = b""
            if b:
                banner.add(s)
            else:
                closed[s] = time.monotonic() - start[s]
    times = sorted(closed.values())
    print("closed=%d open=%d banner=%d min=%.2f max=%.2f port=%d" % (
        len(closed), len(socks) - len(closed), len(banner),
        times[0] if times else -1, times[-1] if times else -1,
        ports[0]))
    sys.stdout.flush()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--bind")
    v = p.add_mutually_exclusive_group()
    v.add_argument("--v1", action="store_true")
    v.add_argument("--v2", action="store_true")
    p.add_argument("--src", default="192.0.2.1:1234")
    p.add_argument("--dst")
    p.add_argument("--local", action="store_true")
    p.add_argument("--raw")
    p.add_argument("--partial", type=int)
    p.add_argument("--sleep", type=float, default=0)
    p.add_argument("--check", type=float)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--close", action="store_true")
    p.add_argument("--reset", action="store_true")
    p.add_argument("--append")
    p.add_argument("--lifetime", type=float, default=300)
    args = p.parse_args()
    if not args.v1 and not args.v2 and args.raw is None:
        p.error("one of --v1, --v2 or --raw is needed")
    exit_after(args.lifetime)
    if args.check is not None:
        return check(args)
    try:
        s = connect(args)
        send_header(s, args)
    except OSError as e:
        print("proxyhdr: %s:%d: %s" % (args.host, args.port, e),
              file=sys.stderr)
        return 2
    if args.sleep:
        time.sleep(args.sleep)
    return relay(s)


if __name__ == "__main__":
    sys.exit(main())

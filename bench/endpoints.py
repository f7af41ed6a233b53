#!/usr/bin/python3
"""The bench's TCP endpoints on 127.0.0.1, behind the bastion under test.

  endpoints.py bulk DATAFILE   sink and source; prints "SINK_PORT SOURCE_PORT"
  endpoints.py echo            echo server;     prints "ECHO_PORT"

sink:   reads until EOF, counting and comparing every byte with DATAFILE
        (what was sent must be its first <bytes> bytes), then answers
        "OK <bytes> match|differ <t_first> <t_last>\n" (CLOCK_MONOTONIC
        seconds of the first and last byte received) and closes.  A compare
        (memcmp) rather than a hash: the bench runs on the bastion's CPUs,
        and SHA-256 in Python cost more CPU than the bastion under test.
source: reads one line "<N>\n", then sends the first N bytes of DATAFILE
        (sendfile) and closes.  The driver keeps DATAFILE in tmpfs
        (/dev/shm): from a file on disk, on a machine that reclaims idle
        page cache, the source and the sink's compare ran at the disk's
        speed and both bastions measured 80-120 MB/s.
echo:   echoes everything; one thread, non-blocking sockets, so that it
        holds 10,000 idle connections cheaply.

Ports are picked by the kernel (bind to port 0).  The process runs until its
stdin is closed (the driver holds it open), so it never outlives the bench.
"""
import mmap
import os
import selectors
import socket
import sys
import threading
import time

CHUNK = 1 << 20


def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(4096)
    return s


def same_bytes(mv, k, data, off):
    """True if mv[:k] is data[off:off + k] (data: the mmap'd DATAFILE)."""
    return off + k <= len(data) and mv[:k].tobytes() == data[off:off + k]


def sink_conn(c, data):
    buf = bytearray(CHUNK)
    mv = memoryview(buf)
    n = 0
    same = True
    t_first = t_last = None
    try:
        while True:
            k = c.recv_into(buf)
            if k <= 0:
                break
            t_last = time.monotonic()
            if t_first is None:
                t_first = t_last
            same = same and same_bytes(mv, k, data, n)
            n += k
        if t_first is None:
            t_first = t_last = time.monotonic()
        c.sendall(("OK %d %s %.6f %.6f\n" %
                   (n, "match" if same else "differ", t_first,
                    t_last)).encode())
    except OSError:
        pass
    finally:
        c.close()


def source_conn(c, path):
    try:
        line = b""
        deadline = time.monotonic() + 60
        while not line.endswith(b"\n") and len(line) < 64:
            if time.monotonic() > deadline:
                return
            k = c.recv(64 - len(line))
            if not k:
                break
            line += k
        want = int(line.strip() or b"0")
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            want = min(want, size)
            off = 0
            while off < want:
                k = os.sendfile(c.fileno(), f.fileno(), off,
                                min(want - off, 8 * CHUNK))
                if k <= 0:
                    break
                off += k
    except (OSError, ValueError):
        pass
    finally:
        c.close()


def serve_threads(lsock, fn, *args):
    def loop():
        while True:
            c, _ = lsock.accept()
            threading.Thread(target=fn, args=(c,) + args, daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def echo_loop(lsock):
    sel = selectors.DefaultSelector()
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, None)
    pending = {}        # socket -> bytes not yet echoed
    while True:
        for key, ev in sel.select():
            s = key.fileobj
            if s is lsock:
                for _ in range(256):
                    try:
                        c, _ = lsock.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        time.sleep(0.01)    # EMFILE: back off
                        break
                    c.setblocking(False)
                    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sel.register(c, selectors.EVENT_READ, None)
                continue
            try:
                if ev & selectors.EVENT_WRITE:
                    data = pending.pop(s)
                    k = s.send(data)
                    if k < len(data):
                        pending[s] = data[k:]
                    else:
                        sel.modify(s, selectors.EVENT_READ)
                    continue
                data = s.recv(65536)
                if not data:
                    sel.unregister(s)
                    s.close()
                    continue
                k = 0
                try:
                    k = s.send(data)
                except BlockingIOError:
                    pass
                if k < len(data):
                    pending[s] = data[k:]
                    sel.modify(s, selectors.EVENT_WRITE)
            except OSError:
                pending.pop(s, None)
                try:
                    sel.unregister(s)
                except (KeyError, ValueError):
                    pass
                s.close()


def main():
    mode = sys.argv[1]
    if mode == "bulk":
        sink, source = listener(), listener()
        with open(sys.argv[2], "rb") as f:
            data = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        serve_threads(sink, sink_conn, data)
        serve_threads(source, source_conn, sys.argv[2])
        print(sink.getsockname()[1], source.getsockname()[1], flush=True)
    elif mode == "echo":
        echo = listener()
        threading.Thread(target=echo_loop, args=(echo,), daemon=True).start()
        print(echo.getsockname()[1], flush=True)
    else:
        sys.exit("usage: endpoints.py bulk DATAFILE | echo")
    # Live as long as the driver keeps our stdin open.
    try:
        sys.stdin.buffer.read()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

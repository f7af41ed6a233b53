#!/usr/bin/python3
"""journalsink: a stand-in for journald's native socket, for the tests.

Binds a unix datagram socket (normally /run/systemd/journal/socket, in a
private mount namespace), decodes each datagram in the native journal
protocol -- "KEY=value\\n" lines, and the binary form
"KEY\\n<64-bit little-endian length><bytes>\\n" for values with a newline --
and writes each entry as one JSON object per line to --out.  An entry too
large for a datagram comes as an empty datagram carrying a memfd
(SCM_RIGHTS), whose contents are the same protocol: read as well.

Each value is a string (UTF-8, undecodable bytes as surrogate escapes) or,
for a field given more than once, a list of them, in the order sent; the
key "_binary" lists the fields sent in the binary form and "_memfd" is true
for an entry that came in a memfd.
"""
import argparse
import array
import json
import os
import signal
import socket
import struct
import sys
import time


def decode(data):
    """The fields of one native-protocol entry: a list of (key, bytes, bin)."""
    fields = []
    i = 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            raise ValueError("no newline after byte %d" % i)
        line = data[i:nl]
        eq = line.find(b"=")
        if eq >= 0:
            fields.append((line[:eq], line[eq + 1:], False))
            i = nl + 1
            continue
        # The binary form: KEY\n, le64 length, the bytes, \n.
        if nl + 9 > len(data):
            raise ValueError("short length after %r" % line)
        (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
        start = nl + 9
        if start + n + 1 > len(data) or data[start + n:start + n + 1] != b"\n":
            raise ValueError("bad binary field %r (length %d)" % (line, n))
        fields.append((line, data[start:start + n], True))
        i = start + n + 1
    return fields


def text(b):
    return b.decode("utf-8", "surrogateescape")


def entry_json(fields, memfd):
    out = {}
    binary = []
    for key, val, is_bin in fields:
        k = text(key)
        v = text(val)
        if is_bin:
            binary.append(k)
        if k in out:
            if not isinstance(out[k], list):
                out[k] = [out[k]]
            out[k].append(v)
        else:
            out[k] = v
    out["_binary"] = binary
    out["_memfd"] = memfd
    return out


def read_fd(fd):
    chunks = []
    off = 0
    while True:
        b = os.pread(fd, 1 << 16, off)
        if not b:
            break
        chunks.append(b)
        off += len(b)
    return b"".join(chunks)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--socket", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--ready-file")
    p.add_argument("--lifetime", type=float, default=600)
    a = p.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        os.unlink(a.socket)
    except FileNotFoundError:
        pass
    s.bind(a.socket)
    os.chmod(a.socket, 0o666)
    out = open(a.out, "a", encoding="utf-8")
    if a.ready_file:
        with open(a.ready_file + ".tmp", "w") as f:
            f.write("ready\n")
        os.rename(a.ready_file + ".tmp", a.ready_file)
    deadline = time.monotonic() + a.lifetime
    fdsize = array.array("i").itemsize
    while time.monotonic() < deadline:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data, anc, _flags, _addr = s.recvmsg(
                1 << 20, socket.CMSG_SPACE(4 * fdsize))
        except socket.timeout:
            continue
        fds = array.array("i")
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(cdata[:len(cdata) - len(cdata) % fdsize])
        memfd = False
        for fd in fds:
            if not data:
                data = read_fd(fd)
                memfd = True
            os.close(fd)
        try:
            fields = decode(data)
        except ValueError as e:
            rec = {"_error": str(e), "_raw": text(data[:512])}
        else:
            rec = entry_json(fields, memfd)
        out.write(json.dumps(rec, sort_keys=True) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

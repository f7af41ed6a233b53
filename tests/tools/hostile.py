#!/usr/bin/python3
"""A hostile SSH client for hopd's tests (paramiko from Debian's python3).

  hostile.py HOST PORT USER KEYFILE TARGET_HOST TARGET_PORT MODE

MODE past-window: opens a direct-tcpip channel to TARGET (a server that
never reads) and sends CHANNEL_DATA ignoring the window hopd granted, up to
32 MiB.  Prints "disconnected after N bytes" when hopd ends the session (the
expected outcome) or "never disconnected after N bytes".
MODE flood-opens: asks for 500 direct-tcpip channels one after another,
holding every one it gets; prints how many were accepted and refused.
MODE auth-flood: never authenticates, asks for "none" 200 times; prints how
many requests hopd answered before it ended the connection.
MODE send-and-vanish: opens a direct-tcpip channel to TARGET, sends 200,000
bytes of CHANNEL_DATA (inside the window, under hopd's high-water mark) and
shuts its socket down at once: no EOF, no CLOSE, no DISCONNECT, a FIN right
behind the data.  Prints "sent N sha256 HEX" once hopd has hung up; what
was sent must still reach the target.
MODE interleave: opens 6 direct-tcpip channels to TARGET (an echo server),
prints "open" and waits for a line on stdin (the caller may pause hopd
meanwhile, so that what follows piles up in its socket); then sends 400,000
bytes on each channel in small pieces of 1 to 3,000 bytes, taking turns
between the channels, then EOF on each, and reads every echo back.  Prints
"intact K of 6": the channels whose echo was byte for byte what was sent.
Bounded: every wait has a timeout.
"""

import hashlib
import logging
import random
import select
import socket
import sys
import time

import paramiko
from paramiko.common import cMSG_CHANNEL_DATA
from paramiko.message import Message

CHUNK = 32768


def connect(host, port, user, keyfile):
    t = paramiko.Transport((host, port))
    t.connect(username=user,
              pkey=paramiko.Ed25519Key.from_private_key_file(keyfile))
    return t


def past_window(t, target):
    ch = t.open_channel("direct-tcpip", target, ("127.0.0.1", 1), timeout=10)
    sent = 0
    data = b"x" * CHUNK
    deadline = time.monotonic() + 30
    try:
        while sent < (32 << 20) and time.monotonic() < deadline:
            if not t.is_active():
                break
            m = Message()
            m.add_byte(cMSG_CHANNEL_DATA)
            m.add_int(ch.remote_chanid)
            m.add_string(data)
            t._send_user_message(m)
            sent += CHUNK
    except (OSError, EOFError, paramiko.SSHException):
        pass
    for _ in range(100):
        if not t.is_active():
            print("disconnected after %d bytes" % sent)
            return 0
        time.sleep(0.1)
    print("never disconnected after %d bytes" % sent)
    return 1


def flood_opens(t, target, n=500):
    chans, refused = [], 0
    for _ in range(n):
        try:
            chans.append(t.open_channel("direct-tcpip", target,
                                        ("127.0.0.1", 1), timeout=10))
        except paramiko.ChannelException:
            refused += 1
        except (OSError, EOFError, paramiko.SSHException):
            break
    print("accepted %d refused %d" % (len(chans), refused))
    return 0


def auth_flood(host, port, user, n=200):
    """Unauthenticated: asks "none" n times; how many got an answer."""
    t = paramiko.Transport((host, port))
    t.start_client(timeout=10)
    answered = 0
    try:
        for _ in range(n):
            try:
                t.auth_none(user)
            except paramiko.BadAuthenticationType:
                answered += 1
                continue
            break
    except (OSError, EOFError, paramiko.SSHException):
        pass
    finally:
        t.close()
    print("answered %d of %d" % (answered, n))
    return 0


def send_and_vanish(t, target, n=200000):
    ch = t.open_channel("direct-tcpip", target, ("127.0.0.1", 1), timeout=10)
    data = bytes((i * 131 + i // 7) & 0xFF for i in range(n))
    ch.sendall(data)
    t.sock.shutdown(socket.SHUT_WR)     # a FIN right behind the data
    deadline = time.monotonic() + 10
    while t.is_active() and time.monotonic() < deadline:
        time.sleep(0.05)
    print("sent %d sha256 %s" % (n, hashlib.sha256(data).hexdigest()))
    return 0


def interleave(t, target, nch=6, total=400000):
    rng = random.Random(6)
    chans = [t.open_channel("direct-tcpip", target, ("127.0.0.1", 1),
                            timeout=10) for _ in range(nch)]
    sent = [bytearray() for _ in range(nch)]
    print("open", flush=True)
    if not select.select([sys.stdin], [], [], 30)[0]:
        return 1
    sys.stdin.readline()
    while any(len(b) < total for b in sent):
        for i, ch in enumerate(chans):
            k = min(rng.randint(1, 3000), total - len(sent[i]))
            if k > 0:
                piece = rng.randbytes(k)
                ch.sendall(piece)
                sent[i] += piece
    intact = 0
    for i, ch in enumerate(chans):
        ch.shutdown_write()
        ch.settimeout(30)
        got = bytearray()
        try:
            while len(got) <= total:
                b = ch.recv(65536)
                if not b:
                    break
                got += b
        except (OSError, EOFError, paramiko.SSHException):
            pass
        intact += got == sent[i]
    print("intact %d of %d" % (intact, nch))
    return 0


def main(argv):
    logging.getLogger("paramiko").setLevel(logging.CRITICAL + 1)
    host, port, user, key, thost, tport, mode = argv[1:8]
    if mode == "auth-flood":
        return auth_flood(host, int(port), user)
    t = connect(host, int(port), user, key)
    target = (thost, int(tport))
    try:
        if mode == "past-window":
            return past_window(t, target)
        if mode == "flood-opens":
            return flood_opens(t, target)
        if mode == "send-and-vanish":
            return send_and_vanish(t, target)
        if mode == "interleave":
            return interleave(t, target)
        raise SystemExit("unknown mode " + mode)
    finally:
        t.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))

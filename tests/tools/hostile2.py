#!/usr/bin/python3
"""More hostile SSH clients for hopd's tests (issue 12: bound what a hostile
peer can make hopd hold).  Paramiko from Debian's python3.

  hostile2.py MODE --port HOPD_PORT [options]

Every mode is bounded in time; every report is one or more "key=value"
lines on stdout.  Where a mode takes --pid (hopd's pid), it samples hopd's
VmRSS every 50 ms and reports rss_base_kb (before the attack) and
rss_peak_kb (the largest value seen while the attack ran and was held);
--rss-abort-kb stops an attack early once the growth passes that much (so
that a broken hopd does not eat the machine), the peak then shows it.

Modes:
  probe        bob's yardstick: log in, then (clock starts) open a
               direct-tcpip channel to --target HOST:PORT (an echo server),
               send --bytes bytes, read them back (clock stops).  Prints
               "probe ms=N open_ms=N" and exits 0, or "probe error: ..." and
               exits 1.  Nothing after the login counts more than --timeout.
  preauth      --clients N connections, each completes the key exchange,
               never authenticates and stops reading its socket (--rcvbuf
               before connect), then sends --kind messages as fast as it
               can for --duration s (or --max-msgs, or until its socket
               fails): service (SERVICE_REQUEST "ssh-userauth"), global
               (GLOBAL_REQUEST "keepalive@openssh.com" want_reply=1), none
               (USERAUTH_REQUEST "none").  Prints one "client I port=P
               sent=N failed=yes|no" line each, then the RSS line.
  auth-fail    publickey requests with a key the user does not have, until
               hopd ends the connection (at most 50).  Prints "auth-fail
               tries=N disconnect=yes|no desc=TEXT" (desc: the description
               of the SSH_MSG_DISCONNECT received, empty if none).
  nul-user     USERAUTH_REQUEST for the user name --user with "\\0x"
               appended: "publickey", signed with --key, or "none" without
               --key.  Prints "nul-user answer=failure|success|
               disconnect|none ms=N" (time from the request to the answer).
  session-past-window  logs in, opens --nch "session" channels and sends
               CHANNEL_DATA on them in turn, ignoring the window, up to
               --bytes in all.  Prints "session-past-window sent=N
               disconnected=yes|no".
  huge-window  --conns N sessions, each logs in (--rcvbuf set before
               connect), opens one direct-tcpip channel to --target (a
               server that sends a lot) with a window of 2^32-1 bytes, tops
               it up with CHANNEL_WINDOW_ADJUST, then stops reading its
               socket for --duration s.  Prints "huge-window conns=N" and
               the RSS line.
  pipelined-opens  logs in, sends --count CHANNEL_OPEN direct-tcpip to
               --target without waiting for answers (reading them all the
               while; a "%d" in the target's host is replaced by the
               open's number), then waits up to --wait s until every open
               is answered or hopd ends the session, and then --hold s
               more if the session is still up.  Prints "pipelined-opens
               port=P sent=N confirmed=N failed=N failed_fast=N
               ended=yes|no" (failed_fast: refusals that came within
               --fast s of the last open sent).
  idle-channels  --sessions S sessions log in; --pid's RSS is taken
               (rss_before_kb) once they are idle; then each opens --per
               direct-tcpip channels to --target (an echo server); after
               --settle s the RSS is taken again (rss_opened_kb); with
               --echo N, N bytes go through each channel and back (one
               channel after the other), and
               after --settle s of idleness the RSS is taken once more
               (rss_echoed_kb).  Prints "idle-channels opened=N
               rss_before_kb=N rss_opened_kb=N [rss_echoed_kb=N]", then
               holds everything --hold s (to look at hopd meanwhile).
  rforward-cancel  logs in, asks for a remote forward on --listen-port of
               127.0.0.1, answers its forwarded-tcpip channels as an echo;
               connects a TCP client to that port and checks an echo;
               cancels the forward (cancel-tcpip-forward), checks that the
               connection still echoes, writes --state-dir/cancelled, then
               waits (up to --wait s) for --state-dir/go, and from then on
               for the TCP connection to end (EOF or reset, --wait s).
               Prints "rforward-cancel closed=yes ms=N" or "closed=no".
"""

import argparse
import hmac
import logging
import os
import socket
import sys
import threading
import time

import paramiko
from paramiko.common import (
    cMSG_CHANNEL_DATA, cMSG_CHANNEL_OPEN, cMSG_CHANNEL_WINDOW_ADJUST,
    cMSG_GLOBAL_REQUEST, cMSG_SERVICE_REQUEST, cMSG_USERAUTH_REQUEST,
    MSG_CHANNEL_OPEN_FAILURE, MSG_CHANNEL_OPEN_SUCCESS)
from paramiko.message import Message

HOST = "127.0.0.1"


# ------------------------------------------------------------------ helpers

def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssWatch:
    """Samples a pid's VmRSS every 50 ms in a thread; keeps the peak."""

    def __init__(self, pid, abort_kb=0):
        self.pid = pid
        self.base = rss_kb(pid) if pid else 0
        self.peak = self.base
        self.abort_kb = abort_kb
        self.exceeded = threading.Event()
        self.stop = threading.Event()
        if pid:
            threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.stop.is_set():
            v = rss_kb(self.pid)
            self.peak = max(self.peak, v)
            if self.abort_kb and v - self.base > self.abort_kb:
                self.exceeded.set()
            time.sleep(0.05)

    def report(self):
        self.peak = max(self.peak, rss_kb(self.pid)) if self.pid else 0
        self.stop.set()
        print("rss_base_kb=%d rss_peak_kb=%d rss_delta_kb=%d%s" % (
            self.base, self.peak, self.peak - self.base,
            " aborted=yes" if self.exceeded.is_set() else ""), flush=True)


class Frozen:
    """Stands in for the transport's socket: reads nothing, sends as usual.
    Paramiko's reader thread then loops on timeouts and never reads."""

    def __init__(self, sock):
        self._sock = sock

    def recv(self, n):
        time.sleep(0.1)
        raise socket.timeout()

    def __getattr__(self, name):
        return getattr(self._sock, name)


def freeze(t):
    t.packetizer._Packetizer__socket = Frozen(t.sock)


def raw_socket(port, rcvbuf=0, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((HOST, port))
    return s


def transport(port, rcvbuf=0, **kw):
    t = paramiko.Transport(raw_socket(port, rcvbuf), **kw)
    # aes-ctr: what bulk_send knows how to build.
    t.get_security_options().ciphers = ("aes128-ctr", "aes256-ctr")
    t.start_client(timeout=10)
    return t


def login(port, user, key, rcvbuf=0, **kw):
    t = transport(port, rcvbuf, **kw)
    t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(key))
    return t


def local_port(t):
    try:
        return t.sock.getsockname()[1]
    except OSError:
        return 0


def send_raw(t, m):
    """Sends a message now, whatever paramiko thinks; False once it fails."""
    try:
        t._send_message(m)
        return True
    except (OSError, EOFError, paramiko.SSHException):
        return False


def bulk_send(t, m, count):
    """Sends message m count times as fast as Python can: the packets are
    built as paramiko's Packetizer.send_message builds them (aes-ctr,
    zero padding, an HMAC per packet), encrypted in one call (CTR is a
    stream) and written in one go.  Falls back to one send_message per
    packet where paramiko's internals are not what this expects.  False
    once the socket fails."""
    pk = t.packetizer
    P = "_Packetizer__"
    try:
        enc = getattr(pk, P + "block_engine_out")
        etm = getattr(pk, P + "etm_out")
        sdctr = getattr(pk, P + "sdctr_out")
        mac_key = getattr(pk, P + "mac_key_out")
        mac_size = getattr(pk, P + "mac_size_out")
        digest = getattr(pk, P + "mac_engine_out")().name
        lock = getattr(pk, P + "write_lock")
        getattr(pk, P + "sequence_number_out")
    except (AttributeError, TypeError):
        enc = None
    if enc is None or not sdctr or \
            getattr(pk, P + "compress_engine_out") is not None:
        for _ in range(count):
            if not send_raw(t, m):
                return False
        return True
    packet = pk._build_packet(m.asbytes())
    head, body = (packet[:4], packet[4:]) if etm else (b"", packet)
    out = []
    with lock:
        seq = getattr(pk, P + "sequence_number_out")
        cipher = enc.update(body * count)
        n = len(body)
        for i in range(count):
            c = head + cipher[i * n:(i + 1) * n]
            s = ((seq + i) & 0xffffffff).to_bytes(4, "big")
            mac = hmac.digest(mac_key, s + (c if etm else packet), digest)
            out.append(c + mac[:mac_size])
        setattr(pk, P + "sequence_number_out", (seq + count) & 0xffffffff)
        try:
            pk.write_all(b"".join(out))
        except (OSError, EOFError):
            return False
    return True


def closer(t, seconds):
    """Closes t after `seconds` from another thread: unblocks a send that
    waits on a peer that stopped reading."""
    def fire():
        try:
            t.close()
        except Exception:  # any state: it is being torn down
            pass
    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer


def target_of(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def open_msg(chanid, target, window=2 << 20, maxpkt=32768):
    m = Message()
    m.add_byte(cMSG_CHANNEL_OPEN)
    m.add_string("direct-tcpip")
    m.add_int(chanid)
    m.add_int(window)
    m.add_int(maxpkt)
    m.add_string(target[0])
    m.add_int(target[1])
    m.add_string("127.0.0.1")
    m.add_int(1)
    return m


# ------------------------------------------------------------------ modes

def cmd_probe(a):
    try:
        t = login(a.port, a.user, a.key)
    except Exception as e:  # reported, the caller fails on it
        print("probe error: login: %s: %s" % (e.__class__.__name__, e))
        return 1
    data = os.urandom(a.bytes)
    t0 = time.monotonic()
    try:
        ch = t.open_channel("direct-tcpip", target_of(a.target),
                            ("127.0.0.1", 1), timeout=a.timeout)
        t1 = time.monotonic()
        ch.settimeout(max(0.1, a.timeout - (t1 - t0)))
        ch.sendall(data)
        got = b""
        while len(got) < len(data):
            b = ch.recv(65536)
            if not b:
                break
            got += b
        t2 = time.monotonic()
    except Exception as e:  # ChannelException, timeout, SSHException
        print("probe error: after %d ms: %s: %s" % (
            (time.monotonic() - t0) * 1000, e.__class__.__name__, e))
        t.close()
        return 1
    t.close()
    if got != data:
        print("probe error: echo: sent %d bytes, got %d back" % (
            len(data), len(got)))
        return 1
    print("probe ms=%d open_ms=%d" % ((t2 - t0) * 1000, (t1 - t0) * 1000))
    return 0


def preauth_msg(kind, user):
    m = Message()
    if kind == "service":
        m.add_byte(cMSG_SERVICE_REQUEST)
        m.add_string("ssh-userauth")
    elif kind == "global":
        m.add_byte(cMSG_GLOBAL_REQUEST)
        m.add_string("keepalive@openssh.com")
        m.add_boolean(True)
    elif kind == "none":
        m.add_byte(cMSG_USERAUTH_REQUEST)
        m.add_string(user)
        m.add_string("ssh-connection")
        m.add_string("none")
    else:
        raise SystemExit("unknown kind " + kind)
    return m


def cmd_preauth(a):
    watch = RssWatch(a.pid, a.rss_abort_kb)
    results = [None] * a.clients
    transports = [None] * a.clients
    start = time.monotonic()
    deadline = start + a.duration

    def one(i):
        try:
            t = transport(a.port, a.rcvbuf)
        except Exception as e:  # reported per client
            results[i] = "client %d error=%s" % (i, e.__class__.__name__)
            return
        transports[i] = t
        port = local_port(t)
        freeze(t)
        closer(t, a.duration + a.hold + 5)
        m = preauth_msg(a.kind, a.user)
        sent, ok = 0, True
        if a.kind == "none":
            ok = send_raw(t, preauth_msg("service", a.user))
        while ok and sent < a.max_msgs and time.monotonic() < deadline \
                and not watch.exceeded.is_set():
            ok = bulk_send(t, m, a.batch)
            sent += a.batch if ok else 0
        results[i] = "client %d port=%d sent=%d failed=%s" % (
            i, port, sent, "no" if ok else "yes")

    threads = [threading.Thread(target=one, args=(i,), daemon=True)
               for i in range(a.clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(a.duration + a.hold + 10)
    # Held a little longer, unread: what hopd queued stays queued.
    end = time.monotonic() + a.hold
    while time.monotonic() < end and not watch.exceeded.is_set():
        time.sleep(0.05)
    for r in results:
        print(r if r is not None else "client ? unfinished")
    watch.report()
    for t in transports:
        if t is not None:
            t.close()
    return 0


class DisconnectLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.desc = None

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith("Disconnect (code"):
            self.desc = msg.split(": ", 1)[1] if ": " in msg else ""


def cmd_auth_fail(a):
    h = DisconnectLog()
    lg = logging.getLogger("paramiko.transport")
    lg.setLevel(logging.INFO)
    lg.addHandler(h)
    lg.propagate = False
    key = paramiko.Ed25519Key.from_private_key_file(a.key)
    t = transport(a.port)
    tries = 0
    try:
        while tries < 50 and t.is_active():
            tries += 1
            try:
                t.auth_publickey(a.user, key)
                print("auth-fail unexpected success")
                return 1
            except paramiko.AuthenticationException:
                continue
    except (OSError, EOFError, paramiko.SSHException):
        pass
    for _ in range(50):            # the reader thread logs it
        if h.desc is not None or not t.is_active():
            break
        time.sleep(0.1)
    time.sleep(0.2)
    t.close()
    print("auth-fail tries=%d disconnect=%s desc=%s" % (
        tries, "no" if h.desc is None else "yes", h.desc or ""))
    return 0


def cmd_nul_user(a):
    t = transport(a.port)
    closer(t, a.timeout + 5)
    t0 = time.monotonic()
    t.auth_timeout = a.timeout
    try:
        if a.key:
            t.auth_publickey(a.user + "\0x",
                             paramiko.Ed25519Key.from_private_key_file(a.key))
        else:
            t.auth_none(a.user + "\0x")
        answer = "success"
    except paramiko.BadAuthenticationType:
        answer = "failure"
    except paramiko.AuthenticationException as e:
        # "Authentication failed." (a USERAUTH_FAILURE), "Authentication
        # timeout.", "... transport shut down or saw EOF".
        text = str(e)
        answer = "failure" if text.startswith("Authentication failed.") \
            else "none" if "timeout" in text else "disconnect"
    except (OSError, EOFError, paramiko.SSHException) as e:
        answer = "disconnect" if not t.is_active() else "none"
    ms = (time.monotonic() - t0) * 1000
    t.close()
    print("nul-user answer=%s ms=%d" % (answer, ms))
    return 0


def cmd_session_past_window(a):
    t = login(a.port, a.user, a.key)
    chans = [t.open_session(timeout=10) for _ in range(a.nch)]
    watch = RssWatch(a.pid, a.rss_abort_kb)
    closer(t, a.duration + 15)
    data = b"x" * 32768
    sent = 0
    deadline = time.monotonic() + a.duration
    ok = True
    while ok and sent < a.bytes and time.monotonic() < deadline \
            and not watch.exceeded.is_set():
        for ch in chans:
            m = Message()
            m.add_byte(cMSG_CHANNEL_DATA)
            m.add_int(ch.remote_chanid)
            m.add_string(data)
            ok = t.is_active() and send_raw(t, m)
            if not ok:
                break
            sent += len(data)
    for _ in range(int(a.wait * 10)):
        if not t.is_active():
            break
        time.sleep(0.1)
    print("session-past-window sent=%d disconnected=%s" % (
        sent, "no" if t.is_active() else "yes"))
    if a.pid:
        watch.report()
    t.close()
    return 0


def cmd_huge_window(a):
    target = target_of(a.target)
    transports = []
    for _ in range(a.conns):
        t = login(a.port, a.user, a.key, a.rcvbuf)
        transports.append(t)
    watch = RssWatch(a.pid, a.rss_abort_kb)
    for t in transports:
        ch = t.open_channel("direct-tcpip", target, ("127.0.0.1", 1),
                            window_size=(1 << 31), timeout=10)
        freeze(t)
        # (2^31 granted at the open) + adjust = 2^32 - 1: about 4 GiB.
        m = Message()
        m.add_byte(cMSG_CHANNEL_WINDOW_ADJUST)
        m.add_int(ch.remote_chanid)
        m.add_int((1 << 31) - 1)
        send_raw(t, m)
    print("huge-window conns=%d" % len(transports), flush=True)
    end = time.monotonic() + a.duration
    while time.monotonic() < end and not watch.exceeded.is_set():
        time.sleep(0.05)
    watch.report()
    for t in transports:
        t.close()
    return 0


def cmd_pipelined_opens(a):
    target = target_of(a.target)
    t = login(a.port, a.user, a.key)
    counts = {"confirmed": 0, "failed": 0}
    table = dict(t._handler_table)

    fails = []

    def success(tr, m):
        counts["confirmed"] += 1

    def failure(tr, m):
        counts["failed"] += 1
        fails.append(time.monotonic())

    table[MSG_CHANNEL_OPEN_SUCCESS] = success
    table[MSG_CHANNEL_OPEN_FAILURE] = failure
    t._handler_table = table
    base = 1000
    for i in range(a.count):
        t.channels_seen[base + i] = True   # hopd's data/close: ignored
    closer(t, a.duration + a.wait + a.hold + 10)
    port = local_port(t)
    sent = 0
    deadline = time.monotonic() + a.duration
    while sent < a.count and time.monotonic() < deadline:
        host = target[0] % sent if "%d" in target[0] else target[0]
        if not send_raw(t, open_msg(base + sent, (host, target[1]))):
            break
        sent += 1
    sent_at = time.monotonic()
    end = time.monotonic() + a.wait
    while t.is_active() and time.monotonic() < end and \
            counts["confirmed"] + counts["failed"] < sent:
        time.sleep(0.1)
    if t.is_active() and a.hold:
        time.sleep(a.hold)
    fast = sum(1 for x in list(fails) if x - sent_at <= a.fast)
    print("pipelined-opens port=%d sent=%d confirmed=%d failed=%d "
          "failed_fast=%d ended=%s" % (
              port, sent, counts["confirmed"], counts["failed"], fast,
              "no" if t.is_active() else "yes"))
    t.close()
    return 0


def cmd_idle_channels(a):
    target = target_of(a.target)
    transports = [login(a.port, a.user, a.key) for _ in range(a.sessions)]
    # A first channel per session, with an echo, and back: whatever a
    # session allocates once (not per channel) is in the "before".
    for t in transports:
        ch = t.open_channel("direct-tcpip", target, ("127.0.0.1", 1),
                            timeout=10)
        if a.echo and not echo_on([ch], a.echo):
            return 1
        ch.close()
    time.sleep(a.settle)
    before = rss_kb(a.pid)
    chans = []
    for t in transports:
        for _ in range(a.per):
            try:
                chans.append(t.open_channel("direct-tcpip", target,
                                            ("127.0.0.1", 1), timeout=10))
            except (paramiko.ChannelException, paramiko.SSHException) as e:
                print("idle-channels open failed: %s" % e)
                break
    time.sleep(a.settle)
    opened = rss_kb(a.pid)
    line = "idle-channels opened=%d rss_before_kb=%d rss_opened_kb=%d" % (
        len(chans), before, opened)
    if a.echo:
        if not echo_on(chans, a.echo):
            return 1
        time.sleep(a.settle)
        line += " rss_echoed_kb=%d" % rss_kb(a.pid)
    print(line, flush=True)
    time.sleep(a.hold)
    for t in transports:
        t.close()
    return 0


def echo_on(chans, nbytes):
    """nbytes through each channel (to an echo server) and back, one
    channel after the other: memory a tunnel frees once idle can serve the
    next one, memory it keeps adds up."""
    data = b"e" * nbytes
    for ch in chans:
        ch.sendall(data)
        ch.settimeout(10)
        got = 0
        try:
            while got < len(data):
                b = ch.recv(65536)
                if not b:
                    break
                got += len(b)
        except (OSError, socket.timeout):
            pass
        if got != len(data):
            print("idle-channels echo: %d of %d bytes" % (got, len(data)))
            return False
    return True


def cmd_rforward_cancel(a):
    t = login(a.port, a.user, a.key)
    chans = []

    def echo(ch):
        ch.settimeout(None)
        try:
            while True:
                b = ch.recv(65536)
                if not b:
                    break
                ch.sendall(b)
        except (OSError, EOFError, paramiko.SSHException):
            pass

    def handler(ch, origin, server):
        chans.append(ch)
        threading.Thread(target=echo, args=(ch,), daemon=True).start()

    bound = t.request_port_forward("127.0.0.1", a.listen_port,
                                   handler=handler)
    c = socket.create_connection((HOST, bound), timeout=10)

    def echo_once(tag):
        c.sendall(tag)
        got = b""
        while len(got) < len(tag):
            b = c.recv(100)
            if not b:
                raise EOFError("connection closed during the echo")
            got += b
        if got != tag:
            raise ValueError("echo %r came back as %r" % (tag, got))

    try:
        echo_once(b"before\n")
        t.cancel_port_forward("127.0.0.1", bound)
        time.sleep(0.5)
        echo_once(b"after-cancel\n")
    except Exception as e:  # reported; the caller fails on it
        print("rforward-cancel error: %s: %s" % (e.__class__.__name__, e))
        return 1
    open(os.path.join(a.state_dir, "cancelled"), "w").close()
    go = os.path.join(a.state_dir, "go")
    end = time.monotonic() + a.wait
    while not os.path.exists(go) and time.monotonic() < end:
        time.sleep(0.05)
    if not os.path.exists(go):
        print("rforward-cancel error: no go")
        return 1
    t0 = time.monotonic()
    c.settimeout(0.2)
    closed = False
    while time.monotonic() - t0 < a.wait:
        try:
            b = c.recv(100)
            if not b:
                closed = True
                break
        except socket.timeout:
            continue
        except OSError:
            closed = True
            break
    ms = (time.monotonic() - t0) * 1000
    print("rforward-cancel closed=%s ms=%d" % ("yes" if closed else "no", ms))
    c.close()
    t.close()
    return 0


def main():
    logging.getLogger("paramiko").setLevel(logging.CRITICAL + 1)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", default="alice")
    p.add_argument("--key")
    p.add_argument("--target")
    p.add_argument("--pid", type=int, default=0)
    p.add_argument("--rss-abort-kb", type=int, default=0)
    p.add_argument("--bytes", type=int, default=1024)
    p.add_argument("--timeout", type=float, default=5)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--kind", default="service")
    p.add_argument("--duration", type=float, default=8)
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--max-msgs", type=int, default=2000000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--rcvbuf", type=int, default=4096)
    p.add_argument("--nch", type=int, default=3)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--count", type=int, default=5000)
    p.add_argument("--wait", type=float, default=10)
    p.add_argument("--sessions", type=int, default=4)
    p.add_argument("--per", type=int, default=100)
    p.add_argument("--settle", type=float, default=2)
    p.add_argument("--echo", type=int, default=0)
    p.add_argument("--fast", type=float, default=1.0)
    p.add_argument("--listen-port", type=int, default=0)
    p.add_argument("--state-dir")
    a = p.parse_args()
    fn = {"probe": cmd_probe, "preauth": cmd_preauth,
          "auth-fail": cmd_auth_fail, "nul-user": cmd_nul_user,
          "session-past-window": cmd_session_past_window,
          "huge-window": cmd_huge_window,
          "pipelined-opens": cmd_pipelined_opens,
          "idle-channels": cmd_idle_channels,
          "rforward-cancel": cmd_rforward_cancel}.get(a.mode)
    if fn is None:
        raise SystemExit("unknown mode " + a.mode)
    return fn(a)


if __name__ == "__main__":
    sys.exit(main())

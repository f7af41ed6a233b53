#!/usr/bin/python3
"""A hostile SSH client for hopd's tests: logs in with a key, then opens
direct-tcpip channels whose maximum packet size is tiny (libssh 0.10.6
would spin forever writing to such a channel).

  maxpacket.py --port P --user U --key FILE --target-port T
      [--max-packet 10] [--attempts N] [--interval S] [--expect refused]

Each attempt opens a channel with --max-packet; with --expect refused
(the default) hopd must refuse every one, with --expect open accept every
one.  Afterwards one channel with the normal packet size must work (an
echo round trip to the target), so the session is still sound.  Prints
one line per event; exit 0 iff all went as expected.

Uses Debian's python3-paramiko.  paramiko before 3.5 has no AES-GCM and
hopd offers only AEAD ciphers, so aes256-gcm@openssh.com is added here
when missing; and paramiko clamps the packet size it asks for to 4096,
which is lifted for this one client.
"""

import argparse
import os
import socket
import struct
import sys
import time

import paramiko
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from paramiko import packet as pk_packet
from paramiko import transport as pk_transport

GCM = "aes256-gcm@openssh.com"


class GcmEngine:
    """OpenSSH's AES-GCM (RFC 5647 with the length as associated data):
    a 12-byte nonce, fixed 4 bytes + a 64-bit counter bumped per packet."""

    def __init__(self, key, iv):
        self.aead = AESGCM(key)
        self.fixed = iv[:4]
        self.counter = int.from_bytes(iv[4:12], "big")

    def nonce(self):
        n = self.fixed + self.counter.to_bytes(8, "big")
        self.counter = (self.counter + 1) & 0xFFFFFFFFFFFFFFFF
        return n

    def update(self, data):
        # Outbound only (Packetizer's EtM path): data is the packet after
        # its length; the tag rides along, so the MAC is set to 0 bytes.
        aad = struct.pack(">I", len(data))
        return self.aead.encrypt(self.nonce(), data, aad)

    def open(self, length_field, sealed):
        return self.aead.decrypt(self.nonce(), sealed, length_field)


class GcmPacketizer(pk_packet.Packetizer):
    gcm_in = None

    def set_outbound_cipher(self, block_engine, block_size, mac_engine,
                            mac_size, mac_key, sdctr=False, etm=False):
        if isinstance(block_engine, GcmEngine):
            etm, mac_size = True, 0
        super().set_outbound_cipher(block_engine, block_size, mac_engine,
                                    mac_size, mac_key, sdctr, etm)

    def set_inbound_cipher(self, block_engine, block_size, mac_engine,
                           mac_size, mac_key, etm=False):
        self.gcm_in = block_engine if isinstance(block_engine,
                                                 GcmEngine) else None
        super().set_inbound_cipher(block_engine, block_size, mac_engine,
                                   mac_size, mac_key, etm)

    def read_message(self):
        if self.gcm_in is None:
            return super().read_message()
        head = self.read_all(4, check_rekey=True)
        size = struct.unpack(">I", head)[0]
        if size > 256 * 1024 or size % 16:
            raise paramiko.SSHException("bad GCM packet length %d" % size)
        packet = self.gcm_in.open(head, self.read_all(size + 16))
        padding = packet[0]
        payload = packet[1:size - padding]
        seq = self._Packetizer__sequence_number_in
        self._Packetizer__sequence_number_in = (seq + 1) & 0xFFFFFFFF
        msg = paramiko.Message(payload[1:])
        msg.seqno = seq
        return payload[0], msg


class HostileTransport(paramiko.Transport):
    def _get_cipher(self, name, key, iv, operation):
        if name == GCM:
            return GcmEngine(key, iv)
        return super()._get_cipher(name, key, iv, operation)

    def _sanitize_packet_size(self, max_packet_size):
        if max_packet_size is None:
            return self.default_max_packet_size
        return max_packet_size


def install_gcm():
    if GCM in paramiko.Transport._cipher_info:
        return  # paramiko >= 3.5 has it
    # The block size is what GCM pads to; the 16-byte "IV" computed from
    # it is cut to the 12 bytes GCM uses.
    HostileTransport._cipher_info = dict(paramiko.Transport._cipher_info)
    HostileTransport._cipher_info[GCM] = {
        "class": None, "mode": None, "block-size": 16, "key-size": 32}
    pk_transport.Packetizer = GcmPacketizer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", default="alice")
    p.add_argument("--key", required=True)
    p.add_argument("--target-host", default="127.0.0.1")
    p.add_argument("--target-port", type=int, required=True)
    p.add_argument("--max-packet", type=int, default=10)
    p.add_argument("--attempts", type=int, default=1)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--origin-port", type=int, default=4242)
    p.add_argument("--expect", choices=["refused", "open"],
                   default="refused")
    args = p.parse_args()

    install_gcm()
    sock = socket.create_connection((args.host, args.port), timeout=20)
    t = HostileTransport(sock)
    opts = t.get_security_options()
    if GCM not in paramiko.Transport._cipher_info:
        opts.ciphers = (GCM,)
    t.start_client(timeout=20)
    print("maxpacket: cipher %s" % t.remote_cipher, flush=True)
    t.auth_publickey(args.user, paramiko.Ed25519Key.from_private_key_file(
        args.key))
    if not t.is_authenticated():
        print("maxpacket: not authenticated")
        return 1
    dest = (args.target_host, args.target_port)
    opened = 0
    for i in range(args.attempts):
        try:
            ch = t.open_channel("direct-tcpip", dest,
                                ("127.0.0.1", args.origin_port),
                                max_packet_size=args.max_packet, timeout=20)
        except paramiko.ChannelException as e:
            print("maxpacket: attempt %d: refused (code %d)" % (i, e.code),
                  flush=True)
        else:
            opened += 1
            print("maxpacket: attempt %d: OPENED with max packet %d" %
                  (i, args.max_packet), flush=True)
            # Make the target answer: a server that accepted this channel
            # now has to write to it (where libssh 0.10.6 spins).
            try:
                ch.settimeout(2)
                ch.sendall(b"x" * 100)
                ch.recv(65536)
            except (socket.timeout, OSError, paramiko.SSHException):
                pass
            ch.close()
        if args.interval:
            time.sleep(args.interval)
    if not t.is_active():
        print("maxpacket: hopd ended the session")
        return 1
    ch = t.open_channel("direct-tcpip", dest,
                        ("127.0.0.1", args.origin_port + 1),
                        timeout=20)
    data = os.urandom(100000)
    ch.sendall(data)
    ch.shutdown_write()
    got = b""
    ch.settimeout(20)
    while True:
        b = ch.recv(65536)
        if not b:
            break
        got += b
    ch.close()
    t.close()
    if got != data:
        print("maxpacket: normal channel: sent %d, got %d back" %
              (len(data), len(got)))
        return 1
    print("maxpacket: normal channel echoed %d bytes" % len(got))
    want = args.attempts if args.expect == "open" else 0
    if opened != want:
        print("maxpacket: %d of %d opens with max packet %d succeeded, "
              "expected %d" % (opened, args.attempts, args.max_packet, want))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

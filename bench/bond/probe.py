#!/usr/bin/env python3
"""Traffic probes for bench/bond.sh (docs/bench/bond.md), run inside the bond's namespaces.

  probe.py udp-send ADDR PORT SECONDS [INTERVAL_MS]   one numbered datagram per interval
  probe.py udp-recv ADDR PORT SECONDS                 JSON: received, longest gap, when
  probe.py echo-server ADDR PORT SECONDS              line echo for at most 256 connections
  probe.py echo-clients ADDR PORT COUNT SECONDS       COUNT connections opened at once, each
        asked for an echo at the end; JSON: opened, answered
  probe.py garbage ADDR PORT COUNT SECONDS            COUNT hostile datagrams spread over
        SECONDS at a QUIC server: random bytes, QUIC v1 Initials with random connection IDs
        and undecryptable payloads, short-header packets, unknown versions; JSON: sent by kind

Every loop is bounded in time; every socket operation has a timeout.
"""
import json
import selectors
import socket
import struct
import sys
import time

MAX_ECHO_CONNECTIONS = 256
ECHO_TIMEOUT_S = 5.0


def udp_send(addr, port, seconds, interval_ms=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    interval = interval_ms / 1000.0
    start = time.monotonic()
    seq = 0
    last = start
    longest = 0.0  # the sender's own longest pause (a loaded machine can stall it)
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        longest = max(longest, now - last)
        last = now
        # 64-byte payload: small enough to stay interactive, numbered.
        try:
            s.sendto(struct.pack("!Qd", seq, now) + bytes(48), (addr, port))
        except OSError:
            pass  # the route may be gone for a moment; the gap shows it
        seq += 1
        # Sleep to the next slot (no catch-up burst after a stall).
        delay = start + seq * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    print(json.dumps({"sent": seq, "longest_send_gap_ms": round(longest * 1000, 1)}))


def udp_recv(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((addr, port))
    s.settimeout(0.2)
    start = time.monotonic()
    last = None
    received = 0
    seen = set()
    longest = 0.0
    longest_at = None
    while time.monotonic() - start < seconds:
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            continue
        now = time.monotonic()
        if len(data) < 16:
            continue
        seq = struct.unpack("!Q", data[:8])[0]
        if seq in seen:
            continue
        seen.add(seq)
        received += 1
        if last is not None and now - last > longest:
            longest = now - last
            longest_at = last - start
        last = now
    print(json.dumps({"received": received, "max_seq": max(seen) if seen else -1,
                      "longest_gap_ms": round(longest * 1000, 1),
                      "gap_start_s": None if longest_at is None else round(longest_at, 3)}))


def echo_server(addr, port, seconds):
    sel = selectors.DefaultSelector()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(MAX_ECHO_CONNECTIONS)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ)
    conns = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            if key.fileobj is ls:
                c, _ = ls.accept()
                if conns >= MAX_ECHO_CONNECTIONS:
                    c.close()
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                conns += 1
                continue
            c = key.fileobj
            try:
                data = c.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(c)
                c.close()
                conns -= 1
                continue
            try:
                c.sendall(data)
            except OSError:
                pass


def echo_clients(addr, port, count, seconds):
    socks = []
    for _ in range(count):
        try:
            socks.append(socket.create_connection((addr, port), timeout=ECHO_TIMEOUT_S))
        except OSError:
            pass
    opened = len(socks)
    time.sleep(seconds)
    answered = 0
    for i, s in enumerate(socks):
        msg = b"probe %d\n" % i
        try:
            s.settimeout(ECHO_TIMEOUT_S)
            s.sendall(msg)
            got = b""
            deadline = time.monotonic() + ECHO_TIMEOUT_S
            while len(got) < len(msg) and time.monotonic() < deadline:
                chunk = s.recv(len(msg) - len(got))
                if not chunk:
                    break
                got += chunk
            answered += got == msg
        except OSError:
            pass
        s.close()
    print(json.dumps({"opened": opened, "answered": answered, "count": count}))


def garbage_datagram(rng, kind):
    """One hostile datagram of the given kind (0-3)."""
    if kind == 0:  # random bytes of a random size
        return rng.randbytes(rng.randint(1, 1500))
    dcid = rng.randbytes(rng.randint(0, 20))
    if kind == 1:  # a v1 Initial, padded to 1200 bytes: keys from its DCID, payload garbage
        head = bytes([0xC0 | rng.randint(0, 3)]) + struct.pack("!I", 1)
        head += bytes([len(dcid)]) + dcid + bytes([8]) + rng.randbytes(8) + b"\x00"
        body = rng.randbytes(1200 - len(head) - 2)
        return head + struct.pack("!H", 0x4000 | len(body)) + body
    if kind == 2:  # a short-header packet for a connection that does not exist
        return bytes([0x40 | rng.randint(0, 63)]) + rng.randbytes(rng.randint(20, 1400))
    # an unknown version: asks for Version Negotiation (a stateless answer)
    head = bytes([0xC0]) + struct.pack("!I", 0x1A2A3A4A) + bytes([len(dcid)]) + dcid
    return head + bytes([8]) + rng.randbytes(8) + rng.randbytes(1200 - len(head) - 9)


def garbage(addr, port, count, seconds):
    import random
    rng = random.Random(1)  # the same datagrams every run
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = [0, 0, 0, 0]
    start = time.monotonic()
    for i in range(count):
        due = start + seconds * i / count
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        if now - start > seconds + 30:
            break  # bounded even on a stalled machine
        kind = i % 4
        try:
            s.sendto(garbage_datagram(rng, kind), (addr, port))
            sent[kind] += 1
        except OSError:
            pass
    print(json.dumps({"random": sent[0], "initial": sent[1], "short": sent[2],
                      "unknown_version": sent[3], "sent": sum(sent)}))


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    mode, addr, port = argv[1], argv[2], int(argv[3])
    if mode == "udp-send":
        udp_send(addr, port, float(argv[4]), float(argv[5]) if len(argv) > 5 else 1.0)
    elif mode == "udp-recv":
        udp_recv(addr, port, float(argv[4]))
    elif mode == "echo-server":
        echo_server(addr, port, float(argv[4]))
    elif mode == "echo-clients":
        echo_clients(addr, port, int(argv[4]), float(argv[5]))
    elif mode == "garbage":
        garbage(addr, port, int(argv[4]), float(argv[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

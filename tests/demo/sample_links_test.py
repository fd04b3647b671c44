#!/usr/bin/env python3
"""demo/sample_links.py against a fake control socket and the loopback device's counters.

The fake daemon answers `links --json` the way tquicd's control socket does (`ok N` and N
bytes of JSON, docs/tquicd-control.md); the sampler must take state and RTT from it, fall back
to the device's operstate and '-' when the socket is absent or answers garbage, and print a
live line per --print-every samples.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLER = os.path.join(HERE, "..", "..", "demo", "sample_links.py")


class FakeDaemon(threading.Thread):
    """Serves one canned reply per connection on a Unix socket until stopped."""

    def __init__(self, path, reply):
        super().__init__(daemon=True)
        self.reply, self.requests = reply, []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.requests.append(conn.recv(4096))
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def stop(self):
        self.stopped.set()
        self.join(2)
        self.sock.close()


def links_reply(links):
    body = json.dumps({"bond": "bonded", "links": links}).encode() + b"\n"
    return b"ok %d\n" % len(body) + body


def run_sampler(out, sock, duration):
    args = [sys.executable, SAMPLER, "--link", "wan=lo", "--out", out, "--duration", duration,
            "--interval", "0.1", "--print-every", "2", "--socket", sock]
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


def rows(path):
    with open(path, encoding="ascii") as f:
        return [line.split() for line in f]


class SampleLinksTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="tqbd-sampler.")
        self.out = os.path.join(self.tmp.name, "links.tsv")
        self.sock = os.path.join(self.tmp.name, "control.sock")

    def tearDown(self):
        self.tmp.cleanup()

    def serve(self, reply):
        d = FakeDaemon(self.sock, reply)
        d.start()
        self.addCleanup(d.stop)
        return d

    def test_state_and_rtt_come_from_the_daemon(self):
        d = self.serve(links_reply([{"name": "wan", "state": "failed", "admin_down": False,
                                     "rtt_us": 12500, "tx_bytes": 1, "rx_bytes": 2}]))
        r = run_sampler(self.out, self.sock, "0.3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("from the client daemon's control socket", r.stdout)
        got = rows(self.out)
        self.assertGreaterEqual(len(got), 3)  # 0.3 s at 0.1 s
        for epoch, link, state, tx, rx, rtt in got:
            self.assertEqual((link, state, rtt), ("wan", "failed", "12.50"))
            self.assertGreaterEqual(int(tx), 0)  # the device's own counters, not the daemon's
            self.assertGreater(float(epoch), 1e9)
        self.assertEqual(d.requests[0], b"links --json\n")
        # One live line every second sample: link, state, rate, RTT, sum.
        live = [l for l in r.stdout.splitlines() if "Mbit/s" in l]
        self.assertGreaterEqual(len(live), 1)
        self.assertRegex(live[0], r"wan failed +\d+\.\d Mbit/s rtt +12 ms \| sum +\d+\.\d Mbit/s")

    def test_admin_down_and_unknown_rtt(self):
        self.serve(links_reply([{"name": "wan", "state": "down", "admin_down": True,
                                 "rtt_us": 0}]))
        r = run_sampler(self.out, self.sock, "0.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual({(row[2], row[5]) for row in rows(self.out)}, {("down(admin)", "-")})

    def test_without_a_daemon_the_device_state_is_used(self):
        for reply in (None, b"error unknown command\n", b"ok 5\nnope\n"):
            with self.subTest(reply=reply):
                if os.path.exists(self.out):
                    os.remove(self.out)
                sock = None
                if reply is not None:
                    d = FakeDaemon(self.sock, reply)
                    d.start()
                    sock = self.sock
                try:
                    r = run_sampler(self.out, sock or os.path.join(self.tmp.name, "absent"),
                                    "0.1")
                finally:
                    if reply is not None:
                        d.stop()
                        os.remove(self.sock)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("no control socket answer", r.stdout)
                with open("/sys/class/net/lo/operstate", encoding="ascii") as f:
                    lo_state = f.read().strip()
                self.assertEqual({(row[2], row[5]) for row in rows(self.out)}, {(lo_state, "-")})

    def test_bad_link_argument_is_refused(self):
        r = subprocess.run([sys.executable, SAMPLER, "--link", "wan", "--out", self.out,
                            "--duration", "0.1"], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--link wants NAME=DEVICE", r.stderr)


if __name__ == "__main__":
    unittest.main()

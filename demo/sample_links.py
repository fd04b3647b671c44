#!/usr/bin/env python3
"""Per-link samples for the bond demo, run inside the bond client's network namespace.

    sample_links.py --link NAME=DEV ... --out links.tsv --duration S [--interval S]
                    [--print-every N] [--socket CONTROL_SOCKET]

Every interval it appends `epoch link state tx_bytes rx_bytes rtt_ms` per link to --out
(the format demo/report.py reads) and every --print-every samples prints one live line:
per-link throughput in the flow's direction, RTT and state. Bytes come from the kernel's
counters of the link's device (what went over the wire, headers included). State and RTT come
from the client daemon's control socket (`links --json`, docs/tquicd-control.md) when it
answers; otherwise the state is the device's operstate and the RTT unknown ('-').
"""
import argparse
import json
import socket
import sys
import time

# A control reply larger than this is not a links view: the sampler gives up on the socket.
MAX_REPLY_BYTES = 1 << 20
CONTROL_TIMEOUT_S = 0.3


def read_sysfs(dev, name):
    try:
        with open(f"/sys/class/net/{dev}/{name}", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return None  # the device went away (a link removed): counted as down, no bytes


def control_links(path):
    """{link name: (state, rtt_ms or None)} from the daemon, or None if it does not answer."""
    if not path:
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(CONTROL_TIMEOUT_S)
            s.connect(path)
            s.sendall(b"links --json\n")
            s.shutdown(socket.SHUT_WR)
            data = b""
            while len(data) <= MAX_REPLY_BYTES:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    head, _, body = data.partition(b"\n")
    if not head.startswith(b"ok "):
        return None
    try:
        links = json.loads(body)["links"]
        return {l["name"]: (l["state"] + ("(admin)" if l.get("admin_down") else ""),
                            l["rtt_us"] / 1000 if l.get("rtt_us") else None) for l in links}
    except (ValueError, KeyError, TypeError):
        return None


def sample(links, control_path):
    now = time.time()
    daemon = control_links(control_path)
    rows = []
    for name, dev in links:
        tx, rx = read_sysfs(dev, "statistics/tx_bytes"), read_sysfs(dev, "statistics/rx_bytes")
        state, rtt = (daemon or {}).get(name, (None, None))
        if state is None:
            state = read_sysfs(dev, "operstate") or "gone"
        rows.append((now, name, state, int(tx or 0), int(rx or 0), rtt))
    return rows, daemon is not None


def live_line(t, prev, rows, upload):
    parts, total = [], 0.0
    for (t1, _, _, tx1, rx1, _), (t2, name, state, tx2, rx2, rtt) in zip(prev, rows):
        dt = max(t2 - t1, 1e-3)
        mbit = max(0, (tx2 - tx1) if upload else (rx2 - rx1)) * 8 / dt / 1e6
        total += mbit
        rtt_text = "   -  " if rtt is None else f"{rtt:4.0f} ms"
        parts.append(f"{name} {state:<5} {mbit:5.1f} Mbit/s rtt {rtt_text}")
    return f"  {t:5.1f} s  " + " | ".join(parts) + f" | sum {total:5.1f} Mbit/s"


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("--link", action="append", required=True, help="NAME=DEVICE")
    p.add_argument("--out", required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--interval", type=float, default=0.5)
    p.add_argument("--print-every", type=int, default=2)
    p.add_argument("--socket")
    p.add_argument("--direction", choices=["up", "down"], default="up")
    p.add_argument("--t0", type=float, help="epoch the live lines count from (default: start)")
    a = p.parse_args(argv)
    links = [tuple(l.split("=", 1)) for l in a.link]
    if any(len(l) != 2 for l in links):
        p.error("--link wants NAME=DEVICE")
    start = time.time()
    t0 = a.t0 if a.t0 is not None else start
    said_source = False
    prev, n = None, 0
    with open(a.out, "a", encoding="ascii") as out:
        while time.time() - start <= a.duration:
            rows, from_daemon = sample(links, a.socket)
            if not said_source:
                print("  (state and RTT from the client daemon's control socket)" if from_daemon
                      else "  (no control socket answer: state from the devices, RTT unknown)")
                said_source = True
            for r in rows:
                rtt = "-" if r[5] is None else f"{r[5]:.2f}"
                out.write(f"{r[0]:.3f} {r[1]} {r[2]} {r[3]} {r[4]} {rtt}\n")
            out.flush()
            n += 1
            if prev is not None and n % a.print_every == 1 % a.print_every:
                print(live_line(rows[0][0] - t0, prev, rows, a.direction == "up"), flush=True)
            if prev is None or n % a.print_every == 1 % a.print_every:
                prev = rows
            time.sleep(max(0.0, start + n * a.interval - time.time()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

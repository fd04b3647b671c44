#!/usr/bin/env bash
# CONNECT-UDP through `tquic masque-proxy` + `tquic masque-udp` on 127.0.0.1, next to plain
# `tquic perf` goodput on the same machine:
#   1. UDP upload throughput through the tunnel: one local source blasts SIZE-byte datagrams
#      for SECONDS into the forwarded port, a sink behind the proxy counts what arrives
#      (delivered Mbit/s and the share lost on the way: UDP, nothing is retried), and the CPU
#      seconds per delivered GB of masque-udp and of the proxy (utime + stime, /proc/PID/stat);
#   2. tquic perf client -> perf server goodput (reliable QUIC streams) for scale;
#   3. request/answer latency p50/p99 through the proxy to a UDP echo server, and direct.
#   bench/masque_udp.sh [SECONDS] [SIZE]     defaults: 3 s, 1200-byte datagrams
# Short on purpose; figures are wall-clock on a shared machine (docs/masque-udp.md).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
size=${2:-1200}
tquic=build/release/src/apps/tquic
[ -x "$tquic" ] || cmake --build --preset release --target tquic >/dev/null
work=$(mktemp -d /tmp/tquic-masque-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
base=$((20000 + RANDOM % 20000))
proxy_port=$base sink_port=$((base + 1)) echo_port=$((base + 2)) fwd_port=$((base + 3))
perf_port=$((base + 4))

# A UDP sink (counts datagrams and bytes until killed) and a UDP echo server.
python3 - "$sink_port" "$work/sink" <<'PY' &
import socket, sys, signal
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", int(sys.argv[1])))
n = b = 0
def done(*_):
    open(sys.argv[2], "w").write(f"{n} {b}\n"); sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    d = s.recv(70000); n += 1; b += len(d)
PY
sink=$!
python3 - "$echo_port" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(70000); s.sendto(d, a)
PY

"$tquic" masque-proxy --listen 127.0.0.1:$proxy_port --allow 127.0.0.1/32 >"$work/proxy.log" 2>&1 &
proxy=$!
for _ in $(seq 50); do grep -q sha256 "$work/proxy.log" && break; sleep 0.1; done
pin=$(awk '/certificate sha256/ {print $3}' "$work/proxy.log")

forward() {  # forward TARGET_PORT: masque-udp on fwd_port (restarted per target)
  "$tquic" masque-udp --proxy https://127.0.0.1:$proxy_port/ --pin "$pin" \
    --listen 127.0.0.1:$fwd_port 127.0.0.1:$1 >"$work/udp.log" 2>&1 &
  fwd=$!
  for _ in $(seq 50); do grep -q listening "$work/udp.log" && break; sleep 0.1; done
}

# 1. throughput
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
forward "$sink_port"
c0=$(cpu "$fwd") p0=$(cpu "$proxy")
sent=$(python3 - "$fwd_port" "$secs" "$size" <<'PY'
import socket, sys, time
port, secs, size = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", port))
s.send(b"x" * size); time.sleep(0.3)  # the flow's CONNECT-UDP stream is up
payload = b"y" * size
n, end = 0, time.monotonic() + secs
while time.monotonic() < end:
    for _ in range(64):
        try:
            s.send(payload); n += 1
        except BlockingIOError:
            pass
print(n)
PY
)
sleep 0.5
c1=$(cpu "$fwd") p1=$(cpu "$proxy")
kill "$sink"; wait "$sink" 2>/dev/null || true
read -r got got_bytes <"$work/sink"
got=$((got - 1)); got_bytes=$((got_bytes - size))
kill "$fwd"; wait "$fwd" 2>/dev/null || true
tunnel_mbit=$(python3 -c "print(f'{$got_bytes * 8 / $secs / 1e6:.1f}')")
lost=$(python3 -c "print(f'{100 * (1 - $got / max($sent, 1)):.1f}')")
hz=$(getconf CLK_TCK)
cpu_line=$(python3 -c "gb = max($got_bytes, 1) / 1e9; c = ($c1 - $c0) / $hz; p = ($p1 - $p0) / $hz
print(f'masque-udp CPU {c:.2f} s = {c / gb:.2f} s/GB; proxy CPU {p:.2f} s = {p / gb:.2f} s/GB')")

# 2. tquic perf goodput
"$tquic" perf server --listen 127.0.0.1:$perf_port >"$work/perf-server.log" 2>&1 &
for _ in $(seq 50); do grep -q sha256 "$work/perf-server.log" && break; sleep 0.1; done
perf=$("$tquic" perf client https://127.0.0.1:$perf_port/ --size 200M --json 2>/dev/null |
  python3 -c "import json,sys; d=json.load(sys.stdin); print(f\"{d.get('goodput_mbps', d.get('goodput_mbit_s', 0)):.1f}\")" 2>/dev/null || echo "?")

# 3. latency through the proxy and direct
forward "$echo_port"
lat() {
  python3 - "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.send(b"warm"); s.recv(100)
rtt, lost = [], 0
for i in range(5000):
    q = i.to_bytes(4, "big") + b"q" * 60
    t = time.perf_counter(); s.send(q)
    try:
        a = s.recv(100)
    except socket.timeout:
        lost += 1; continue
    rtt.append((time.perf_counter() - t) * 1e6)
rtt.sort()
print(f"{rtt[len(rtt) // 2]:.0f} {rtt[len(rtt) * 99 // 100]:.0f} {lost}")
PY
}
read -r p50 p99 lat_lost < <(lat "$fwd_port")
read -r d50 d99 _ < <(lat "$echo_port")

echo "CONNECT-UDP upload, ${size}-byte datagrams for ${secs} s: $tunnel_mbit Mbit/s delivered ($got of $sent datagrams, $lost % lost)"
echo "$cpu_line"
echo "tquic perf goodput (200 MiB download, one stream): $perf Mbit/s"
echo "request/answer through the proxy: p50 ${p50} us, p99 ${p99} us ($lat_lost of 5000 lost); direct: p50 ${d50} us, p99 ${d99} us"

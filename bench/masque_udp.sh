#!/usr/bin/env bash
# CONNECT-UDP through `tquic masque-proxy` + `tquic masque-udp` on 127.0.0.1, against plain
# `tquic perf` goodput measured in the same rounds:
#   1. per round, `tquic perf client --size PERF_SIZE` against `tquic perf server` (one stream,
#      reliable QUIC): the goodput the tunnel is compared with;
#   2. per round and per build under test, UDP upload through the tunnel: `tquic udp-blast send`
#      (sendmmsg + GSO, paced) offers SIZE-byte datagrams for SECONDS into masque-udp's port,
#      `tquic udp-blast sink` (recvmmsg + GRO) behind the proxy counts what arrives. Offered and
#      delivered Mbit/s, the share lost, where it was lost (the kernel's UDP receive-buffer drops
#      on this host, masque-udp's refusals by the QUIC datagram queue), and the CPU seconds per
#      delivered GB of masque-udp and of the proxy (utime + stime from /proc/PID/stat);
#   3. once, request/answer latency p50/p99 through the proxy to a UDP echo server, and direct.
# Prints every round, then medians (min-max) over the rounds and the ratio delivered / perf.
#   bench/masque_udp.sh [SECONDS] [SIZE] [ROUNDS]    defaults: 3 s, 1200 bytes, 3 rounds
# Environment:
#   OFFER    perf (default: offer the same round's `tquic perf` goodput), max (unpaced: the
#            sender takes a CPU of its own), or a rate in Mbit/s
#   AB_BASE  path of another build's `tquic`: its masque-udp and proxy run in every round too,
#            interleaved with this tree's (label "base" vs "new"); the load tools and perf are
#            always this tree's
#   SENDER_GSO  1 (default): the source sends 64-datagram GSO messages, which masque-udp's GRO
#            socket takes as one message each on loopback; 0: one datagram per message, as most
#            applications send (then GRO joins nothing on loopback)
#   PERF_SIZE (default 1G: at a few Gbit/s, 200M is mostly slow start), BENCH_JSON (write the rounds and medians there)
# Figures are wall clock on a shared machine: note the load average printed with them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
size=${2:-1200}
rounds=${3:-3}
offer=${OFFER:-perf}
perf_size=${PERF_SIZE:-1G}
tquic=${TQUIC:-build/release/src/apps/tquic}
[ -x "$tquic" ] || cmake --build --preset release --target tquic >/dev/null
builds=("new:$tquic")
[ -n "${AB_BASE:-}" ] && builds=("base:$AB_BASE" "new:$tquic")
work=$(mktemp -d /tmp/tquic-masque-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
next_port() { port=$((port + 1)); }  # sets $port (no subshell)
wait_for() {  # FILE PATTERN: up to 5 s
  for _ in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rcvbuf_errors() { awk '/^Udp: [0-9]/ {print $6}' /proc/net/snmp; }
hz=$(getconf CLK_TCK)

next_port; perf_port=$port
"$tquic" perf server --listen 127.0.0.1:$perf_port >"$work/perf-server.log" 2>&1 &
wait_for "$work/perf-server.log" sha256
perf_goodput() {
  "$tquic" perf client https://127.0.0.1:$perf_port/ --size "$perf_size" --json 2>/dev/null |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(f\"{d.get('goodput_mbps', d.get('goodput_mbit_s', 0)):.1f}\")"
}

# One tunnel run: BIN RATE -> "offered delivered lost% rcvbuf_drops queue_refused read_pauses
# udp_s/GB proxy_s/GB". rcvbuf_drops is the host's UDP RcvbufErrors delta: it counts dropped
# skbs, and a GSO message to a GRO socket is one skb of up to 64 datagrams.
tunnel_round() {
  local bin=$1 rate=$2 pp sp fp
  next_port; pp=$port; next_port; sp=$port; next_port; fp=$port
  "$tquic" udp-blast sink --listen 127.0.0.1:$sp --seconds $((secs + 30)) >"$work/sink.out" 2>&1 &
  local sink=$!
  "$bin" masque-proxy --listen 127.0.0.1:$pp --allow 127.0.0.1/32 >"$work/proxy.log" 2>&1 &
  local proxy=$!
  wait_for "$work/proxy.log" sha256
  local pin
  pin=$(awk '/certificate sha256/ {print $3}' "$work/proxy.log")
  "$bin" masque-udp --proxy https://127.0.0.1:$pp/ --pin "$pin" --listen 127.0.0.1:$fp \
    127.0.0.1:$sp >"$work/udp.log" 2>&1 &
  local fwd=$!
  wait_for "$work/udp.log" listening
  wait_for "$work/sink.out" listening
  local c0 p0 r0 c1 p1 r1
  c0=$(cpu $fwd) p0=$(cpu $proxy)
  r0=$(rcvbuf_errors)
  local rate_opt=()
  [ "$rate" != max ] && rate_opt=(--rate "$rate")
  [ "${SENDER_GSO:-1}" = 0 ] && rate_opt+=(--no-gso)
  "$tquic" udp-blast send --to 127.0.0.1:$fp --seconds "$secs" --payload "$size" \
    --warmup-ms 300 "${rate_opt[@]}" >"$work/send.out"
  sleep 0.3  # what the tunnel still holds arrives
  c1=$(cpu $fwd) p1=$(cpu $proxy)
  r1=$(rcvbuf_errors)
  kill -TERM $sink $fwd $proxy 2>/dev/null || true
  wait $sink $fwd $proxy 2>/dev/null || true
  python3 - "$work/send.out" "$work/sink.out" "$work/udp.log" "$secs" "$hz" \
    "$c0" "$c1" "$p0" "$p1" "$r0" "$r1" <<'PY'
import json, re, sys
send = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
sink = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
log = open(sys.argv[3]).read()
m = re.search(r"drops: .* (\d+) send", log)
refused = int(m.group(1)) if m else -1
m = re.search(r"(\d+) read pauses", log)
pauses = int(m.group(1)) if m else -1
secs, hz = float(sys.argv[4]), float(sys.argv[5])
c0, c1, p0, p1, r0, r1 = map(float, sys.argv[6:12])
gb = max(sink["bytes"], 1) / 1e9
lost = 100 * (1 - sink["datagrams"] / max(send["sent_datagrams"], 1))
print(f"{send['offered_mbps']:.1f} {sink['bytes'] * 8 / send['seconds'] / 1e6:.1f} {lost:.1f} "
      f"{r1 - r0:.0f} {refused} {pauses} {(c1 - c0) / hz / gb:.2f} {(p1 - p0) / hz / gb:.2f}")
PY
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; offer=$offer, ${size}-byte datagrams, ${secs} s"
: >"$work/rounds"
for r in $(seq "$rounds"); do
  perf=$(perf_goodput)
  case $offer in perf) rate=$perf ;; *) rate=$offer ;; esac
  for b in "${builds[@]}"; do
    label=${b%%:*}
    tunnel_round "${b#*:}" "$rate" >"$work/result"  # not in a subshell: $port moves on
    read -r offered delivered lost drops refused pauses udp_gb proxy_gb <"$work/result"
    ratio=$(python3 -c "print(f'{100 * $delivered / max($perf, 1e-9):.1f}')")
    echo "$r $label perf=$perf offered=$offered delivered=$delivered lost=$lost% rcvbuf_drops=$drops queue_refused=$refused read_pauses=$pauses masque_udp_s_per_gb=$udp_gb proxy_s_per_gb=$proxy_gb ratio=$ratio% load=$(cut -d' ' -f1 /proc/loadavg)" |
      tee -a "$work/rounds"
  done
done

python3 - "$work/rounds" "${BENCH_JSON:-}" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    label = parts[1]
    kv = dict(p.split("=", 1) for p in parts[2:])
    row = {k: float(v.rstrip("%")) for k, v in kv.items()}
    rows.setdefault(label, []).append(row)
out = {}
for label, rs in rows.items():
    med = {}
    for k in ("perf", "offered", "delivered", "lost", "rcvbuf_drops", "queue_refused", "read_pauses", "masque_udp_s_per_gb", "proxy_s_per_gb", "ratio", "load"):
        v = [r[k] for r in rs]
        med[k] = {"median": statistics.median(v), "min": min(v), "max": max(v)}
    out[label] = {"rounds": rs, "median": med}
    f = lambda k, u="": f"{med[k]['median']:.1f}{u} ({med[k]['min']:.1f}-{med[k]['max']:.1f})"
    g = lambda k: f"{med[k]['median']:.2f} ({med[k]['min']:.2f}-{med[k]['max']:.2f})"
    print(f"{label}: medians over {len(rs)} rounds (min-max): tquic perf {f('perf')} Mbit/s; "
          f"offered {f('offered')}, delivered {f('delivered')} Mbit/s, lost {f('lost', '%')}; "
          f"masque-udp {g('masque_udp_s_per_gb')} s/GB, proxy {g('proxy_s_per_gb')} s/GB; "
          f"delivered / perf {f('ratio', '%')}")
if sys.argv[2]:
    json.dump(out, open(sys.argv[2], "w"), indent=1)
PY

# 3. latency through the proxy and direct (this tree's build)
next_port; echo_port=$port; next_port; pp=$port; next_port; fp=$port
python3 - "$echo_port" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(70000); s.sendto(d, a)
PY
"$tquic" masque-proxy --listen 127.0.0.1:$pp --allow 127.0.0.1/32 >"$work/proxy.log" 2>&1 &
wait_for "$work/proxy.log" sha256
pin=$(awk '/certificate sha256/ {print $3}' "$work/proxy.log")
"$tquic" masque-udp --proxy https://127.0.0.1:$pp/ --pin "$pin" --listen 127.0.0.1:$fp \
  127.0.0.1:$echo_port >"$work/udp.log" 2>&1 &
wait_for "$work/udp.log" listening
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
read -r p50 p99 lat_lost < <(lat "$fp")
read -r d50 d99 _ < <(lat "$echo_port")
echo "request/answer through the proxy: p50 ${p50} us, p99 ${p99} us ($lat_lost of 5000 lost); direct: p50 ${d50} us, p99 ${d99} us"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

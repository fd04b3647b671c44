#!/usr/bin/env bash
# CONNECT-IP throughput (docs/connect-ip.md): one iperf3 TCP flow (CUBIC pinned) through
# `tquic masque-ip` -> `tquic masque-proxy --ip-pool` in three network namespaces joined by
# veths (198.18.0.0/15), for DURATION seconds. Prints goodput and the CPU seconds per GB of
# the client and the proxy (utime + stime from /proc/PID/stat over the flow). Needs root.
#
#   sudo bench/connect_ip.sh [path/to/tquic]
#   env: DURATION (default 10), CC (inner TCP, default cubic), QUIC_CC (outer, default cubic),
#        REVERSE=1 (iperf3 -R: the target sends, through the proxy to the client)
set -euo pipefail

TQUIC=$(realpath "${1:-build/release/src/apps/tquic}")
DURATION=${DURATION:-10}
CC=${CC:-cubic}
QUIC_CC=${QUIC_CC:-cubic}
tag=$$
C=tqbc$tag P=tqbp$tag T=tqbt$tag
work=$(mktemp -d)
cleanup() {
  for n in $C $P $T; do
    ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null || true
  done
  sleep 0.3
  for n in $C $P $T; do ip netns del $n 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add $C; ip netns add $P; ip netns add $T
ip link add c0 netns $C type veth peer name p0 netns $P
ip link add p1 netns $P type veth peer name t0 netns $T
ip -n $C addr add 198.18.0.1/30 dev c0
ip -n $P addr add 198.18.0.2/30 dev p0
ip -n $P addr add 198.18.1.1/24 dev p1
ip -n $T addr add 198.18.1.2/24 dev t0
for n in $C $P $T; do ip -n $n link set lo up; done
ip -n $C link set c0 up; ip -n $P link set p0 up; ip -n $P link set p1 up; ip -n $T link set t0 up
ip netns exec $P sysctl -qw net.ipv4.ip_forward=1
ip -n $T route add 198.18.200.0/24 via 198.18.1.1

ip netns exec $P "$TQUIC" masque-proxy --listen 198.18.0.2:4433 --ip-pool 198.18.200.0/24 \
  --tun tqbp0 --route 198.18.1.0/24 --cc "$QUIC_CC" >"$work/proxy.log" 2>&1 &
proxy=$!
for _ in $(seq 50); do grep -q listening "$work/proxy.log" && break; sleep 0.1; done
ip netns exec $C "$TQUIC" masque-ip --proxy https://198.18.0.2:4433 --tun tqbc0 --insecure \
  --cc "$QUIC_CC" >"$work/client.log" 2>&1 &
client=$!
for _ in $(seq 100); do
  ip -n $C route | grep -q "198.18.1.0/24 dev tqbc0" && break
  sleep 0.1
done
ip -n $C route | grep -q "198.18.1.0/24 dev tqbc0" || { cat "$work/client.log"; exit 1; }
ip netns exec $T iperf3 -s -1 >"$work/iperf-server.log" 2>&1 &
for _ in $(seq 50); do ip netns exec $T ss -ltn | grep -q :5201 && break; sleep 0.1; done

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
c0=$(cpu $client) p0=$(cpu $proxy)
ip netns exec $C iperf3 -c 198.18.1.2 -t "$DURATION" -C "$CC" ${REVERSE:+-R} -J >"$work/iperf.json"
c1=$(cpu $client) p1=$(cpu $proxy)

python3 - "$work/iperf.json" "$c0" "$c1" "$p0" "$p1" "$hz" "$DURATION" "$CC" "$QUIC_CC" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
c0, c1, p0, p1, hz = (float(x) for x in sys.argv[2:7])
recv = j["end"]["sum_received"]
gb = recv["bytes"] / 1e9
mbps = recv["bits_per_second"] / 1e6
retr = j["end"]["sum_sent"].get("retransmits", 0)
print(f"CONNECT-IP, one iperf3 TCP flow ({sys.argv[8]} inside, {sys.argv[9]} for QUIC), "
      f"{sys.argv[7]} s, veths in namespaces")
print(f"goodput {mbps:.0f} Mbit/s ({gb:.2f} GB, {retr} TCP retransmits)")
print(f"client CPU {(c1 - c0) / hz:.2f} s = {(c1 - c0) / hz / gb:.2f} s/GB; "
      f"proxy CPU {(p1 - p0) / hz:.2f} s = {(p1 - p0) / hz / gb:.2f} s/GB")
PY
tail -1 "$work/proxy.log" | grep -o 'dropped_[a-z_]*=[1-9][0-9]*' || true

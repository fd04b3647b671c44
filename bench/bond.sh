#!/bin/bash
# The Numbers table of issue 15, measured on the namespace topology of bench/bond/lib.sh:
# median of BOND_RUNS runs, every row in each run so ratios hold. Writes docs/bench/bond.json,
# docs/bench/bond.md and the "WAN bonding" section of docs/BENCHMARKS.md. Needs root; not a
# test (minutes long), kept out of CI.
#
#   bench/bond.sh                       # 3 runs, 20 s flows
#   BOND_RUNS=1 BOND_SECS=5 bench/bond.sh   # a quick look
#   BOND_OUT=/tmp/x bench/bond.sh       # write the results elsewhere (docs/ untouched)
# Environment: BOND_BUILD (build/release), BOND_RUNS (3), BOND_SECS (20), BOND_ONLY
# (space-separated sections: single bond paced failover unshaped mptcp garbage idle; default
# all; also "latency": the bond's ping idle and under one CUBIC flow alone, about a minute a
# run with BOND_SECS=20),
# BOND_OUT, BOND_IDLE_CLIENTS (100).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BOND_BUILD:-$ROOT/build/release}
RUNS=${BOND_RUNS:-3}
SECS=${BOND_SECS:-20}
SECTIONS="single bond paced failover unshaped mptcp garbage idle"
ONLY=${BOND_ONLY:-$SECTIONS}
# The order sections run in; "latency" repeats part of "bond" and only runs when asked for.
ORDER="single latency $(echo "$SECTIONS" | cut -d' ' -f2-)"
IDLE_CLIENTS=${BOND_IDLE_CLIENTS:-100}
OUT=${BOND_OUT:-$ROOT/docs/bench}
PROBE=$ROOT/bench/bond/probe.py
[ "$(id -u)" = 0 ] || { echo "bench/bond.sh: needs root (network namespaces)" >&2; exit 2; }
for t in iperf3 mptcpize nft tc ping python3 openssl; do
  command -v $t >/dev/null || { echo "bench/bond.sh: $t missing (scripts/install-deps.sh)" >&2; exit 2; }
done
[ -x "$BUILD/src/tquicd/tquicd" ] && [ -x "$BUILD/src/apps/tquic" ] ||
  { echo "bench/bond.sh: build tquicd and tquic first (cmake --build --preset release --target tquicd tquic)" >&2; exit 2; }
BB_TQUICCTL=$BUILD/src/tquicd/tquicctl
. "$ROOT/bench/bond/lib.sh"
bb_init "$BUILD/src/tquicd/tquicd" "$BUILD/src/apps/tquic"
RAW=$BB_DIR/raw.jsonl
: > "$RAW"
RUN=0
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START_DATE=$(date -u +%FT%TZ)
# The commit of the binaries: taken now, as sources edited during a run do not change them.
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src include || echo +dirty)

# put KEY VALUE: one measurement of this run.
put() {
  echo "{\"run\": $RUN, \"key\": \"$1\", \"value\": $2}" >> "$RAW"
  bb_log "run $RUN: $1 = $2"
}
wants() { [[ " $ONLY " == *" $1 "* ]]; }
# Receiver goodput (Mbit/s) of an iperf3 JSON result, "null" when the run failed.
goodput() {
  python3 - "$1" <<'EOT'
import json, sys
try:
    e = json.load(open(sys.argv[1]))["end"]
    s = e.get("sum_received") or e["sum"]
    print(round(s["bits_per_second"] / 1e6, 2))
except Exception:
    print("null")
EOT
}
# percentile FILE P: the P-th percentile of the RTTs in a ping output.
percentile() {
  python3 - "$1" "$2" <<'EOT'
import re, sys
v = sorted(float(m) for m in re.findall(r"time=([0-9.]+) ms", open(sys.argv[1]).read()))
if not v:
    print("null")
else:
    print(v[min(len(v) - 1, int(len(v) * float(sys.argv[2]) / 100))])
EOT
}
iperf_lan() {  # iperf_lan OUTFILE ARGS...: LAN host to the internet host through the tunnel
  local out=$1; shift
  inLAN timeout $((SECS + 30)) iperf3 -c $BB_NET_ADDR -O 1 -t "$SECS" -J "$@" > "$out" 2> "$out.err"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo null; }
# The server's connected clients, from its control socket.
server_clients() {
  "$BB_TQUICCTL" -s "$BB_DIR/server.sock" status --json 2>/dev/null |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["conns"]))' 2>/dev/null || echo null
}

setup() {
  bb_setup || bb_die "topology setup"
  bb_server_start || bb_die "server start"
  inNET iperf3 -s -D -B $BB_NET_ADDR --logfile "$BB_DIR/iperf3-net.log" || bb_die "iperf3 -s"
  inSRV iperf3 -s -D -B $BB_SERVER_ADDR --logfile "$BB_DIR/iperf3-srv.log" || bb_die "iperf3 -s"
  sleep 0.3
}

# Latency under load with each link's rate told to tquicd (95 % of its shaped rate, as a
# smart-queue setup would; docs/tquicd.md "Latency under load"): ping idle and under one CUBIC
# flow, and that flow's goodput (the price of the 5 %).
section_paced() {
  BB_RATE_PCT=95 bb_client_start paced "$(bb_link_names | tr '\n' ' ')" || bb_die "client paced"
  sleep 1
  inLAN ping -c 40 -i 0.05 $BB_NET_ADDR > "$BB_DIR/ping-paced-idle.txt"
  put paced_idle_ping_p50_ms "$(percentile "$BB_DIR/ping-paced-idle.txt" 50)"
  inLAN ping -i 0.05 -w $((SECS + 1)) $BB_NET_ADDR > "$BB_DIR/ping-paced-load.txt" &
  local ping=$!
  iperf_lan "$BB_DIR/paced.json" -C cubic
  wait $ping
  put paced_cubic_mbps "$(goodput "$BB_DIR/paced.json")"
  put paced_loaded_ping_p99_ms "$(percentile "$BB_DIR/ping-paced-load.txt" 99)"
  put paced_loaded_ping_p50_ms "$(percentile "$BB_DIR/ping-paced-load.txt" 50)"
  bb_client_stop
}

# One TCP flow through a single-link tunnel, per link and congestion control.
section_single() {
  local l cc
  for l in $(bb_link_names); do
    bb_client_start "single-$l" "$l" || bb_die "client single-$l"
    for cc in cubic bbr; do
      iperf_lan "$BB_DIR/single.json" -C $cc
      put "single_${l}_${cc}_mbps" "$(goodput "$BB_DIR/single.json")"
    done
    bb_client_stop
  done
}

# Ping through the bond during one CUBIC upload, and that upload's goodput.
ping_under_cubic() {
  inLAN ping -i 0.05 -w $((SECS + 1)) $BB_NET_ADDR > "$BB_DIR/ping-load.txt" &
  local ping=$!
  iperf_lan "$BB_DIR/bond.json" -C cubic
  wait $ping
  put bond_cubic_mbps "$(goodput "$BB_DIR/bond.json")"
  put loaded_ping_p99_ms "$(percentile "$BB_DIR/ping-load.txt" 99)"
  put loaded_ping_p50_ms "$(percentile "$BB_DIR/ping-load.txt" 50)"
}

# The bond's idle ping (tunnel and bare link); leaves the bond client running.
bond_idle_ping() {
  bb_client_start bond "$(bb_link_names | tr '\n' ' ')" || bb_die "client bond"
  sleep 1
  inLAN ping -c 40 -i 0.05 $BB_NET_ADDR > "$BB_DIR/ping-idle.txt"
  put idle_tunnel_ping_p50_ms "$(percentile "$BB_DIR/ping-idle.txt" 50)"
  # The path without the tunnel and the emulator: kernel forwarding over the first link.
  inCLI ping -c 40 -i 0.05 -I "$(bb_link_src "$(bb_link_names | head -1)")" $BB_SERVER_ADDR \
    > "$BB_DIR/ping-bare.txt"
  put bare_link_ping_p50_ms "$(percentile "$BB_DIR/ping-bare.txt" 50)"
  put first_link_delay_ms "$(bb_link_field "$(bb_link_names | head -1)" delay)"
}

# Latency under load alone (about SECS + 5 s a run): the bond section's idle ping, ping under
# one CUBIC flow and that flow's goodput; with "single" for the goodput's share of the links.
section_latency() {
  bond_idle_ping
  ping_under_cubic
  bb_client_stop
}

# The bond: idle latency, one flow (CUBIC with ping under load, BBR), 16 flows, UDP.
section_bond() {
  local sum_rate=0 l udp_rate
  for l in $(bb_link_names); do sum_rate=$((sum_rate + $(bb_link_field "$l" rate))); done
  bond_idle_ping
  ping_under_cubic
  iperf_lan "$BB_DIR/bond.json" -C bbr
  put bond_bbr_mbps "$(goodput "$BB_DIR/bond.json")"
  iperf_lan "$BB_DIR/bond16.json" -C cubic -P 16
  put bond_16_cubic_mbps "$(goodput "$BB_DIR/bond16.json")"
  # UDP at 95 % of the summed shaped rate, the largest payload the tunnel carries (the TUN
  # device follows the tunnel MTU, below tunnel.mtu).
  udp_rate=$((sum_rate * 95 / 100))
  local mtu
  mtu=$(ip netns exec "$BB_CLI" cat "/sys/class/net/$BB_TUN/mtu")
  iperf_lan "$BB_DIR/udp.json" -u -b "${udp_rate}M" -l $((mtu - 28))
  put udp_payload_bytes $((mtu - 28))
  put udp_offered_mbps "$udp_rate"
  put udp_delivered_pct "$(python3 -c 'import json,sys
try:
  s=json.load(open(sys.argv[1]))["end"]["sum"]; print(round(100-s["lost_percent"],2))
except Exception: print("null")' "$BB_DIR/udp.json")"
  put udp_mbps "$(goodput "$BB_DIR/udp.json")"
  bb_client_stop
}

# failover NAME ORDER LINK HOW: a bulk flow, a 1 packet/ms UDP probe stream and 64 idle
# inner TCP connections; LINK fails at 1/3 of the flow and returns at 2/3.
failover_case() {
  local name=$1 order=$2 link=$3 how=$4 t_down t_up bulk probe echo i before after ret=null
  bb_client_start "fo-$name" "$order" || bb_die "client fo-$name"
  sleep 0.5
  # (`ip netns exec` run directly, not through inNET, so $! is the process itself.)
  ip netns exec "$BB_NET" python3 "$PROBE" echo-server $BB_NET_ADDR 7000 $((SECS + 20)) &
  local server=$!
  inNET python3 "$PROBE" udp-recv $BB_NET_ADDR 7001 $((SECS + 2)) > "$BB_DIR/probe.json" &
  probe=$!
  sleep 0.3
  inLAN python3 "$PROBE" echo-clients $BB_NET_ADDR 7000 64 $((SECS + 1)) > "$BB_DIR/echo.json" &
  echo=$!
  inLAN python3 "$PROBE" udp-send $BB_NET_ADDR 7001 $((SECS + 1)) > "$BB_DIR/probe-send.json" &
  local sender=$!
  inLAN timeout $((SECS + 30)) iperf3 -c $BB_NET_ADDR -C cubic -t "$SECS" -J > "$BB_DIR/fo.json" 2>&1 &
  bulk=$!
  t_down=$(python3 -c "print($SECS / 3)")
  t_up=$(python3 -c "print($SECS / 3)")
  sleep "$t_down"
  bb_link_down "$link" "$how" || bb_die "link down"
  sleep "$t_up"
  bb_link_up "$link" "$how" || bb_die "link up"
  # Back when the link carries at least 1 Mbit/s (12.5 kB in 100 ms) of client traffic.
  before=$(bb_link_tx_bytes "$link")
  for i in $(seq 1 100); do
    sleep 0.1
    after=$(bb_link_tx_bytes "$link")
    if [ $((after - before)) -ge 12500 ]; then ret=$((i * 100)); break; fi
    before=$after
  done
  put "failover_${name}_return_ms" "$ret"
  wait $bulk
  local rc=$?
  put "failover_${name}_bulk_completed" "$([ $rc = 0 ] && echo 1 || echo 0)"
  put "failover_${name}_bulk_mbps" "$(goodput "$BB_DIR/fo.json")"
  wait $probe
  wait $sender
  wait $echo
  kill $server 2>/dev/null
  put "failover_${name}_longest_gap_ms" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["longest_gap_ms"])' "$BB_DIR/probe.json")"
  put "failover_${name}_probe_send_pause_ms" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["longest_send_gap_ms"])' "$BB_DIR/probe-send.json")"
  put "failover_${name}_echo_answered" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["answered"])' "$BB_DIR/echo.json")"
  bb_client_stop
}

section_failover() {
  local fast slow
  fast=$(bb_link_names | head -1)
  slow=$(bb_link_names | sed -n 2p)
  # The fastest link while the connection was established on the other one, then the link
  # the connection was established on (the fastest again).
  failover_case "fast_blackhole" "$slow $fast" "$fast" blackhole
  failover_case "fast_carrier" "$slow $fast" "$fast" carrier
  failover_case "master_blackhole" "$fast $slow" "$fast" blackhole
  failover_case "master_carrier" "$fast $slow" "$fast" carrier
}

# One link without tbf, straight to the server (no emulator): goodput and daemon CPU.
section_unshaped() {
  local l c0 s0 c1 s1 bytes
  l=$(bb_link_names | head -1)
  bb_shape "$l" 0
  bb_client_start unshaped "$l" direct || bb_die "client unshaped"
  c0=$(cpu_ticks "$BB_CLIENT_PID"); s0=$(cpu_ticks "$BB_SERVER_PID")
  iperf_lan "$BB_DIR/unshaped.json" -C cubic
  c1=$(cpu_ticks "$BB_CLIENT_PID"); s1=$(cpu_ticks "$BB_SERVER_PID")
  put unshaped_mbps "$(goodput "$BB_DIR/unshaped.json")"
  bytes=$(python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"])
except Exception: print(0)' "$BB_DIR/unshaped.json")
  # Ticks over the whole run (the omitted first second included) against its bytes: a
  # slight overestimate of CPU per GB.
  put unshaped_client_cpu_s_per_gb "$(python3 -c "b=$bytes; print(round(($c1-$c0)/$(getconf CLK_TCK)/(b/1e9),2) if b else 'null')")"
  put unshaped_server_cpu_s_per_gb "$(python3 -c "b=$bytes; print(round(($s1-$s0)/$(getconf CLK_TCK)/(b/1e9),2) if b else 'null')")"
  bb_client_stop
  bb_shape "$l" "$(bb_link_field "$l" rate)"
}

# Kernel MPTCP against tquicd over the same shaped links without the emulator (no delay):
# plain TCP per link and MPTCP over all, then tquicd single links and the bond, direct.
section_mptcp() {
  local l links
  links=$(bb_link_names | tr '\n' ' ')
  for n in "$BB_CLI" "$BB_SRV"; do
    ip netns exec "$n" sysctl -qw net.mptcp.enabled=1 || bb_die "net.mptcp.enabled"
    ip -n "$n" mptcp limits set subflows 8 add_addr_accepted 8 || bb_die "mptcp limits"
  done
  ip -n "$BB_CLI" mptcp endpoint flush
  for l in $(bb_link_names | tail -n +2); do
    ip -n "$BB_CLI" mptcp endpoint add "$(bb_link_src "$l")" dev "$(bb_link_dev "$l")" subflow ||
      bb_die "mptcp endpoint"
  done
  ip netns exec "$BB_SRV" timeout $((SECS * 8 + 60)) mptcpize run iperf3 -s -1 -B $BB_SERVER_ADDR -p 5301 \
    > "$BB_DIR/mptcp-srv.log" 2>&1 &
  local server=$!
  sleep 0.5
  inCLI timeout $((SECS + 30)) mptcpize run iperf3 -c $BB_SERVER_ADDR -p 5301 -C cubic -O 1 \
    -t "$SECS" -J > "$BB_DIR/mptcp.json" 2>&1
  put mptcp_bond_mbps "$(goodput "$BB_DIR/mptcp.json")"
  kill $server 2>/dev/null
  for l in $(bb_link_names); do
    inCLI timeout $((SECS + 30)) iperf3 -c $BB_SERVER_ADDR -B "$(bb_link_src "$l")" -C cubic -O 1 \
      -t "$SECS" -J > "$BB_DIR/tcp.json" 2>&1
    put "tcp_direct_${l}_mbps" "$(goodput "$BB_DIR/tcp.json")"
    bb_client_start "direct-$l" "$l" direct || bb_die "client direct-$l"
    iperf_lan "$BB_DIR/direct.json" -C cubic
    put "tquicd_direct_${l}_mbps" "$(goodput "$BB_DIR/direct.json")"
    bb_client_stop
  done
  bb_client_start direct-bond "$links" direct || bb_die "client direct-bond"
  iperf_lan "$BB_DIR/direct.json" -C cubic
  put tquicd_direct_bond_mbps "$(goodput "$BB_DIR/direct.json")"
  bb_client_stop
  ip -n "$BB_CLI" mptcp endpoint flush
}

# 10,000 hostile datagrams at the server's port (probe.py garbage: random bytes, Initials with
# random connection IDs, short headers, unknown versions) spread over one flow through the
# bond: the flow's goodput against the same flow just before, and what the server kept (its
# clients, its resident memory).
section_garbage() {
  local out
  bb_client_start garbage "$(bb_link_names | tr '\n' ' ')" || bb_die "client garbage"
  iperf_lan "$BB_DIR/garbage-ref.json" -C bbr
  put garbage_ref_mbps "$(goodput "$BB_DIR/garbage-ref.json")"
  local rss0
  rss0=$(rss_mib "$BB_SERVER_PID")
  inWAN timeout $((SECS + 60)) python3 "$PROBE" garbage $BB_SERVER_ADDR $BB_PORT 10000 "$SECS" \
    > "$BB_DIR/garbage.out" &
  local sender=$!
  iperf_lan "$BB_DIR/garbage.json" -C bbr
  wait $sender
  out=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' \
    "$BB_DIR/garbage.out" 2>/dev/null || echo null)
  put garbage_sent "$out"
  put garbage_mbps "$(goodput "$BB_DIR/garbage.json")"
  put garbage_server_clients_after "$(server_clients)"
  put garbage_server_rss_growth_mib "$(python3 -c "print(round($(rss_mib "$BB_SERVER_PID") - $rss0, 1))")"
  bb_client_stop
}

# IDLE_CLIENTS clients connected and idle (keepalives only): each a tquicd client in the client
# namespace with its own token, TUN device and state directory, one link straight to the server.
# The server's resident memory with all of them against with none.
section_idle() {
  local i l pids=() rss0 dir
  l=$(bb_link_names | head -1)
  for i in $(seq 1 "$IDLE_CLIENTS"); do
    grep -q "^idle$i " "$BB_DIR/tokens" || "$BB_TQUICD" gen-token "idle$i" >> "$BB_DIR/tokens"
  done
  kill -HUP "$BB_SERVER_PID"
  sleep 1
  rss0=$(rss_mib "$BB_SERVER_PID")
  for i in $(seq 1 "$IDLE_CLIENTS"); do
    dir=$BB_DIR/idle$i
    mkdir -p "$dir"
    grep "^idle$i " "$BB_DIR/tokens" | cut -d' ' -f2 > "$dir/token"
    chmod 600 "$dir/token"
    bb_client_toml "idle$i" "$l" direct
    sed -i -e "s|^name = \"$BB_TUN\"|name = \"tqbbi$i\"|" -e "s|^state_dir = .*|state_dir = \"$dir\"|" \
      -e "s|^token_file = .*|token_file = \"$dir/token\"|" \
      -e "s|^socket = .*|socket = \"$dir/c.sock\"|" "$BB_DIR/idle$i.toml"
    ip netns exec "$BB_CLI" "$BB_TQUICD" client -c "$BB_DIR/idle$i.toml" > "$dir/log" 2>&1 &
    pids+=($!)
  done
  BB_PIDS+=("${pids[@]}")
  for i in $(seq 120); do
    [ "$(grep -l "tquicd: ready client" "$BB_DIR"/idle*/log 2>/dev/null | wc -l)" -ge "$IDLE_CLIENTS" ] && break
    sleep 0.5
  done
  sleep 5  # idle: handshakes done, keepalives only
  put idle_clients_connected "$(server_clients)"
  put idle_server_rss_mib "$(rss_mib "$BB_SERVER_PID")"
  put idle_server_rss_base_mib "$rss0"
  put idle_client_rss_mib "$(rss_mib "${pids[0]}")"
for i in "${pids[@]}"; do kill -TERM "$i" 2>/dev/null; done
  for i in "${pids[@]}"; do bb_stop "$i"; done
}

setup
for RUN in $(seq 1 "$RUNS"); do
  for s in $ORDER; do
    wants $s || continue
    bb_log "run $RUN: $s"
    section_$s
  done
done

mkdir -p "$OUT"
python3 "$ROOT/bench/bond/report.py" --raw "$RAW" --out "$OUT" --benchmarks \
  "$([ -z "${BOND_OUT:-}" ] && echo "$ROOT/docs/BENCHMARKS.md")" \
  --meta "runs=$RUNS" "secs=$SECS" "links=$BB_LINKS" "date=$START_DATE" \
  "commit=$COMMIT" "idle_clients=$IDLE_CLIENTS" \
  "load_before=$LOAD_BEFORE" "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" \
  "machine=$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)" \
  "command=${BOND_CMD:-bench/bond.sh} (BOND_RUNS=$RUNS BOND_SECS=$SECS)"

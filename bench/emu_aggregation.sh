#!/usr/bin/env bash
# Multipath aggregation over the userspace link emulator (docs/emu.md, docs/BENCHMARKS.md):
# `tquic perf server` <- `tquic emu` (one emulated link per client IP) <- `tquic perf client`.
# For each scenario: every link alone (single path, the same profile put on 127.0.0.1), then
# the multipath download with each scheduler. Prints one markdown table row per run.
#
#   bench/emu_aggregation.sh [path/to/tquic]
#   env: SIZE (default 64M), SCENARIOS ("a b"), SCHEDULERS ("minrtt ecf blest roundrobin
#        weighted redundant"), CC (cubic), WINDOW (e.g. 64M: --window for server and client;
#        empty: the core's defaults, 48M connection / 32M stream)
set -euo pipefail

TQUIC=${1:-build/release/src/apps/tquic}
SIZE=${SIZE:-64M}
SCENARIOS=${SCENARIOS:-"a b"}
SCHEDULERS=${SCHEDULERS:-"minrtt ecf blest roundrobin weighted redundant"}
CC=${CC:-cubic}
WINDOW=${WINDOW:-}
win=()
[[ -n $WINDOW ]] && win=(--window "$WINDOW")
SERVER_PORT=${SERVER_PORT:-14434}
RELAY_PORT=${RELAY_PORT:-14433}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Link profiles by scenario; one-way delay = RTT / 2.
links_a=("rate=50mbit,delay=10ms" "rate=30mbit,delay=30ms")
links_b=("rate=100mbit,delay=5ms" "rate=20mbit,delay=20ms" "rate=10mbit,delay=300ms")

"$TQUIC" perf server --listen 127.0.0.1:$SERVER_PORT --multipath --cc "$CC" "${win[@]}" >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "certificate sha256" "$work/server.log" && break; sleep 0.1; done
pin=$(sed -n 's/^certificate sha256 //p' "$work/server.log")

# run LABEL SCHEDULER|- "LINK-ARGS..." "CLIENT-PATH-ARGS..."
run() {
  local label=$1 sched=$2 link_args=$3 path_args=$4
  # shellcheck disable=SC2086
  "$TQUIC" emu --listen 127.0.0.1:$RELAY_PORT --to 127.0.0.1:$SERVER_PORT $link_args \
    >"$work/relay.log" 2>&1 &
  local relay=$!
  for _ in $(seq 50); do grep -q "listening on" "$work/relay.log" && break; sleep 0.1; done
  local mp=()
  [[ $sched != - ]] && mp=(--multipath --scheduler "$sched")
  # shellcheck disable=SC2086
  "$TQUIC" perf client https://127.0.0.1:$RELAY_PORT/ --size "$SIZE" --pin "$pin" --cc "$CC" \
    --json "${win[@]}" "${mp[@]}" $path_args >"$work/client.json" 2>"$work/client.err" || true
  kill -TERM $relay; wait $relay || true
  python3 - "$label" "$sched" "$work/client.json" "$work/relay.log" <<'PY'
import json, re, sys
label, sched, client, relay = sys.argv[1:5]
try:
    j = json.loads(open(client).read().strip().splitlines()[-1])
except Exception:
    print(f"| {label} | {sched} | failed | | | | |"); sys.exit(0)
log = open(relay).read()
cpu = re.search(r"cpu ([0-9.]+) s", log)
paths = j.get("paths") or []
total = sum(p["bytes_received"] for p in paths) or 1
shares = " / ".join(f'{100*p["bytes_received"]/total:.0f}%' for p in paths) or "-"
srtts = " / ".join(f'{p["srtt_ms"]:.0f}' for p in paths) or "-"
drops = sum(int(x) for x in re.findall(r"dropped loss \d+ queue (\d+)", log))
print(f'| {label} | {sched if sched != "-" else "single path"} | {j["goodput_mbps"]:.1f} | '
      f'{shares} | {srtts} | {j["transfer_seconds"]:.2f} | {j["cpu_seconds"]:.2f} | '
      f'{cpu.group(1) if cpu else "?"} | {drops} |')
PY
}

echo "| scenario | scheduler | goodput Mbit/s | bytes per path | srtt ms per path | transfer s | client cpu s | relay cpu s | relay queue drops |"
echo "|---|---|---|---|---|---|---|---|---|"
for sc in $SCENARIOS; do
  declare -n links="links_$sc"
  # Each link alone: its profile on 127.0.0.1, the client's only path.
  for i in "${!links[@]}"; do
    run "$sc: link $((i + 1)) alone (${links[$i]})" - "--link 127.0.0.1=${links[$i]}" ""
  done
  link_args="" path_args=""
  for i in "${!links[@]}"; do
    link_args+=" --link 127.0.0.$((i + 1))=${links[$i]}"
    ((i > 0)) && path_args+=" --path 127.0.0.$((i + 1))"
  done
  for s in $SCHEDULERS; do
    run "$sc: all links" "$s" "$link_args" "$path_args"
  done
  unset -n links
done

#!/bin/sh
# Simulator goodput grid (docs/BENCHMARKS.md, "Simulator goodput grid"): `tquic sim` over
# rate {10,100,1000} Mbit/s x RTT {10,50,200} ms x loss {0,1,5} % for NewReno and CUBIC, in
# virtual time with real TLS and real packet protection. Prints a markdown table.
#
#   bench/sim_grid.sh [path/to/tquic]        (default: build/release/src/apps/tquic)
#   SIM_GRID_EXTRA="--null-crypto" bench/sim_grid.sh ...   extra flags for every run
#
# Sizes: lossless points move >= 10 s of link time at 10 and 100 Mbit/s (16 and 128 MiB) and
# 200 MiB at 1000 Mbit/s; lossy points are loss-limited far below the link rate, so they move
# 16 MiB (hundreds of loss events) to stay inside the simulator's 3600 s virtual time limit.
# The Mathis column is the classic Reno loss bound 1.22 * MSS / (RTT * sqrt(p)), MSS = 1400 B.
set -eu
TQUIC=${1:-build/release/src/apps/tquic}
EXTRA=${SIM_GRID_EXTRA:-}
command -v jq >/dev/null || { echo "sim_grid.sh needs jq" >&2; exit 2; }
[ -x "$TQUIC" ] || { echo "no tquic binary at $TQUIC" >&2; exit 2; }

size_for() {  # rate loss
  if [ "$2" != 0 ]; then echo 16; elif [ "$1" = 10 ]; then echo 16;
  elif [ "$1" = 100 ]; then echo 128; else echo 200; fi
}

cell() {  # rate rtt loss size cc -> "goodput | % | lost | note"
  delay=$(awk "BEGIN{print $2/2}")
  # shellcheck disable=SC2086
  out=$("$TQUIC" sim --rate "$1" --delay "$delay" --loss "$3" --size "$4" --cc "$5" --json $EXTRA) || true
  if [ -z "$out" ]; then echo "- | - | - | crashed"; return; fi
  echo "$out" | jq -r '[(.goodput_mbps*100|round/100|tostring), ((.capacity_share*1000|round/10|tostring)+"%"),
    (.server_packets_lost|tostring), (if .ok then "" else "FAIL: "+.error end)] | join(" | ")'
}

echo "| rate Mbit/s | RTT ms | loss % | MiB | NewReno Mbit/s | NewReno of link | NewReno lost pkts | CUBIC Mbit/s | CUBIC of link | CUBIC lost pkts | Mathis bound Mbit/s | notes |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for rate in 10 100 1000; do
  for rtt in 10 50 200; do
    for loss in 0 1 5; do
      size=$(size_for "$rate" "$loss")
      nr=$(cell "$rate" "$rtt" "$loss" "$size" newreno)
      cu=$(cell "$rate" "$rtt" "$loss" "$size" cubic)
      mathis=$(awk "BEGIN{ if ($loss == 0) print \"-\"; else printf \"%.2f\", 1.22*1400*8/($rtt/1000*sqrt($loss/100))/1e6 }")
      nr_main=$(echo "$nr" | cut -d'|' -f1-3); nr_note=$(echo "$nr" | cut -d'|' -f4 | sed 's/^ *//')
      cu_main=$(echo "$cu" | cut -d'|' -f1-3); cu_note=$(echo "$cu" | cut -d'|' -f4 | sed 's/^ *//')
      note=""
      [ -n "$nr_note" ] && note="NewReno $nr_note"
      [ -n "$cu_note" ] && note="$note CUBIC $cu_note"
      echo "| $rate | $rtt | $loss | $size | $nr_main| $cu_main| $mathis | $note |"
    done
  done
done

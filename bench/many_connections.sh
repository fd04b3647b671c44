#!/usr/bin/env bash
# Many connections on one `tquic perf server` over 127.0.0.1 (issue #16, "Many connections"):
# one `tquic perf client --concurrent N --hold H` opens N connections at once on one socket,
# holds them idle for H seconds, then each fetches SIZE bytes. From /proc, per round:
#   - the server's resident memory before any connection and while the N are idle, and the
#     growth per connection (it includes GnuTLS's per-session state);
#   - the server's CPU per full handshake (ECDSA P-256, the default self-signed certificate:
#     CPU over the "up" phase / N, which also counts the connections' first packets);
#   - requests per CPU-second of the server, and of the client, for the N fetches.
#   bench/many_connections.sh [ROUNDS] [N] [SIZE] [HOLD]   defaults: 3 10000 10K 3
# Wall clock on a shared machine; report the load average with the figures (docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
n=${2:-10000}
size=${3:-10K}
hold=${4:-3}
tquic=${TQUIC:-build/release/src/apps/tquic}
[ -x "$tquic" ] || cmake --build --preset release --target tquic >/dev/null
work=$(mktemp -d /tmp/tquic-many.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
tick=$(getconf CLK_TCK)
cpu() { awk -v t="$tick" '{printf "%.3f", ($14 + $15) / t}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs; N=$n SIZE=$size HOLD=${hold}s"
for r in $(seq "$rounds"); do
  port=$((30000 + RANDOM % 20000))
  "$tquic" perf server --listen 127.0.0.1:$port --max-connections $((n + 16)) \
    >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 50); do grep -q 'sha256' "$work/server.log" && break; sleep 0.1; done
  rss0=$(rss_kib $server)
  cpu0=$(cpu $server)
  timeout 300 "$tquic" perf client "https://127.0.0.1:$port/" --size "$size" --concurrent "$n" \
    --hold "$hold" >"$work/client.log" 2>&1 &
  client=$!
  for _ in $(seq 3000); do grep -q 'connections up' "$work/client.log" && break; sleep 0.1; done
  grep -q 'connections up' "$work/client.log" || { cat "$work/client.log"; exit 1; }
  cpu_up=$(cpu $server)
  sleep "$(awk -v h="$hold" 'BEGIN {print h / 2}')"  # the connections idle
  rss1=$(rss_kib $server)
  wait $client || { cat "$work/client.log"; exit 1; }
  cpu_end=$(cpu $server)
  kill $server; wait $server 2>/dev/null || true
  awk -v r="$r" -v n="$n" -v rss0="$rss0" -v rss1="$rss1" -v c0="$cpu0" -v cu="$cpu_up" \
      -v ce="$cpu_end" -v line="$(tail -1 "$work/client.log")" 'BEGIN {
    split(line, w, " ");  # "N requests of B bytes in W s, cpu C s, R requests/cpu-s"
    ccpu = w[10] + 0;
    printf "round %d: server rss %.1f -> %.1f MiB, %.2f KiB per idle connection; ", r, rss0 / 1024, rss1 / 1024, (rss1 - rss0) / n;
    srv = ce - cu;
    printf "server cpu per handshake %.3f ms; requests per server cpu-s %.0f, per client cpu-s %.0f\n", (cu - c0) * 1000 / n, (srv > 0 ? n / srv : 0), (ccpu > 0 ? n / ccpu : 0);
  }'
done

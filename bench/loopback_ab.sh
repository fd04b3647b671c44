#!/usr/bin/env bash
# A/B of TQUIC's packet path: `bench/loopback.sh --ab BASE_COMMIT [ROUNDS] [SIZE]` (see there).
# Builds BASE_COMMIT's `tquic` target in a git worktree beside this checkout, then runs
# `tquic perf server` / `tquic perf client --size SIZE` over 127.0.0.1 for the base and for this
# tree, interleaved (base, current[, ngtcp2] per round) so load drifts hit every variant alike.
# Per variant: goodput (SIZE over the client's wall time, handshake included), client and server
# CPU seconds (user + sys, /usr/bin/time and /proc), bytes per CPU-second of both, and for TQUIC
# the sender's datagrams per GSO message and the receiver's datagrams per ACK datagram (from the
# server's SIGTERM summary). Prints a table of medians (min-max) and writes $LOOPBACK_OUT/ab.json.
# AB_APP=hq runs `tquic server --root` / `tquic client -o` instead (a random SIZE-byte file from
# tmpfs to tmpfs, compared after each transfer): the file path of the tools, not perf's.
# AB_APP=h3 the same with `tquic serve` / `tquic get` (HTTP/3).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/loopback.sh --ab BASE_COMMIT [ROUNDS] [SIZE]" >&2; exit 2; }
base_sha=$(git rev-parse --short=10 "$1^{commit}")
rounds=${2:-3}
size=${3:-1G}
out=${LOOPBACK_OUT:-docs/bench}
build=${TQUIC_BUILD:-build/release}
top=$(pwd)
abdir=${AB_DIR:-$(dirname "$top")/ab-$base_sha}
mkdir -p "$out"

# The base: its own worktree and release build of the one target; the current tree: rebuilt
# unless TQUIC_BUILD names binaries built elsewhere.
build_tquic() {  # DIR
  (cd "$1" && { cmake --preset release >/dev/null 2>&1 ||
                cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null; } &&
   cmake --build build/release -j"${AB_JOBS:-2}" --target tquic >/dev/null)
}
made_worktree=0
if [ ! -x "$abdir/build/release/src/apps/tquic" ]; then
  if [ ! -d "$abdir" ]; then
    git worktree add --detach "$abdir" "$base_sha" >/dev/null
    made_worktree=1
  fi
  echo "building $base_sha's tquic in $abdir" >&2
  build_tquic "$abdir"
fi
if [ -z "${TQUIC_BUILD:-}" ]; then build_tquic "$top"; fi
base_bin=$abdir/build/release/src/apps/tquic
cur_bin=$build/src/apps/tquic
[ -x "$base_bin" ] && [ -x "$cur_bin" ] || { echo "tquic binaries missing" >&2; exit 2; }
variants="base current"
if [ -n "${NGTCP2_DIR:-}" ]; then
  [ -x "$NGTCP2_DIR/gtlsserver" ] && [ -x "$NGTCP2_DIR/gtlsclient" ] ||
    { echo "NGTCP2_DIR=$NGTCP2_DIR has no gtlsserver/gtlsclient" >&2; exit 2; }
  variants="$variants ngtcp2"
fi

tmp=/dev/shm
[ -d "$tmp" ] || tmp=/tmp
work=$(mktemp -d "$tmp/tquic-ab.XXXXXX")
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$work"
  if [ "$made_worktree" = 1 ] && [ "${AB_KEEP:-0}" != 1 ]; then
    git worktree remove --force "$abdir" 2>/dev/null || true
  fi
}
trap cleanup EXIT
hz=$(getconf CLK_TCK)
port=$((25000 + $$ % 5000))
proc_cpu() { awk -v hz="$hz" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
bytes=$(numfmt --from=iec "$size")
app=${AB_APP:-perf}
if [ "$app" = hq ] || [ "$app" = h3 ]; then
  mkdir -p "$work/www"
  head -c "$bytes" /dev/urandom >"$work/www/big"
fi
if [ -n "${NGTCP2_DIR:-}" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
fi

# wait_listening LOG PID: up to 5 s for the server to say it listens (tquic) or to start.
wait_listening() {
  for _ in $(seq 50); do
    grep -q "listening on" "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "server died: $(cat "$1")" >&2; return 1; }
    sleep 0.1
  done
  return 0  # gtlsserver prints nothing with -q; it is up by now
}

# ngtcp2_check: one untimed 1 MiB download from the ngtcp2 server on $port, its size checked (an
# error page is a complete response too).
ngtcp2_check() {
  rm -rf "$work/dl" && mkdir -p "$work/dl"
  timeout 60 "$NGTCP2_DIR/gtlsclient" -q --no-quic-dump --no-http-dump \
    --exit-on-all-streams-close --download "$work/dl" 127.0.0.1 $port \
    "https://127.0.0.1:$port/1048576" >/dev/null 2>&1 || return 1
  [ "$(stat -c %s "$work/dl/1048576" 2>/dev/null || echo 0)" = 1048576 ]
}

# run_one VARIANT: prints "wall client_cpu server_cpu datagrams_per_gso datagrams_per_ack".
run_one() {
  local v=$1 log=$work/server.log srv cpu0 cpu1 start end
  port=$((port + 1))
  case "$v" in
    base|current)
      local bin=$base_bin
      [ "$v" = current ] && bin=$cur_bin
      if [ "$app" = hq ]; then
        "$bin" server --listen 127.0.0.1:$port --root "$work/www" >"$log" 2>&1 &
      elif [ "$app" = h3 ]; then
        "$bin" serve "$work/www" --listen 127.0.0.1:$port >"$log" 2>&1 &
      else
        "$bin" perf server --listen 127.0.0.1:$port >"$log" 2>&1 &
      fi
      srv=$! ;;
    ngtcp2)
      # Its generated body ("/N" serves N bytes), like `tquic perf`: no file, no page cache.
      "$NGTCP2_DIR/gtlsserver" -q --no-quic-dump --no-http-dump --max-dyn-length="$bytes" \
        127.0.0.1 $port "$work/key.pem" "$work/cert.pem" >"$log" 2>&1 &
      srv=$! ;;
  esac
  wait_listening "$log" "$srv"
  if [ "$v" = ngtcp2 ] && ! ngtcp2_check; then
    kill "$srv" 2>/dev/null || true
    echo "ngtcp2: the check download failed; server log: $(tail -3 "$log")" >&2
    return 1
  fi
  cpu0=$(proc_cpu "$srv")
  start=$(date +%s.%N)
  local rc=0
  case "$v" in
    base|current)
      # The perf client checks every byte itself and fails on a short or corrupt transfer.
      if [ "$app" = hq ]; then
        rm -rf "$work/dl" && mkdir -p "$work/dl"
        timeout 300 /usr/bin/time -f "%U %S" -o "$work/client.time" "$bin" client -o "$work/dl" \
          --insecure "https://127.0.0.1:$port/big" >/dev/null 2>&1 || rc=$?
        [ "$rc" != 0 ] || cmp -s "$work/dl/big" "$work/www/big" || rc=99
      elif [ "$app" = h3 ]; then
        rm -rf "$work/dl" && mkdir -p "$work/dl"
        timeout 300 /usr/bin/time -f "%U %S" -o "$work/client.time" "$bin" get -s \
          -o "$work/dl/big" --insecure "https://127.0.0.1:$port/big" >/dev/null 2>&1 || rc=$?
        [ "$rc" != 0 ] || cmp -s "$work/dl/big" "$work/www/big" || rc=99
      else
        timeout 300 /usr/bin/time -f "%U %S" -o "$work/client.time" \
          "$bin" perf client "https://127.0.0.1:$port" --size "$size" >/dev/null || rc=$?
      fi ;;
    ngtcp2)
      # The timed run discards the body (its client exits 0 on any complete response, so
      # ngtcp2_check, untimed, proved the server answers with the body first).
      timeout 300 /usr/bin/time -f "%U %S" -o "$work/client.time" \
        "$NGTCP2_DIR/gtlsclient" -q --no-quic-dump --no-http-dump --exit-on-all-streams-close \
        127.0.0.1 $port "https://127.0.0.1:$port/$bytes" >/dev/null 2>&1 || rc=$? ;;
  esac
  end=$(date +%s.%N)
  if [ "$rc" != 0 ]; then
    kill "$srv" 2>/dev/null || true
    echo "$v: the transfer failed (client exit $rc); server log: $(tail -3 "$log")" >&2
    return 1
  fi
  cpu1=$(proc_cpu "$srv")
  kill -TERM "$srv"
  wait "$srv" 2>/dev/null || true
  # tquic's summary: "N datagrams sent in C calls (G GSO messages), R received in ...".
  local per_gso=0 per_ack=0
  if [ "$v" != ngtcp2 ]; then
    read -r per_gso per_ack < <(sed -n 's/.* \([0-9]*\) datagrams sent in [0-9]* calls (\([0-9]*\) GSO messages), \([0-9]*\) received.*/\1 \2 \3/p' "$log" |
      awk '{ printf "%.2f %.2f\n", ($2 > 0 ? $1 / $2 : 0), ($3 > 0 ? $1 / $3 : 0) }') || true
  fi
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }') $(awk '{ print $1 + $2 }' "$work/client.time") $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }') ${per_gso:-0} ${per_ack:-0}"
}

results=$work/results.txt
: >"$results"
for r in $(seq 1 "$rounds"); do
  for v in $variants; do
    line=$(run_one "$v") || exit 1
    echo "round $r $v: wall client_cpu server_cpu per_gso per_ack = $line" >&2
    echo "$v $line" >>"$results"
  done
done

cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
python3 - "$results" "$bytes" "$rounds" "$base_sha" "$(git rev-parse --short=10 HEAD)" \
  "$(git status --porcelain --untracked-files=no | grep -q . && echo dirty || echo clean)" \
  "$cpu" "$(nproc)" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$(date -u +%Y-%m-%dT%H:%MZ)" "$out" "${NGTCP2_DIR:-}" "$app" <<'PY'
import json, statistics, sys
(path, size, rounds, base, head, dirty, cpu, ncpu, kernel, load, date, outdir,
 ngdir, app) = sys.argv[1:]
size = int(size)
runs = {}
for line in open(path):
    v, *f = line.split()
    runs.setdefault(v, []).append([float(x) for x in f])
def spread(vals):
    return {"min": min(vals), "median": statistics.median(vals), "max": max(vals)}
res = {"base": base, "current": head + ("+dirty" if dirty == "dirty" else ""), "date": date,
       "cpu": cpu, "cpus": int(ncpu), "kernel": kernel, "load_average_at_end": load,
       "bytes": size, "rounds": int(rounds), "ngtcp2_dir": ngdir, "app": app, "variants": {}}
for v, rs in runs.items():
    res["variants"][v] = {
        "goodput_mbps": spread([size * 8 / r[0] / 1e6 for r in rs]),
        "client_cpu_s": spread([r[1] for r in rs]),
        "server_cpu_s": spread([r[2] for r in rs]),
        "bytes_per_cpu_s": spread([size / max(r[1] + r[2], 1e-9) for r in rs]),
        "datagrams_per_gso_message": spread([r[3] for r in rs]),
        "datagrams_per_ack": spread([r[4] for r in rs]),
    }
json.dump(res, open(f"{outdir}/ab.json", "w"), indent=2)
def cell(s, fmt):
    return f"{fmt(s['median'])} ({fmt(s['min'])}-{fmt(s['max'])})"
b = res["variants"]["base"]["bytes_per_cpu_s"]["median"]
print(f"A/B {base} -> {res['current']}, tquic {app}, {date}, {size / 2**20:.0f} MiB x {rounds} "
      f"rounds, load {load}")
print("| variant | goodput Mbit/s | client CPU s | server CPU s | MB per CPU-s (both) | vs base "
      "| datagrams/GSO | datagrams/ACK |")
print("|---|---|---|---|---|---|---|---|")
for v, p in res["variants"].items():
    print(f"| {v} | {cell(p['goodput_mbps'], lambda x: f'{x:.0f}')} | "
          f"{cell(p['client_cpu_s'], lambda x: f'{x:.2f}')} | "
          f"{cell(p['server_cpu_s'], lambda x: f'{x:.2f}')} | "
          f"{cell(p['bytes_per_cpu_s'], lambda x: f'{x / 1e6:.0f}')} | "
          f"{p['bytes_per_cpu_s']['median'] / b:.2f}x | "
          f"{p['datagrams_per_gso_message']['median']:.1f} | "
          f"{p['datagrams_per_ack']['median']:.1f} |")
PY
echo "wrote $out/ab.json" >&2

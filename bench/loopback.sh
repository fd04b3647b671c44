#!/usr/bin/env bash
# One connection moving one file over 127.0.0.1 with three independent stacks, interleaved in
# the same run: TQUIC (tquic server / tquic client, hq-interop), quic-go 0.29 (the interop
# peers qgserver / qgclient, hq-interop) and ngtcp2 (Debian's gtlsserver / gtlsclient,
# HTTP/3). Per pair and round: goodput, client and server CPU seconds (user + sys), bytes per
# CPU-second of both processes together, and the server's CPU per full handshake: HANDSHAKES
# short connections (a fresh client process each, fetching a 1-byte file, no resumption)
# against one server, whose CPU seconds over them divided by HANDSHAKES. Medians with min-max
# over the rounds go to docs/bench/loopback.json and docs/bench/loopback.md (the table
# docs/BENCHMARKS.md points at).
#   bench/loopback.sh [ROUNDS] [SIZE] [HANDSHAKES]   defaults: 5 rounds, 1G, 200 handshakes
#   bench/loopback.sh --ab BASE_COMMIT [ROUNDS] [SIZE]   defaults: 3 rounds, 1G (AB_APP=hq: the file tools)
# --ab: builds BASE_COMMIT's `tquic` in a temporary git worktree beside this checkout
# (../ab-<sha>; with ccache and CCACHE_BASEDIR covering both trees the build is mostly cache
# hits), then runs `tquic perf` (server and client, 1 connection, SIZE bytes) of the base and of
# this tree interleaved, ROUNDS times each, and prints medians (min-max) and the ratio to the
# base; with NGTCP2_DIR also that ngtcp2's gtlsserver/gtlsclient in the same rounds. Writes
# $LOOPBACK_OUT/ab.json. AB_KEEP=1 keeps the base worktree (and its build) for the next run.
# Environment: LOOPBACK_OUT (default docs/bench) for a smoke run that must not replace the
# published figures; TQUIC_BUILD (default build/release) to use binaries built elsewhere;
# NGTCP2_DIR, a directory holding a newer ngtcp2's gtlsserver and gtlsclient (examples/ of its
# build; its client needs HAVE_NETINET_UDP_H for GRO), run as a fourth pair beside Debian's.
# Run it on a quiet machine: goodput is wall-clock; CPU seconds are the steadier figure.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --ab ]; then
  shift
  exec bash bench/loopback_ab.sh "$@"
fi
rounds=${1:-5}
size=${2:-1G}
handshakes=${3:-200}
out=${LOOPBACK_OUT:-docs/bench}
build=${TQUIC_BUILD:-build/release}
tquic=$build/src/apps/tquic
qg=$build/tests/interop/quic-go
[ -x "$tquic" ] && [ -x "$qg/qgserver" ] || ./run build release >/dev/null
mkdir -p "$out"
command -v gtlsserver >/dev/null || { echo "gtlsserver missing: scripts/install-deps.sh" >&2; exit 2; }

base=/dev/shm
[ -d "$base" ] || base=/tmp
work=$(mktemp -d "$base/tquic-loopback.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/www"
head -c "$size" /dev/urandom >"$work/www/big"
printf x >"$work/www/small"
bytes=$(stat -c %s "$work/www/big")
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
hz=$(getconf CLK_TCK)
port=24460

# CPU seconds (user + sys) of a running process, from /proc.
proc_cpu() { awk -v hz="$hz" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }

# ngtcp2_bin PAIR PROGRAM: Debian's program, or NGTCP2_DIR's for the ngtcp2-new pair.
ngtcp2_bin() { if [ "$1" = ngtcp2-new ]; then echo "$NGTCP2_DIR/$2"; else command -v "$2"; fi; }
# The three stacks, then TQUIC's other modes of issue #16's goals: `tquic perf` (the yardstick
# of the HTTP/3 tools), `tquic serve` -> `tquic get` (HTTP/3, the file from tmpfs, the body to
# /dev/null as perf discards it), two paths (--multipath --path 127.0.0.2), and no offloads
# (--no-gso --no-gro on both sides) beside Debian's ngtcp2 without GSO (--max-gso-dgrams=1;
# its client has no GRO, and quic-go 0.29 uses neither). PAIRS overrides the list.
pairs=${PAIRS:-"tquic quic-go ngtcp2 tquic-perf tquic-h3 tquic-mp tquic-nooffload ngtcp2-nooffload"}
if [ -n "${NGTCP2_DIR:-}" ]; then
  [ -x "$NGTCP2_DIR/gtlsserver" ] && [ -x "$NGTCP2_DIR/gtlsclient" ] ||
    { echo "NGTCP2_DIR=$NGTCP2_DIR has no gtlsserver/gtlsclient" >&2; exit 2; }
  pairs="$pairs ngtcp2-new"
fi
# Server CPU per handshake is measured for the stacks, not for the extra modes.
measures_handshakes() { case "$1" in tquic|quic-go|ngtcp2|ngtcp2-new) return 0 ;; esac; return 1; }

# start_server NAME: starts NAME's server on a fresh port; sets srv (its PID).
start_server() {
  local log=$work/server.log
  port=$((port + 1))
  case "$1" in
    tquic) "$tquic" server --listen 127.0.0.1:$port --root "$work/www" >"$log" 2>&1 & ;;
    tquic-mp) "$tquic" server --listen 127.0.0.1:$port --root "$work/www" --multipath \
                >"$log" 2>&1 & ;;
    tquic-nooffload) "$tquic" server --listen 127.0.0.1:$port --root "$work/www" --no-gso \
                       --no-gro >"$log" 2>&1 & ;;
    tquic-h3) "$tquic" serve "$work/www" --listen 127.0.0.1:$port >"$log" 2>&1 & ;;
    tquic-perf) "$tquic" perf server --listen 127.0.0.1:$port >"$log" 2>&1 & ;;
    quic-go) "$qg/qgserver" -listen 127.0.0.1:$port -root "$work/www" -cert-out "$work/qg.pem" \
               >"$log" 2>&1 & ;;
    ngtcp2|ngtcp2-new)
      "$(ngtcp2_bin "$1" gtlsserver)" -q --no-quic-dump --no-http-dump -d "$work/www" 127.0.0.1 \
        $port "$work/key.pem" "$work/cert.pem" >"$log" 2>&1 & ;;
    ngtcp2-nooffload)
      gtlsserver -q --no-quic-dump --no-http-dump --max-gso-dgrams=1 -d "$work/www" 127.0.0.1 \
        $port "$work/key.pem" "$work/cert.pem" >"$log" 2>&1 & ;;
  esac
  srv=$!
  sleep 0.5
}

stop_server() {
  kill "$srv" 2>/dev/null || true
  wait "$srv" 2>/dev/null || true
}

# fetch NAME FILE DIR: one client connection of NAME downloading /FILE into DIR, timed into
# $work/client.time.
fetch() {
  local name=$1 file=$2 dl=$3
  case "$name" in
    tquic) /usr/bin/time -f "%U %S" -o "$work/client.time" \
             "$tquic" client -o "$dl" --insecure "https://127.0.0.1:$port/$file" >/dev/null 2>&1 ;;
    tquic-mp) /usr/bin/time -f "%U %S" -o "$work/client.time" "$tquic" client -o "$dl" \
                --insecure --multipath --path 127.0.0.2 "https://127.0.0.1:$port/$file" >/dev/null 2>&1 ;;
    tquic-nooffload) /usr/bin/time -f "%U %S" -o "$work/client.time" "$tquic" client -o "$dl" \
                       --insecure --no-gso --no-gro "https://127.0.0.1:$port/$file" >/dev/null 2>&1 ;;
    tquic-h3)  # the body to /dev/null as `tquic perf` discards it; its size is checked
      /usr/bin/time -f "%U %S" -o "$work/client.time" "$tquic" get -s -o /dev/null \
        -w '%{size_download}' --insecure "https://127.0.0.1:$port/$file" >"$dl/size" 2>/dev/null ;;
    tquic-perf)  # no file: the generated body, its size checked from the client's JSON
      /usr/bin/time -f "%U %S" -o "$work/client.time" "$tquic" perf client --json --insecure \
        --size "$bytes" "https://127.0.0.1:$port/" >"$dl/perf.json" 2>/dev/null ;;
    quic-go) /usr/bin/time -f "%U %S" -o "$work/client.time" \
               "$qg/qgclient" -addr 127.0.0.1:$port -out "$dl" "/$file" >/dev/null 2>&1 ;;
    ngtcp2|ngtcp2-new|ngtcp2-nooffload) /usr/bin/time -f "%U %S" -o "$work/client.time" \
              "$(ngtcp2_bin "$name" gtlsclient)" -q --no-quic-dump --no-http-dump --exit-on-all-streams-close \
              --download "$dl" 127.0.0.1 $port "https://127.0.0.1:$port/$file" >/dev/null 2>&1 ;;
  esac
}

# run_pair NAME: starts the server, times the client, prints "wall client_cpu server_cpu".
run_pair() {
  local name=$1 dl=$work/dl
  rm -rf "$dl" && mkdir -p "$dl"
  start_server "$name"
  local start end
  start=$(date +%s.%N)
  fetch "$name" big "$dl"
  end=$(date +%s.%N)
  local scpu
  scpu=$(proc_cpu "$srv")
  stop_server
  if [ "$name" = tquic-perf ]; then
    python3 -c "import json,sys; sys.exit(json.load(open('$dl/perf.json')).get('bytes') != $bytes)" ||
      { echo "$name: not $bytes bytes" >&2; return 1; }
  elif [ "$name" = tquic-h3 ]; then
    [ "$(cat "$dl/size")" = "$bytes" ] || { echo "$name: not $bytes bytes" >&2; return 1; }
  else
    cmp -s "$dl/big" "$work/www/big" || { echo "$name: download differs" >&2; return 1; }
  fi
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }') $(awk '{ print $1 + $2 }' "$work/client.time") $scpu"
}

# run_handshakes NAME: HANDSHAKES one-request connections against one server; prints the
# server's CPU seconds per connection (its start-up excluded). Every fetch must succeed.
run_handshakes() {
  local name=$1 dl=$work/hs i cpu0 cpu1
  start_server "$name"
  cpu0=$(proc_cpu "$srv")
  for i in $(seq 1 "$handshakes"); do
    rm -rf "$dl" && mkdir -p "$dl"
    fetch "$name" small "$dl" || true
    cmp -s "$dl/small" "$work/www/small" || { stop_server; echo "$name: handshake $i failed" >&2; return 1; }
  done
  cpu1=$(proc_cpu "$srv")
  stop_server
  awk -v a="$cpu0" -v b="$cpu1" -v n="$handshakes" 'BEGIN { print (b - a) / n }'
}

results=$work/results.txt
: >"$results"
for r in $(seq 1 "$rounds"); do
  for name in $pairs; do
    line=$(run_pair "$name")
    hs=nan
    measures_handshakes "$name" && hs=$(run_handshakes "$name")
    echo "round $r $name: wall/client cpu/server cpu = $line, server cpu per handshake = $hs" >&2
    echo "$name $line $hs" >>"$results"
  done
done

commit=$(git rev-parse --short HEAD)
cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
python3 - "$results" "$bytes" "$rounds" "$commit" "$cpu" "$(nproc)" "$(uname -r)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$(date -u +%Y-%m-%dT%H:%MZ)" "$handshakes" "$out" <<'PY'
import json, statistics, sys
path, size, rounds, commit, cpu, ncpu, kernel, load, date, handshakes, outdir = sys.argv[1:]
size = int(size)
runs = {}
for line in open(path):
    name, wall, ccpu, scpu, hs = line.split()
    runs.setdefault(name, []).append((float(wall), float(ccpu), float(scpu), float(hs)))
def spread(v):
    return {"min": min(v), "median": statistics.median(v), "max": max(v)}
out = {"commit": commit, "date": date, "cpu": cpu, "cpus": int(ncpu), "kernel": kernel,
       "load_average_at_end": load, "bytes": size, "rounds": int(rounds),
       "handshakes_per_round": int(handshakes), "pairs": {}}
for name, rs in runs.items():
    out["pairs"][name] = {
        "goodput_mbps": spread([size * 8 / w / 1e6 for w, _, _, _ in rs]),
        "client_cpu_s": spread([c for _, c, _, _ in rs]),
        "server_cpu_s": spread([s for _, _, s, _ in rs]),
        "bytes_per_cpu_s": spread([size / max(c + s, 1e-9) for _, c, s, _ in rs]),
    }
    if not any(h != h for _, _, _, h in rs):  # NaN: not measured for this pair
        out["pairs"][name]["server_cpu_ms_per_handshake"] = spread([h * 1e3 for _, _, _, h in rs])
# Issue #16's goals between the modes of one run (medians of bytes per CPU-second / goodput).
def med(name, key):
    p = out["pairs"].get(name)
    return p[key]["median"] if p else None
goals = []
def goal(what, a, b, key, at_least):
    x, y = med(a, key), med(b, key)
    if x is not None and y is not None:
        goals.append({"goal": what, "ratio": x / y, "at_least": at_least, "met": x / y >= at_least})
goal("tquic serve -> tquic get: goodput within 10% of tquic perf", "tquic-h3", "tquic-perf", "goodput_mbps", 0.9)
goal("tquic serve -> tquic get: bytes per CPU-s within 10% of tquic perf", "tquic-h3", "tquic-perf", "bytes_per_cpu_s", 0.9)
goal("two paths (--multipath --path 127.0.0.2): goodput at least one path's", "tquic-mp", "tquic", "goodput_mbps", 1.0)
goal("two paths: bytes per CPU-s at least one path's", "tquic-mp", "tquic", "bytes_per_cpu_s", 1.0)
for peer in ("quic-go", "ngtcp2-nooffload"):
    goal(f"no GSO/GRO: bytes per CPU-s ahead of {peer} without offloads", "tquic-nooffload", peer, "bytes_per_cpu_s", 1.0)
    goal(f"no GSO/GRO: goodput ahead of {peer} without offloads", "tquic-nooffload", peer, "goodput_mbps", 1.0)
goal("bytes per CPU-s: 1.5x the newer ngtcp2 (NGTCP2_DIR)", "tquic", "ngtcp2-new", "bytes_per_cpu_s", 1.5)
goal("bytes per CPU-s: 2.6x Debian's ngtcp2 0.12", "tquic", "ngtcp2", "bytes_per_cpu_s", 2.6)
out["goals"] = goals
json.dump(out, open(f"{outdir}/loopback.json", "w"), indent=2)
with open(f"{outdir}/loopback.md", "w") as f:
    f.write("<!-- generated by bench/loopback.sh from docs/bench/loopback.json; do not edit -->\n")
    f.write(f"Commit {commit}, {date}, {cpu} ({ncpu} CPUs), Linux {kernel}, load average at the "
            f"end {load}. One connection, {size / 2**20:.0f} MiB over 127.0.0.1, {rounds} "
            "interleaved rounds; median (min-max). CPU = user + sys of each process. Server CPU "
            f"per handshake: {handshakes} one-request connections (fresh client process each, "
            "full handshake, 1-byte file) against one server, its CPU over them / "
            f"{handshakes}.\n\n")
    f.write("| pair | goodput Mbit/s | client CPU s | server CPU s | bytes per CPU-second (both) "
            "| server CPU ms per handshake |\n")
    f.write("|---|---|---|---|---|---|\n")
    def cell(s, fmt):
        return f"{fmt(s['median'])} ({fmt(s['min'])}-{fmt(s['max'])})"
    label = {"tquic": "TQUIC ↔ TQUIC (hq-interop)", "quic-go": "quic-go 0.29 ↔ quic-go (hq-interop)",
             "ngtcp2": "ngtcp2 (Debian gtlsserver ↔ gtlsclient, HTTP/3)",
             "ngtcp2-new": "ngtcp2 from NGTCP2_DIR (gtlsserver ↔ gtlsclient, HTTP/3)",
             "tquic-perf": "TQUIC `perf` server ↔ client (generated body, no file)",
             "tquic-h3": "TQUIC `serve` ↔ `get` (HTTP/3)",
             "tquic-mp": "TQUIC ↔ TQUIC, two paths (127.0.0.1 + 127.0.0.2)",
             "tquic-nooffload": "TQUIC ↔ TQUIC, --no-gso --no-gro",
             "ngtcp2-nooffload": "ngtcp2 (Debian), server --max-gso-dgrams=1"}
    for name, p in out["pairs"].items():
        f.write(f"| {label.get(name, name)} | {cell(p['goodput_mbps'], lambda v: f'{v:.0f}')} | "
                f"{cell(p['client_cpu_s'], lambda v: f'{v:.2f}')} | "
                f"{cell(p['server_cpu_s'], lambda v: f'{v:.2f}')} | "
                f"{cell(p['bytes_per_cpu_s'], lambda v: f'{v / 1e6:.0f} MB')} | "
                f"{cell(p['server_cpu_ms_per_handshake'], lambda v: f'{v:.2f}') if 'server_cpu_ms_per_handshake' in p else '-'} |\n")
    if goals:
        f.write("\n| issue #16 goal (same run, medians) | ratio | needed | met |\n|---|---|---|---|\n")
        for g in goals:
            f.write(f"| {g['goal']} | {g['ratio']:.2f}x | >= {g['at_least']}x | {'yes' if g['met'] else '**no**'} |\n")
PY
echo "wrote $out/loopback.json and $out/loopback.md" >&2

#!/usr/bin/env bash
# Multipath aggregation over the userspace link emulator (docs/emu.md, docs/BENCHMARKS.md):
# `tquic perf server` <- `tquic emu` (one emulated link per client IP) <- `tquic perf client`.
# For each scenario: every link alone (single path, the same profile put on 127.0.0.1), then
# the multipath download with each scheduler. RUNS interleaved rounds (every case once per
# round, so a burst of load on the machine hits all cases alike); medians with min-max go to
# docs/bench/emu_aggregation.json and docs/bench/emu_aggregation.md (the table
# docs/BENCHMARKS.md points at), with the command, commit, date and load averages.
#
#   bench/emu_aggregation.sh [path/to/tquic]
#   env: RUNS (default 3), SIZE (default 64M), SCENARIOS ("a b"), SCHEDULERS ("minrtt ecf
#        blest roundrobin weighted redundant"), CC (cubic), WINDOW (e.g. 64M: --window for
#        server and client; empty: the core's defaults), EMU_OUT (default docs/bench; a smoke
#        run that must not replace the published figures sets another directory).
# Real time on real sockets: run it on a quiet machine; the load averages are recorded.
set -euo pipefail
cd "$(dirname "$0")/.."

TQUIC=${1:-build/release/src/apps/tquic}
RUNS=${RUNS:-3}
SIZE=${SIZE:-64M}
SCENARIOS=${SCENARIOS:-"a b"}
SCHEDULERS=${SCHEDULERS:-"minrtt ecf blest roundrobin weighted redundant"}
CC=${CC:-cubic}
WINDOW=${WINDOW:-}
OUT=${EMU_OUT:-docs/bench}
[ -x "$TQUIC" ] || { echo "no tquic binary at $TQUIC" >&2; exit 2; }
win=()
[[ -n $WINDOW ]] && win=(--window "$WINDOW")
SERVER_PORT=${SERVER_PORT:-14434}
RELAY_PORT=${RELAY_PORT:-14433}
command="RUNS=$RUNS SIZE=$SIZE SCENARIOS=\"$SCENARIOS\" SCHEDULERS=\"$SCHEDULERS\" CC=$CC"
[[ -n $WINDOW ]] && command+=" WINDOW=$WINDOW"
command+=" bench/emu_aggregation.sh"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$OUT"

# Link profiles by scenario; one-way delay = RTT / 2.
links_a=("rate=50mbit,delay=10ms" "rate=30mbit,delay=30ms")
links_b=("rate=100mbit,delay=5ms" "rate=20mbit,delay=20ms" "rate=10mbit,delay=300ms")

"$TQUIC" perf server --listen 127.0.0.1:$SERVER_PORT --multipath --cc "$CC" "${win[@]}" >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "certificate sha256" "$work/server.log" && break; sleep 0.1; done
pin=$(sed -n 's/^certificate sha256 //p' "$work/server.log")
[ -n "$pin" ] || { echo "perf server did not start: $(cat "$work/server.log")" >&2; exit 1; }

# run SCENARIO CASE SCHEDULER|- "LINK-ARGS..." "CLIENT-PATH-ARGS...": one download through a
# fresh relay; appends one JSON line (client and relay reports) to $work/runs.jsonl.
run() {
  local scenario=$1 case_=$2 sched=$3 link_args=$4 path_args=$5
  # shellcheck disable=SC2086
  "$TQUIC" emu --listen 127.0.0.1:$RELAY_PORT --to 127.0.0.1:$SERVER_PORT --json $link_args \
    >"$work/relay.log" 2>&1 &
  local relay=$!
  for _ in $(seq 50); do grep -q "listening on" "$work/relay.log" && break; sleep 0.1; done
  local mp=()
  [[ $sched != - ]] && mp=(--multipath --scheduler "$sched")
  # shellcheck disable=SC2086
  timeout 300 "$TQUIC" perf client https://127.0.0.1:$RELAY_PORT/ --size "$SIZE" --pin "$pin" \
    --cc "$CC" --json "${win[@]}" "${mp[@]}" $path_args >"$work/client.json" \
    2>"$work/client.err" || true
  kill -TERM $relay; wait $relay || true
  python3 - "$scenario" "$case_" "$sched" "$work/client.json" "$work/relay.log" \
    >>"$work/runs.jsonl" <<'PY'
import json, sys
scenario, case, sched, client, relay = sys.argv[1:6]
def last_json(path):
    for line in reversed(open(path).read().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None
try:
    c = last_json(client)
except Exception:
    c = None
try:
    r = last_json(relay)
except Exception:
    r = None
print(json.dumps({"scenario": scenario, "case": case, "scheduler": sched, "client": c,
                  "relay": r}))
PY
  echo "  $scenario $case_ $sched: $(tail -n1 "$work/client.json" | cut -c1-120)" >&2
}

: >"$work/runs.jsonl"
for round in $(seq 1 "$RUNS"); do
  echo "round $round of $RUNS" >&2
  for sc in $SCENARIOS; do
    declare -n links="links_$sc"
    # Each link alone: its profile on 127.0.0.1, the client's only path.
    for i in "${!links[@]}"; do
      run "$sc" "link $((i + 1)) alone (${links[$i]})" - "--link 127.0.0.1=${links[$i]}" ""
    done
    link_args="" path_args=""
    for i in "${!links[@]}"; do
      link_args+=" --link 127.0.0.$((i + 1))=${links[$i]}"
      ((i > 0)) && path_args+=" --path 127.0.0.$((i + 1))"
    done
    for s in $SCHEDULERS; do
      run "$sc" "all links" "$s" "$link_args" "$path_args"
    done
    unset -n links
  done
done

cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
python3 - "$work/runs.jsonl" "$OUT" "$command" "$(git rev-parse --short HEAD)" \
  "$(date -u +%Y-%m-%dT%H:%MZ)" "$cpu" "$(nproc)" "$(uname -r)" "$load_start" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$SIZE" "$RUNS" "$CC" "${WINDOW:-default}" \
  "${links_a[*]}" "${links_b[*]}" <<'PY'
import json, re, statistics, sys
(path, outdir, command, commit, date, cpu, ncpu, kernel, load0, load1, size, runs, cc, window,
 links_a, links_b) = sys.argv[1:]
link_sets = {"a": links_a.split(), "b": links_b.split()}
def mbit(link):
    return float(re.search(r"rate=([0-9.]+)mbit", link).group(1))
def spread(v):
    return {"min": min(v), "median": statistics.median(v), "max": max(v)} if v else None
cases = {}
for line in open(path):
    run = json.loads(line)
    key = (run["scenario"], run["case"], run["scheduler"])
    cases.setdefault(key, []).append(run)
rows = []
for (scenario, case, sched), rs in cases.items():
    ok = [r for r in rs if r["client"] and r["client"].get("goodput_mbps", 0) > 0]
    links = link_sets[scenario]
    alone = re.match(r"link (\d+) alone", case)
    capacity = mbit(links[int(alone.group(1)) - 1]) if alone else sum(map(mbit, links))
    row = {"scenario": scenario, "case": case,
           "scheduler": "single path" if sched == "-" else sched,
           "link_mbps": capacity, "runs": len(rs), "failed_runs": len(rs) - len(ok),
           "goodput_mbps": spread([r["client"]["goodput_mbps"] for r in ok]),
           "share_of_link_rates": spread([r["client"]["goodput_mbps"] / capacity for r in ok]),
           "transfer_s": spread([r["client"]["transfer_seconds"] for r in ok]),
           "client_cpu_s": spread([r["client"]["cpu_seconds"] for r in ok]),
           "relay_cpu_s": spread([r["relay"]["cpu_seconds"] for r in ok if r["relay"]]),
           "relay_queue_drops": spread([sum(l["dropped_queue"] for l in r["relay"]["links"])
                                        for r in ok if r["relay"]])}
    paths = [r["client"].get("paths") or [] for r in ok]
    if paths and all(paths):
        n = min(len(p) for p in paths)
        def share(p, i):
            return p[i]["bytes_received"] / max(sum(x["bytes_received"] for x in p), 1)
        row["path_byte_share"] = [statistics.median(share(p, i) for p in paths) for i in range(n)]
        row["path_srtt_ms"] = [statistics.median(p[i]["srtt_ms"] for p in paths)
                               for i in range(n)]
    rows.append(row)
out = {"command": command, "commit": commit, "date": date, "cpu": cpu, "cpus": int(ncpu),
       "kernel": kernel, "load_average_at_start": load0, "load_average_at_end": load1,
       "size": size, "rounds": int(runs), "cc": cc, "window": window,
       "links": link_sets, "rows": rows}
json.dump(out, open(f"{outdir}/emu_aggregation.json", "w"), indent=2)

def cell(s, fmt):
    if not s:
        return "failed"
    return f"{fmt(s['median'])} ({fmt(s['min'])}-{fmt(s['max'])})"
with open(f"{outdir}/emu_aggregation.md", "w") as f:
    f.write("<!-- generated by bench/emu_aggregation.sh from docs/bench/emu_aggregation.json; "
            "do not edit -->\n")
    f.write(f"`{command}` at commit {commit}, {date}; {cpu} ({ncpu} CPUs), Linux {kernel}; "
            f"load average {load0} at the start, {load1} at the end. {size} download per run, "
            f"{cc}, windows: {window}; {runs} interleaved rounds, median (min-max). Share = "
            "goodput / the link rates (the emulator charges the 28-byte IPv4/UDP header of "
            "every packet to the link, so 100% is out of reach). Links: "
            + "; ".join(f"({k}) " + ", ".join(v) for k, v in link_sets.items()) + ".\n\n")
    f.write("| scenario | case | scheduler | goodput Mbit/s | share of the link rates "
            "| bytes per path | srtt ms per path | client CPU s | relay CPU s "
            "| relay queue drops | failed runs |\n")
    f.write("|---|---|---|---|---|---|---|---|---|---|---|\n")
    for r in rows:
        per_path = " / ".join(f"{100 * v:.0f}%" for v in r.get("path_byte_share", [])) or "-"
        srtt = " / ".join(f"{v:.0f}" for v in r.get("path_srtt_ms", [])) or "-"
        f.write(f"| ({r['scenario']}) | {r['case']} | {r['scheduler']} | "
                f"{cell(r['goodput_mbps'], lambda v: f'{v:.1f}')} | "
                f"{cell(r['share_of_link_rates'], lambda v: f'{100 * v:.0f}%')} of "
                f"{r['link_mbps']:.0f} | {per_path} | {srtt} | "
                f"{cell(r['client_cpu_s'], lambda v: f'{v:.2f}')} | "
                f"{cell(r['relay_cpu_s'], lambda v: f'{v:.2f}')} | "
                f"{cell(r['relay_queue_drops'], lambda v: f'{v:.0f}')} | "
                f"{r['failed_runs']}/{r['runs']} |\n")
PY
echo "wrote $OUT/emu_aggregation.json and $OUT/emu_aggregation.md" >&2

#!/bin/bash
# ctest bond_demo_netns (labels bond;netns, RUN_SERIAL): `demo/bond_demo.sh --quick`, the demo
# `./run demo` shows, in namespaces (needs root, or a user namespace with /dev/net/tun open to
# the user; the demo exits 77 = skip when neither works and says why). Asserts: the demo exits
# 0; its HTML report exists, holds the four charts and no script; summary.json says the TCP
# flow survived the fastest link going down (iperf3 exit 0, bytes delivered after the cut),
# the bonded goodput beat the best single link's, pings crossed the tunnel; the daemons exited
# 0 on SIGTERM (the demo fails otherwise). How soon the link carries traffic again after its
# return is reported, not asserted: with 3 s left in --quick mode, one run in about eight saw
# the returned path's RTT estimate at ~1 s and no traffic on it (bench/bond.sh measures it).
#   bond_demo_netns_test.sh TQUICD TQUIC [low]   (low: links of 8 + 4 Mbit/s, for sanitizers)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
DEMO=$HERE/../../demo/bond_demo.sh
TQUICD=${1:?usage: bond_demo_netns_test.sh TQUICD TQUIC [low]} TQUIC=${2:?}
# Links of 2 and 6 ms one-way, not the demo's default 10 and 40 ms: with today's data path
# (minrtt scheduler, docs/tquicd.md) one inner CUBIC flow in these short flows gains
# 1.21-1.47x over fibre alone at 2 + 6 ms (1.37-1.49x at 1 + 1 ms), but 0.85-1.09x at
# 10 + 40 ms and 0.97-1.26x at 10 + 20 ms, where LTE often stays nearly idle for the first
# 10 s (docs/demo.md, "Limits"). Move this to the default links once the data path aggregates
# there; the emu still adds a delay and a spread here, and every other step is the demo's own.
LINKS="fibre:40:2 lte:20:6"
[ "${3:-}" = low ] && LINKS="fibre:8:2 lte:4:6"
OUT=$(mktemp -d /tmp/tqbd-test.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
"$DEMO" --quick --out "$OUT/report" --links "$LINKS" "$TQUICD" "$TQUIC"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || { echo "FAIL: the demo exited $rc"; exit 1; }
page=$OUT/report/report.html
[ -s "$page" ] || { echo "FAIL: no report at $page"; exit 1; }
for chart in chart-bars chart-throughput chart-ping; do
  grep -q "<svg id=\"$chart\"" "$page" || { echo "FAIL: $chart missing from the report"; exit 1; }
done
! grep -q "<script" "$page" || { echo "FAIL: the report carries a script"; exit 1; }
python3 - "$OUT/report/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
checks = [
    ("the flow survived the link going down", s["flow_survived"] and s["bytes_after_down"] > 0),
    (f"bonded {s['bond_mbit']:.1f} Mbit/s beats the best single link {s['single_mbit']:.1f}",
     s["bond_beats_single"]),
    (f"pings crossed the tunnel ({s['ping_lost']} of {s['ping_sent']} lost)",
     s["ping_sent"] > 0 and s["ping_lost"] < s["ping_sent"] / 2),
]
failed = [what for what, ok in checks if not ok]
for what, ok in checks:
    print(("ok: " if ok else "FAIL: ") + what)
sys.exit(1 if failed else 0)
PY

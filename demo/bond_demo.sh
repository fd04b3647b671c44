#!/usr/bin/env bash
# The bond demo (docs/demo.md): a site with two or three WAN links bonded by tquicd into one
# multipath CONNECT-IP tunnel, in network namespaces (bench/bond/lib.sh):
#   LAN host == bond client (tquicd client) == links (tbf rate, tquic emu delay) == WAN ns ==
#   bond server (tquicd server) == "internet" host (iperf3 -s)
# It measures one TCP flow through the best single link, then through the bond while the
# fastest link goes down and comes back, pings through the tunnel all along, prints a live line
# per second per link, and ends with a report (text here, HTML with charts in the output
# directory, figures in summary.json).
#
#   demo/bond_demo.sh [--quick] [--out DIR] [--links "fibre:40:10 lte:20:40"]
#                     [--fail carrier|blackhole] [--cc cubic|bbr|reno] TQUICD TQUIC
#
# --links: name:rate Mbit/s:one-way delay ms per link (default fibre 40/10 + LTE 20/40; add
# e.g. sat:10:300 for a satellite). --quick: short flows (~25 s in all, for the ctest).
# Needs root, or an unprivileged user namespace and a world-accessible /dev/net/tun: without
# root it re-runs itself under `unshare --user --map-root-user --net --mount`.
# Exit: 0 the demo ran and the flow survived; 1 failure; 77 it cannot run here (says why).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
QUICK='' OUT='' FAIL=carrier LINKS="fibre:40:10 lte:20:40" CC=cubic
usage() {
  echo "usage: $0 [--quick] [--out DIR] [--links SPEC] [--fail carrier|blackhole]" \
    "[--cc cubic|bbr|reno] TQUICD TQUIC" >&2
  [ -z "${1:-}" ] || echo "bond demo: $1" >&2
  exit 2
}
ARGS=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --out) OUT=${2:?}; shift ;;
    --links) LINKS=${2:?}; shift ;;
    --fail) FAIL=${2:?}; shift; case $FAIL in carrier|blackhole) ;; *) usage ;; esac ;;
    --cc) CC=${2:?}; shift
      case $CC in cubic|bbr|reno) ;; *) usage "--cc: cubic, bbr or reno" ;; esac ;;
    -*) usage ;;
    *) break ;;
  esac
  shift
done
[ $# = 2 ] || usage
# Two or three links (up to 4 accepted), each name:Mbit/s:one-way ms; the name ends up in
# device names (tqbbl<name>, 15 bytes at most) and nftables table names.
n=0
for l in $LINKS; do
  [[ $l =~ ^[a-z][a-z0-9]{0,9}:[1-9][0-9]{0,3}:[0-9]{1,4}$ ]] ||
    usage "--links: '$l' is not name:Mbit/s:ms (name: a-z0-9, at most 10; whole numbers)"
  n=$((n + 1))
done
[ $n -ge 2 ] && [ $n -le 4 ] || usage "--links: 2 to 4 links, not $n"
TQUICD=$(realpath "$1") TQUIC=$(realpath "$2")
OUT=$(realpath -m "${OUT:-${TMPDIR:-/tmp}/tquic-bond-demo}")

# Without root: the same demo inside a user namespace where we are root (docs/demo.md).
cannot() { echo "bond demo: cannot run here: $*" >&2; exit 77; }
if [ "$(id -u)" != 0 ]; then
  [ -z "${TQBD_IN_USERNS:-}" ] || cannot "still not root inside the user namespace"
  unshare --user --map-root-user true 2>/dev/null ||
    cannot "unprivileged user namespaces are disabled (sysctl" \
      "kernel.unprivileged_userns_clone or user.max_user_namespaces); run as root"
  [ -r /dev/net/tun ] && [ -w /dev/net/tun ] ||
    cannot "/dev/net/tun is not readable and writable by $(id -un)" \
      "($(stat -c %A /dev/net/tun 2>/dev/null || echo missing)); TUN devices in a user namespace" \
      "need it world-accessible (Debian's default is crw-rw-rw-); run as root"
  echo "bond demo: not root: running in a user namespace" \
    "(unshare --user --map-root-user --net --mount)"
  exec env TQBD_IN_USERNS=1 unshare --user --map-root-user --net --mount "$0" "${ARGS[@]}"
fi
if [ -n "${TQBD_IN_USERNS:-}" ]; then
  # `ip netns add` binds namespaces under /run/netns: a private one in this mount namespace.
  if [ -d /run/netns ]; then
    mount -t tmpfs tqbd /run/netns
  else
    mount -t tmpfs tqbd /run && mkdir /run/netns
  fi || cannot "no private /run/netns in the user namespace"
fi
for tool in ip tc nft iperf3 ping openssl python3; do
  command -v $tool >/dev/null || cannot "$tool is missing (scripts/install-deps.sh installs it)"
done

if [ -n "$QUICK" ]; then
  T_SINGLE=4 T_BOND=11 T_DOWN=5.5 T_UP=8 WARMUP=2
else
  T_SINGLE=10 T_BOND=30 T_DOWN=12 T_UP=20 WARMUP=2
fi
IDLE_PING=1

. "$ROOT/bench/bond/lib.sh"
BB_LINKS=$LINKS
bb_init "$TQUICD" "$TQUIC"
# This demo's own namespace names (bond-common: prefix tqbd), so it never meets a bench run.
BB_LAN=tqbdl$BB_TAG BB_CLI=tqbdc$BB_TAG BB_WAN=tqbdw$BB_TAG BB_SRV=tqbds$BB_TAG
BB_NET=tqbdi$BB_TAG
CONTROL_SOCK=$BB_DIR/control.sock
# The output directory is emptied first, so only one this demo made (or an empty one) is used.
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -e "$OUT/.bond-demo" ]; then
  echo "bond demo: $OUT is not empty and not a previous demo's output; name another with --out" >&2
  exit 2
fi
rm -rf "$OUT" && mkdir -p "$OUT" && touch "$OUT/.bond-demo" ||
  { echo "bond demo: cannot create $OUT" >&2; exit 1; }
# The server stops first, on its own (SIGTERM): its exit status is part of the demo.
finish() {
  local rc=$?
  if [ -n "$BB_SERVER_PID" ] && kill -TERM "$BB_SERVER_PID" 2>/dev/null; then
    timeout 5 tail --pid="$BB_SERVER_PID" -f /dev/null
    wait "$BB_SERVER_PID"; local src=$?
    [ $src = 0 ] ||
      { echo "bond demo: tquicd server exited with status $src on SIGTERM" >&2; rc=1; }
    BB_SERVER_PID=''
  fi
  cp "$BB_DIR"/*.log "$OUT"/ 2>/dev/null
  bb_cleanup
  exit $rc
}
trap finish EXIT

# The fastest link: the single-link reference and the one taken down.
FAST='' FAST_RATE=-1
for l in $(bb_link_names); do
  r=$(bb_link_field "$l" rate)
  [ "$r" -gt "$FAST_RATE" ] && FAST=$l FAST_RATE=$r
done
[ -n "$FAST" ] || usage
now() { date +%s.%N; }
# event KIND LINK: logged with the time it is taken, before the action (docs/demo.md).
event() { echo "$(now) $1 $2" >> "$OUT/events.tsv"; echo "  >>> $1 $2 ($FAIL)"; }
# sleep_until T0 SECONDS: awk, not python3, whose start-up (a pyenv shim) can take 0.3 s.
sleep_until() {
  sleep "$(awk -v t="$1" -v d="$2" -v n="$(now)" 'BEGIN { s = t + d - n; print (s > 0 ? s : 0) }')"
}
# links_as FORMAT SEPARATOR: each link's name, rate and delay through printf.
links_as() {
  local l out=''
  for l in $(bb_link_names); do
    out+=$(printf "$1" "$l" "$(bb_link_field "$l" rate)" "$(bb_link_field "$l" delay)")$2
  done
  echo "${out%"$2"}"
}

echo "== tquicd bond demo: links $(links_as '%s %s Mbit/s %s ms' ', ') =="
echo "   ~$((T_SINGLE + T_BOND + 10)) s; the report goes to $OUT/report.html"
bb_setup; rc=$?
[ $rc = 77 ] && cannot "cannot create network namespaces"
[ $rc = 0 ] || bb_die "topology setup"
bb_server_start || bb_die "server not ready"

CONTROL_TOML="[control]
socket = \"$CONTROL_SOCK\""
# sample LINKS SECONDS FILE T0: live per-link lines (demo/sample_links.py) in the background.
sample() {
  local args=() l
  for l in $1; do args+=(--link "$l=$(bb_link_dev "$l")"); done
  inCLI python3 "$HERE/sample_links.py" "${args[@]}" --out "$3" --duration "$2" \
    --socket "$CONTROL_SOCK" --t0 "$4" &
  SAMPLER=$!
}
# iperf3_server PORT: a one-off receiver (-1) reporting every 100 ms (the report's delivery
# gaps); one per flow, each on its own port: a long-lived `iperf3 -s -J` (3.12) crashed here
# between two tests, and a one-off one can linger after its test (seen: "unable to receive
# control message") and keep the port.
iperf3_server() {
  local i
  ip netns exec "$BB_NET" iperf3 -s -1 -J -i 0.1 -B "$BB_NET_ADDR" -p "$1" \
    > "$BB_DIR/iperf3-server-$1.log" 2>&1 &
  disown $!  # it exits after its one test; bb_cleanup kills what is left in the namespace
  for i in $(seq 50); do
    ip netns exec "$BB_NET" ss -Htln "sport = :$1" | grep -q . && return 0
    sleep 0.1
  done
  return 1
}
# flow PORT SECONDS FILE: one TCP flow LAN -> internet, its congestion control pinned (--cc;
# the host's default is BBR).
# Bounded: a tunnel that died for good would otherwise leave iperf3 waiting for its results.
flow() {
  inLAN timeout $(($2 + 20)) iperf3 -c "$BB_NET_ADDR" -p "$1" -C "$CC" -t "$2" -J \
    --get-server-output > "$3"
}
# stop_client: SIGTERM; a client that does not exit 0 fails the demo (after the report).
DAEMON_FAILED=''
stop_client() {
  local pid=$BB_CLIENT_PID rc
  bb_client_stop
  wait "$pid"; rc=$?
  [ $rc = 0 ] ||
    { echo "bond demo: tquicd client exited with status $rc on SIGTERM" >&2; DAEMON_FAILED=1; }
}

echo
echo "-- 1. the best single link alone: $FAST, ${T_SINGLE} s of one TCP flow ($CC)"
bb_client_start single "$FAST" emu "$CONTROL_TOML" || bb_die "client (single link) not ready"
iperf3_server 5201 || bb_die "iperf3 -s"
t0=$(now)
sample "$FAST" "$T_SINGLE" "$BB_DIR/single-links.tsv" "$t0"
flow 5201 "$T_SINGLE" "$OUT/single.json" || bb_die "iperf3 through the single link failed"
wait $SAMPLER
stop_client

echo
echo "-- 2. the bond: one TCP flow for ${T_BOND} s, $FAST down at ${T_DOWN} s and back at" \
  "${T_UP} s, ping every 100 ms"
: > "$OUT/links.tsv"; : > "$OUT/events.tsv"
ALL=$(bb_link_names | tr '\n' ' ')
bb_client_start bond "$ALL" emu "$CONTROL_TOML" || bb_die "client (bond) not ready"
ip netns exec "$BB_LAN" ping -D -O -n -i 0.1 "$BB_NET_ADDR" > "$OUT/ping.txt" 2>&1 &
PING=$!
iperf3_server 5202 || bb_die "iperf3 -s"
sleep $IDLE_PING
t0=$(now)
sample "$ALL" "$T_BOND" "$OUT/links.tsv" "$t0"
flow 5202 "$T_BOND" "$OUT/bond.json" & FLOW=$!
sleep_until "$t0" "$T_DOWN"
event link_down "$FAST"
bb_link_down "$FAST" "$FAIL" || bb_die "taking $FAST down"
sleep_until "$t0" "$T_UP"
event link_up "$FAST"
bb_link_up "$FAST" "$FAIL" || bb_die "bringing $FAST back"
wait $FLOW; FLOW_RC=$?
wait $SAMPLER
kill -INT $PING; wait $PING
stop_client

cat > "$OUT/meta.json" <<EOT
{"t0": $t0, "single_link": "$FAST", "warmup": $WARMUP, "cc": "$CC", "direction": "up",
 "failure": "$FAIL",
 "links": [$(links_as '{"name": "%s", "rate_mbit": %s, "delay_ms": %s}' ', ')]}
EOT
echo
flow_failed() {
  echo "bond demo: the TCP flow through the bond failed (iperf3 exit $FLOW_RC; $OUT/bond.json)" >&2
  exit 1
}
if ! python3 "$HERE/report.py" "$OUT" --html "$OUT/report.html"; then
  [ $FLOW_RC = 0 ] || flow_failed
  bb_die "report"
fi
[ -z "$DAEMON_FAILED" ] || exit 1
[ $FLOW_RC = 0 ] || flow_failed
python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["flow_survived"] else 1)' \
  "$OUT/summary.json" ||
  { echo "bond demo: the flow did not survive the link going down" >&2; exit 1; }
exit 0

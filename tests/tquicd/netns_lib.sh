# Shared by tquicd's namespace tests (source it): a client and a server namespace named
# PREFIXc<PID> / PREFIXs<PID>, a scratch directory, the processes started (PIDS), and a
# cleanup that kills them and removes both namespaces and the directory on any exit.
# Exits 77 (ctest SKIP) without root or when namespaces cannot be made.
# Usage: netns_begin PREFIX; then fail MESSAGE prints the logs in $DIR and exits 1.
# KEEP_DIR=1 in the environment keeps $DIR (its logs) after the run.
netns_begin() {
  TAG=$$
  C=${1}c$TAG S=${1}s$TAG
  DIR=/tmp/tquicd-$1.$TAG
  PIDS=()
  mkdir -p "$DIR"
  trap netns_cleanup EXIT
  trap 'exit 1' INT TERM
  [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
  ip netns add "$C" || { echo "SKIP: cannot create network namespaces"; exit 77; }
  ip netns add "$S" || fail "netns add"
}
fail() {
  echo "FAIL: $*"
  # A running client prints its per-link figures into its log when stopped.
  [ -n "${CLIENT_PID:-}" ] && kill -TERM "$CLIENT_PID" 2>/dev/null && sleep 0.5
  for f in "$DIR"/*.log; do echo "--- $f"; tail -n 25 "$f"; done
  exit 1
}
netns_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  ip netns del "$C" 2>/dev/null; ip netns del "$S" 2>/dev/null
  [ -n "${KEEP_DIR:-}" ] || rm -rf "$DIR"
}
inC() { ip netns exec "$C" "$@"; }
inS() { ip netns exec "$S" "$@"; }
# The two-link topology of the tests: veths A (client) / As (server) on 198.18.N.0/24 and
# B / Bs on 198.18.N+1.0/24 (client .2, server .1), $SERVER_IP and $TARGET on the server's lo,
# the server routed over A (preferred) and B, rp_filter off on both ends (each link's socket is
# bound to its device, so replies come back on the link they left by). Shaping is the test's.
# Usage: netns_two_links N A B
netns_two_links() {
  local n=$1 a=$2 b=$3 x d
  ip link add "$a" netns "$C" type veth peer name "${a}s" netns "$S" &&
  ip link add "$b" netns "$C" type veth peer name "${b}s" netns "$S" &&
  ip -n "$C" addr add "198.18.$n.2/24" dev "$a" && ip -n "$S" addr add "198.18.$n.1/24" dev "${a}s" &&
  ip -n "$C" addr add "198.18.$((n + 1)).2/24" dev "$b" &&
  ip -n "$S" addr add "198.18.$((n + 1)).1/24" dev "${b}s" &&
  ip -n "$S" addr add "$SERVER_IP/32" dev lo && ip -n "$S" addr add "$TARGET/32" dev lo || return 1
  for x in "$C" "$S"; do
    ip -n "$x" link set lo up || return 1
    ip netns exec "$x" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 || return 1
  done
  for d in "$a" "$b"; do
    ip -n "$C" link set "$d" up && inC sysctl -qw "net.ipv4.conf.$d.rp_filter=0" &&
      ip -n "$S" link set "${d}s" up || return 1
  done
  ip -n "$C" route add "$SERVER_IP/32" via "198.18.$n.1" dev "$a" &&
  ip -n "$C" route add "$SERVER_IP/32" via "198.18.$((n + 1)).1" dev "$b" metric 100
}

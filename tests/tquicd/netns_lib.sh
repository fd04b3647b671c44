# Shared by tquicd's namespace tests (source it): a client and a server namespace named
# PREFIXc<PID> / PREFIXs<PID>, a scratch directory, the processes started (PIDS), and a
# cleanup that kills them and removes both namespaces and the directory on any exit.
# Exits 77 (ctest SKIP) without root or when namespaces cannot be made.
# Usage: netns_begin PREFIX; then fail MESSAGE prints the logs in $DIR and exits 1.
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
  rm -rf "$DIR"
}
inC() { ip netns exec "$C" "$@"; }
inS() { ip netns exec "$S" "$@"; }

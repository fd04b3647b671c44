#!/usr/bin/env bash
# The "http3" interop case: `tquic get` / `tquic serve` against another HTTP/3 stack over
# loopback UDP; every served file must arrive byte for byte (SHA-256 compared).
#   run_h3_case.sh --peer quicgo|ngtcp2 --direction tquic-client|tquic-server \
#                  --tquic PATH/tquic [--qg DIR(with h3server, h3client)] --work DIR
# quicgo: quic-go 0.29's http3 package (interop/quic-go/h3server, h3client).
# ngtcp2: Debian's ngtcp2-server/ngtcp2-client examples (gtlsserver -d DIR, gtlsclient
# --download DIR); gtlsclient exits 0 even when a transfer fails, so only the files count.
# Prints "PASS: http3" or "FAIL: <reason>" (with the logs' tails).
set -uo pipefail

peer=""; dir=""; tquic=""; qg=""; work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --peer) peer=$2; shift 2 ;;
    --direction) dir=$2; shift 2 ;;
    --tquic) tquic=$2; shift 2 ;;
    --qg) qg=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "run_h3_case: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$peer" ] && [ -n "$dir" ] && [ -x "$tquic" ] && [ -n "$work" ] || {
  echo "usage: run_h3_case.sh --peer quicgo|ngtcp2 --direction tquic-client|tquic-server" \
       "--tquic BIN [--qg DIR] --work DIR" >&2
  exit 2
}
tquic=$(realpath "$tquic"); work=$(realpath -m "$work")
[ -n "$qg" ] && qg=$(realpath "$qg")
rm -rf "$work" && mkdir -p "$work/www" "$work/out"
export SSLKEYLOGFILE=$work/keys.log

server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=""
}
fail() {
  echo "FAIL: $*"
  for f in server.out server.err client.out client.err; do
    [ -s "$work/$f" ] && { echo "---- $f (last 30 lines) ----"; tail -n 30 "$work/$f"; }
  done
  stop_server
  exit 1
}
trap stop_server EXIT

# Served files: sizes spanning one packet, many packets and many flow-control windows.
files="hello.txt:1000 mid.bin:100000 big.bin:3145728 odd.bin:65537"
names=""
for spec in $files; do
  name=${spec%%:*}; size=${spec##*:}
  head -c "$size" /dev/urandom > "$work/www/$name"
  names+="$name "
done

wait_port_file() {  # FILE
  for _ in $(seq 1 100); do [ -s "$1" ] && { cat "$1"; return 0; }; sleep 0.05; done
  return 1
}
wait_stdout_port() {  # FILE with "listening on ADDR:PORT"
  local line
  for _ in $(seq 1 100); do
    line=$(grep -m1 '^listening on ' "$1" 2>/dev/null) && { echo "${line##*:}"; return 0; }
    sleep 0.05
  done
  return 1
}
free_port() { echo $((20000 + RANDOM % 20000)); }

case "$peer:$dir" in
  quicgo:tquic-client)
    [ -x "$qg/h3server" ] || fail "no $qg/h3server (interop/build-quic-go.sh)"
    "$qg/h3server" -root "$work/www" -port-file "$work/port" \
      >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    port=$(wait_port_file "$work/port") || fail "h3server did not start"
    urls=(); for n in $names; do urls+=("https://127.0.0.1:$port/$n"); done
    timeout 60 "$tquic" get --insecure --keylog "$work/keys.log" -o "$work/out" "${urls[@]}" \
      >"$work/client.out" 2>"$work/client.err" || fail "tquic get exited $?"
    ;;
  quicgo:tquic-server)
    [ -x "$qg/h3client" ] || fail "no $qg/h3client (interop/build-quic-go.sh)"
    "$tquic" serve "$work/www" --listen 127.0.0.1:0 --keylog "$work/keys.log" \
      >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    port=$(wait_stdout_port "$work/server.out") || fail "tquic serve did not start"
    urls=(); for n in $names; do urls+=("https://127.0.0.1:$port/$n"); done
    timeout 60 "$qg/h3client" -out "$work/out" "${urls[@]}" \
      >"$work/client.out" 2>"$work/client.err" || fail "h3client exited $?"
    ;;
  ngtcp2:tquic-client)
    command -v gtlsserver >/dev/null || fail "gtlsserver missing (apt-get install ngtcp2-server)"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
      -subj /CN=localhost -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null ||
      fail "openssl could not make a certificate"
    port=$(free_port)
    gtlsserver -q -d "$work/www" 127.0.0.1 "$port" "$work/key.pem" "$work/cert.pem" \
      >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    sleep 0.5
    kill -0 "$server_pid" 2>/dev/null || fail "gtlsserver did not start"
    urls=(); for n in $names; do urls+=("https://127.0.0.1:$port/$n"); done
    timeout 60 "$tquic" get --insecure --keylog "$work/keys.log" -o "$work/out" "${urls[@]}" \
      >"$work/client.out" 2>"$work/client.err" || fail "tquic get exited $?"
    ;;
  ngtcp2:tquic-server)
    command -v gtlsclient >/dev/null || fail "gtlsclient missing (apt-get install ngtcp2-client)"
    "$tquic" serve "$work/www" --listen 127.0.0.1:0 --keylog "$work/keys.log" \
      >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    port=$(wait_stdout_port "$work/server.out") || fail "tquic serve did not start"
    urls=(); for n in $names; do urls+=("https://127.0.0.1:$port/$n"); done
    timeout 60 gtlsclient -q --exit-on-all-streams-close --download "$work/out" \
      127.0.0.1 "$port" "${urls[@]}" >"$work/client.out" 2>"$work/client.err"
    ;;
  *) fail "unknown peer/direction $peer:$dir" ;;
esac

for n in $names; do
  [ -f "$work/out/$n" ] || fail "$n was not downloaded"
  a=$(sha256sum <"$work/www/$n"); b=$(sha256sum <"$work/out/$n")
  [ "$a" = "$b" ] ||
    fail "$n differs ($(stat -c %s "$work/out/$n") of $(stat -c %s "$work/www/$n") bytes)"
done
stop_server
echo "PASS: http3"

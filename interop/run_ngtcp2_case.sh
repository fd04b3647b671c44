#!/usr/bin/env bash
# One transport-feature case of the ngtcp2 matrix (docs/interop.md): `tquic serve` against
# Debian's ngtcp2 0.12 `gtlsclient`, or `tquic get` against its `gtlsserver`, over loopback.
#   run_ngtcp2_case.sh --case CASE --direction tquic-client|tquic-server --tquic BIN --work DIR
# tquic-server cases: keyupdate migration rebind resumption zerortt retry loss
# tquic-client cases: retry loss preferredaddr
# gtlsclient exits 0 even when a transfer fails, so a case passes only if every file arrived
# byte for byte (SHA-256) AND the feature shows in the logs: ngtcp2's debug log (it runs
# without -q) and the "server-conn PEER: ..." summary line `tquic serve` prints per connection.
# Prints "PASS: CASE" or "FAIL: <reason>" (with the logs' tails). TQUIC_INTEROP_PCAP=1 also
# captures the traffic to WORK/capture.pcapng (secrets in WORK/keys.log).
set -uo pipefail

case_=""; dir=""; tquic=""; work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --case) case_=$2; shift 2 ;;
    --direction) dir=$2; shift 2 ;;
    --tquic) tquic=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "run_ngtcp2_case: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$case_" ] && [ -n "$dir" ] && [ -x "$tquic" ] && [ -n "$work" ] || {
  echo "usage: run_ngtcp2_case.sh --case CASE --direction tquic-client|tquic-server" \
       "--tquic BIN --work DIR" >&2
  exit 2
}
tquic=$(realpath "$tquic"); work=$(realpath -m "$work")
rm -rf "$work" && mkdir -p "$work/www" "$work/dl"
export SSLKEYLOGFILE=$work/keys.log  # gtlsclient/gtlsserver (GnuTLS) honour it

server_pid=""; capture_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
  fi
  if [ -n "$capture_pid" ]; then
    sleep 0.3
    kill -INT "$capture_pid" 2>/dev/null
    wait "$capture_pid" 2>/dev/null
    capture_pid=""
  fi
}
fail() {
  echo "FAIL: $*"
  local f
  for f in server.out server.err client.out client.err client2.err; do
    [ -s "$work/$f" ] || continue
    echo "---- $f (last 30 lines, ngtcp2 STREAM/ACK frame lines left out) ----"
    grep -v -E ' frm (tx|rx) [0-9]+ 1RTT (STREAM|ACK)' "$work/$f" | tail -n 30
  done
  echo "---- work dir: $work"
  stop_server
  exit 1
}
trap stop_server EXIT

# Files per case. keyupdate/migration/rebind need a transfer long enough that the event
# gtlsclient schedules (N ms after the handshake) falls inside it on loopback.
case "$case_" in
  keyupdate|migration|rebind) files="big.bin:10485760 small.txt:1000" ;;
  loss) files="lossy.bin:2097152 small.txt:1000" ;;
  resumption|zerortt) files="first.bin:16384 second.txt:3000" ;;
  retry|preferredaddr) files="retry.bin:65536 small.txt:1000" ;;
  *) fail "unknown case $case_" ;;
esac
for spec in $files; do head -c "${spec##*:}" /dev/urandom >"$work/www/${spec%%:*}"; done

check_files() {
  local spec n a b
  for spec in $files; do
    n=${spec%%:*}
    [ -f "$work/dl/$n" ] || fail "$n was not downloaded"
    a=$(sha256sum <"$work/www/$n"); b=$(sha256sum <"$work/dl/$n")
    [ "$a" = "$b" ] ||
      fail "$n differs ($(stat -c %s "$work/dl/$n") of $(stat -c %s "$work/www/$n") bytes)"
  done
}
start_capture() {  # PORT...
  [ "${TQUIC_INTEROP_PCAP:-0}" = 1 ] || return 0
  local filter="" p
  for p in "$@"; do filter+="${filter:+ or }udp port $p"; done
  tshark -q -i lo -f "$filter" -w "$work/capture.pcapng" >"$work/tshark.err" 2>&1 &
  capture_pid=$!
  sleep 1
}
# `grep -c` of a fixed string in a file, 0 when absent.
count() { grep -c -F -- "$2" "$1" 2>/dev/null || true; }
# The value of KEY=N in the server's "server-conn" line number $1 (1-based).
server_stat() {
  grep '^server-conn ' "$work/server.err" | sed -n "${1}p" | grep -o -E "\b$2=[a-z0-9]+" |
    cut -d= -f2
}

urls() { local spec; for spec in $files; do echo "https://127.0.0.1:$1/${spec%%:*}"; done; }

if [ "$dir" = tquic-server ]; then
  command -v gtlsclient >/dev/null || fail "gtlsclient missing (apt-get install ngtcp2-client)"
  serve_args=()
  [ "$case_" = retry ] && serve_args+=(--retry)
  [ "$case_" = zerortt ] && serve_args+=(--0rtt)
  "$tquic" serve "$work/www" --listen 127.0.0.1:0 --keylog "$work/keys.log" "${serve_args[@]}" \
    >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  port=""
  for _ in $(seq 1 100); do
    line=$(grep -m1 '^listening on ' "$work/server.out" 2>/dev/null) && { port=${line##*:}; break; }
    sleep 0.05
  done
  [ -n "$port" ] || fail "tquic serve did not start"
  start_capture "$port"
  mapfile -t u < <(urls "$port")
  gc=(gtlsclient --no-quic-dump --no-http-dump --exit-on-all-streams-close --timeout=10s
    --download "$work/dl")
  case "$case_" in
    keyupdate) gc+=(--key-update=20ms) ;;
    migration) gc+=(--change-local-addr=30ms) ;;
    # gtlsclient 0.12 rebinds silently: with only ACKs to send it never sends from the new
    # address, and it drops what still arrives on the old one, so the connection would stall
    # (ngtcp2 against ngtcp2 too). An upload (-d, a request body our server discards) keeps
    # ack-eliciting packets coming from the client after the rebind.
    rebind)
      head -c 2000000 /dev/urandom >"$work/upload.bin"
      gc+=(--change-local-addr=30ms --nat-rebinding -d "$work/upload.bin") ;;
    loss) gc+=(--tx-loss=0.1 --rx-loss=0.1) ;;
    resumption) gc+=(--session-file="$work/session.pem" --tp-file="$work/tp.txt"
      --disable-early-data) ;;
    zerortt) gc+=(--session-file="$work/session.pem" --tp-file="$work/tp.txt") ;;
    retry) ;;
    *) fail "case $case_ has no tquic-server direction" ;;
  esac
  timeout 60 "${gc[@]}" 127.0.0.1 "$port" "${u[@]}" >"$work/client.out" 2>"$work/client.err"
  if [ "$case_" = resumption ] || [ "$case_" = zerortt ]; then
    check_files
    [ -s "$work/session.pem" ] || fail "gtlsclient stored no session (no NewSessionTicket?)"
    rm -rf "$work/dl" && mkdir -p "$work/dl"
    timeout 60 "${gc[@]}" 127.0.0.1 "$port" "${u[@]}" >"$work/client2.out" 2>"$work/client2.err"
  fi
  stop_server
  check_files
  log=$work/client.err
  [ -s "$work/client2.err" ] && log=$work/client2.err
  grep -q '^server-conn ' "$work/server.err" || fail "tquic serve printed no server-conn line"
  case "$case_" in
    keyupdate)
      [ "$(count "$log" 'Initiate key update')" -ge 1 ] || fail "gtlsclient started no key update"
      # Packets from our server in key phase 1: it followed the update (RFC 9001 §6.2).
      [ "$(count "$log" 'type=1RTT k=1')" -ge 1 ] || fail "no packet from tquic in key phase 1"
      [ "$(server_stat 1 key_updates)" -ge 1 ] || fail "tquic serve counted no key update"
      ;;
    migration)
      [ "$(count "$log" 'Changing local address')" -ge 1 ] || fail "gtlsclient did not migrate"
      grep -q 'Path validation against path .* succeeded' "$log" ||
        fail "gtlsclient's path validation of the new path did not succeed"
      [ "$(server_stat 1 migrations)" -ge 1 ] || fail "tquic serve did not move the path"
      ;;
    rebind)
      [ "$(count "$log" 'Changing local address')" -ge 1 ] || fail "gtlsclient did not rebind"
      # After a rebind only the server validates: it must send PATH_CHALLENGE to the new
      # address (RFC 9000 §9.3) and gtlsclient must have answered it.
      sed -n '/Changing local address/,$p' "$log" | grep ' frm rx .* PATH_CHALLENGE' >/dev/null ||
        fail "no PATH_CHALLENGE from tquic on the rebound path"
      [ "$(server_stat 1 migrations)" -ge 1 ] || fail "tquic serve did not move the path"
      [ "$(server_stat 1 path_challenges_sent)" -ge 1 ] || fail "tquic serve sent no PATH_CHALLENGE"
      ;;
    loss)
      [ "$(count "$log" 'Simulated outgoing packet loss')" -ge 1 ] &&
        [ "$(count "$log" 'Simulated incoming packet loss')" -ge 1 ] ||
        fail "gtlsclient dropped no packets"
      ;;
    resumption)
      [ "$(server_stat 1 resumed)" = false ] || fail "the first connection claims resumption"
      [ "$(server_stat 2 resumed)" = true ] || fail "the second connection did not resume"
      ;;
    zerortt)
      [ "$(server_stat 2 resumed)" = true ] || fail "the second connection did not resume"
      grep -q ' frm tx [0-9]* 0RTT STREAM' "$log" ||
        fail "gtlsclient sent no 0-RTT STREAM frame (our ticket allows no early data?)"
      ! grep -q 'Early data was rejected by server' "$log" ||
        fail "tquic rejected early data in TLS (no early_data in its EncryptedExtensions)"
      # Accepted in TLS is not enough: the 0-RTT packets must also be processed (and so
      # acknowledged); ngtcp2 logs "rcv pkn=N lost" for those it had to send again in 1-RTT.
      for pkn in $(sed -n 's/.* pkt tx pkn=\([0-9]*\) .*type=0RTT.*/\1/p' "$log"); do
        ! grep -q " rcv pkn=$pkn lost" "$log" ||
          fail "tquic accepted early data in TLS but dropped 0-RTT packet $pkn" \
            "(ngtcp2 declared it lost and re-sent its data in 1-RTT)"
      done
      ;;
    retry)
      grep -q ' pkt rx .* type=Retry' "$log" || fail "gtlsclient received no Retry"
      grep -q 'retry_source_connection_id=' "$log" ||
        fail "tquic's transport parameters lack retry_source_connection_id"
      ;;
  esac
else
  command -v gtlsserver >/dev/null || fail "gtlsserver missing (apt-get install ngtcp2-server)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=localhost -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null ||
    fail "openssl could not make a certificate"
  port=$((20000 + RANDOM % 20000)); port2=$((port + 1))
  gs=(gtlsserver --no-quic-dump --no-http-dump -d "$work/www")
  case "$case_" in
    retry) gs+=(-V) ;;
    loss) gs+=(--tx-loss=0.1 --rx-loss=0.1) ;;
    preferredaddr) gs+=(--preferred-ipv4-addr="127.0.0.1:$port2") ;;
    *) fail "case $case_ has no tquic-client direction" ;;
  esac
  "${gs[@]}" 127.0.0.1 "$port" "$work/key.pem" "$work/cert.pem" \
    >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  sleep 0.5
  kill -0 "$server_pid" 2>/dev/null || fail "gtlsserver did not start"
  start_capture "$port" "$port2"
  mapfile -t u < <(urls "$port")
  timeout 60 "$tquic" get --insecure --keylog "$work/keys.log" -o "$work/dl" "${u[@]}" \
    >"$work/client.out" 2>"$work/client.err" || fail "tquic get exited $?"
  stop_server
  check_files
  log=$work/server.err
  case "$case_" in
    retry)
      grep -q 'Sending Retry packet' "$log" || fail "gtlsserver sent no Retry"
      grep -q 'Verifying Retry token' "$log" || fail "tquic get did not echo the Retry token"
      ;;
    loss)
      [ "$(count "$log" 'Simulated outgoing packet loss')" -ge 1 ] &&
        [ "$(count "$log" 'Simulated incoming packet loss')" -ge 1 ] ||
        fail "gtlsserver dropped no packets"
      ;;
    preferredaddr)
      # RFC 9000 §9.6: a client that uses the preferred address validates it and moves there;
      # gtlsserver then receives on $port2.
      grep -q "Received packet: local=\[127.0.0.1\]:$port2 " "$log" ||
        fail "the transfer completed, but tquic get never used the server's preferred" \
          "address 127.0.0.1:$port2 (no preferred_address migration in the client)"
      ;;
  esac
fi
# tquic's own stderr (server.err for serve, client.err for get) must hold no sanitizer report.
own=$work/server.err; [ "$dir" = tquic-client ] && own=$work/client.err
! grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$own" || fail "sanitizer report"
echo "PASS: $case_"

# Functions behind run_case.sh (sourced; expects case_, dir, tquic, qg, work to be set).
# shellcheck shell=bash

# Files each case serves: "name:bytes" pairs. Sizes are chosen so that a transfer spans
# many congestion windows (transfer, keyupdate), or many streams (multiplexing: more than
# either side's initial stream limit of 100, so MAX_STREAMS must be exchanged).
case_files() {
  case "$1" in
    handshake) echo "hello.txt:1024" ;;
    transfer) echo "file_a:5242880 file_b:3145728 file_c:1048577" ;;
    multiplexing)
      local i out=""
      for i in $(seq 1 150); do out+="small_$i:$((512 + (i * 37) % 3500)) "; done
      echo "$out" ;;
    chacha20) echo "chacha.bin:1048576" ;;
    retry) echo "retry.bin:65536" ;;
    resumption|zerortt) echo "first.bin:16384 second.bin:20000 third.bin:3000" ;;
    keyupdate|clientkeyupdate) echo "keyupdate.bin:4194304" ;;
    datagram) echo "dgram.txt:2048" ;;
    *) return 1 ;;
  esac
}

fail() {
  echo "FAIL: $*"
  local f
  for f in server.out server.err client.out client.err; do
    if [ -s "$work/$f" ]; then
      echo "---- $f (last 40 lines) ----"
      tail -n 40 "$work/$f"
    fi
  done
  echo "---- work dir: $work (keys.log, qlog/, capture.pcapng with TQUIC_INTEROP_PCAP=1)"
  stop_server
  exit 1
}

# Does `tquic SUBCOMMAND --help` list OPTION?
tquic_has() { "$tquic" "$1" --help 2>&1 | grep -q -- "$2\b"; }

need_tquic() {
  local sub=$1 opt=$2 why=$3
  tquic_has "$sub" "$opt" ||
    fail "tquic $sub has no $opt option, which the $case_ case needs ($why); see docs/interop.md"
}

# quic-go's server prints a "server-conn N:" line when connection N ends, which can be a little
# after our client exits (its CONNECTION_CLOSE may need a retransmission on a loaded machine):
# wait for the lines the checks need before stopping the server.
wait_server_conns() {
  local want=$1 i
  for i in $(seq 1 100); do
    [ "$(grep -c '^server-conn ' "$work/server.out" 2>/dev/null)" -ge "$want" ] && return 0
    sleep 0.1
  done
}

server_pid=""
server_rc=""
capture_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null
    local i
    for i in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_rc=$?
    server_pid=""
  fi
  if [ -n "$capture_pid" ]; then
    sleep 0.3
    kill -INT "$capture_pid" 2>/dev/null
    wait "$capture_pid" 2>/dev/null
    capture_pid=""
  fi
}

# Waits for the server to print its bound port; sets port.
wait_port() {
  local i line
  port=""
  for i in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || fail "the server exited before listening"
    line=$(grep -m1 -E '^listening (on )?127\.0\.0\.1:[0-9]+' "$work/server.out" 2>/dev/null)
    if [ -n "$line" ]; then
      port=${line##*:}
      port=${port%%[^0-9]*}
      return 0
    fi
    sleep 0.1
  done
  fail "the server did not report its port within 10 s"
}

start_capture() {
  [ "${TQUIC_INTEROP_PCAP:-0}" = 1 ] || return 0
  command -v tshark >/dev/null || { echo "note: tshark missing, no capture"; return 0; }
  tshark -q -i lo -f "udp port $port" -w "$work/capture.pcapng" >"$work/tshark.err" 2>&1 &
  capture_pid=$!
  sleep 1
}

# Compares every served file with its download, by SHA-256.
check_files() {
  local spec name want got
  for spec in "$@"; do
    name=${spec%%:*}
    [ -f "$work/dl/$name" ] || fail "$name was not downloaded"
    want=$(sha256sum <"$work/www/$name" | cut -d' ' -f1)
    got=$(sha256sum <"$work/dl/$name" | cut -d' ' -f1)
    [ "$want" = "$got" ] ||
      fail "$name differs: served sha256 $want ($(stat -c%s "$work/www/$name") bytes)," \
        "downloaded sha256 $got ($(stat -c%s "$work/dl/$name") bytes)"
  done
}

# Value of key=value on the first line of FILE starting with PREFIX (empty if none).
field() {
  grep -m1 -- "^$2" "$work/$1" | tr ' ' '\n' | grep -m1 "^$3=" | cut -d= -f2
}

expect_ge() {  # expect_ge WHAT VALUE MIN
  [ -n "$2" ] && [ "$2" -ge "$3" ] 2>/dev/null || fail "$1 is '${2}', expected at least $3"
}
expect_eq() {  # expect_eq WHAT VALUE WANT
  [ "$2" = "$3" ] || fail "$1 is '${2}', expected $3"
}

run_case() {
  local specs spec name size
  specs=$(case_files "$case_") || { echo "run_case: unknown case $case_" >&2; exit 2; }
  rm -rf "$work"
  mkdir -p "$work/www" "$work/dl" "$work/qlog"
  for spec in $specs; do
    name=${spec%%:*}; size=${spec##*:}
    head -c "$size" /dev/urandom >"$work/www/$name"
  done
  # shellcheck disable=SC2206
  local files=($specs) paths=()
  for spec in "${files[@]}"; do paths+=("/${spec%%:*}"); done
  local keys="$work/keys.log"
  : >"$keys"
  cd "$work" || exit 2

  case "$dir" in
    tquic-client) run_tquic_client ;;
    tquic-server) run_tquic_server ;;
    *) echo "run_case: unknown direction $dir" >&2; exit 2 ;;
  esac
  check_files "${files[@]}"
  # 143: ended by our SIGTERM without handling it. Anything else (crash, sanitizer) fails.
  case "$server_rc" in 0|143) ;; *) fail "the server exited with status $server_rc" ;; esac
  if grep -l -E "AddressSanitizer|LeakSanitizer|runtime error:" "$work/server.err" \
      "$work/client.err" 2>/dev/null; then
    fail "a sanitizer reported an error (see the files named above)"
  fi
  echo "PASS: $case_ ($dir)"
}

# TQUIC's server, quic-go's client (qgclient): the checks read qgclient's "client-conn" lines.
run_tquic_server() {
  local sflags=() cflags=()
  case "$case_" in
    chacha20) sflags+=(--chacha20); cflags+=(-chacha20) ;;
    retry) need_tquic server --retry "send a Retry to every client"; sflags+=(--retry) ;;
    resumption) cflags+=(-resume) ;;
    zerortt) need_tquic server --0rtt "accept 0-RTT"; sflags+=(--0rtt); cflags+=(-0rtt) ;;
    keyupdate) cflags+=(-keyupdate 100) ;;
    clientkeyupdate)
      # With quic-go as the client this is the keyupdate case; TQUIC's client is tested here.
      echo "run_case: clientkeyupdate runs only with --direction tquic-client" >&2; exit 2 ;;
    datagram)
      need_tquic server --datagram "enable DATAGRAM and echo each one"
      sflags+=(--datagram); cflags+=(-datagrams 100) ;;
  esac
  # shellcheck disable=SC2086  # TQUIC_INTEROP_ARGS: extra tquic options, for debugging
  "$tquic" server --listen 127.0.0.1:0 --root "$work/www" --keylog "$keys" \
    --qlog-dir "$work/qlog" "${sflags[@]}" ${TQUIC_INTEROP_ARGS:-} >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  wait_port
  start_capture
  timeout 60 "$qg/qgclient" -addr "127.0.0.1:$port" -out "$work/dl" -keylog "$keys" \
    -qlog "$work/qlog" "${cflags[@]}" "${paths[@]}" >"$work/client.out" 2>"$work/client.err"
  local rc=$?
  stop_server
  [ $rc = 124 ] && fail "quic-go client timed out after 60 s"
  [ $rc = 0 ] || fail "quic-go client exited with $rc: $(tail -n1 "$work/client.err")"
  expect_eq "ALPN (quic-go client)" "$(field client.out 'client-conn 0:' alpn)" hq-interop
  case "$case_" in
    chacha20)
      expect_eq "cipher suite (quic-go client)" "$(field client.out 'client-conn 0:' cipher)" 0x1303 ;;
    retry)
      expect_eq "Retry packets received (quic-go client)" \
        "$(field client.out 'client-conn 0:' retries_received)" 1 ;;
    resumption)
      expect_eq "second connection resumed (quic-go client)" \
        "$(field client.out 'client-conn 1:' resumed)" true ;;
    zerortt)
      expect_eq "0-RTT accepted (quic-go client)" "$(field client.out 'client-conn 1:' used0rtt)" true
      expect_ge "0-RTT packets sent (quic-go client)" \
        "$(field client.out 'client-conn 1:' zero_rtt_sent)" 1 ;;
    keyupdate)
      # quic-go starts update N+1 only once the peer has answered update N (RFC 9001 §6.1),
      # so 2 or more local updates show TQUIC responded to a peer-initiated update.
      expect_ge "key updates started by quic-go" \
        "$(field client.out 'client-conn 0:' key_updates_local)" 2 ;;
    datagram)
      expect_eq "datagrams echoed (quic-go client)" \
        "$(field client.out 'client-conn 0:' datagrams_echoed)" 100 ;;
  esac
}

# TQUIC's client, quic-go's server (qgserver): the checks read qgserver's "server-conn",
# "server-stats" and "server-retries-sent" lines, printed when it is stopped.
run_tquic_client() {
  local sflags=() cflags=()
  case "$case_" in
    chacha20) sflags+=(-chacha20); cflags+=(--chacha20) ;;
    retry) sflags+=(-retry) ;;
    resumption)
      need_tquic client --resume "second connection resumes the first one's session"
      cflags+=(--resume) ;;
    zerortt)
      need_tquic client --0rtt "second connection sends its requests as 0-RTT"
      sflags+=(-0rtt); cflags+=(--0rtt) ;;
    keyupdate) sflags+=(-keyupdate 100) ;;
    clientkeyupdate)
      need_tquic client --key-update "initiate a key update every N packets"
      cflags+=(--key-update 100) ;;
    datagram)
      need_tquic client --datagrams "send N datagrams and expect them echoed"
      sflags+=(-datagram); cflags+=(--datagrams 100) ;;
  esac
  "$qg/qgserver" -listen 127.0.0.1:0 -root "$work/www" -keylog "$keys" -qlog "$work/qlog" \
    -cert-out "$work/server-cert.pem" "${sflags[@]}" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  wait_port
  start_capture
  local urls=() p
  for p in "${paths[@]}"; do urls+=("https://127.0.0.1:$port$p"); done
  # TQUIC verifies quic-go's self-signed certificate (IP SAN 127.0.0.1) against it as the CA.
  timeout "${TQUIC_INTEROP_CLIENT_TIMEOUT:-60}" "$tquic" client -o "$work/dl" --ca "$work/server-cert.pem" --keylog "$keys" \
    --qlog-dir "$work/qlog" "${cflags[@]}" ${TQUIC_INTEROP_ARGS:-} "${urls[@]}" >"$work/client.out" 2>"$work/client.err"
  local rc=$?
  case "$case_" in resumption|zerortt) wait_server_conns 2 ;; *) wait_server_conns 1 ;; esac
  stop_server
  [ $rc = 124 ] && fail "tquic client timed out after 60 s"
  [ $rc = 0 ] || fail "tquic client exited with $rc: $(tail -n1 "$work/client.err")"
  expect_eq "ALPN (quic-go server)" "$(field server.out 'server-conn 0:' alpn)" hq-interop
  case "$case_" in
    chacha20)
      expect_eq "cipher suite (quic-go server)" "$(field server.out 'server-conn 0:' cipher)" 0x1303 ;;
    retry)
      expect_ge "Retry packets sent (quic-go server)" \
        "$(grep -m1 '^server-retries-sent' server.out | cut -d' ' -f2)" 1 ;;
    resumption)
      expect_eq "second connection resumed (quic-go server)" \
        "$(field server.out 'server-conn 1:' resumed)" true ;;
    zerortt)
      expect_eq "0-RTT accepted (quic-go server)" "$(field server.out 'server-conn 1:' used0rtt)" true
      expect_ge "0-RTT packets received (quic-go server)" \
        "$(field server.out 'server-stats 1:' zero_rtt_received)" 1 ;;
    keyupdate)
      expect_ge "key updates started by quic-go" \
        "$(field server.out 'server-stats 0:' key_updates_local)" 2 ;;
    clientkeyupdate)
      # quic-go counts an update as remote when a packet in a new key phase arrives before it
      # changed its own keys; 2 or more show it answered TQUIC's first update (RFC 9001 §6.1)
      # and TQUIC then started another.
      expect_ge "key updates started by TQUIC (seen by the quic-go server)" \
        "$(field server.out 'server-stats 0:' key_updates_remote)" 2 ;;
    datagram)
      expect_ge "datagrams echoed (quic-go server)" \
        "$(field server.out 'server-conn 0:' datagrams_echoed)" 100 ;;
  esac
}

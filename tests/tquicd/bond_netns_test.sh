#!/bin/bash
# End-to-end test of the tquicd bond (ctest label bond; needs root and network namespaces).
#   client ns (tquicd client, TUN tqb0) ==link a 40 Mbit/s (tbf)== server ns (tquicd server,
#                                        ==link b 20 Mbit/s (tbf)==  TUN tqbs0, iperf3 -s)
# Asserts: ping crosses the tunnel; a 4 s single TCP flow (iperf3 -C cubic, first second
# omitted) through the bond carries more than 1.25x the same flow through a single-link
# tunnel (faster link) and more than 1.1x the faster link's shaped rate; link a taken down mid-flow leaves the flow alive and
# completing; a wrong token is refused (403) and counted by the server; a client certificate under
# server.client_ca authenticates a client without a token, one under another CA is refused in
# the handshake; SIGHUP applies a live key; SIGTERM removes the client's TUN device and the client
# exits 0. Namespaces carry the PID (netns_lib.sh, prefix tqb) and are removed on exit, failure
# included (KEEP_DIR=1 keeps the scratch directory and its logs).
set -u
TQUICD=${1:?usage: bond_netns_test.sh path/to/tquicd [low]}
# "low": links of 8 and 4 Mbit/s instead of 40 and 20, for sanitizer builds (same assertions,
# scaled).
# The aggregation goal is the release build's. At the sanitizers' low rates (4 s flows of a few
# hundred packets, ASan's CPU cost) the bonded figure ranged from 8.0 to 10.2 Mbit/s over the
# same runs (one link: 7.2), so there the run checks function, not aggregation: the bond carries
# at least 90 % of one link and 70 % of the faster link's shaped rate.
if [ "${2:-}" = low ]; then
  RATE_A=8 RATE_B=4 GAIN_NUM=9 GAIN_DEN=10 ABOVE_A=7
else
  RATE_A=40 RATE_B=20 GAIN_NUM=5 GAIN_DEN=4 ABOVE_A=11
fi
. "$(dirname "$0")/netns_lib.sh"
netns_begin tqb
SERVER_IP=198.19.0.1 TARGET=198.18.20.1
setup() {
  netns_two_links 10 la lb &&
  # Rate limits both ways (bursts of 12.8 ms at the link's rate).
  inC tc qdisc add dev la root tbf rate ${RATE_A}mbit burst $((RATE_A * 1600)) latency 40ms &&
  inS tc qdisc add dev las root tbf rate ${RATE_A}mbit burst $((RATE_A * 1600)) latency 40ms &&
  inC tc qdisc add dev lb root tbf rate ${RATE_B}mbit burst $((RATE_B * 1600)) latency 40ms &&
  inS tc qdisc add dev lbs root tbf rate ${RATE_B}mbit burst $((RATE_B * 1600)) latency 40ms
}
setup || fail "topology setup"

# Certificate, tokens, configurations.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bond \
  -addext subjectAltName=IP:$SERVER_IP -keyout "$DIR/key.pem" -out "$DIR/cert.pem" >/dev/null 2>&1 ||
  fail "openssl"
"$TQUICD" gen-token site1 > "$DIR/tokens" && chmod 600 "$DIR/tokens" "$DIR/key.pem" || fail "gen-token"
# Client certificates: a CA the server trusts (server.client_ca), a client certificate under it
# (CN=site-cert) and one under another CA (refused in the handshake).
mkcert() {  # name CN issuer-name|self
  local n=$1 cn=$2 issuer=$3
  if [ "$issuer" = self ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$cn" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
      -keyout "$DIR/$n.key" -out "$DIR/$n.pem" >/dev/null 2>&1
  else
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
      -keyout "$DIR/$n.key" -out "$DIR/$n.csr" >/dev/null 2>&1 &&
    openssl x509 -req -in "$DIR/$n.csr" -CA "$DIR/$issuer.pem" -CAkey "$DIR/$issuer.key" \
      -CAcreateserial -days 2 -out "$DIR/$n.pem" >/dev/null 2>&1
  fi && chmod 600 "$DIR/$n.key"
}
{ mkcert ca "bond clients" self && mkcert site site-cert ca && mkcert rogue-ca "rogue" self &&
  mkcert rogue site-cert rogue-ca; } || fail "openssl client certificates"
cut -d' ' -f2 "$DIR/tokens" > "$DIR/client.token"
"$TQUICD" gen-token other | cut -d' ' -f2 > "$DIR/wrong.token"
chmod 600 "$DIR/client.token" "$DIR/wrong.token"
cat > "$DIR/server.toml" <<EOT
[daemon]
role = "server"
state_dir = "$DIR"
[tunnel]
name = "tqbs0"
mtu = 1500
[server]
listen = "0.0.0.0:4433"
certificate = "$DIR/cert.pem"
key = "$DIR/key.pem"
tokens_file = "$DIR/tokens"
client_ca = "$DIR/ca.pem"
pools = ["198.18.200.0/24"]
[metrics]
listen = ""
[control]
socket = "$DIR/server.sock"
EOT
client_toml() {  # name token-file|cert:NAME links...
  local name=$1 token=$2 auth; shift 2
  case $token in
    cert:*) auth="certificate = \"$DIR/${token#cert:}.pem\"
key = \"$DIR/${token#cert:}.key\"" ;;
    *) auth="token_file = \"$token\"" ;;
  esac
  cat > "$DIR/$name.toml" <<EOT
[daemon]
role = "client"
state_dir = "$DIR"
[tunnel]
name = "tqb0"
mtu = 1400
[client]
server_url = "https://$SERVER_IP:4433/"
$auth
pinned_cert = "$DIR/cert.pem"
[metrics]
listen = ""
[control]
socket = "$DIR/$name.sock"
[log]
level = "info"
EOT
  for l in "$@"; do
    case $l in
      a) printf '[[link]]\nname = "a"\ninterface = "la"\nsource = "198.18.10.2"\n' ;;
      b) printf '[[link]]\nname = "b"\ninterface = "lb"\nsource = "198.18.11.2"\n' ;;
    esac >> "$DIR/$name.toml"
  done
}
client_toml bond "$DIR/client.token" a b
client_toml single "$DIR/client.token" a
client_toml wrong "$DIR/wrong.token" a b
client_toml cert cert:site a
client_toml rogue cert:rogue a
"$TQUICD" check -q -c "$DIR/server.toml" || fail "server config refused"
"$TQUICD" check -q -c "$DIR/bond.toml" || fail "client config refused"

# (`ip netns exec` run directly, not through inC/inS, so $! is the daemon itself.)
ip netns exec "$S" "$TQUICD" server -c "$DIR/server.toml" > "$DIR/server.log" 2>&1 & PIDS+=($!)
SERVER_PID=$!
for i in $(seq 50); do grep -q "tquicd: ready" "$DIR/server.log" && break; sleep 0.1; done
grep -q "tquicd: ready server" "$DIR/server.log" || fail "server not ready"
inS iperf3 -s -B $TARGET -D --logfile "$DIR/iperf3-server.log" -I "$DIR/iperf3.pid" ||
  fail "iperf3 -s"
for i in $(seq 20); do [ -s "$DIR/iperf3.pid" ] && break; sleep 0.1; done
PIDS+=($(cat "$DIR/iperf3.pid"))

# Starts a client with config $1, waits for its ready line; sets CLIENT_PID.
start_client() {
  ip netns exec "$C" "$TQUICD" client -c "$DIR/$1.toml" > "$DIR/client-$1.log" 2>&1 &
  CLIENT_PID=$!
  PIDS+=($CLIENT_PID)
  for i in $(seq 50); do grep -q "tquicd: ready" "$DIR/client-$1.log" && break; sleep 0.1; done
  grep -q "tquicd: ready client" "$DIR/client-$1.log" || fail "client $1 not ready"
  # The server's advertised route holds the server's own address, which the client does not
  # install (docs/tquicd.md): the test routes the host behind the server itself.
  ip -n "$C" route add 198.18.20.0/24 dev tqb0 || fail "route into tqb0"
}
stop_client() {
  kill -TERM "$CLIENT_PID"
  for i in $(seq 30); do kill -0 "$CLIENT_PID" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$CLIENT_PID" 2>/dev/null || fail "client did not exit on SIGTERM"
  wait "$CLIENT_PID"; local rc=$?
  [ $rc = 0 ] || fail "client exited with status $rc on SIGTERM"
  ! ip -n "$C" link show tqb0 >/dev/null 2>&1 || fail "tqb0 still there after SIGTERM"
}
# Tenths of Mbit/s (an integer, for the shell's comparisons) shown as Mbit/s.
show() { echo "$(($1 / 10)).$(($1 % 10)) Mbit/s"; }
# Tenths of Mbit/s of a JSON iperf3 result (the receiver's figure).
mbits() { python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]/1e5))' "$1"; }


# 1. A wrong token is refused and counted.
ip netns exec "$C" "$TQUICD" client -c "$DIR/wrong.toml" > "$DIR/client-wrong.log" 2>&1 &
W=$!
PIDS+=($W)
for i in $(seq 50); do kill -0 $W 2>/dev/null || break; sleep 0.1; done
grep -q "answered 403" "$DIR/client-wrong.log" || fail "wrong token not refused with 403"
grep -q "refused a request: bad token" "$DIR/server.log" || fail "refusal not logged by the server"

# 1b. A client with a certificate under server.client_ca and no token: authenticated by its CN,
#     and the tunnel carries. One under another CA fails the handshake and gets no tunnel.
start_client cert
grep -q "client site-cert authenticated" "$DIR/server.log" || fail "certificate client not authenticated"
inC ping -c 2 -i 0.2 -W 2 $TARGET > "$DIR/ping.log" || fail "ping through the certificate client's tunnel"
stop_client
ip netns exec "$C" "$TQUICD" client -c "$DIR/rogue.toml" > "$DIR/client-rogue.log" 2>&1 &
W=$!
PIDS+=($W)
sleep 2
! grep -q "tquicd: ready client" "$DIR/client-rogue.log" || fail "a certificate under another CA got a tunnel"
[ "$(grep -c "client site-cert authenticated" "$DIR/server.log")" = 1 ] ||
  fail "the rogue certificate was authenticated"
kill -TERM $W 2>/dev/null; wait $W 2>/dev/null

# 2. Single link: the reference rate.
start_client single
inC ping -c 3 -i 0.2 -W 2 $TARGET > "$DIR/ping.log" || fail "ping through the tunnel"
inC iperf3 -c $TARGET -C cubic -O 1 -t 3 -J > "$DIR/single.json" || fail "iperf3 single"
SINGLE=$(mbits "$DIR/single.json")
stop_client

# 3. Bond: more than 1.2x the faster link's shaped rate (40 Mbit/s).
start_client bond
inC ping -c 3 -i 0.2 -W 2 $TARGET > "$DIR/ping.log" || fail "ping through the bond"
inC iperf3 -c $TARGET -C cubic -O 1 -t 4 -J > "$DIR/bond.json" || fail "iperf3 bond"
BOND=$(mbits "$DIR/bond.json")
echo "one TCP flow (iperf3, CUBIC): single link a $(show $SINGLE), bond a+b $(show $BOND) (links shaped to $RATE_A + $RATE_B Mbit/s)"
# Against the single-link tunnel measured the same way just before (about 36 of 40 Mbit/s):
# the bond must carry at least 1.25 times that (the links' sum is 1.5 times the faster one).
[ $((BOND * GAIN_DEN)) -gt $((SINGLE * GAIN_NUM)) ] ||
  fail "bond $BOND not above $GAIN_NUM/$GAIN_DEN x single $SINGLE"
[ "$BOND" -gt $((RATE_A * ABOVE_A)) ] ||
  fail "bond $BOND not above $ABOVE_A/10 x the faster link's rate"

# 4. Link a goes down 1.5 s into a 4 s flow: the flow survives and completes.
inC iperf3 -c $TARGET -C cubic -t 4 -J > "$DIR/failover.json" & IPERF=$!
sleep 1.5
ip -n "$C" link set la down
wait $IPERF || fail "iperf3 flow died when link a went down"
FAILOVER=$(mbits "$DIR/failover.json")
echo "link a down 1.5 s into a 4 s flow: the flow survived, $(show $FAILOVER) on average"
[ "$FAILOVER" -gt $((RATE_B * 10 / 4)) ] || fail "failover flow carried only $FAILOVER"
stop_client

# 5. SIGHUP: a changed live key is applied and logged as such.
printf '[reorder]\nmax_hold = "200ms"\n' >> "$DIR/server.toml"
kill -HUP $SERVER_PID
for i in $(seq 20); do grep -q "reorder.max_hold" "$DIR/server.log" && break; sleep 0.1; done
grep -q "reload: reorder.max_hold '300ms' -> '200ms': applied" "$DIR/server.log" ||
  fail "SIGHUP did not apply reorder.max_hold"

kill -TERM $SERVER_PID
for i in $(seq 30); do kill -0 $SERVER_PID 2>/dev/null || break; sleep 0.1; done
grep -q "auth_refused=1" "$DIR/server.log" || fail "server did not count the refused token"
echo "PASS"

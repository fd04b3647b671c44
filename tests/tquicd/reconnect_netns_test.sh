#!/bin/bash
# The client rides through a server restart by itself (ctest tquicd_reconnect_netns, labels
# bond;netns; needs root and network namespaces; docs/tquicd.md "Reconnecting").
#   client ns (tquicd client, TUN tqbr0) ==link a== server ns (tquicd server, TUN tqbrs0)
#                                        ==link b==
# A client with a wrong token exits 1 at once (403 is not retried). A ping crosses the tunnel;
# the server is killed (SIGKILL) and started again while an nft rule in its namespace drops
# QUIC long-header packets (handshakes) for HOLD seconds, so the outage lasts long enough to
# watch. Asserts: the client process stays alive and its TUN device never disappears (same
# ifindex, same address: the server's pools persist it; the route the test put on it stays);
# the restarted server resets the old connection (the `disconnected` event says "stateless
# reset": the reset key persists in state_dir); `tquicctl status` shows the bond `reconnecting`
# with an attempt number during the outage; once the rule is removed, a ping crosses the tunnel
# again within RECONNECT_S seconds. The bound: the first attempt (started at the reset, HOLD is
# shorter than one attempt) gets through at its next Initial retransmission or, at worst, is
# given up at kReconnectAttemptTimeout (5 s) and followed by the second after at most 1 s, plus
# up to 2 s for the handshake and the ping in a slow (sanitizer) build: 8 s. The events
# `disconnected` and `reconnected` reach a `tquicctl monitor`; `status --json` counts one
# disconnect and one reconnect, and the 3 pings sent during the outage as ingress outage drops
# (they waited past 1 s; JSON and the text's `ingress:` line). Then a server stopped with SIGTERM (it closes every connection
# with H3_NO_ERROR) and started again with another address for the client in its state file:
# `disconnected` gives the server's reason ("server shutting down"), a ping crosses again
# within RECONNECT_S of the restart, the device has the new address in place of the old, the
# route on it stays and `reconnected` names the change. SIGTERM still stops
# the client with status 0 and removes its TUN device.
# Namespaces and links carry the PID (netns_lib.sh, prefix tqbr) and are removed on exit.
set -u
TQUICD=${1:?usage: reconnect_netns_test.sh path/to/tquicd path/to/tquicctl}
CTL=${2:?usage: reconnect_netns_test.sh path/to/tquicd path/to/tquicctl}
HOLD=2.5 RECONNECT_S=8
. "$(dirname "$0")/netns_lib.sh"
netns_begin tqbr
command -v nft > /dev/null || fail "nft (nftables) is needed to hold the restarted server's handshakes"
SERVER_IP=198.19.180.1
TARGET=198.18.182.1
netns_two_links 180 ra rb || fail "topology setup"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=reconnect \
  -addext subjectAltName=IP:$SERVER_IP -keyout "$DIR/key.pem" -out "$DIR/cert.pem" >/dev/null 2>&1 ||
  fail "openssl"
"$TQUICD" gen-token site1 > "$DIR/tokens" && chmod 600 "$DIR/tokens" "$DIR/key.pem" || fail "gen-token"
cut -d' ' -f2 "$DIR/tokens" > "$DIR/client.token" && chmod 600 "$DIR/client.token"
cat > "$DIR/server.toml" <<EOT
[daemon]
role = "server"
state_dir = "$DIR/server-state"
[tunnel]
name = "tqbrs0"
mtu = 1500
[server]
listen = "0.0.0.0:4433"
certificate = "$DIR/cert.pem"
key = "$DIR/key.pem"
tokens_file = "$DIR/tokens"
pools = ["198.18.183.0/24"]
nft = "off"
[metrics]
listen = ""
[control]
socket = "$DIR/server.sock"
EOT
cat > "$DIR/client.toml" <<EOT
[daemon]
role = "client"
state_dir = "$DIR/client-state"
[tunnel]
name = "tqbr0"
mtu = 1400
[client]
server_url = "https://$SERVER_IP:4433/"
token_file = "$DIR/client.token"
pinned_cert = "$DIR/cert.pem"
[metrics]
listen = ""
[control]
socket = "$DIR/client.sock"
[[link]]
name = "a"
interface = "ra"
[[link]]
name = "b"
interface = "rb"
EOT
"$TQUICD" gen-token other | cut -d' ' -f2 > "$DIR/wrong.token" && chmod 600 "$DIR/wrong.token"
sed -e "s|$DIR/client.token|$DIR/wrong.token|" -e "s|tqbr0|tqbr1|" -e "s|client.sock|wrong.sock|" \
  -e "s|client-state|wrong-state|" "$DIR/client.toml" > "$DIR/wrong.toml"
for f in server client wrong; do "$TQUICD" check -q -c "$DIR/$f.toml" || fail "$f config refused"; done

ms() { date +%s%3N; }
ctl() { "$CTL" -s "$DIR/client.sock" "$@"; }
# Waits up to $2 twentieths of a second for pattern $3 in file $1.
wait_for() { for _ in $(seq "$2"); do grep -qs -- "$3" "$1" && return 0; sleep 0.05; done; return 1; }
start_server() {  # (appends to server.log: a restart's ready line is the next one)
  local readies n
  readies=$(grep -cs "tquicd: ready server" "$DIR/server.log")
  ip netns exec "$S" "$TQUICD" server -c "$DIR/server.toml" >> "$DIR/server.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=($SERVER_PID)
  for _ in $(seq 100); do
    n=$(grep -cs "tquicd: ready server" "$DIR/server.log")
    [ "${n:-0}" -gt "${readies:-0}" ] && return 0
    sleep 0.05
  done
  fail "server not ready"
}
tun_index() { inC cat /sys/class/net/tqbr0/ifindex 2>/dev/null; }
inner_address() { ip -n "$C" -4 -o addr show dev tqbr0 | awk '{print $4}'; }

start_server
# A definitive refusal (403, a wrong token) is not retried: the client exits 1 with the reason.
ip netns exec "$C" "$TQUICD" client -c "$DIR/wrong.toml" > "$DIR/wrong.log" 2>&1 &
W=$!
PIDS+=($W)
WRC=""
for _ in $(seq 50); do kill -0 $W 2>/dev/null || { wait $W; WRC=$?; break; }; sleep 0.1; done
[ "$WRC" = 1 ] || fail "a client refused with 403 did not exit 1 within 5 s (status '${WRC}')"
grep -q "answered 403 (not retried)" "$DIR/wrong.log" || fail "the refusal's reason not printed"
: > "$DIR/client.log"
ip netns exec "$C" "$TQUICD" client -c "$DIR/client.toml" >> "$DIR/client.log" 2>&1 &
CLIENT_PID=$!
PIDS+=($CLIENT_PID)
wait_for "$DIR/client.log" 120 "tquicd: ready client" || fail "client not ready"
# An operator's route on the device: it must survive the outage with the device.
ip -n "$C" route add $TARGET/32 dev tqbr0 || fail "route into tqbr0"
inC ping -c 2 -i 0.2 -W 2 $TARGET > /dev/null || fail "ping before the server restart"
INDEX=$(tun_index) ADDR=$(inner_address)
[ -n "$INDEX" ] && [ -n "$ADDR" ] || fail "no TUN device or address"
wait_for "$DIR/server-state/addresses" 60 "client site1" || fail "client address not saved"
ctl monitor --json > "$DIR/monitor.out" 2>&1 &
MON=$!
PIDS+=($MON)
# The device is watched every 50 ms from here on.
( while :; do [ "$(tun_index)" = "$INDEX" ] || echo "tqbr0 gone or replaced at $(ms)"; sleep 0.05; done ) \
  > "$DIR/tun-watch.out" 2>&1 &
WATCH=$!
PIDS+=($WATCH)

# The restart: long-header packets to the server's port are dropped while HOLD lasts, so the
# client learns of the restart from the stateless reset and its attempts fail until then.
inS nft -f - <<'EOT' || fail "nft rule"
table inet tqbr_hold {
  chain input {
    type filter hook input priority 0;
    udp dport 4433 @th,64,1 1 drop
  }
}
EOT
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
start_server
T_START=$(ms)
# Traffic makes the client send to the restarted server (which answers with a reset).
inC ping -c 1 -W 1 $TARGET > /dev/null 2>&1 && fail "ping crossed a tunnel whose server was restarted"
SEEN=""
for _ in $(seq 40); do
  ctl status --json > "$DIR/status.json" 2>/dev/null
  if grep -q '"bond":"reconnecting"' "$DIR/status.json"; then SEEN=1; break; fi
  sleep 0.05
done
[ -n "$SEEN" ] || fail "status never showed the bond reconnecting: $(cat "$DIR/status.json")"
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['reconnect']; sys.exit(0 if r['attempt']>=1 and r['disconnects']==1 else 1)" \
  "$DIR/status.json" || fail "reconnect status without an attempt: $(cat "$DIR/status.json")"
ctl status | grep -q "^reconnecting: attempt [0-9]" || fail "text status without the attempt: $(ctl status)"
# Packets sent into the device during the outage wait in the ingress queue; past 1 s (the
# outage bound) they are dropped, not sent seconds late once the tunnel is back. (The hold
# below lasts until the last of them is 1.2 s old.)
PING_MS=$(ms)
inC ping -c 3 -i 0.2 -W 1 $TARGET > /dev/null 2>&1 &
PINGS=$!
PIDS+=($PINGS)
kill -0 "$CLIENT_PID" 2>/dev/null || fail "the client exited when its connection ended"
wait_for "$DIR/monitor.out" 20 '"event":"disconnected"' || fail "no disconnected event"
grep -q '"event":"disconnected".*stateless reset' "$DIR/monitor.out" ||
  fail "the restarted server did not reset the old connection: $(grep disconnected "$DIR/monitor.out")"
# Hold the handshakes back until HOLD has passed since the restart, and the outage's last
# ping (sent 0.4 s after PING_MS) has waited 1.2 s.
sleep "$(python3 -c "print(max(0, $HOLD - ($(ms) - $T_START) / 1000, 1.6 - ($(ms) - $PING_MS) / 1000))")"
inS nft delete table inet tqbr_hold || fail "nft delete"
T_READY=$(ms)
OK=""
while [ $(($(ms) - T_READY)) -lt $((RECONNECT_S * 1000)) ]; do
  if inC ping -c 1 -W 1 $TARGET > /dev/null 2>&1; then OK=1; break; fi
  sleep 0.1
done
ELAPSED=$(($(ms) - T_READY))
[ -n "$OK" ] || fail "no ping through the tunnel within ${RECONNECT_S}s of the server taking handshakes"
echo "tunnel back ${ELAPSED} ms after the server took handshakes again"
wait_for "$DIR/monitor.out" 20 '"event":"reconnected"' || fail "no reconnected event"
kill "$WATCH"
[ -s "$DIR/tun-watch.out" ] && fail "the TUN device went away: $(head -3 "$DIR/tun-watch.out")"
[ "$(tun_index)" = "$INDEX" ] || fail "tqbr0 was replaced"
[ "$(inner_address)" = "$ADDR" ] || fail "tunnel address $(inner_address) after the restart, $ADDR before"
ip -n "$C" route show dev tqbr0 | grep -q "^$TARGET" || fail "the operator's route on tqbr0 is gone"
# (The status is refreshed every second: the first one after the reconnection, within 2 s.)
for _ in $(seq 40); do
  ctl status --json > "$DIR/status.json" || fail "status after reconnecting"
  grep -q '"bond":"reconnecting"' "$DIR/status.json" || break
  sleep 0.05
done
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); r=j['reconnect']; sys.exit(0 if j['bond']!='reconnecting' and r['reconnects']==1 and r['disconnects']==1 and r['last_downtime_ms']>0 else 1)" \
  "$DIR/status.json" || fail "status after reconnecting: $(cat "$DIR/status.json")"
python3 -c "import json,sys; i=json.load(open(sys.argv[1]))['ingress']; sys.exit(0 if i['outage_drops']>=3 else 1)" \
  "$DIR/status.json" || fail "the outage's pings were not dropped as outage drops: $(cat "$DIR/status.json")"
ctl status | grep -Eq "^ingress: .* outage ([3-9]|[1-9][0-9]+) " || fail "text status without the outage drops: $(ctl status)"

# A server stopped with SIGTERM closes the connection itself: the client reconnects as well.
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
for _ in $(seq 40); do [ "$(grep -c '"event":"disconnected"' "$DIR/monitor.out")" = 2 ] && break; sleep 0.05; done
grep '"event":"disconnected"' "$DIR/monitor.out" | tail -1 | grep -q "server shutting down" ||
  fail "no disconnected event for the server's close: $(grep disconnected "$DIR/monitor.out")"
# The restarted server gives another address (its state file edited meanwhile): the device
# takes it in place of the old one and keeps the operator's route.
printf 'tquicd-addresses 1\nclient site1 198.18.183.77\n' > "$DIR/server-state/addresses"
start_server
T_READY=$(ms)
OK=""
while [ $(($(ms) - T_READY)) -lt $((RECONNECT_S * 1000)) ]; do
  if inC ping -c 1 -W 1 $TARGET > /dev/null 2>&1; then OK=1; break; fi
  sleep 0.1
done
[ -n "$OK" ] || fail "no ping within ${RECONNECT_S}s of the server's restart after SIGTERM"
echo "tunnel back $(($(ms) - T_READY)) ms after the server's restart (SIGTERM)"
kill -0 "$CLIENT_PID" 2>/dev/null || fail "the client exited when the server closed"
[ "$(inner_address)" = 198.18.183.77/32 ] || fail "device address $(inner_address), not the new 198.18.183.77/32"
wait_for "$DIR/monitor.out" 20 "\"event\":\"reconnected\".*address $ADDR -> 198.18.183.77/32" ||
  fail "the reconnected event does not name the address change: $(grep reconnected "$DIR/monitor.out")"
ip -n "$C" route show dev tqbr0 | grep -q "^$TARGET" || fail "the operator's route went with the old address"

kill -TERM "$CLIENT_PID"
RC=""
for _ in $(seq 30); do
  kill -0 "$CLIENT_PID" 2>/dev/null || { wait "$CLIENT_PID"; RC=$?; break; }
  sleep 0.1
done
[ "$RC" = 0 ] || fail "client exit status '${RC}' on SIGTERM (expected 0)"
[ -z "$(tun_index)" ] || fail "tqbr0 left behind after SIGTERM"
echo "PASS"

#!/bin/bash
# End-to-end test of tquicd's control plane against running daemons (ctest tquicd_control_netns,
# labels bond;netns; needs root and network namespaces).
#   client ns (tquicd client, TUN tqbc0) ==link a 20 Mbit/s== server ns (tquicd server,
#                                        ==link b 10 Mbit/s==  TUN tqbcs0, iperf3 -s)
# Asserts, through tquicctl on each daemon's control socket and HTTP on metrics.listen:
# status/links/paths show the bond "bonded", both links up with a measured RTT, two active
# paths with a congestion window; traffic makes the links' byte counters and /metrics grow;
# `flows` on both daemons shows the TCP flow as bulk and a ping's ICMP as interactive;
# `link down a` is answered, logged as link_down/path_down/failover on a `monitor --json`,
# leaves the bond degraded and moves the traffic to b (a's counter stops), `link down b` is then
# refused (the last link) and a carrier flap on a's interface does not reopen a (no link_up);
# `link up a` brings a path back (path_up, bonded); `set` applies a live key (config_reloaded)
# and refuses a bad value and a restart-only key with the key named; a link added and removed
# by SIGHUP is reported as link_added/link_removed; link b's `keepalive = "7s"` is the interval
# in force on its path in `paths` (JSON and table), and 9s after the file is edited and SIGHUP;
# the server's `conns` shows the client with
# its inner address; the dashboard page, /api/status and /api/history (the transfer's samples)
# load, garbage HTTP gets 400; garbage on the control socket gets an error and a close; another
# uid cannot use the socket; a qlog file is written (log.qlog_dir). Namespaces carry the PID
# (netns_lib.sh, prefix tqbc) and are removed on exit.
set -u
TQUICD=${1:?usage: control_netns_test.sh path/to/tquicd path/to/tquicctl}
CTL=${2:?usage: control_netns_test.sh path/to/tquicd path/to/tquicctl}
. "$(dirname "$0")/netns_lib.sh"
netns_begin tqbc
SERVER_IP=198.19.140.1 TARGET=198.18.142.1
setup() {
  netns_two_links 140 la lb &&
  inC tc qdisc add dev la root tbf rate 20mbit burst 32000 latency 40ms &&
  inS tc qdisc add dev las root tbf rate 20mbit burst 32000 latency 40ms &&
  inC tc qdisc add dev lb root tbf rate 10mbit burst 16000 latency 40ms &&
  inS tc qdisc add dev lbs root tbf rate 10mbit burst 16000 latency 40ms
}
setup || fail "topology setup"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bond \
  -addext subjectAltName=IP:$SERVER_IP -keyout "$DIR/key.pem" -out "$DIR/cert.pem" >/dev/null 2>&1 ||
  fail "openssl"
"$TQUICD" gen-token site1 > "$DIR/tokens" && chmod 600 "$DIR/tokens" "$DIR/key.pem" || fail "gen-token"
cut -d' ' -f2 "$DIR/tokens" > "$DIR/client.token" && chmod 600 "$DIR/client.token"
mkdir -p "$DIR/qlog"
cat > "$DIR/server.toml" <<EOT
[daemon]
role = "server"
state_dir = "$DIR"
[tunnel]
name = "tqbcs0"
mtu = 1500
[server]
listen = "0.0.0.0:4433"
certificate = "$DIR/cert.pem"
key = "$DIR/key.pem"
tokens_file = "$DIR/tokens"
pools = ["198.18.143.0/24"]
[control]
socket = "$DIR/server.sock"
[metrics]
listen = "127.0.0.1:9477"
[log]
qlog_dir = "$DIR/qlog"
EOT
cat > "$DIR/client.toml" <<EOT
[daemon]
role = "client"
state_dir = "$DIR"
[tunnel]
name = "tqbc0"
mtu = 1400
[client]
server_url = "https://$SERVER_IP:4433/"
token_file = "$DIR/client.token"
pinned_cert = "$DIR/cert.pem"
[control]
socket = "$DIR/client.sock"
[metrics]
listen = "127.0.0.1:9477"
[[link]]
name = "a"
interface = "la"
source = "198.18.140.2"
[[link]]
name = "b"
interface = "lb"
source = "198.18.141.2"
keepalive = "7s"
EOT

ip netns exec "$S" "$TQUICD" server -c "$DIR/server.toml" > "$DIR/server.log" 2>&1 & PIDS+=($!)
for i in $(seq 50); do grep -q "tquicd: ready" "$DIR/server.log" && break; sleep 0.1; done
grep -q "tquicd: ready server" "$DIR/server.log" || fail "server not ready"
inS iperf3 -s -B $TARGET -D --logfile "$DIR/iperf3-server.log" -I "$DIR/iperf3.pid" || fail "iperf3 -s"
for i in $(seq 20); do [ -s "$DIR/iperf3.pid" ] && break; sleep 0.1; done
PIDS+=($(cat "$DIR/iperf3.pid"))
ip netns exec "$C" "$TQUICD" client -c "$DIR/client.toml" > "$DIR/client.log" 2>&1 & CLIENT_PID=$!
PIDS+=($CLIENT_PID)
for i in $(seq 50); do grep -q "tquicd: ready" "$DIR/client.log" && break; sleep 0.1; done
grep -q "tquicd: ready client" "$DIR/client.log" || fail "client not ready"
ip -n "$C" route add $TARGET/32 dev tqbc0 || fail "route into tqbc0"

ctl() { "$CTL" -s "$DIR/client.sock" "$@"; }
# py 'EXPR' FILE: evaluates EXPR with j = the JSON in FILE; exit status 0 when true.
py() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$2"; }
link() { echo "[l for l in j['links'] if l['name']=='$1'][0]"; }
# Waits (at most $2 tenths of a second) until `ctl links --json` satisfies $1.
wait_links() {
  for i in $(seq "$2"); do
    ctl links --json > "$DIR/links.json" 2>/dev/null && py "$1" "$DIR/links.json" && return 0
    sleep 0.1
  done
  return 1
}

# A monitor follows the events from here on.
ctl monitor --json > "$DIR/monitor.out" 2>&1 & MON=$!
PIDS+=($MON)

# 1. Both links up (the second path validates shortly after the tunnel), real figures.
wait_links "j['bond']=='bonded' and all(l['state']=='up' and l['rtt_us']>0 for l in j['links'])" 50 ||
  fail "links not both up with an RTT: $(cat "$DIR/links.json")"
ctl status > "$DIR/status.txt" || fail "tquicctl status"
grep -q "^bond: bonded" "$DIR/status.txt" || fail "status does not show the bond: $(head -3 "$DIR/status.txt")"
ctl paths --json > "$DIR/paths.json" || fail "tquicctl paths"
py "len([p for p in j['paths'] if p['active'] and p['cwnd_bytes']>0 and p['rtt_us']>0])==2" "$DIR/paths.json" ||
  fail "paths: $(cat "$DIR/paths.json")"
# Link b's `keepalive` is the interval in force on its path; a's path has the connection's 1 s.
keepalive_is() { echo "[p['keepalive_ms'] for p in j['paths'] if p['link']=='$1' and p['active']]==[$2]"; }
py "$(keepalive_is b 7000) and $(keepalive_is a 1000)" "$DIR/paths.json" ||
  fail "paths: b's keepalive is not 7 s: $(cat "$DIR/paths.json")"
ctl paths | grep -Eq "^ *[0-9]+ b .* 7s$" || fail "tquicctl paths shows no 7s for b: $(ctl paths)"

# 2. Traffic makes the counters grow, in tquicctl and in /metrics.
scrape() { inC curl -s -m 2 http://127.0.0.1:9477/metrics; }
counter() { scrape | awk -v k="tquicd_link_tx_bytes_total{link=\"$1\"}" '$1==k {print int($2)}'; }
M0=$(counter a)
[ -n "$M0" ] || fail "no tquicd_link_tx_bytes_total for link a in /metrics: $(scrape | head -20)"
inC iperf3 -c $TARGET -C cubic -t 2 -J > "$DIR/bond.json" || fail "iperf3 through the bond"
M1=$(counter a)
[ "$M1" -gt $((M0 + 1000000)) ] || fail "link a's tx counter did not grow by 1 MB: $M0 -> $M1"
ctl links --json > "$DIR/links.json"
py "$(link a)['tx_bytes']>1000000 and $(link b)['tx_bytes']>100000" "$DIR/links.json" ||
  fail "both links should have carried the flow: $(cat "$DIR/links.json")"
# The flow classifier in the data path: a ping's ICMP is interactive on the client (uplink) and
# on the server (downlink: the replies); the upload's data segments are bulk on the client.
inC ping -c 3 -i 0.2 -W 2 $TARGET > "$DIR/ping.log" || fail "ping through the bond"
ICMP="any(f['protocol']=='icmp' and f['class']=='interactive' and f['packets']>=3 for f in j['flows'])"
# (The status the control socket serves is refreshed every second: wait for it, at most 3 s.)
for side in client server; do
  for i in $(seq 30); do
    "$CTL" -s "$DIR/$side.sock" flows --json > "$DIR/flows-$side.json" || fail "$side flows"
    py "$ICMP" "$DIR/flows-$side.json" && break
    sleep 0.1
  done
  py "$ICMP" "$DIR/flows-$side.json" || fail "$side flows: no interactive ICMP: $(cat "$DIR/flows-$side.json")"
done
py "any(f['protocol']=='tcp' and f['class']=='bulk' and f['bytes']>1000000 for f in j['flows'])" "$DIR/flows-client.json" ||
  fail "client flows: the upload is not bulk: $(cat "$DIR/flows-client.json")"

# 3. link down a: answered, events, degraded, traffic on b only.
A_UPS=$(grep -c '"event":"link_up","link":"a"' "$DIR/monitor.out")
ctl link down a > "$DIR/linkdown.txt" || fail "link down a refused: $(cat "$DIR/linkdown.txt")"
wait_links "j['bond']=='degraded' and $(link a)['state']=='down' and $(link a)['admin_down']" 30 ||
  fail "link a not shown down: $(cat "$DIR/links.json")"
ctl links | grep -q "down\*" || fail "links table does not mark a administratively down"
A0=$(python3 -c "import json,sys; print([l for l in json.load(open(sys.argv[1]))['links'] if l['name']=='a'][0]['tx_bytes'])" "$DIR/links.json")
B0=$(python3 -c "import json,sys; print([l for l in json.load(open(sys.argv[1]))['links'] if l['name']=='b'][0]['tx_bytes'])" "$DIR/links.json")
inC iperf3 -c $TARGET -C cubic -t 1 -J > "$DIR/down.json" || fail "iperf3 with link a down"
ctl links --json > "$DIR/links.json"
py "$(link a)['tx_bytes']-$A0 < 20000 and $(link b)['tx_bytes']-$B0 > 500000" "$DIR/links.json" ||
  fail "traffic did not move to b (a was $A0, b was $B0): $(cat "$DIR/links.json")"
for e in link_down path_down failover; do
  grep -q "\"event\":\"$e\",\"link\":\"a\"" "$DIR/monitor.out" || fail "monitor did not stream $e for a"
done
grep -q '"event":"bond_state".*bonded -> degraded' "$DIR/monitor.out" || fail "no bond_state event"
ctl link down zz 2>"$DIR/err.txt"; [ $? = 1 ] && grep -q "no link named" "$DIR/err.txt" ||
  fail "link down of an unknown link: $(cat "$DIR/err.txt")"
# The last usable link is not taken down; an interface event (carrier lost and back, route
# restored) does not reopen a link the operator took down.
ctl link down b 2>"$DIR/err.txt"; [ $? = 1 ] && grep -q "would end the tunnel" "$DIR/err.txt" ||
  fail "link down of the last link: $(cat "$DIR/err.txt")"
ip -n "$C" link set la down && sleep 0.3 && ip -n "$C" link set la up &&
  ip -n "$C" route replace $SERVER_IP/32 via 198.18.140.1 dev la || fail "carrier flap on la"
sleep 1.5
ctl links --json > "$DIR/links.json"
py "$(link a)['state']=='down' and $(link a)['admin_down']" "$DIR/links.json" ||
  fail "link a reopened by an interface event: $(cat "$DIR/links.json")"
# The LinkManager reports a socket it opens as link_up: none for a while it is taken down.
[ "$(grep -c '"event":"link_up","link":"a"' "$DIR/monitor.out")" = "$A_UPS" ] ||
  fail "link a's socket reopened while taken down: $(grep '"link":"a"' "$DIR/monitor.out")"
ctl paths --json > "$DIR/paths.json"
py "not [p for p in j['paths'] if p['link']=='a' and p['active']]" "$DIR/paths.json" ||
  fail "a path from link a after an interface event: $(cat "$DIR/paths.json")"

# 4. link up a: a path again, bonded again.
ctl link up a > /dev/null || fail "link up a refused"
wait_links "j['bond']=='bonded' and $(link a)['state']=='up'" 50 || fail "link a did not come back: $(cat "$DIR/links.json")"
grep -q '"event":"path_up","link":"a"' "$DIR/monitor.out" || fail "monitor did not stream path_up for a"

# 5. set: a live key applied; a bad value and a restart-only key refused, naming the key.
ctl set reorder.max_hold 150ms > "$DIR/set.txt" || fail "set reorder.max_hold refused: $(cat "$DIR/set.txt")"
grep -q "reorder.max_hold: '300ms' -> '150ms'" "$DIR/set.txt" || fail "set reply: $(cat "$DIR/set.txt")"
for i in $(seq 20); do grep -q '"event":"config_reloaded".*reorder.max_hold' "$DIR/monitor.out" && break; sleep 0.1; done
grep -q '"event":"config_reloaded".*reorder.max_hold' "$DIR/monitor.out" || fail "no config_reloaded event"
ctl set reorder.max_hold soon 2>"$DIR/err.txt"; [ $? = 1 ] && grep -q "reorder.max_hold" "$DIR/err.txt" ||
  fail "bad value not refused by key: $(cat "$DIR/err.txt")"
ctl set tunnel.mtu 1300 2>"$DIR/err.txt"; [ $? = 1 ] && grep -q "tunnel.mtu: needs a restart" "$DIR/err.txt" ||
  fail "restart-only key not refused: $(cat "$DIR/err.txt")"

# 5b. A link added and removed by SIGHUP: the LinkManager's link_added/link_removed reach the
# monitor (a link whose interface does not exist is configured, and down).
cp "$DIR/client.toml" "$DIR/client.toml.orig"
printf '[[link]]\nname = "c"\ninterface = "tqbcnone"\n' >> "$DIR/client.toml"
wait_event() {  # waits (at most 3 s) for event $1 of link $2 on the monitor
  for i in $(seq 30); do grep -q "\"event\":\"$1\",\"link\":\"$2\"" "$DIR/monitor.out" && return 0; sleep 0.1; done
  return 1
}
kill -HUP "$CLIENT_PID"
wait_event link_added c || fail "no link_added for c on the monitor after SIGHUP"
mv "$DIR/client.toml.orig" "$DIR/client.toml"
kill -HUP "$CLIENT_PID"
wait_event link_removed c || fail "no link_removed for c on the monitor after SIGHUP"
wait_links "len(j['links'])==2 and j['bond']=='bonded'" 30 || fail "links after the reloads: $(cat "$DIR/links.json")"

# 5c. `keepalive` edited to 9s and SIGHUP: b's path has 9 s in force (within 3 s: the status is
# refreshed every second).
sed -i 's/^keepalive = "7s"$/keepalive = "9s"/' "$DIR/client.toml" && grep -q '"9s"' "$DIR/client.toml" ||
  fail "editing keepalive in client.toml"
kill -HUP "$CLIENT_PID"
for i in $(seq 30); do
  ctl paths --json > "$DIR/paths.json" && py "$(keepalive_is b 9000)" "$DIR/paths.json" && break
  sleep 0.1
done
py "$(keepalive_is b 9000)" "$DIR/paths.json" || fail "b's keepalive not 9 s after SIGHUP: $(cat "$DIR/paths.json")"
ctl paths | grep -Eq "^ *[0-9]+ b .* 9s$" || fail "tquicctl paths shows no 9s for b: $(ctl paths)"
for i in $(seq 10); do grep -q "keepalive '7s' -> '9s': applied" "$DIR/client.log" && break; sleep 0.1; done
grep -q "keepalive '7s' -> '9s': applied" "$DIR/client.log" || fail "the reload did not log keepalive as applied"

# 6. The server: the client's connection with its inner address and two paths.
"$CTL" -s "$DIR/server.sock" conns --json > "$DIR/conns.json" || fail "server conns"
py "len(j['conns'])==1 and j['conns'][0]['client']=='site1' and j['conns'][0]['inner_address'].startswith('198.18.143.') and j['conns'][0]['paths']==2" "$DIR/conns.json" ||
  fail "server conns: $(cat "$DIR/conns.json")"
grep -q "event .*client_up site1" "$DIR/server.log" || fail "server did not log client_up"

# 7. HTTP: dashboard, status JSON, garbage.
inS curl -s -m 2 http://127.0.0.1:9477/ | grep -q "<svg\|tquicd" || fail "dashboard page"
inC curl -s -m 2 http://127.0.0.1:9477/api/status > "$DIR/api.json" || fail "/api/status"
py "j['bond']=='bonded' and len(j['links'])==2" "$DIR/api.json" || fail "/api/status: $(cat "$DIR/api.json")"
inC curl -s -m 2 http://127.0.0.1:9477/api/history > "$DIR/history.json" || fail "/api/history"
py "len(j)>=3 and any(l['name']=='a' and l['thr']>1000000 for x in j for l in x['links'])" "$DIR/history.json" ||
  fail "/api/history has no samples of the transfer: $(head -c 600 "$DIR/history.json")"
REPLY=$(inC python3 -c '
import socket; s = socket.create_connection(("127.0.0.1", 9477), 2); s.sendall(b"\x16\x03\x01garbage\r\n\r\n")
print(s.recv(100).decode(errors="replace").split("\r\n")[0])')
[ "${REPLY:0:12}" = "HTTP/1.1 400" ] || fail "garbage HTTP answered '$REPLY'"

# 8. Garbage on the daemon's control socket: an error reply and the connection closed; the
# daemon goes on answering. Another uid cannot talk to the socket (mode 0600).
REPLY=$(python3 -c '
import socket, sys; s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(sys.argv[1])
s.sendall(b"\x00\xffstatus\n"); out = b""
while True:
    d = s.recv(4096)
    if not d: break
    out += d
print(out.decode(errors="replace").strip())' "$DIR/client.sock") || fail "garbage: the daemon did not close"
[ "${REPLY:0:6}" = "error " ] || fail "garbage control line answered '$REPLY'"
ctl status > /dev/null || fail "the daemon stopped answering after garbage"

setpriv --reuid 65534 --regid 65534 --clear-groups "$CTL" -s "$DIR/client.sock" status > /dev/null 2>&1 &&
  fail "uid 65534 got an answer from the control socket"

# 9. qlog on request: the server wrote one for the connection.
ls "$DIR"/qlog/*.sqlog > /dev/null 2>&1 || fail "no qlog in log.qlog_dir"
echo "PASS"

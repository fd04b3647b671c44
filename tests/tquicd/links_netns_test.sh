#!/bin/bash
# End-to-end test of tquicd's links (ctest labels bond;netns; needs root and namespaces).
#   client ns (tquicd client, TUN tqbl0) ==link a (la, 20 Mbit/s tbf)== server ns (tquicd
#                                        ==link b (lb, 20 Mbit/s tbf)==  server, TUN tqbls0)
# Asserts, in order:
#  1. first link dark from the start (its packets dropped in the server namespace, carrier up):
#     the handshake race brings the tunnel up through link b within 3 s;
#  2. carrier down on link a (its veth peer set down): the client closes a's path within 2.5 s
#     (rtnetlink, not a timeout; the kernel itself reports a lost carrier up to 1 s late, its
#     linkwatch delay, more on a loaded machine) and reports the failover to b; carrier back: a's path is up again
#     within 2 s and carries traffic;
#  3. a backup link carries only keepalives (under 64 KB on the wire) while the primary carries
#     a flow; its path has the keepalive its 100 MB budget gives (6.857 s, `tquicctl paths`)
#     and the server's interval on it is 600 s, restarted by the client's PINGs (1 s on the primary's); it carries the traffic once the
#     primary's carrier is gone; SIGHUP making it a primary (a live key) is logged as applied,
#     its path gets the connection-wide 1 s and it then carries part of a flow;
#  4. a link with a 3 MB quota (1.2 MB in low mode) stops within 1 % over it (and not below 80 %), reports
#     quota_reached, keeps its usage across a client restart and stays stopped;
#  5. the server keeps each client's address across its restart (the state file is read: an
#     address edited into it is the one the client gets), and its nftables table (NAT, MSS
#     clamp) exists while it runs and is gone after SIGTERM.
# Namespaces and links carry the PID (prefix tqbl) and are removed on exit, failure included.
set -u
TQUICD=${1:?usage: links_netns_test.sh path/to/tquicd path/to/tquicctl [low]}
CTL=${2:?usage: links_netns_test.sh path/to/tquicd path/to/tquicctl [low]}
# "low" (sanitizer builds): slower links, and a quota the flow reaches as soon.
RATE=20 QUOTA=3000000
[ "${3:-}" = low ] && RATE=8 QUOTA=1200000
. "$(dirname "$0")/netns_lib.sh"
netns_begin tqbl
SERVER_IP=198.19.160.1
TARGET=198.18.162.1
setup() {
  netns_two_links 160 la lb &&
  for d in la lb; do inC tc qdisc add dev $d root tbf rate ${RATE}mbit burst $((RATE * 1600)) latency 40ms || return 1; done &&
  for d in las lbs; do inS tc qdisc add dev $d root tbf rate ${RATE}mbit burst $((RATE * 1600)) latency 40ms || return 1; done
}
setup || fail "topology setup"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=links \
  -addext subjectAltName=IP:$SERVER_IP -keyout "$DIR/key.pem" -out "$DIR/cert.pem" >/dev/null 2>&1 ||
  fail "openssl"
"$TQUICD" gen-token site1 > "$DIR/tokens" && chmod 600 "$DIR/tokens" "$DIR/key.pem" || fail "gen-token"
cut -d' ' -f2 "$DIR/tokens" > "$DIR/client.token" && chmod 600 "$DIR/client.token"
mkdir -p "$DIR/server-state"
cat > "$DIR/server.toml" <<EOT
[daemon]
role = "server"
state_dir = "$DIR/server-state"
[tunnel]
name = "tqbls0"
mtu = 1500
[server]
listen = "0.0.0.0:4433"
certificate = "$DIR/cert.pem"
key = "$DIR/key.pem"
tokens_file = "$DIR/tokens"
pools = ["198.18.170.0/24"]
uplink = "las"
[metrics]
listen = ""
[control]
socket = "$DIR/server.sock"
EOT
client_toml() {  # name, then one "link-name:role[:quota]" per link
  local name=$1; shift
  cat > "$DIR/$name.toml" <<EOT
[daemon]
role = "client"
state_dir = "$DIR/client-state-$name"
[tunnel]
name = "tqbl0"
mtu = 1400
[client]
server_url = "https://$SERVER_IP:4433/"
token_file = "$DIR/client.token"
pinned_cert = "$DIR/cert.pem"
[metrics]
listen = ""
[control]
socket = "$DIR/$name.sock"
EOT
  local spec l role quota
  for spec in "$@"; do
    IFS=: read -r l role quota <<< "$spec"
    printf '[[link]]\nname = "%s"\ninterface = "l%s"\nrole = "%s"\n' "$l" "$l" "$role"
    [ -n "$quota" ] && printf 'quota = "%s"\n' "$quota"
    # A backup's keepalives are spaced by its budget (docs/tquicd-config.md): 6.857 s.
    [ "$role" = backup ] && printf 'keepalive_budget = "100MB"\n'
  done >> "$DIR/$name.toml"
}
client_toml race a:primary b:primary
client_toml backup a:primary b:backup
client_toml quota a:primary:${QUOTA}B b:primary
for f in server race backup quota; do "$TQUICD" check -q -c "$DIR/$f.toml" || fail "$f config refused"; done

ms() { date +%s%3N; }
# Waits up to $2 twentieths of a second for pattern $3 in file $1.
wait_for() { for _ in $(seq "$2"); do grep -qs -- "$3" "$1" && return 0; sleep 0.05; done; grep -qs -- "$3" "$1"; }
# The same until pattern $3 has appeared more than $4 times.
wait_more() {
  local n
  for _ in $(seq "$2"); do
    n=$(grep -cs -- "$3" "$1")
    [ "${n:-0}" -gt "$4" ] && return 0
    sleep 0.05
  done
  return 1
}
start_server() {  # (the log is appended to: a restart's ready line is the next one)
  local readies
  readies=$(grep -cs "tquicd: ready server" "$DIR/server.log")
  ip netns exec "$S" "$TQUICD" server -c "$DIR/server.toml" >> "$DIR/server.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=($SERVER_PID)
  wait_more "$DIR/server.log" 100 "tquicd: ready server" "${readies:-0}" || fail "server not ready"
}
stop() {  # pid
  kill -TERM "$1"
  for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  fail "pid $1 did not exit on SIGTERM"
}
# Starts a client with config $1 (log client-$1.log); sets CLIENT_PID and READY_MS.
start_client() {
  local t0
  t0=$(ms)
  : > "$DIR/client-$1.log"  # now, not when the background job gets to it: no stale ready line
  ip netns exec "$C" "$TQUICD" client -c "$DIR/$1.toml" >> "$DIR/client-$1.log" 2>&1 &
  CLIENT_PID=$!
  PIDS+=($CLIENT_PID)
  wait_for "$DIR/client-$1.log" 120 "tquicd: ready client" || fail "client $1 not ready"
  READY_MS=$(($(ms) - t0))
  ip -n "$C" route add $TARGET/32 dev tqbl0 || fail "route into tqbl0"
}
tx_bytes() { inC tc -s qdisc show dev "$1" | awk '/Sent/ {print $2; exit}'; }
# Bytes device $1 sent during a UDP flow of $2 s at $3 Mbit/s, in SENT ($4 names the flow).
flow_on() {
  local before
  before=$(tx_bytes "$1")
  udp_flow "$2" "$3" || fail "UDP flow: $4"
  SENT=$(($(tx_bytes "$1") - before))
  echo "$4: $SENT bytes on $1"
}
# Fails unless SENT shows that a link carried real traffic (a quarter of its rate for 1 s).
carried() { [ "$SENT" -gt $((RATE * 125000 / 4)) ] || fail "$1"; }
inner_address() { ip -n "$C" -4 -o addr show dev tqbl0 | awk '{print $4}' | cut -d/ -f1; }
udp_flow() {  # seconds, Mbit/s (one retry: iperf3 -s may still be closing the last test)
  inC iperf3 -c $TARGET -u -b "${2}M" -t "$1" -l 1200 > "$DIR/iperf.log" 2>&1 && return 0
  sleep 0.5
  inC iperf3 -c $TARGET -u -b "${2}M" -t "$1" -l 1200 > "$DIR/iperf.log" 2>&1
}
start_server
inS iperf3 -s -B $TARGET -D -I "$DIR/iperf3.pid" || fail "iperf3 -s"
for _ in $(seq 20); do [ -s "$DIR/iperf3.pid" ] && break; sleep 0.1; done
PIDS+=($(cat "$DIR/iperf3.pid"))
inS nft list table inet tquicd > "$DIR/nft.txt" 2>&1 || fail "server's nftables table missing"
grep -q 'oifname "las" masquerade' "$DIR/nft.txt" && grep -q "maxseg size set rt mtu" "$DIR/nft.txt" ||
  fail "nftables table lacks NAT or MSS clamping: $(cat "$DIR/nft.txt")"

# 1. Link a dark from the start: the race brings the tunnel up through b within 3 s.
inS nft -f - <<'EOT' || fail "dark rule"
table inet tqbltest {
  chain in { type filter hook prerouting priority -300; iifname "las" udp dport 4433 drop; }
}
EOT
start_client race
echo "link a dark: tunnel up in $READY_MS ms"
[ "$READY_MS" -le 3000 ] || fail "tunnel up after $READY_MS ms with link a dark (goal 3000)"
grep -q "handshake done on link b" "$DIR/client-race.log" || fail "handshake not won by link b"
inC ping -c 2 -i 0.2 -W 2 $TARGET > /dev/null || fail "ping through the tunnel (link a dark)"
inS nft delete table inet tqbltest
wait_for "$DIR/client-race.log" 100 "event path_up link=a" || fail "link a's path never came up once lit"

# 2. Carrier down on a: path closed at once; carrier up: back within 2 s, carrying traffic.
T0=$(ms)
ip -n "$S" link set las down
wait_for "$DIR/client-race.log" 60 "event link_down link=a" || fail "carrier loss on a not acted on"
DOWN_MS=$(($(ms) - T0))
echo "carrier down on a: link closed after $DOWN_MS ms"
[ "$DOWN_MS" -le 2500 ] || fail "link a closed only after $DOWN_MS ms"
grep -q "event failover link=a to b" "$DIR/client-race.log" || fail "no failover event naming b"

inC ping -c 2 -i 0.2 -W 2 $TARGET > /dev/null || fail "ping through b after a lost carrier"
UPS=$(grep -c "event path_up link=a" "$DIR/client-race.log")
T0=$(ms)
ip -n "$S" link set las up
wait_more "$DIR/client-race.log" 60 "event path_up link=a" "$UPS"
UP_MS=$(($(ms) - T0))
echo "carrier back on a: path up after $UP_MS ms"
[ "$UP_MS" -le 2000 ] || fail "link a's path back only after $UP_MS ms (goal 2000)"
flow_on la 1 $((RATE * 3 / 2)) "link a after its return, 1 s flow"
carried "link a carries no traffic after its return"
stop "$CLIENT_PID"

# 3. Backup: only keepalives while the primary works, then the traffic once it is gone.
start_client backup
# (Under load the race may have brought the tunnel up on b; a joins as a path right after.)
wait_for "$DIR/client-backup.log" 60 "event path_up link=a" || fail "primary a never came up"
flow_on lb 2 $((RATE / 2)) "backup link b while a carried a 2 s flow"
[ "$SENT" -lt 65536 ] || fail "backup link b carried $SENT bytes while a worked"
# The keepalive in force on each path (keepalive_ms of `tquicctl paths --json`), the client's by
# link name, the server's by the client's address on the link (198.18.160.2 is a, .161.2 b).
keepalive_on() {  # socket, python test of a path p, expected ms: waits up to 3 s
  for _ in $(seq 30); do
    "$CTL" -s "$1" paths --json > "$DIR/paths.json" 2>/dev/null &&
      python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if [p['keepalive_ms'] for p in j['paths'] if p['active'] and ($2)]==[$3] else 1)" "$DIR/paths.json" &&
      return 0
    sleep 0.1
  done
  return 1
}
keepalive_on "$DIR/backup.sock" "p['link']=='b'" 6857 ||
  fail "backup b's path does not have its budget's keepalive: $(cat "$DIR/paths.json")"
keepalive_on "$DIR/backup.sock" "p['link']=='a'" 1000 || fail "primary a's keepalive: $(cat "$DIR/paths.json")"
keepalive_on "$DIR/server.sock" "p['remote'].startswith('198.18.161.2:')" 600000 ||
  fail "the server does not space its keepalives on backup b: $(cat "$DIR/paths.json")"
keepalive_on "$DIR/server.sock" "p['remote'].startswith('198.18.160.2:')" 1000 ||
  fail "the server's keepalive on primary a: $(cat "$DIR/paths.json")"
ip -n "$S" link set las down
inC ping -c 2 -i 0.2 -W 2 $TARGET > /dev/null || fail "ping through the backup"
flow_on lb 1 $((RATE / 2)) "backup link b after a lost carrier, 1 s flow"
carried "backup link b did not take over"
UPS=$(grep -c "event path_up link=a" "$DIR/client-backup.log")
ip -n "$S" link set las up
# SIGHUP: b becomes a primary (a live key): it carries part of a flow larger than a's rate.
sed -i 's/role = "backup"/role = "primary"/' "$DIR/backup.toml"
kill -HUP "$CLIENT_PID"
wait_for "$DIR/client-backup.log" 40 "link\[b\].role 'backup' -> 'primary': applied" ||
  fail "SIGHUP did not apply link[b].role"
wait_more "$DIR/client-backup.log" 60 "event path_up link=a" "$UPS" || fail "link a not back"
keepalive_on "$DIR/backup.sock" "p['link']=='b'" 1000 ||
  fail "b made primary keeps a backup's keepalive: $(cat "$DIR/paths.json")"
flow_on lb 1 $((RATE * 3 / 2)) "link b made primary by SIGHUP, 1 s flow at 1.5x a's rate"
carried "link b carries nothing after SIGHUP made it primary"
stop "$CLIENT_PID"

# 4. Quota: link a stops within 1 % over its quota, reports it, and stays stopped after a restart.
start_client quota
inC iperf3 -c $TARGET -C cubic -t 3 > "$DIR/iperf.log" 2>&1 || fail "TCP flow with a metered link"
wait_for "$DIR/client-quota.log" 40 "event quota_reached link=a" || fail "no quota_reached for a"
stop "$CLIENT_PID"
USED=$(sed -n 's/^tquicd: link a .*quota_used=\([0-9]*\).*/\1/p' "$DIR/client-quota.log")
echo "link a with a quota of $QUOTA bytes stopped at $USED bytes"
[ -n "$USED" ] && [ "$USED" -le $((QUOTA * 101 / 100)) ] && [ "$USED" -ge $((QUOTA * 8 / 10)) ] ||
  fail "link a used '$USED' bytes of a $QUOTA-byte quota"
grep -q "^link a .* $USED 0 1$" "$DIR/client-state-quota/quota.state" || fail "usage not in quota.state"
mv "$DIR/client-quota.log" "$DIR/client-quota-1.log"
start_client quota
grep -q "link a down: quota reached" "$DIR/client-quota.log" || fail "link a not stopped after a restart"
udp_flow 1 2 || fail "flow after the restart"
stop "$CLIENT_PID"
USED2=$(sed -n 's/^tquicd: link a .*quota_used=\([0-9]*\).*/\1/p' "$DIR/client-quota.log")
[ "$USED2" = "$USED" ] || fail "link a's usage $USED2 after the restart, $USED before"

# 5. Server restart: the client's address is kept in the state file and given back.
start_client race
ADDR=$(inner_address)
wait_for "$DIR/server-state/addresses" 60 "client site1 $ADDR" || fail "address $ADDR not saved"
stop "$CLIENT_PID"
stop "$SERVER_PID"
inS nft list table inet tquicd > /dev/null 2>&1 && fail "nftables table left after SIGTERM"
# An address only the file can give (not where the name's hash lands): proof it is read.
printf 'tquicd-addresses 1\nclient site1 198.18.170.77\n' > "$DIR/server-state/addresses"
start_server
start_client race
[ "$(inner_address)" = 198.18.170.77 ] || fail "client got $(inner_address) after the server restart, not the kept address"
inC ping -c 2 -i 0.2 -W 2 $TARGET > /dev/null || fail "ping after the server restart"
stop "$CLIENT_PID"
stop "$SERVER_PID"
echo "PASS"

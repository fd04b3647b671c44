# Sourceable bash library: the bond topology of issue 15 in network namespaces (needs root).
#
#   LAN ns            bond client ns              WAN ns                bond server ns     internet ns
#   iperf3/ping  ==   tquicd client (TUN)  ==link a==  tquic emu   ==  tquicd server  ==  iperf3 -s,
#   198.18.100.2      198.18.100.1         ==link b==  (delay per       (TUN, pool        echo, probes
#                     NAT LAN -> tunnel    ==link c==   link, UDP)       198.18.110.0/24)  198.18.106.2
#
# Link i (a, b, c) joins the client (198.18.10(1+i).2) and the WAN ns (198.18.10(1+i).1); each
# direction is rate-limited by tbf on the sending veth (tbf charges the Ethernet frame, headers
# included). This kernel has no netem, so the one-way delay of each link comes from `tquic
# emu` in the WAN ns (docs/emu.md): the client's sockets talk to the emu's address
# (BB_EMU_ADDR), the emu relays per client source address with that link's delay, in both
# directions, to the server (BB_SERVER_ADDR). A client started with via=direct talks to the
# server address itself: the WAN ns forwards in the kernel (no added delay, no relay CPU) —
# used for the unshaped link and for the comparison with kernel MPTCP (which the UDP-only
# emulator cannot carry).
#
# Usage:
#   . bench/bond/lib.sh
#   BB_LINKS="a:40:20 b:20:50"      # name:rate Mbit/s (0 = unshaped):one-way delay ms
#   BB_DELAY_BOUND=true             # both daemons' tunnel.delay_bound (unset: the daemons' default)
#   bb_init /path/to/tquicd /path/to/tquic      # sets the names, traps EXIT (cleanup)
#   bb_setup                        # namespaces, veths, addresses, routes, tbf, NAT, emu
#   bb_server_start; bb_client_start NAME "a b" [emu|direct]; ... ; bb_client_stop
#   bb_link_down a blackhole|carrier; bb_link_up a blackhole|carrier
#   inLAN iperf3 -c $BB_NET_ADDR ...   (also inCLI, inWAN, inSRV, inNET)
# Names: namespaces tqbb{l,c,w,s,i}<PID>, devices tqbb*; subnets 198.18.100-119.0/24 and
# 198.19.100.0/24 (docs/bench/bond.md). Everything is removed on exit, failures included.

BB_LINKS=${BB_LINKS:-"a:40:20 b:20:50"}
BB_LAN_ADDR=198.18.100.2
BB_LAN_GW=198.18.100.1
BB_EMU_ADDR=198.19.100.1
BB_SERVER_ADDR=198.18.105.2
BB_NET_ADDR=198.18.106.2
BB_POOL=198.18.110.0/24
BB_PORT=4433
BB_TUN=tqbbt0
BB_STUN=tqbbts0

bb_log() { echo "[$(date +%T)] $*" >&2; }
bb_die() {
  echo "bond: FAIL: $*" >&2
  for f in "$BB_DIR"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done
  exit 1
}

# bb_init TQUICD TQUIC [DIR]: names from the PID, the work directory, the cleanup trap.
bb_init() {
  BB_TQUICD=${1:?bb_init TQUICD TQUIC}
  BB_TQUIC=${2:?bb_init TQUICD TQUIC}
  BB_TAG=$$
  BB_LAN=tqbbl$BB_TAG BB_CLI=tqbbc$BB_TAG BB_WAN=tqbbw$BB_TAG BB_SRV=tqbbs$BB_TAG
  BB_NET=tqbbi$BB_TAG
  BB_DIR=${3:-/tmp/tqbb.$BB_TAG}
  mkdir -p "$BB_DIR"
  BB_PIDS=()
  BB_CLIENT_PID='' BB_SERVER_PID='' BB_EMU_PID=''
  trap bb_cleanup EXIT
  trap 'exit 1' INT TERM
}

inLAN() { ip netns exec "$BB_LAN" "$@"; }
inCLI() { ip netns exec "$BB_CLI" "$@"; }
inWAN() { ip netns exec "$BB_WAN" "$@"; }
inSRV() { ip netns exec "$BB_SRV" "$@"; }
inNET() { ip netns exec "$BB_NET" "$@"; }

# Link fields: bb_link_index a -> 0; bb_link_field a rate|delay.
bb_link_index() {
  local i=0 l
  for l in $BB_LINKS; do [ "${l%%:*}" = "$1" ] && { echo $i; return 0; }; i=$((i + 1)); done
  return 1
}
bb_link_field() {
  local l
  for l in $BB_LINKS; do
    [ "${l%%:*}" = "$1" ] || continue
    IFS=: read -r _ rate delay <<< "$l"
    case $2 in rate) echo "$rate" ;; delay) echo "$delay" ;; esac
    return 0
  done
  return 1
}
bb_link_names() { local l; for l in $BB_LINKS; do echo "${l%%:*}"; done; }
bb_link_dev() { echo "tqbbl$1"; }      # client side of link $1
bb_link_wdev() { echo "tqbbw$1"; }     # WAN side
bb_link_subnet() { echo "198.18.$((101 + $(bb_link_index "$1")))"; }
bb_link_src() { echo "$(bb_link_subnet "$1").2"; }
bb_link_gw() { echo "$(bb_link_subnet "$1").1"; }

# bb_shape LINK MBIT: tbf both ways (0 removes it). Bursts of 12.8 ms at the rate, 40 ms of
# queue, as tests/tquicd/bond_netns_test.sh.
bb_shape() {
  local l=$1 rate=$2 ns dev
  for ns in "$BB_CLI:$(bb_link_dev "$l")" "$BB_WAN:$(bb_link_wdev "$l")"; do
    dev=${ns#*:}
    tc -n "${ns%%:*}" qdisc del dev "$dev" root 2>/dev/null
    [ "$rate" = 0 ] && continue
    tc -n "${ns%%:*}" qdisc add dev "$dev" root tbf rate "${rate}mbit" \
      burst $((rate * 1600)) latency 40ms || return 1
  done
}

# Host routes of the client towards the emu and the server through link $1 (a down link
# loses them; bb_link_up puts them back).
bb_link_routes() {
  local l=$1 i dev gw
  i=$(bb_link_index "$l"); dev=$(bb_link_dev "$l"); gw=$(bb_link_gw "$l")
  ip -n "$BB_CLI" route replace "$BB_EMU_ADDR/32" via "$gw" dev "$dev" metric $((100 + i)) &&
  ip -n "$BB_CLI" route replace "$BB_SERVER_ADDR/32" via "$gw" dev "$dev" metric $((100 + i)) &&
  # Source routing for kernel MPTCP subflows (bb_mptcp_setup).
  { ip -n "$BB_CLI" rule del from "$(bb_link_src "$l")" table $((100 + i)) 2>/dev/null; true; } &&
  ip -n "$BB_CLI" rule add from "$(bb_link_src "$l")" table $((100 + i)) &&
  ip -n "$BB_CLI" route replace default via "$gw" dev "$dev" table $((100 + i))
}

bb_setup_ns() {
  local n
  ip netns add "$BB_LAN" || return 77
  for n in "$BB_CLI" "$BB_WAN" "$BB_SRV" "$BB_NET"; do ip netns add "$n" || return 1; done
  for n in "$BB_LAN" "$BB_CLI" "$BB_WAN" "$BB_SRV" "$BB_NET"; do
    ip -n "$n" link set lo up || return 1
    ip netns exec "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
      net.ipv4.conf.default.rp_filter=0 net.ipv4.ip_forward=1 || return 1
  done
}

# A veth pair: bb_veth NS1 DEV1 ADDR1 NS2 DEV2 ADDR2 (/24 each).
bb_veth() {
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" &&
  ip -n "$1" addr add "$3/24" dev "$2" && ip -n "$4" addr add "$6/24" dev "$5" &&
  ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}

bb_setup() {
  local rc l
  bb_setup_ns; rc=$?
  [ $rc = 0 ] || return $rc
  bb_veth "$BB_LAN" tqbblan $BB_LAN_ADDR "$BB_CLI" tqbbclan $BB_LAN_GW || return 1
  bb_veth "$BB_WAN" tqbbwsrv 198.18.105.1 "$BB_SRV" tqbbswan $BB_SERVER_ADDR || return 1
  bb_veth "$BB_SRV" tqbbsnet 198.18.106.1 "$BB_NET" tqbbinet $BB_NET_ADDR || return 1
  ip -n "$BB_WAN" addr add $BB_EMU_ADDR/32 dev lo || return 1
  ip -n "$BB_LAN" route add default via $BB_LAN_GW || return 1
  ip -n "$BB_NET" route add default via 198.18.106.1 || return 1
  for l in $(bb_link_names); do
    bb_veth "$BB_CLI" "$(bb_link_dev "$l")" "$(bb_link_src "$l")" \
      "$BB_WAN" "$(bb_link_wdev "$l")" "$(bb_link_gw "$l")" || return 1
    ip netns exec "$BB_CLI" sysctl -qw "net.ipv4.conf.$(bb_link_dev "$l").rp_filter=0" || return 1
    bb_link_routes "$l" || return 1
    ip -n "$BB_SRV" route add "$(bb_link_subnet "$l").0/24" via 198.18.105.1 || return 1
    bb_shape "$l" "$(bb_link_field "$l" rate)" || return 1
  done
  # The LAN leaves the bond client through the tunnel with the tunnel's address (the server
  # accepts only the client's assigned sources).
  ip netns exec "$BB_CLI" nft -f - <<EOT || return 1
table ip tqbb {
  chain post { type nat hook postrouting priority 100; oifname "$BB_TUN" masquerade; }
  chain clamp { type filter hook forward priority 0; oifname "$BB_TUN" tcp flags syn tcp option maxseg size set rt mtu; }
}
EOT
  bb_certs && bb_emu_start
}

# Certificate (SAN: the emu's and the server's address), tokens.
bb_certs() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bond \
    -addext "subjectAltName=IP:$BB_EMU_ADDR,IP:$BB_SERVER_ADDR" \
    -keyout "$BB_DIR/key.pem" -out "$BB_DIR/cert.pem" >/dev/null 2>&1 || return 1
  "$BB_TQUICD" gen-token site1 > "$BB_DIR/tokens" || return 1
  cut -d' ' -f2 "$BB_DIR/tokens" > "$BB_DIR/client.token"
  chmod 600 "$BB_DIR/tokens" "$BB_DIR/key.pem" "$BB_DIR/client.token"
}

# The emu: one --link per configured link, its one-way delay both ways, no rate (tbf does it).
bb_emu_start() {
  local args=() l
  for l in $(bb_link_names); do
    args+=(--link "$(bb_link_src "$l")=delay=$(bb_link_field "$l" delay)ms")
  done
  ip netns exec "$BB_WAN" "$BB_TQUIC" emu --listen "$BB_EMU_ADDR:$BB_PORT" \
    --to "$BB_SERVER_ADDR:$BB_PORT" "${args[@]}" > "$BB_DIR/emu.log" 2>&1 &
  BB_EMU_PID=$!
  BB_PIDS+=("$BB_EMU_PID")
  sleep 0.2
  kill -0 "$BB_EMU_PID" 2>/dev/null
}

# bb_wait_ready LOG PID: up to 10 s for the daemon's ready line.
bb_wait_ready() {
  local i
  for i in $(seq 100); do
    grep -q "tquicd: ready" "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# bb_control_toml FILE-STEM EXTRA: a [control] table with a socket of this run's own (two
# daemons on the default path fight over it), unless EXTRA brings its own [control].
bb_control_toml() {
  case $2 in *"[control]"*) return 0 ;; esac
  printf '[control]\nsocket = "%s"\n' "$BB_DIR/$1.sock"
}

# bb_server_start [extra TOML]: the server with its TUN, the pool and the internet behind it.
bb_server_start() {
  cat > "$BB_DIR/server.toml" <<EOT
[daemon]
role = "server"
state_dir = "$BB_DIR"
[tunnel]
name = "$BB_STUN"
mtu = 1500
${BB_DELAY_BOUND:+delay_bound = $BB_DELAY_BOUND}
[server]
listen = "$BB_SERVER_ADDR:$BB_PORT"
certificate = "$BB_DIR/cert.pem"
key = "$BB_DIR/key.pem"
tokens_file = "$BB_DIR/tokens"
pools = ["$BB_POOL"]
[metrics]
listen = ""
$(bb_control_toml server "${1:-}")
${1:-}
EOT
  ip netns exec "$BB_SRV" "$BB_TQUICD" server -c "$BB_DIR/server.toml" > "$BB_DIR/server.log" 2>&1 &
  BB_SERVER_PID=$!
  BB_PIDS+=("$BB_SERVER_PID")
  bb_wait_ready "$BB_DIR/server.log" "$BB_SERVER_PID"
}

# bb_client_toml NAME "LINKS" [emu|direct] [extra TOML]: the client's file, links in the
# given order (the first carries the handshake).
bb_client_toml() {
  local name=$1 links=$2 via=${3:-emu} l addr=$BB_EMU_ADDR
  [ "$via" = direct ] && addr=$BB_SERVER_ADDR
  cat > "$BB_DIR/$name.toml" <<EOT
[daemon]
role = "client"
state_dir = "$BB_DIR"
[tunnel]
name = "$BB_TUN"
mtu = 1400
${BB_DELAY_BOUND:+delay_bound = $BB_DELAY_BOUND}
[client]
server_url = "https://$addr:$BB_PORT/"
token_file = "$BB_DIR/client.token"
pinned_cert = "$BB_DIR/cert.pem"
[metrics]
listen = ""
$(bb_control_toml "client-$name" "${4:-}")
${4:-}
EOT
  for l in $links; do
    printf '[[link]]\nname = "%s"\ninterface = "%s"\nsource = "%s"\n' \
      "$l" "$(bb_link_dev "$l")" "$(bb_link_src "$l")" >> "$BB_DIR/$name.toml"
    # BB_RATE_PCT: tell tquicd each link's rate, that percentage of its shaped rate (SQM-style,
    # docs/tquicd.md "Latency under load").
    [ -n "${BB_RATE_PCT:-}" ] && printf 'rate = "%skbit"\n' \
      $(($(bb_link_field "$l" rate) * 10 * BB_RATE_PCT)) >> "$BB_DIR/$name.toml"
  done
}

# bb_client_start NAME "LINKS" [emu|direct] [extra TOML]: starts the client, waits for its
# ready line, routes the internet ns through the tunnel. Sets BB_CLIENT_PID.
bb_client_start() {
  bb_client_toml "$@"
  ip netns exec "$BB_CLI" "$BB_TQUICD" client -c "$BB_DIR/$1.toml" > "$BB_DIR/client-$1.log" 2>&1 &
  BB_CLIENT_PID=$!
  BB_PIDS+=("$BB_CLIENT_PID")
  bb_wait_ready "$BB_DIR/client-$1.log" "$BB_CLIENT_PID" || return 1
  ip -n "$BB_CLI" route replace "$BB_NET_ADDR/32" dev "$BB_TUN"
}

# bb_stop PID: SIGTERM, up to 3 s, then SIGKILL.
bb_stop() {
  local i
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  for i in $(seq 30); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
  return 1
}
bb_client_stop() { bb_stop "$BB_CLIENT_PID"; BB_CLIENT_PID=''; }
bb_server_stop() { bb_stop "$BB_SERVER_PID"; BB_SERVER_PID=''; }

# bb_link_down LINK blackhole|carrier. blackhole: every packet arriving on either end of the
# link is dropped (nftables netdev ingress), the interfaces stay up, as when a modem keeps
# its Ethernet carrier but its WAN is dead. carrier: the client's interface goes down.
bb_link_down() {
  local l=$1 how=$2 ns dev
  case $how in
    carrier) ip -n "$BB_CLI" link set "$(bb_link_dev "$l")" down ;;
    blackhole)
      for ns in "$BB_CLI:$(bb_link_dev "$l")" "$BB_WAN:$(bb_link_wdev "$l")"; do
        dev=${ns#*:}
        ip netns exec "${ns%%:*}" nft -f - <<EOT || return 1
table netdev tqbbbh_$l {
  chain in { type filter hook ingress device "$dev" priority 0; policy drop; }
}
EOT
      done ;;
    *) return 2 ;;
  esac
}
bb_link_up() {
  local l=$1 how=$2 ns
  case $how in
    carrier) ip -n "$BB_CLI" link set "$(bb_link_dev "$l")" up && bb_link_routes "$l" ;;
    blackhole)
      for ns in "$BB_CLI" "$BB_WAN"; do ip netns exec "$ns" nft delete table netdev "tqbbbh_$l" || return 1; done ;;
    *) return 2 ;;
  esac
}

# bb_link_tx_bytes LINK: bytes the client has sent on the link (kernel counter).
bb_link_tx_bytes() {
  ip netns exec "$BB_CLI" cat "/sys/class/net/$(bb_link_dev "$1")/statistics/tx_bytes"
}

bb_cleanup() {
  local p n
  for p in "${BB_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${BB_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for n in "$BB_LAN" "$BB_CLI" "$BB_WAN" "$BB_SRV" "$BB_NET"; do
    # Processes started with `ip netns exec` by callers (iperf3 -D, probes) go with the ns.
    for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$n" 2>/dev/null
  done
  [ -n "${BB_KEEP:-}" ] || rm -rf "$BB_DIR"
}

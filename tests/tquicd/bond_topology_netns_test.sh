#!/bin/bash
# Test of the benchmark topology (bench/bond/lib.sh) and of the client daemon's shutdown on a
# fast link (ctest tquicd_bond_topology_netns, labels bond;netns; needs root).
# Asserts: the five namespaces come up; the LAN host reaches the internet host through a
# tunnel over the emulator (link a, 5 ms one-way each way: ping RTT at least 10 ms) and over
# a direct link; a blackholed link stops carrying (a ping over it is lost) and carries again
# when restored, likewise carrier down/up (routes restored); a client on a direct link with
# sub-millisecond RTT exits 0 on SIGTERM and prints its per-link figures (it used to crash
# with SIGSEGV: the endpoint freed the closed connection within the shutdown flush and the
# daemon read its paths through a dangling pointer); everything is removed on exit.
set -u
TQUICD=${1:?usage: bond_topology_netns_test.sh TQUICD TQUIC}
TQUIC=${2:?usage: bond_topology_netns_test.sh TQUICD TQUIC}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
BB_LINKS="a:0:5 b:0:5"
. "$(dirname "$0")/../../bench/bond/lib.sh"
bb_init "$TQUICD" "$TQUIC"
fail() { bb_die "$*"; }
bb_setup; rc=$?
[ $rc = 77 ] && { echo "SKIP: cannot create network namespaces"; exit 77; }
[ $rc = 0 ] || fail "topology setup"
bb_server_start || fail "server not ready"

# Through the emulator on link a: the emulator's 2 x 5 ms show in the RTT.
bb_client_start emu "a" || fail "client over the emulator not ready"
inLAN ping -c 3 -i 0.2 -W 2 $BB_NET_ADDR > "$BB_DIR/ping-emu.log" || fail "ping through the tunnel (emu)"
rtt=$(sed -n 's|.*= \([0-9.]*\)/.*|\1|p' "$BB_DIR/ping-emu.log")
python3 -c "import sys; sys.exit(0 if float('$rtt') >= 10 else 1)" ||
  fail "RTT $rtt ms through the emulator, expected >= 10 ms"
bb_client_stop || fail "client (emu) did not stop on SIGTERM"

# Link failures, seen by the kernel path through the WAN ns (no daemon involved).
bb_link_down b blackhole || fail "blackhole b"
! inCLI ping -c 1 -W 1 -I "$(bb_link_src b)" $BB_SERVER_ADDR >/dev/null || fail "blackholed link still carries"
inCLI ping -c 1 -W 1 -I "$(bb_link_src a)" $BB_SERVER_ADDR >/dev/null || fail "link a lost with b blackholed"
bb_link_up b blackhole || fail "restore b"
inCLI ping -c 1 -W 2 -I "$(bb_link_src b)" $BB_SERVER_ADDR >/dev/null || fail "link b not back after blackhole"
bb_link_down b carrier || fail "carrier down b"
! inCLI ping -c 1 -W 1 -I "$(bb_link_src b)" $BB_SERVER_ADDR >/dev/null || fail "link without carrier still carries"
bb_link_up b carrier || fail "carrier up b"
inCLI ping -c 1 -W 2 -I "$(bb_link_src b)" $BB_SERVER_ADDR >/dev/null || fail "link b not back after carrier up"

# A direct, unshaped link: the closed connection is freed within the shutdown flush.
bb_client_start direct "a b" direct || fail "client on direct links not ready"
inLAN ping -c 3 -i 0.2 -W 2 $BB_NET_ADDR >/dev/null || fail "ping through the tunnel (direct)"
kill -TERM "$BB_CLIENT_PID"
wait "$BB_CLIENT_PID"
rc=$?
BB_CLIENT_PID=''
[ $rc = 0 ] || fail "client exited with status $rc on SIGTERM (139 = SIGSEGV)"
grep -q "tquicd: link a 198.18.101.2:[0-9]*: path open" "$BB_DIR/client-direct.log" ||
  fail "per-link figures missing from the client's exit lines"
! ip -n "$BB_CLI" link show "$BB_TUN" >/dev/null 2>&1 || fail "TUN device left after SIGTERM"
echo PASS

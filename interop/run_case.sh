#!/usr/bin/env bash
# Runs one interop case between TQUIC and quic-go 0.29 over loopback UDP, then checks it.
#   run_case.sh --case CASE --direction tquic-client|tquic-server \
#               --tquic PATH/tquic --qg DIR(with qgserver, qgclient) --work DIR
# Cases: handshake transfer multiplexing chacha20 retry resumption zerortt keyupdate datagram,
# and clientkeyupdate (TQUIC's client starts the key updates; tquic-client direction only).
# "tquic-client" means TQUIC's client against quic-go's server; "tquic-server" the reverse.
# Every case compares the SHA-256 of each served and downloaded file, and checks on the
# quic-go side that the feature under test really happened (Retry sent/received, resumed
# session, accepted 0-RTT, key updates, echoed datagrams). Prints PASS or FAIL: <reason>.
# TQUIC_INTEROP_PCAP=1 also captures the traffic with tshark into WORK/capture.pcapng; the
# TLS secrets of both sides are always in WORK/keys.log (decode with
# tshark -r WORK/capture.pcapng -o tls.keylog_file:WORK/keys.log -Y quic -V).
set -uo pipefail

case_=""; dir=""; tquic=""; qg=""; work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --case) case_=$2; shift 2 ;;
    --direction) dir=$2; shift 2 ;;
    --tquic) tquic=$2; shift 2 ;;
    --qg) qg=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "run_case: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$case_" ] && [ -n "$dir" ] && [ -x "$tquic" ] && [ -x "$qg/qgserver" ] && [ -n "$work" ] || {
  echo "usage: run_case.sh --case C --direction tquic-client|tquic-server --tquic BIN --qg DIR --work DIR" >&2
  exit 2
}
tquic=$(realpath "$tquic"); qg=$(realpath "$qg"); work=$(realpath -m "$work")
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=interop/lib.sh
. "$here/lib.sh"
run_case "$case_" "$dir"

#!/usr/bin/env bash
# Installs every Debian 12 package TQUIC needs to build, test, fuzz and benchmark.
# Idempotent; safe to re-run. Must run as root (or with sudo available).
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  clang-16 libclang-rt-16-dev            # libFuzzer targets (clang 14 lacks <expected>)
  libgnutls28-dev gnutls-bin libssl-dev openssl
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libfmt-dev liburing-dev
  libc-ares-dev libmnl-dev libsystemd-dev  # MASQUE resolver, tquicd rtnetlink and sd_notify
  iproute2 tshark iperf3 nftables iputils-ping mptcpize jq python3   # namespace tests, bench scripts
  chromium                               # the real browser (WebTransport, dashboard tests)
  golang-go golang-github-lucas-clemente-quic-go-dev   # interop peer (quic-go 0.29), tests/interop
  ngtcp2-client ngtcp2-server            # HTTP/3 interop peers (gtlsclient, gtlsserver), tests/interop
)

# npm drives chromium through puppeteer-core. A nodejs from elsewhere (NodeSource) bundles npm
# and conflicts with Debian's npm package, so Debian's is added only when there is no npm.
if ! command -v npm >/dev/null 2>&1; then PKGS+=(nodejs npm); fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# tshark asks whether non-root users may capture; answer no without prompting.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

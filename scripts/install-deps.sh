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
  iproute2 tshark
  libc-ares-dev                          # MASQUE proxy name resolution (src/masque/resolver.cc)
  golang-go golang-github-lucas-clemente-quic-go-dev   # interop peer (quic-go 0.29), tests/interop
  ngtcp2-client ngtcp2-server            # HTTP/3 interop peers (gtlsclient, gtlsserver), tests/interop
)

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

#!/usr/bin/env bash
# Builds the quic-go 0.29 interop peers (qgserver, qgclient; HTTP/3: h3server, h3client) offline
# from Debian's golang-github-lucas-clemente-quic-go-dev, in GOPATH mode.
#   interop/build-quic-go.sh OUT_DIR
# Our sources are placed in a GOPATH overlay as github.com/lucas-clemente/quic-go/tquicinterop
# (every other entry of Debian's quic-go tree is symlinked beside them) so that they may use
# quic-go's internal/handshake.KeyUpdateInterval: quic-go 0.29 has no public knob to start a
# key update before 100,000 packets.
set -euo pipefail

out=${1:?usage: build-quic-go.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
sys_gopath=/usr/share/gocode
qgo=$sys_gopath/src/github.com/lucas-clemente/quic-go

command -v go >/dev/null || { echo "build-quic-go: 'go' not found (apt-get install golang-go)" >&2; exit 1; }
[ -d "$qgo" ] || { echo "build-quic-go: $qgo missing (apt-get install golang-github-lucas-clemente-quic-go-dev)" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
overlay=$out/gopath/src/github.com/lucas-clemente/quic-go
rm -rf "$out/gopath"
mkdir -p "$overlay"
for entry in "$qgo"/*; do
  ln -s "$entry" "$overlay/$(basename "$entry")"
done
ln -s "$here/quic-go" "$overlay/tquicinterop"

export GOPATH=$out/gopath:$sys_gopath
export GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local
# GOCACHE: ./run points it at .cache/go-build beside ccache, so the release and asan build trees
# (and a fresh clone's) share one compile of quic-go; -trimpath keeps the overlay's path (inside
# the build tree) out of Go's cache keys. Alone, the script caches inside OUT_DIR.
export GOCACHE=${GOCACHE:-$out/gocache}
export CGO_ENABLED=0
pkg=github.com/lucas-clemente/quic-go/tquicinterop
go vet -trimpath "$pkg/common" "$pkg/server" "$pkg/client" "$pkg/h3server" "$pkg/h3client"
go build -trimpath -o "$out/qgserver" "$pkg/server"
go build -trimpath -o "$out/qgclient" "$pkg/client"
# HTTP/3 peers on quic-go's http3 package (the "http3" case, docs/http3-tools.md).
go build -trimpath -o "$out/h3server" "$pkg/h3server"
go build -trimpath -o "$out/h3client" "$pkg/h3client"
echo "build-quic-go: built $out/qgserver $out/qgclient $out/h3server $out/h3client"

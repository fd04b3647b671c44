#!/usr/bin/env bash
# Installs the current build into a temporary prefix, builds examples/ against the installed
# package (find_package(tquic)), runs the echo server and client against each other on
# 127.0.0.1 (a free port chosen by the kernel) and checks the echo is byte-exact, fetches the
# same file over HTTP/3 (h3_server / h3_client) and compares it; then compiles
# and links the client again with nothing but `pkg-config --cflags --libs tquic`.
#   install_examples.sh <build dir> <source dir> <C++ compiler>
set -euo pipefail
build=$1 src=$2 cxx=$3
work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix=$work/prefix
cmake --install "$build" --component tquic --prefix "$prefix" >/dev/null

# Only the public headers are installed.
[[ -f $prefix/include/tquic/tquic.h ]] || fail "tquic/tquic.h not installed"
extra=$(find "$prefix/include" -type f ! -path "$prefix/include/tquic/*.h")
[[ -z $extra ]] || fail "unexpected installed headers: $extra"
if grep -rhE '#include "(core|common|wire|crypto|tls|recovery|cc|mp|h3|io|sim|obs)/' "$prefix/include"; then
  fail "a public header includes an internal one"
fi
ls "$prefix"/lib*/libtquic.a "$prefix"/lib*/cmake/tquic/tquicConfig.cmake \
   "$prefix"/lib*/cmake/tquic/tquicConfigVersion.cmake >/dev/null

# The examples, as an embedder builds them.
cmake -S "$src/examples" -B "$work/examples" -G Ninja \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/examples" >/dev/null

head -c 3000000 /dev/urandom > "$work/input.bin"
"$work/examples/echo_server" --listen 127.0.0.1:0 --cert-out "$work/cert.pem" \
  --port-file "$work/port" --max-connections 1 --timeout-s 60 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
[[ -s $work/port ]] || fail "the server did not start: $(cat "$work/server.log")"
port=$(cat "$work/port")

timeout 60 "$work/examples/echo_client" --connect "127.0.0.1:$port" --ca "$work/cert.pem" \
  --input "$work/input.bin" --output "$work/output.bin" --datagrams 10 \
  || fail "echo_client failed; server log: $(cat "$work/server.log")"
cmp "$work/input.bin" "$work/output.bin" || fail "the echo differs from the input"
# The server ends after its one connection (the client closed it).
for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server_pid" 2>/dev/null; then fail "the server did not finish"; fi
wait "$server_pid" || fail "the server exited with an error: $(cat "$work/server.log")"
server_pid=
grep -q "served 1 connection" "$work/server.log" || fail "server log: $(cat "$work/server.log")"

# HTTP/3: the same file fetched with GET /file.
"$work/examples/h3_server" --file "$work/input.bin" --listen 127.0.0.1:0 \
  --cert-out "$work/h3cert.pem" --port-file "$work/h3port" --max-connections 1 --timeout-s 60 \
  > "$work/h3server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/h3port ]] && break; sleep 0.1; done
[[ -s $work/h3port ]] || fail "the h3 server did not start: $(cat "$work/h3server.log")"
timeout 60 "$work/examples/h3_client" --connect "127.0.0.1:$(cat "$work/h3port")" \
  --ca "$work/h3cert.pem" --path /file --output "$work/h3output.bin" \
  || fail "h3_client failed; server log: $(cat "$work/h3server.log")"
cmp "$work/input.bin" "$work/h3output.bin" || fail "the HTTP/3 body differs from the file"
wait "$server_pid" || fail "the h3 server exited with an error: $(cat "$work/h3server.log")"
server_pid=

# pkg-config: compile and link one example with its flags alone, then run it.
pcdir=$(dirname "$(find "$prefix" -name tquic.pc | head -1)")
flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs tquic)
# shellcheck disable=SC2086
"$cxx" -std=c++23 -I"$src/examples" "$src/examples/echo_client.cc" $flags -o "$work/pc_client"
"$work/pc_client" >/dev/null 2>&1 && fail "pc_client without flags should print usage and fail"
[[ $("$work/pc_client" 2>&1 || true) == usage:* ]] || fail "pc_client does not run"
echo "install test passed: $(stat -c %s "$work/input.bin") bytes echoed byte-exact"

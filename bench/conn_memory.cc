// Heap per idle server connection, and GnuTLS's part of it (issue #16 item 4; figures in
// docs/performance.md "Many connections"). Connections are made in memory, in virtual time
// (harness/idle_memory.h): what this counts is the heap, not the resident set that
// bench/many_connections.sh reads from /proc, which adds the allocator's slack and pages.
//   conn_memory [K] [--exit-at-idle]      K: connections (default 2000)
// --exit-at-idle ends the process while the K server connections sit idle, without tearing
// anything down, so a heap profiler's "leaked" view is what they hold:
//   heaptrack build/release/bench/conn_memory 2000 --exit-at-idle
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "harness/idle_memory.h"

int main(int argc, char** argv) {
  size_t k = 2000;
  bool exit_at_idle = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--exit-at-idle") == 0) {
      exit_at_idle = true;
    } else {
      k = std::strtoul(argv[i], nullptr, 10);
    }
  }
  if (k == 0) {
    std::fprintf(stderr, "usage: conn_memory [K] [--exit-at-idle]\n");
    return 2;
  }
  double tls = harness::measure_tls_server_session_heap(k);
  std::printf("GnuTLS server session after the handshake (bare TlsSession, %zu): %.0f bytes\n", k,
              tls);
  std::fflush(stdout);
  auto idle = harness::measure_idle_server_heap(k, {}, [&](const harness::IdleHeap& r) {
    std::printf("heap per idle server connection (%zu open): %.0f bytes\n", r.connections,
                r.bytes_per_connection);
    std::fflush(stdout);
    if (exit_at_idle) std::_Exit(r.connections == k ? 0 : 1);
  });
  if (idle.connections == k) return 0;
  std::fprintf(stderr, "conn_memory: %zu of %zu connections completed\n", idle.connections, k);
  return 1;
}

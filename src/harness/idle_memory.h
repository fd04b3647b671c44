// Heap held per idle server connection (issue #16 item 4; docs/performance.md "Many
// connections"): K connections go through a full handshake between two quic::Endpoints joined
// in memory (virtual time, no sockets), are left idle, and the heap the server side holds is
// read from the allocator's own counters. Used by bench/conn_memory.cc (the figures) and by
// tests/harness/measure_harness_test.cc (the regression bound).
#pragma once

#include <cstddef>
#include <functional>

#include "core/config.h"

namespace harness {

// Bytes the allocator has handed out and not got back: glibc's mallinfo2() (arena and mmap'd
// chunks, headers included), or the sanitizer allocator's count under ASan.
size_t heap_in_use();

struct IdleHeap {
  size_t connections = 0;  // server connections that completed the handshake and stayed open
  double bytes_per_connection = 0;
};

// K client connections to one server Endpoint, run in virtual time until every handshake is
// confirmed and the ACKs of the last flights are exchanged (a few virtual seconds, well inside
// the idle timeout). The client Endpoint is then destroyed and the server's heap growth over
// a baseline taken after a few warm-up connections (one-time lazy allocations) is divided by
// K: the connections, their TLS sessions and the Endpoint's per-connection routing entries.
// `at_idle`, if set, runs at that moment with the figures, everything still alive (a heap profiler's view
// of the idle connections: bench/conn_memory --exit-at-idle under heaptrack).
IdleHeap measure_idle_server_heap(size_t k, const quic::ConnectionConfig& config = {},
                                  const std::function<void(const IdleHeap&)>& at_idle = {});

// GnuTLS's part: K bare server TlsSessions taken through the same handshake (ECDSA P-256
// self-signed certificate, a session ticket sent, as Connection does), measured as the heap
// freed when they are destroyed. Per session, in bytes.
double measure_tls_server_session_heap(size_t k);

}  // namespace harness

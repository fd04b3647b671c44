#include "harness/idle_memory.h"

#include <malloc.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/random.h"
#include "harness/in_memory_pair.h"

#if defined(__SANITIZE_ADDRESS__)
// The ASan runtime's count (sanitizer/allocator_interface.h, which g++ does not install).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace harness {

namespace {

using quic::Endpoint;
using quic::Instant;

constexpr size_t kWarmupConnections = 4;
// Virtual time the connections run: the handshake, HANDSHAKE_DONE and the ACKs of the last
// flights take a few round trips of an in-memory link; the default idle timeout is 30 s.
constexpr quic::Duration kSettle = std::chrono::seconds(3);

}  // namespace

size_t heap_in_use() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#endif
}

IdleHeap measure_idle_server_heap(size_t k, const quic::ConnectionConfig& config,
                                  const std::function<void(const IdleHeap&)>& at_idle) {
  quic::SeededRandom server_random(2), warm_random(3), client_random(1);
  Endpoint server(endpoint_config(true, config, k + kWarmupConnections), server_random);
  Instant now = quic::instant_from_ns(1'000'000'000);
  // The warm-up client stays alive to the end, so its heap is in both readings.
  Endpoint warm(endpoint_config(false, config, kWarmupConnections), warm_random);
  connect(warm, kWarmupConnections, now);
  run_until(warm, server, now, now + kSettle);
  accept_all(server);

  const size_t before = heap_in_use();
  IdleHeap r;
  {
    auto client = std::make_unique<Endpoint>(endpoint_config(false, config, k), client_random);
    connect(*client, k, now);
    run_until(*client, server, now, now + kSettle);
  }  // the clients go without a word: the server's connections stay idle and open
  r.connections = accept_all(server);
  if (r.connections > 0) {
    r.bytes_per_connection = static_cast<double>(heap_in_use() - before) /
                             static_cast<double>(r.connections);
  }
  if (at_idle) at_idle(r);
  return r;
}

double measure_tls_server_session_heap(size_t k) {
  auto server_ctx = tls_context(true);
  auto client_ctx = tls_context(false);
  std::vector<std::unique_ptr<quic::TlsSession>> servers;
  for (size_t i = 0; i < k; ++i) {
    auto s = bare_tls_handshake(client_ctx, server_ctx);
    if (!s) return 0;
    servers.push_back(std::move(s));
  }
  const size_t with = heap_in_use();
  servers.clear();
  return static_cast<double>(with - heap_in_use()) / static_cast<double>(k);
}

}  // namespace harness

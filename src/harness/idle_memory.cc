#include "harness/idle_memory.h"

#include <malloc.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/endpoint.h"
#include "core/random.h"
#include "tls/test_certs.h"
#include "tls/tls_session.h"
#include "wire/transport_params.h"

#if defined(__SANITIZE_ADDRESS__)
// The ASan runtime's count (sanitizer/allocator_interface.h, which g++ does not install).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace harness {

namespace {

using quic::Endpoint;
using quic::Instant;
using quic::SocketAddress;

constexpr size_t kWarmupConnections = 4;
// Virtual time the connections run: the handshake, HANDSHAKE_DONE and the ACKs of the last
// flights take a few round trips of an in-memory link; the default idle timeout is 30 s.
constexpr quic::Duration kSettle = std::chrono::seconds(3);
constexpr size_t kMaxTurns = 10'000'000;  // bounds the shuttle loop whatever happens

const SocketAddress kServerAddr = SocketAddress::v4(198, 18, 0, 1, 443);
const SocketAddress kClientAddr = SocketAddress::v4(198, 18, 0, 2, 50000);

const quic::PemCertKey& cert() {
  static const quic::PemCertKey pem = [] {
    auto r = quic::make_self_signed("localhost");
    return r ? *r : quic::PemCertKey{};
  }();
  return pem;
}

std::shared_ptr<const quic::TlsContext> tls_context(bool server) {
  quic::TlsConfig t;
  t.server = server;
  t.alpn = {"hq-interop"};
  if (server) {
    t.cert_pem = cert().cert_pem;
    t.key_pem = cert().key_pem;
  } else {
    t.insecure_skip_verify = true;
  }
  auto ctx = quic::make_tls_context(t);
  return ctx ? *ctx : nullptr;
}

// Moves every datagram `from` has to send into `to` at `now`; true if any moved.
bool shuttle(Endpoint& from, Endpoint& to, Instant& now, std::vector<uint8_t>& buf) {
  bool moved = false;
  while (auto t = from.poll_transmit(now, buf)) {
    now = std::max(now, t->send_at);  // pacing: the datagram leaves no earlier than asked
    to.on_datagram(now, t->remote, t->local, t->ecn, quic::MutBytes(buf.data(), t->size));
    moved = true;
  }
  return moved;
}

// Runs both endpoints in virtual time until `end` (datagrams cross at once).
void run_until(Endpoint& client, Endpoint& server, Instant& now, Instant end) {
  std::vector<uint8_t> buf(2048);
  for (size_t turn = 0; turn < kMaxTurns; ++turn) {
    bool moved = shuttle(client, server, now, buf);
    moved = shuttle(server, client, now, buf) || moved;
    if (moved) continue;
    Instant next = std::min(client.next_timeout(), server.next_timeout());
    if (next > end) return;
    now = std::max(now, next);
    client.on_timeout(now);
    server.on_timeout(now);
  }
}

// What an application does with a new server connection: accept it and read its events.
size_t accept_all(Endpoint& server) {
  size_t n = 0;
  while (auto h = server.accept()) {
    quic::Connection* c = server.connection(*h);
    if (c == nullptr) continue;
    while (c->poll_event()) {
    }
    n += c->handshake_complete() && !c->is_draining_or_closing() ? 1 : 0;
  }
  return n;
}

size_t connect(Endpoint& client, size_t k, Instant now) {
  size_t n = 0;
  for (size_t i = 0; i < k; ++i) n += client.connect(kClientAddr, kServerAddr, now) ? 1 : 0;
  return n;
}

quic::EndpointConfig endpoint_config(bool server, const quic::ConnectionConfig& config,
                                     size_t max_connections) {
  quic::EndpointConfig c;
  c.server = server;
  c.connection = config;
  c.tls = tls_context(server);
  c.max_connections = max_connections;
  c.retry = quic::RetryPolicy::kDisabled;  // a full handshake per connection, as the bench's
  return c;
}

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
  // A body of the usual size (an empty one would be omitted, and refused as missing).
  std::vector<uint8_t> tp(512);
  quic::TransportParameters params;
  params.initial_max_data = 1 << 20;
  params.initial_max_stream_data_bidi_local = params.initial_max_stream_data_bidi_remote =
      params.initial_max_stream_data_uni = 256 << 10;
  params.initial_max_streams_bidi = params.initial_max_streams_uni = 100;
  params.max_idle_timeout_ms = 30'000;
  auto n = quic::encode_transport_params(params, tp);
  tp.resize(n ? *n : 0);
  std::vector<std::unique_ptr<quic::TlsSession>> servers;
  for (size_t i = 0; i < k; ++i) {
    auto c = quic::TlsSession::create(client_ctx);
    auto s = quic::TlsSession::create(server_ctx);
    if (!c || !s) return 0;
    (*c)->set_local_transport_params(tp);
    (*s)->set_local_transport_params(tp);
    if (!(*c)->start()) return 0;
    // Each flight crosses whole (the connection reassembles CRYPTO frames the same way); the
    // server's ticket goes out once it completed, as Connection::on_handshake_completed does.
    bool ticket_sent = false;
    for (int flight = 0; flight < 8; ++flight) {
      bool moved = false;
      for (auto& out : (*c)->take_handshake_data()) {
        moved = true;
        if (!(*s)->provide_data(out.level, out.data)) return 0;
      }
      if ((*s)->handshake_complete() && !ticket_sent) {
        if (!(*s)->send_session_ticket()) return 0;
        ticket_sent = true;
      }
      for (auto& out : (*s)->take_handshake_data()) {
        moved = true;
        if (!(*c)->provide_data(out.level, out.data)) return 0;
      }
      (void)(*c)->take_secrets();
      (void)(*s)->take_secrets();
      if (!moved) break;
    }
    if (!(*s)->handshake_complete()) return 0;
    servers.push_back(std::move(*s));
  }
  const size_t with = heap_in_use();
  servers.clear();
  return static_cast<double>(with - heap_in_use()) / static_cast<double>(k);
}

}  // namespace harness

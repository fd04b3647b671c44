#include "harness/in_memory_pair.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "tls/test_certs.h"
#include "wire/transport_params.h"

namespace harness {

namespace {

using quic::Endpoint;
using quic::Instant;

constexpr size_t kMaxTurns = 10'000'000;  // bounds the shuttle loop whatever happens

// Adds the wall time of its scope to *sum, when sum is set.
class Timed {
 public:
  explicit Timed(ServerClock* sum) : sum_(sum) {
    if (sum_ != nullptr) start_ = std::chrono::steady_clock::now();
  }
  ~Timed() {
    if (sum_ != nullptr) *sum_ += std::chrono::steady_clock::now() - start_;
  }
  Timed(const Timed&) = delete;
  Timed& operator=(const Timed&) = delete;

 private:
  ServerClock* sum_;
  std::chrono::steady_clock::time_point start_;
};

const quic::PemCertKey& cert() {
  static const quic::PemCertKey pem = [] {
    auto r = quic::make_self_signed("localhost");
    return r ? *r : quic::PemCertKey{};
  }();
  return pem;
}

// A body of the usual size (an empty one would be omitted, and refused as missing).
std::vector<uint8_t> example_transport_params() {
  std::vector<uint8_t> tp(512);
  quic::TransportParameters params;
  params.initial_max_data = 1 << 20;
  params.initial_max_stream_data_bidi_local = params.initial_max_stream_data_bidi_remote =
      params.initial_max_stream_data_uni = 256 << 10;
  params.initial_max_streams_bidi = params.initial_max_streams_uni = 100;
  params.max_idle_timeout_ms = 30'000;
  auto n = quic::encode_transport_params(params, tp);
  tp.resize(n ? *n : 0);
  return tp;
}

}  // namespace

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

quic::EndpointConfig endpoint_config(bool server, const quic::ConnectionConfig& config,
                                     size_t max_connections) {
  quic::EndpointConfig c;
  c.server = server;
  c.connection = config;
  c.tls = tls_context(server);
  c.max_connections = max_connections;
  c.retry = quic::RetryPolicy::kDisabled;  // a full handshake per connection
  return c;
}

uint64_t shuttle(Endpoint& from, Endpoint& to, Instant& now, std::vector<uint8_t>& buf,
                 size_t max_segments, ServerClock* from_time, ServerClock* to_time) {
  uint64_t n = 0;
  for (;;) {
    std::optional<quic::Transmit> t;
    {
      Timed timed(from_time);
      t = from.poll_transmit(now, buf, max_segments);
    }
    if (!t) return n;
    now = std::max(now, t->send_at);  // pacing: the datagram leaves no earlier than asked
    const size_t seg = t->segment_size != 0 ? t->segment_size : t->size;
    Timed timed(to_time);
    for (size_t at = 0; at < t->size; at += seg, ++n) {
      to.on_datagram(now, t->remote, t->local, t->ecn,
                     quic::MutBytes(buf.data() + at, std::min(seg, t->size - at)));
    }
  }
}

bool fire_timers(Endpoint& client, Endpoint& server, Instant& now, Instant end,
                 ServerClock* server_time) {
  Instant next = std::min(client.next_timeout(), server.next_timeout());
  if (next == quic::kNever || next > end) return false;
  now = std::max(now, next);
  client.on_timeout(now);
  Timed timed(server_time);
  server.on_timeout(now);
  return true;
}

void run_until(Endpoint& client, Endpoint& server, Instant& now, Instant end,
               ServerClock* server_time) {
  std::vector<uint8_t> buf(2048);
  for (size_t turn = 0; turn < kMaxTurns; ++turn) {
    bool moved = shuttle(client, server, now, buf, 1, nullptr, server_time) > 0;
    moved = shuttle(server, client, now, buf, 1, server_time, nullptr) > 0 || moved;
    if (!moved && !fire_timers(client, server, now, end, server_time)) return;
  }
}

size_t connect(Endpoint& client, size_t k, Instant now) {
  size_t n = 0;
  for (size_t i = 0; i < k; ++i) n += client.connect(kPairClientAddr, kPairServerAddr, now) ? 1 : 0;
  return n;
}

size_t accept_all(Endpoint& server, ServerClock* server_time) {
  Timed timed(server_time);
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

std::unique_ptr<quic::TlsSession> bare_tls_handshake(
    const std::shared_ptr<const quic::TlsContext>& client_ctx,
    const std::shared_ptr<const quic::TlsContext>& server_ctx, ServerClock* server_time) {
  static const std::vector<uint8_t> tp = example_transport_params();
  auto c = quic::TlsSession::create(client_ctx);
  if (!c) return nullptr;
  (*c)->set_local_transport_params(tp);
  if (!(*c)->start()) return nullptr;
  std::unique_ptr<quic::TlsSession> s;
  {
    Timed timed(server_time);
    auto created = quic::TlsSession::create(server_ctx);
    if (!created) return nullptr;
    s = std::move(*created);
    s->set_local_transport_params(tp);
  }
  bool ticket_sent = false;
  for (int flight = 0; flight < 8; ++flight) {
    bool moved = false;
    std::vector<quic::TlsSession::Output> to_client;
    for (auto& out : (*c)->take_handshake_data()) {
      moved = true;
      Timed timed(server_time);
      if (!s->provide_data(out.level, out.data)) return nullptr;
    }
    {
      Timed timed(server_time);
      if (s->handshake_complete() && !ticket_sent) {
        if (!s->send_session_ticket()) return nullptr;
        ticket_sent = true;
      }
      to_client = s->take_handshake_data();
      (void)s->take_secrets();
    }
    for (auto& out : to_client) {
      moved = true;
      if (!(*c)->provide_data(out.level, out.data)) return nullptr;
    }
    (void)(*c)->take_secrets();
    if (!moved) break;
  }
  return s->handshake_complete() ? std::move(s) : nullptr;
}

}  // namespace harness

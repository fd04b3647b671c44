#include "h3_fixture.h"

#include "h3/qpack/encoder.h"
#include "tls/test_certs.h"
#include "tls/tls_config.h"

namespace h3test {

void Peer::on_activity(quic::Endpoint& endpoint, Instant now) {
  if (conn == nullptr) {
    if (!is_server && !handle) {
      auto h = endpoint.connect(local, remote, now);
      if (h) handle = *h;
    } else if (is_server && !handle) {
      if (auto h = endpoint.accept()) handle = *h;
    }
    if (handle) conn = endpoint.connection(*handle);
    if (conn != nullptr && !raw) {
      session = std::make_unique<h3::Session>(
          *conn, is_server ? h3::Role::kServer : h3::Role::kClient, config);
      if (on_session) on_session(*this);
    }
  }
  if (conn == nullptr) return;
  if (session) {
    // Like an application would: feed transport events, then let the session work.
    while (auto e = conn->poll_event()) {
      if (e->kind == quic::EventKind::kClosed) transport_closed = *e;
      session->on_transport_event(*e, now);
    }
    // Events handled here may unblock more work (a drained body buffer lets the session read
    // on), so alternate poll() and event handling until the session has nothing new.
    for (int round = 0; round < 16; ++round) {
      session->poll(now);
      bool any = false;
      while (auto e = session->poll_event()) {
        any = true;
        events.push_back(*e);
        if (on_event) on_event(*this, events.back(), now);
      }
      if (!any) break;
    }
  } else {
    while (auto e = conn->poll_event()) {
      if (e->kind == quic::EventKind::kClosed) transport_closed = *e;
      raw_events.push_back(*e);
    }
  }
  if (on_tick) on_tick(*this, now);
  if (session) session->poll(now);
}

std::optional<uint64_t> Peer::peer_close_code() const {
  if (conn == nullptr || !conn->closed_by_peer() || !conn->close_error()) return std::nullopt;
  if (!conn->close_error()->application) return std::nullopt;
  return conn->close_error()->code;
}

size_t Peer::count(h3::EventKind k) const {
  size_t n = 0;
  for (const auto& e : events) n += e.kind == k;
  return n;
}

const h3::Event* Peer::find(h3::EventKind k, uint64_t stream_id) const {
  for (const auto& e : events) {
    if (e.kind == k && e.stream_id == stream_id) return &e;
  }
  return nullptr;
}

Pair::Pair(PairOptions opts) {
  static auto cert = quic::make_self_signed("localhost");
  quic::TlsConfig stls;
  stls.server = true;
  stls.alpn = {"h3"};
  stls.cert_pem = cert->cert_pem;
  stls.key_pem = cert->key_pem;
  quic::TlsConfig ctls;
  ctls.alpn = {"h3"};
  ctls.ca_pem = cert->ca_pem;
  ctls.server_name = "localhost";
  auto sctx = quic::make_tls_context(stls);
  auto cctx = quic::make_tls_context(ctls);
  client.local = server.remote = quic::SocketAddress::v4(192, 0, 2, 1, 50000);
  server.local = client.remote = quic::SocketAddress::v4(192, 0, 2, 2, 443);
  client.raw = opts.client_raw;
  server.raw = opts.server_raw;
  server.is_server = true;
  client.config = opts.client;
  server.config = opts.server;
  client_ep_ = std::make_unique<harness::SimEndpoint>(
      quic::EndpointConfig{false, opts.quic_client, *cctx}, 11);
  server_ep_ = std::make_unique<harness::SimEndpoint>(
      quic::EndpointConfig{true, opts.quic_server, *sctx}, 12);
  client_ep_->set_app(&client);
  server_ep_->set_app(&server);
  net_ = std::make_unique<sim::Network>(7);
  sim::LinkConfig link;
  link.rate_bps = opts.rate_bps;
  link.delay = std::chrono::milliseconds(10);
  link.queue_bytes = 200 * 1500;
  net_->add_node(client_ep_.get(), {client.local});
  net_->add_node(server_ep_.get(), {server.local});
  net_->add_link(client.local, server.local, link, link);
}

Pair::~Pair() {
  client.session.reset();
  server.session.reset();
}

bool Pair::run_until(const std::function<bool()>& done, quic::Duration limit) {
  net_->run(net_->now() + limit, done);
  return done();
}

std::vector<uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

uint64_t raw_uni(quic::Connection& c, const std::vector<uint8_t>& data, bool fin) {
  auto id = c.open_stream(false);
  if (!id) return UINT64_MAX;
  (void)c.stream_write(*id, data, fin);
  return *id;
}

std::vector<uint8_t> control_preamble() {
  std::vector<uint8_t> b{0x00};
  h3::append_settings(b, h3::Settings{});
  return b;
}

std::vector<uint8_t> headers_frame(const std::vector<h3::Field>& fields) {
  h3::qpack::Encoder enc;
  auto section = enc.encode(0, fields);
  std::vector<uint8_t> out;
  h3::append_headers(out, section);
  return out;
}

std::vector<h3::Field> get_request(std::string path) {
  return {{":method", "GET"},
          {":scheme", "https"},
          {":authority", "localhost"},
          {":path", std::move(path)}};
}

}  // namespace h3test

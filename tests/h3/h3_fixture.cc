#include "h3_fixture.h"

#include "h3/qpack/encoder.h"

namespace h3test {

void Peer::on_activity(quic::Connection* connection, Instant now) {
  if (conn == nullptr) {
    conn = connection;
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
  test::PairConfig c;
  c.client = quic::EndpointConfig{false, opts.quic_client, test::test_tls_context(false, {"h3"})};
  c.server = quic::EndpointConfig{true, opts.quic_server, test::test_tls_context(true, {"h3"})};
  c.client_seed = 11;
  c.server_seed = 12;
  sim::LinkConfig link;
  link.rate_bps = opts.rate_bps;
  link.delay = std::chrono::milliseconds(10);
  link.queue_bytes = 200 * 1500;
  c.net.to_server = c.net.to_client = link;
  pair_ = std::make_unique<test::Pair>(std::move(c));
  client.raw = opts.client_raw;
  server.raw = opts.server_raw;
  server.is_server = true;
  client.config = opts.client;
  server.config = opts.server;
  for (Peer* peer : {&client, &server}) {
    test::Side& side = peer->is_server ? pair_->server_side_state() : pair_->client_side_state();
    side.on_activity_hook = [peer, &side](Instant now) {
      peer->on_activity(side.conn, now);
    };
  }
}

bool Pair::run_until(const std::function<bool()>& done, quic::Duration limit) {
  return pair_->drive_until(done, test::Limits{.max_time = limit});
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

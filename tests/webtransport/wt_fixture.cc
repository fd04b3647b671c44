#include "wt_fixture.h"

#include <gtest/gtest.h>

namespace wttest {

size_t WtPeer::count(EventKind k) const {
  size_t n = 0;
  for (const auto& e : events) n += e.kind == k;
  return n;
}

const Event* WtPeer::find(EventKind k, uint64_t id) const {
  for (const auto& e : events) {
    if (e.kind == k && (e.session_id == id || e.stream_id == id)) return &e;
  }
  return nullptr;
}

namespace {

void attach(WtPeer& w, h3test::Peer& p, const webtransport::Config& cfg) {
  w.peer = &p;
  p.on_session = [&w, cfg](h3test::Peer& self) {
    w.host = std::make_unique<webtransport::Host>(*self.session, cfg);
  };
  p.on_event = [&w](h3test::Peer&, const h3::Event& e, quic::Instant now) {
    w.now = now;
    (void)w.host->on_h3_event(e, now);
  };
  p.on_tick = [&w](h3test::Peer&, quic::Instant now) {
    w.now = now;
    if (!w.host) return;
    // Handlers may act; what they queue is sent by the session's next poll.
    for (int round = 0; round < 64; ++round) {
      auto e = w.host->poll_event();
      if (!e) break;
      w.events.push_back(*e);
      if (e->kind == EventKind::kRequest && w.auto_accept) {
        EXPECT_TRUE(w.host->accept(e->session_id));
      }
      if (w.on_event) w.on_event(w, w.events.back());
    }
    if (w.on_tick) w.on_tick(w);
  };
}

}  // namespace

WtPair::WtPair(WtOptions o) {
  h3test::PairOptions po;
  webtransport::configure_h3(po.client, o.client);
  webtransport::configure_h3(po.server, o.server);
  webtransport::configure_transport(po.quic_client);
  webtransport::configure_transport(po.quic_server);
  po.quic_client.max_streams_bidi = po.quic_server.max_streams_bidi = 400;
  po.quic_client.max_streams_uni = po.quic_server.max_streams_uni = 400;
  if (o.tweak) o.tweak(po);
  pair_ = std::make_unique<h3test::Pair>(po);
  attach(client, pair_->client, o.client);
  attach(server, pair_->server, o.server);
}

bool WtPair::ready() {
  return run_until([&] { return client.count(EventKind::kReady) > 0; });
}

std::optional<uint64_t> WtPair::open_session(const std::string& path) {
  if (client.count(EventKind::kReady) == 0 && !ready()) return std::nullopt;
  auto id = client.wt().connect("localhost", path, "https://example.test");
  if (!id) return std::nullopt;
  uint64_t sid = *id;
  if (!run_until([&] { return client.find(EventKind::kEstablished, sid) != nullptr; })) {
    return std::nullopt;
  }
  return sid;
}

bool drain(webtransport::Host& h, uint64_t stream_id, std::string& out) {
  uint8_t buf[4096];
  for (;;) {
    auto r = h.read(stream_id, buf);
    if (!r) return false;
    out.append(reinterpret_cast<const char*>(buf), r->bytes);
    if (r->fin) return true;
  }
}

std::string pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

quic::Bytes bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace wttest

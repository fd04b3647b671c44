// WebTransport through the public facade (tquic/webtransport.h): a session, a bidi echo, a
// server uni stream, datagrams, a stream reset's application code, close with code and
// reason, and the per-call errors (unknown session, connect before SETTINGS, reset stream).
#include <gtest/gtest.h>

#include "api_pair.h"

namespace apitest {
namespace {

using WtKind = tquic::wt::EventKind;

PairOptions wt_options() {
  PairOptions o;
  o.client.tls.alpn = {"h3"};
  o.server.tls.alpn = {"h3"};
  tquic::wt::configure(o.client.connection);
  tquic::wt::configure(o.server.connection);
  return o;
}

struct WtPair {
  WtPair() : p(wt_options()) {}
  Pair p;
  std::optional<tquic::wt::WebTransport> client, server;
  std::vector<tquic::wt::Event> client_events, server_events;
  std::function<void(tquic::wt::WebTransport&, const tquic::wt::Event&)> on_server_event;

  bool run_until(const std::function<bool()>& done) {
    return p.run_until([&] {
      if (!client) client = *tquic::wt::WebTransport::create(p.client, tquic::wt::Role::client);
      if (!server && p.server) {
        server = *tquic::wt::WebTransport::create(*p.server, tquic::wt::Role::server);
      }
      client->drive(p.now);
      while (auto e = client->poll_event()) client_events.push_back(*e);
      if (server) {
        server->drive(p.now);
        while (auto e = server->poll_event()) {
          server_events.push_back(*e);
          if (e->kind == WtKind::session_request) {
            EXPECT_TRUE(server->accept(e->session_id));
          }
          if (on_server_event) on_server_event(*server, *e);
        }
        server->drive(p.now);
      }
      client->drive(p.now);
      return done();
    });
  }
  static const tquic::wt::Event* find(const std::vector<tquic::wt::Event>& v, WtKind k) {
    for (const auto& e : v) {
      if (e.kind == k) return &e;
    }
    return nullptr;
  }
};

std::string text(std::span<const uint8_t> b) {
  return {b.begin(), b.end()};
}
std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(ApiWebTransport, SessionStreamsDatagramsAndClose) {
  WtPair w;
  // The server echoes bidi streams and datagrams, and answers each with a uni stream "hi".
  w.on_server_event = [](tquic::wt::WebTransport& s, const tquic::wt::Event& e) {
    uint8_t buf[1024];
    if (e.kind == WtKind::stream_readable) {
      auto r = s.read(e.stream_id, buf);
      ASSERT_TRUE(r);
      ASSERT_TRUE(s.write(e.stream_id, std::span<const uint8_t>(buf, r->bytes), r->fin));
      auto u = s.open_stream(e.session_id, false);
      ASSERT_TRUE(u);
      ASSERT_TRUE(s.write(*u, bytes("hi"), true));
    }
    if (e.kind == WtKind::datagram) {
      while (auto n = s.recv_datagram(e.session_id, buf)) {
        ASSERT_TRUE(s.send_datagram(e.session_id, std::span<const uint8_t>(buf, *n)));
      }
    }
  };
  ASSERT_TRUE(w.run_until([&] { return w.find(w.client_events, WtKind::ready) != nullptr; }));
  EXPECT_EQ(w.client->version(), tquic::wt::Version::draft15);
  auto sid = w.client->connect("localhost", "/wt", "https://example.test");
  ASSERT_TRUE(sid);
  auto bad = w.client->open_stream(*sid + 4, true);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, tquic::Errc::unknown_stream);
  ASSERT_TRUE(w.run_until([&] { return w.find(w.client_events, WtKind::session_established); }));
  const auto* req = w.find(w.server_events, WtKind::session_request);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->session_id, *sid);

  auto s = w.client->open_stream(*sid, true);
  ASSERT_TRUE(s);
  ASSERT_TRUE(w.client->write(*s, bytes("echo me"), true));
  ASSERT_TRUE(w.client->send_datagram(*sid, bytes("dgram")));
  std::string echoed, hi, dgram;
  bool echo_fin = false, hi_fin = false;
  ASSERT_TRUE(w.run_until([&] {
    for (const auto& e : w.client_events) {
      uint8_t buf[256];
      if (e.kind == WtKind::stream_readable) {
        auto r = w.client->read(e.stream_id, buf);
        if (!r) continue;
        (e.stream_id == *s ? echoed : hi) += text(std::span<const uint8_t>(buf, r->bytes));
        (e.stream_id == *s ? echo_fin : hi_fin) |= r->fin;
      }
      if (e.kind == WtKind::datagram) {
        if (auto n = w.client->recv_datagram(*sid, buf))
          dgram = text(std::span<const uint8_t>(buf, *n));
      }
    }
    w.client_events.clear();
    return echo_fin && hi_fin && !dgram.empty();
  }));
  EXPECT_EQ(echoed, "echo me");
  EXPECT_EQ(hi, "hi");
  EXPECT_EQ(dgram, "dgram");

  // A reset carries the application code; reads then say stream_reset with that code.
  auto r2 = w.client->open_stream(*sid, false);
  ASSERT_TRUE(r2);
  ASSERT_TRUE(w.client->write(*r2, bytes("x"), false));
  ASSERT_TRUE(w.client->reset_stream(*r2, 4242));
  ASSERT_TRUE(w.run_until([&] { return w.find(w.server_events, WtKind::stream_reset); }));
  const auto* reset = w.find(w.server_events, WtKind::stream_reset);
  EXPECT_TRUE(reset->app_error);
  EXPECT_EQ(reset->code, 4242u);
  uint8_t buf[16];
  auto rd = w.server->read(*r2, buf);
  ASSERT_FALSE(rd);
  EXPECT_EQ(rd.error().code, tquic::Errc::stream_reset);
  EXPECT_EQ(rd.error().app_code, 4242u);

  ASSERT_TRUE(w.client->close_session(*sid, 3, "bye"));
  ASSERT_TRUE(w.run_until([&] { return w.find(w.server_events, WtKind::session_closed); }));
  const auto* closed = w.find(w.server_events, WtKind::session_closed);
  EXPECT_EQ(closed->code, 3u);
  EXPECT_EQ(closed->reason, "bye");
  EXPECT_TRUE(closed->app_error);
  auto after = w.client->write(*s, bytes("late"), true);
  ASSERT_FALSE(after);
}

TEST(ApiWebTransport, ConnectBeforeTheServersSettingsWouldBlock) {
  WtPair w;
  w.client = *tquic::wt::WebTransport::create(w.p.client, tquic::wt::Role::client);
  auto early = w.client->connect("localhost", "/wt");
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, tquic::Errc::would_block);
  EXPECT_EQ(w.client->version(), tquic::wt::Version::none);
}

}  // namespace
}  // namespace apitest

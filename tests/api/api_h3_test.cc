// HTTP/3 through the public facade: a GET with a body, a POST echoed back, HTTP datagrams.
#include <gtest/gtest.h>

#include <map>

#include "api_pair.h"

namespace apitest {
namespace {

using H3Kind = tquic::h3::EventKind;
using tquic::h3::Header;

PairOptions h3_options(bool datagrams) {
  PairOptions o;
  o.client.tls.alpn = {"h3"};
  o.server.tls.alpn = {"h3"};
  if (datagrams) {
    o.client.connection.max_datagram_frame_size = 1200;
    o.server.connection.max_datagram_frame_size = 1200;
  }
  return o;
}

struct H3Pair {
  explicit H3Pair(bool datagrams = false) : p(h3_options(datagrams)) {}
  Pair p;
  std::optional<tquic::h3::Session> client, server;
  std::vector<tquic::h3::Event> client_events, server_events;
  // Also the server's request handler: called for each server event.
  std::function<void(const tquic::h3::Event&)> on_server_event;
  tquic::h3::SessionOptions options;

  bool run_until(const std::function<bool()>& done) {
    return p.run_until([&] {
      if (!client) client = *tquic::h3::Session::create(p.client, tquic::h3::Role::client, options);
      if (!server && p.server) {
        server = *tquic::h3::Session::create(*p.server, tquic::h3::Role::server, options);
      }
      client->drive(p.now);
      while (auto e = client->poll_event()) client_events.push_back(*e);
      if (server) {
        server->drive(p.now);
        while (auto e = server->poll_event()) {
          server_events.push_back(*e);
          if (on_server_event) on_server_event(*e);
        }
        server->drive(p.now);
      }
      client->drive(p.now);
      return done();
    });
  }
  const tquic::h3::Event* find(const std::vector<tquic::h3::Event>& v, H3Kind k) const {
    for (const auto& e : v) {
      if (e.kind == k) return &e;
    }
    return nullptr;
  }
};

std::string header(const std::vector<Header>& hs, const std::string& name) {
  for (const auto& h : hs) {
    if (h.name == name) return h.value;
  }
  return {};
}

TEST(ApiH3, GetWithBodyAndPostEcho) {
  H3Pair t;
  std::vector<uint8_t> page = pattern(100000, 3);
  std::map<uint64_t, std::vector<uint8_t>> posted;
  t.on_server_event = [&](const tquic::h3::Event& e) {
    if (e.kind == H3Kind::data) {
      uint8_t buf[4096];
      while (auto r = t.server->read_body(e.stream_id, buf)) {
        posted[e.stream_id].insert(posted[e.stream_id].end(), buf, buf + r->bytes);
        if (r->fin) break;
      }
    }
    if (e.kind != H3Kind::finished) return;
    const tquic::h3::Event* head = nullptr;
    for (const auto& s : t.server_events) {
      if (s.kind == H3Kind::headers && s.stream_id == e.stream_id) head = &s;
    }
    ASSERT_NE(head, nullptr);
    std::vector<Header> resp = {{":status", "200"}};
    const auto& body = header(head->headers, ":method") == "GET" ? page : posted[e.stream_id];
    auto r = t.server->send_response(e.stream_id, resp, {}, false);
    ASSERT_TRUE(r.has_value()) << tquic::to_string(r.error());
    auto n = t.server->send_body(e.stream_id, body, true);
    ASSERT_TRUE(n.has_value());
    ASSERT_EQ(*n, body.size());  // 100 KB fits max_pending_send (256 KiB)
  };
  ASSERT_TRUE(t.p.handshake());
  ASSERT_TRUE(t.run_until([&] { return t.client.has_value(); }));
  std::vector<Header> get = {{":method", "GET"}, {":scheme", "https"},
                             {":authority", "localhost"}, {":path", "/page"}};
  auto gid = t.client->send_request(get);
  ASSERT_TRUE(gid.has_value()) << tquic::to_string(gid.error());
  std::vector<Header> post = {{":method", "POST"}, {":scheme", "https"},
                              {":authority", "localhost"}, {":path", "/echo"}};
  auto sent_body = pattern(5000, 8);
  auto pid = t.client->send_request(post, sent_body, true);
  ASSERT_TRUE(pid.has_value());

  std::map<uint64_t, std::vector<uint8_t>> got;
  std::map<uint64_t, bool> done;
  ASSERT_TRUE(t.run_until([&] {
    for (uint64_t id : {*gid, *pid}) {
      uint8_t buf[8192];
      while (!done[id]) {
        auto r = t.client->read_body(id, buf);
        if (!r) break;
        got[id].insert(got[id].end(), buf, buf + r->bytes);
        done[id] = r->fin;
      }
    }
    return done[*gid] && done[*pid];
  }));
  EXPECT_EQ(got[*gid], page);
  EXPECT_EQ(got[*pid], sent_body);
  const auto* head = t.find(t.client_events, H3Kind::headers);
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(header(head->headers, ":status"), "200");
  EXPECT_NE(t.find(t.client_events, H3Kind::settings), nullptr);
  // Misuse maps to invalid_argument: a server cannot send requests.
  auto bad = t.server->send_request(get);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, tquic::Errc::invalid_argument);
}

TEST(ApiH3, HttpDatagramsOnARequest) {
  H3Pair t(true);
  t.options.enable_datagrams = true;
  ASSERT_TRUE(t.p.handshake());
  ASSERT_TRUE(t.run_until([&] { return t.client && t.client->datagrams_enabled(); }));
  std::vector<Header> req = {{":method", "GET"}, {":scheme", "https"},
                             {":authority", "localhost"}, {":path", "/dg"}};
  auto id = t.client->send_request(req, {}, false);
  ASSERT_TRUE(id.has_value());
  auto payload = pattern(300, 5);
  ASSERT_TRUE(t.run_until([&] { return t.find(t.server_events, H3Kind::headers) != nullptr; }));
  ASSERT_TRUE(t.client->send_datagram(*id, payload).has_value());
  ASSERT_TRUE(t.run_until([&] { return t.find(t.server_events, H3Kind::datagram) != nullptr; }));
  std::vector<uint8_t> buf(1500);
  auto d = t.server->recv_datagram(buf);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->stream_id, *id);
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(d->length)),
            payload);
  auto none = t.server->recv_datagram(buf);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, tquic::Errc::would_block);
}

TEST(ApiH3, SessionOnAReapedConnectionReportsClosed) {
  H3Pair t;
  ASSERT_TRUE(t.p.handshake());
  ASSERT_TRUE(t.run_until([&] { return t.server.has_value(); }));
  t.p.client.close(0, "done", t.p.now);
  t.p.run_for(5s);
  t.p.client_ep.reap_closed();
  EXPECT_TRUE(t.client->is_closed());
  std::vector<Header> get = {{":method", "GET"}, {":scheme", "https"},
                             {":authority", "localhost"}, {":path", "/"}};
  auto r = t.client->send_request(get);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, tquic::Errc::connection_closed);
  t.client->drive(t.p.now);  // harmless on a reaped connection
  EXPECT_FALSE(t.client->poll_event().has_value());
}

}  // namespace
}  // namespace apitest

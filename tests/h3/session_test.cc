// HTTP/3 sessions end to end over the simulator: requests, bodies, trailers, the interop
// runner's http3 case, GOAWAY, extended CONNECT with datagrams and capsules, priorities.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "h3/capsule.h"
#include "h3_fixture.h"

namespace h3test {
namespace {

using h3::Event;
using h3::EventKind;
using h3::Field;
using Fields = std::vector<Field>;

std::string field(const std::vector<Field>& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (f.name == name) return f.value;
  }
  return {};
}

// Reads everything buffered; returns true once the message is complete.
bool drain(h3::Session& s, uint64_t id, std::string& into) {
  uint8_t buf[4096];
  bool fin = false;
  while (size_t n = s.read_body(id, buf, &fin)) into.append(reinterpret_cast<char*>(buf), n);
  return fin;
}

uint8_t pattern(uint64_t i) {
  return static_cast<uint8_t>(i * 7 + 3);
}

// Server side of the file transfers: "/N" answers N pattern bytes, pushed with backpressure
// (zero_copy: written in place with send_body_with).
struct Responder {
  bool zero_copy = false;
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> pending;  // id -> (size, sent)
  void start(h3::Session& s, uint64_t id, uint64_t size) {
    ASSERT_TRUE(s.send_response(
        id, Fields{{":status", "200"}, {"content-length", std::to_string(size)}}, {}, false));
    pending[id] = {size, 0};
    pump(s);
  }
  void pump(h3::Session& s) {
    std::vector<uint8_t> chunk;
    for (auto it = pending.begin(); it != pending.end();) {
      auto& [size, sent] = it->second;
      while (zero_copy && sent < size) {
        size_t len = static_cast<size_t>(std::min<uint64_t>(100'000, size - sent));
        uint64_t at = sent;
        auto fill = [&](quic::MutBytes dst) {
          for (size_t i = 0; i < dst.size(); ++i) dst[i] = pattern(at + i);
          at += dst.size();
          return dst.size();
        };
        auto n = s.send_body_with(it->first, len, fill, sent + len == size);
        if (!n) break;
        sent += *n;
        if (*n < len) break;
      }
      while (sent < size) {
        size_t len = static_cast<size_t>(std::min<uint64_t>(16384, size - sent));
        chunk.resize(len);
        for (size_t i = 0; i < len; ++i) chunk[i] = pattern(sent + i);
        auto n = s.send_body(it->first, chunk, sent + len == size);
        if (!n) break;
        sent += *n;
        if (*n < len) break;
      }
      it = sent == size ? pending.erase(it) : std::next(it);
    }
  }
};

// Client side of the file transfers: every body byte checked against the pattern.
struct BodyChecker {
  std::map<uint64_t, uint64_t> expected, received;
  std::map<uint64_t, bool> bad;
  std::set<uint64_t> complete;
  void on_event(Peer& c, const Event& e) {
    if (e.kind != EventKind::kData && e.kind != EventKind::kFinished) return;
    uint8_t buf[8192];
    bool fin = false;
    while (size_t n = c.session->read_body(e.stream_id, buf, &fin)) {
      uint64_t& at = received[e.stream_id];
      for (size_t i = 0; i < n; ++i) bad[e.stream_id] |= buf[i] != pattern(at + i);
      at += n;
    }
    if (fin) complete.insert(e.stream_id);
  }
  // GET "/N" for each size, once the handshake is done; true once sent.
  bool request(Peer& c, const std::vector<uint64_t>& sizes) {
    if (!expected.empty() || !c.handshake_done()) return !expected.empty();
    for (uint64_t size : sizes) {
      auto id = c.session->send_request(get_request("/" + std::to_string(size)));
      EXPECT_TRUE(id);
      if (id) expected[*id] = size;
    }
    return false;  // sent just now
  }
  void expect() {
    for (auto [id, size] : expected) {
      EXPECT_EQ(received[id], size) << "stream " << id;
      EXPECT_FALSE(bad[id]) << "stream " << id;
    }
  }
};

TEST(H3Session, GetWithResponseBody) {
  Pair p;
  p.server.on_event = [](Peer& s, const Event& e, Instant) {
    if (e.kind != EventKind::kHeaders) return;
    EXPECT_EQ(field(e.fields, ":path"), "/index.html");
    ASSERT_TRUE(s.session->send_response(e.stream_id,
                                         Fields{{":status", "200"}, {"content-length", "11"}},
                                         bytes_of("hello world")));
  };
  std::optional<uint64_t> sid;
  std::string status, body;
  bool done = false;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (!sid && c.handshake_done()) {
      auto id = c.session->send_request(get_request("/index.html"));
      ASSERT_TRUE(id) << id.error().reason;
      sid = *id;
    }
  };
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kHeaders) status = field(e.fields, ":status");
    if (e.kind == EventKind::kData || e.kind == EventKind::kFinished) {
      done = drain(*c.session, e.stream_id, body) || done;
    }
  };
  ASSERT_TRUE(p.run_until([&] { return done; }));
  EXPECT_EQ(status, "200");
  EXPECT_EQ(body, "hello world");
  EXPECT_EQ(p.client.count(EventKind::kSettings), 1u);
  EXPECT_EQ(p.server.count(EventKind::kFinished), 1u);
  EXPECT_FALSE(p.client.session->is_closed());
  EXPECT_FALSE(p.server.session->is_closed());
}

TEST(H3Session, PostWithBodyAndTrailersBothWays) {
  Pair p;
  std::string server_body, client_body;
  std::vector<Field> server_trailers, client_trailers;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (e.kind == EventKind::kData) drain(*s.session, e.stream_id, server_body);
    if (e.kind == EventKind::kTrailers) server_trailers = e.fields;
    if (e.kind == EventKind::kFinished) {
      drain(*s.session, e.stream_id, server_body);
      ASSERT_TRUE(s.session->send_response(e.stream_id, Fields{{":status", "201"}},
                                           bytes_of("stored"), false));
      ASSERT_TRUE(s.session->send_trailers(e.stream_id, Fields{{"x-result", "ok"}}));
    }
  };
  bool sent = false, done = false;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (sent || !c.handshake_done()) return;
    sent = true;
    std::vector<Field> req = {{":method", "POST"},
                              {":scheme", "https"},
                              {":authority", "localhost"},
                              {":path", "/upload"},
                              {"content-length", "10"}};
    auto id = c.session->send_request(req, bytes_of("01234"), false);
    ASSERT_TRUE(id);
    auto n = c.session->send_body(*id, bytes_of("56789"), false);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 5u);
    ASSERT_TRUE(c.session->send_trailers(*id, Fields{{"x-checksum", "abc"}}));
  };
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kData) drain(*c.session, e.stream_id, client_body);
    if (e.kind == EventKind::kTrailers) client_trailers = e.fields;
    if (e.kind == EventKind::kFinished) done = drain(*c.session, e.stream_id, client_body);
  };
  ASSERT_TRUE(p.run_until([&] { return done; }));
  EXPECT_EQ(server_body, "0123456789");
  ASSERT_EQ(server_trailers.size(), 1u);
  EXPECT_EQ(server_trailers[0].value, "abc");
  EXPECT_EQ(client_body, "stored");
  ASSERT_EQ(client_trailers.size(), 1u);
  EXPECT_EQ(client_trailers[0].name, "x-result");
}

TEST(H3Session, InteropHttp3CaseThreeParallelFilesByteExact) {
  Pair p;
  Responder responder;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (e.kind == EventKind::kHeaders) {
      responder.start(*s.session, e.stream_id, std::stoull(field(e.fields, ":path").substr(1)));
    }
    if (e.kind == EventKind::kWritable) responder.pump(*s.session);
  };
  p.server.on_tick = [&](Peer& s, Instant) {
    if (s.session) responder.pump(*s.session);
  };
  const std::vector<uint64_t> sizes = {5 * 1024, 10 * 1024, 500 * 1024};
  BodyChecker check;
  p.client.on_tick = [&](Peer& c, Instant) { check.request(c, sizes); };
  p.client.on_event = [&](Peer& c, const Event& e, Instant) { check.on_event(c, e); };
  bool ok =
      p.run_until([&] { return check.complete.size() == sizes.size(); }, std::chrono::seconds(60));
  ASSERT_TRUE(ok);
  check.expect();
}

// The zero-copy body path: bodies several times the QUIC stream's send buffer, driven by
// kWritable alone (no polling), arrive byte-exact; a fill that comes up short of its DATA frame
// cancels the stream instead of sending a frame shorter than its length.
TEST(H3Session, ZeroCopyBodiesDrivenByWritableAreByteExact) {
  PairOptions o;
  o.quic_server.stream_send_buffer = 256 * 1024;  // the body fills it many times over
  Pair p(o);
  Responder responder;
  responder.zero_copy = true;
  std::optional<uint64_t> short_id;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (e.kind == EventKind::kHeaders && field(e.fields, ":path") == "/short") {
      short_id = e.stream_id;
      ASSERT_TRUE(s.session->send_response(e.stream_id, Fields{{":status", "200"}}, {}, false));
      auto half = [](quic::MutBytes dst) { return dst.size() / 2; };
      auto n = s.session->send_body_with(e.stream_id, 1000, half, true);
      EXPECT_FALSE(n.has_value());
      return;
    }
    if (e.kind == EventKind::kHeaders) {
      responder.start(*s.session, e.stream_id, std::stoull(field(e.fields, ":path").substr(1)));
    }
    if (e.kind == EventKind::kWritable) responder.pump(*s.session);
  };
  const std::vector<uint64_t> sizes = {5 * 1024, 3 * 1024 * 1024 + 17};
  BodyChecker check;
  bool short_reset = false;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (!check.request(c, sizes) && !check.expected.empty()) {
      ASSERT_TRUE(c.session->send_request(get_request("/short")));
    }
  };
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kReset && !check.expected.contains(e.stream_id)) short_reset = true;
    check.on_event(c, e);
  };
  ASSERT_TRUE(p.run_until([&] { return check.complete.size() == sizes.size() && short_reset; },
                          std::chrono::seconds(60)));
  check.expect();
  EXPECT_TRUE(short_id.has_value());
  EXPECT_FALSE(p.client.session->is_closed());
}

TEST(H3Session, GoawayDrainsAndClosesWithNoError) {
  Pair p;
  p.server.on_event = [&](Peer& s, const Event& e, Instant now) {
    if (e.kind != EventKind::kHeaders) return;
    s.session->goaway(now);  // in-flight request 0 is still answered
    ASSERT_TRUE(s.session->send_response(e.stream_id, Fields{{":status", "200"}}, bytes_of("bye")));
  };
  bool sent = false, body_done = false;
  std::string body;
  quic::Result<uint64_t> late = 0;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (!sent && c.handshake_done()) {
      sent = true;
      ASSERT_TRUE(c.session->send_request(get_request("/")));
    }
  };
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kGoaway) {
      EXPECT_EQ(e.code, 4u);  // the first request it did not process
      late = c.session->send_request(get_request("/late"));
    }
    if (e.kind == EventKind::kData || e.kind == EventKind::kFinished) {
      body_done = drain(*c.session, e.stream_id, body) || body_done;
    }
  };
  ASSERT_TRUE(p.run_until([&] { return p.server.transport_closed.has_value(); }));
  EXPECT_TRUE(body_done);
  EXPECT_EQ(body, "bye");
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, h3::err::kRequestRejected);
  EXPECT_EQ(p.server.peer_close_code(), h3::err::kNoError);
}

TEST(H3Session, ExtendedConnectWithDatagramsAndCapsules) {
  PairOptions o;
  o.client.enable_connect_protocol = o.server.enable_connect_protocol = true;
  o.client.enable_datagrams = o.server.enable_datagrams = true;
  o.quic_client.max_datagram_frame_size = o.quic_server.max_datagram_frame_size = 1400;
  Pair p(o);
  std::string capsule_payload;
  h3::CapsuleReader capsules;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (e.kind == EventKind::kHeaders) {
      EXPECT_EQ(field(e.fields, ":protocol"), "connect-udp");
      ASSERT_TRUE(s.session->send_response(e.stream_id, Fields{{":status", "200"}}, {}, false));
    }
    if (e.kind == EventKind::kDatagram) {
      uint8_t buf[256];
      while (auto d = s.session->recv_datagram(buf)) {
        std::vector<uint8_t> reply = bytes_of("pong:");
        reply.insert(reply.end(), buf, buf + d->copied);
        ASSERT_TRUE(s.session->send_datagram(d->stream_id, reply));
      }
    }
    if (e.kind == EventKind::kData) {
      std::string raw;
      drain(*s.session, e.stream_id, raw);
      quic::Bytes in(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
      while (auto c = capsules.next(in)) {
        if (!*c) break;
        capsule_payload.assign((*c)->payload.begin(), (*c)->payload.end());
      }
    }
  };
  std::optional<uint64_t> sid;
  std::string reply;
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kSettings) {
      EXPECT_TRUE(c.session->connect_protocol_enabled());
      EXPECT_TRUE(c.session->datagrams_enabled());
      std::vector<Field> req = {{":method", "CONNECT"},
                                {":protocol", "connect-udp"},
                                {":scheme", "https"},
                                {":authority", "localhost"},
                                {":path", "/.well-known/masque/udp/h/443/"}};
      auto id = c.session->send_request(req, {}, false);
      ASSERT_TRUE(id) << id.error().reason;
      sid = *id;
    }
    if (e.kind == EventKind::kHeaders && field(e.fields, ":status") == "200") {
      ASSERT_TRUE(c.session->send_datagram(*sid, bytes_of("ping")));
      std::vector<uint8_t> cap;
      h3::append_capsule(cap, 0x4040, bytes_of("ignored"));
      h3::append_datagram_capsule(cap, bytes_of("via-capsule"));
      ASSERT_TRUE(c.session->send_body(*sid, cap, false));
    }
    if (e.kind == EventKind::kDatagram) {
      uint8_t buf[256];
      auto d = c.session->recv_datagram(buf);
      ASSERT_TRUE(d);
      EXPECT_EQ(d->stream_id, *sid);
      reply.assign(buf, buf + d->copied);
    }
  };
  ASSERT_TRUE(p.run_until([&] { return !reply.empty() && !capsule_payload.empty(); }));
  EXPECT_EQ(reply, "pong:ping");
  EXPECT_EQ(capsule_payload, "via-capsule");
}

TEST(H3Session, PriorityHeaderAndPriorityUpdateAreExposed) {
  Pair p;
  std::optional<h3::Priority> from_header, from_update;
  p.server.on_event = [&](Peer&, const Event& e, Instant) {
    if (e.kind == EventKind::kHeaders) from_header = e.priority;
    if (e.kind == EventKind::kPriorityUpdate) from_update = e.priority;
  };
  bool sent = false;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (sent || !c.handshake_done()) return;
    sent = true;
    auto req = get_request("/");
    req.push_back({"priority", "u=1, i"});
    auto id = c.session->send_request(req);
    ASSERT_TRUE(id);
    ASSERT_TRUE(c.session->send_priority_update(*id, {5, false}));
  };
  ASSERT_TRUE(p.run_until([&] { return from_header && from_update; }));
  EXPECT_EQ(*from_header, (h3::Priority{1, true}));
  EXPECT_EQ(*from_update, (h3::Priority{5, false}));
}

TEST(H3Session, MalformedRequestIsResetWithMessageErrorConnectionStays) {
  Pair p({.client_raw = true});
  std::optional<uint64_t> sid;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (sid || !c.handshake_done()) return;
    raw_uni(*c.conn, control_preamble());
    sid = *c.conn->open_stream(true);
    auto req = get_request("/");
    req.push_back({"Upper", "case"});
    (void)c.conn->stream_write(*sid, headers_frame(req), true);
  };
  auto reset_code = [&]() -> std::optional<uint64_t> {
    for (const auto& e : p.client.raw_events) {
      if (e.kind == quic::EventKind::kStreamReset && sid && e.stream_id == *sid)
        return e.error_code;
    }
    return std::nullopt;
  };
  ASSERT_TRUE(p.run_until([&] { return reset_code().has_value(); }));
  EXPECT_EQ(*reset_code(), h3::err::kMessageError);
  EXPECT_FALSE(p.client.transport_closed);
}

TEST(H3Session, UnknownUniStreamTypeIsStoppedNotAnError) {
  Pair p({.client_raw = true});
  std::optional<uint64_t> grease;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (grease || !c.handshake_done()) return;
    raw_uni(*c.conn, control_preamble());
    grease = raw_uni(*c.conn, {0x21, 1, 2, 3});
  };
  auto stop_code = [&]() -> std::optional<uint64_t> {
    for (const auto& e : p.client.raw_events) {
      if (e.kind == quic::EventKind::kStopSending && grease && e.stream_id == *grease) {
        return e.error_code;
      }
    }
    return std::nullopt;
  };
  ASSERT_TRUE(p.run_until([&] { return stop_code().has_value(); }));
  EXPECT_EQ(*stop_code(), h3::err::kStreamCreationError);
  EXPECT_FALSE(p.client.transport_closed);
  EXPECT_FALSE(p.server.session->is_closed());
}

}  // namespace
}  // namespace h3test

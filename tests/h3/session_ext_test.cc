// The session's extension points over the simulator: handlers chosen by :protocol, capsules and
// datagrams demultiplexed to them, WebTransport-style streams routed to their session (and
// refused when it does not exist), and the byte-bounded datagram queue under a burst.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "h3/capsule.h"
#include "h3_fixture.h"

namespace h3test {
namespace {

using h3::Event;
using h3::EventKind;
using h3::Field;
using Fields = std::vector<Field>;

std::string str(quic::Bytes b) {
  return {b.begin(), b.end()};
}
quic::Bytes bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// What a handler saw; owned by the test so it outlives the handler.
struct Record {
  std::string kind;  // which factory made it
  bool established = false;
  std::optional<uint64_t> closed;
  std::vector<std::pair<uint64_t, std::string>> capsules;
  std::vector<std::string> datagrams;
  std::vector<std::pair<uint64_t, bool>> opened;
  std::map<uint64_t, std::string> stream_data;
  std::set<uint64_t> fins;
};

class RecordingHandler : public h3::StreamHandler {
 public:
  RecordingHandler(std::shared_ptr<Record> rec, bool owns, bool echo)
      : rec_(std::move(rec)), owns_(owns), echo_(echo) {}
  void on_established(h3::Outbox&) override { rec_->established = true; }
  void on_capsule(h3::Outbox&, uint64_t type, quic::Bytes v) override {
    rec_->capsules.emplace_back(type, str(v));
  }
  void on_datagram(h3::Outbox& out, quic::Bytes p) override {
    rec_->datagrams.push_back(str(p));
    if (echo_) (void)out.send_datagram(bytes(rec_->kind + ":" + str(p)));
  }
  bool owns_streams() const override { return owns_; }
  void on_stream_opened(h3::Outbox&, uint64_t id, bool bidi) override {
    rec_->opened.emplace_back(id, bidi);
  }
  void on_stream_data(h3::Outbox& out, uint64_t id, quic::Bytes d, bool fin) override {
    rec_->stream_data[id] += str(d);
    if (!fin) return;
    rec_->fins.insert(id);
    if (echo_ && (id & 2) == 0) {  // answer a bidi stream in upper case
      std::string up = rec_->stream_data[id];
      for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      ASSERT_TRUE(out.write(id, bytes(up), true));
    }
  }
  void on_closed(uint64_t code) override { rec_->closed = code; }

 private:
  std::shared_ptr<Record> rec_;
  bool owns_, echo_;
};

// Registers `protocol` on a session; every handler it makes records into `made`.
void register_recording(h3::Session& s, const std::string& protocol, bool owns, bool echo,
                        std::map<uint64_t, std::shared_ptr<Record>>& made) {
  s.register_protocol(protocol, [&made, protocol, owns, echo](uint64_t id, std::span<const Field>) {
    auto rec = std::make_shared<Record>();
    rec->kind = protocol;
    made[id] = rec;
    return std::make_unique<RecordingHandler>(rec, owns, echo);
  });
}

Fields connect(const std::string& protocol, const std::string& path) {
  return {{":method", "CONNECT"},
          {":protocol", protocol},
          {":scheme", "https"},
          {":authority", "localhost"},
          {":path", path}};
}

PairOptions ext_options() {
  PairOptions o;
  o.client.enable_connect_protocol = o.server.enable_connect_protocol = true;
  o.client.enable_datagrams = o.server.enable_datagrams = true;
  o.quic_client.max_datagram_frame_size = o.quic_server.max_datagram_frame_size = 1400;
  return o;
}

// The server accepts every extended CONNECT with 200 and answers GETs with 204.
void accept_all(Peer& s, const Event& e) {
  if (e.kind != EventKind::kHeaders) return;
  ASSERT_TRUE(s.session->send_response(e.stream_id, Fields{{":status", "200"}}, {}, false));
}

TEST(H3Extension, HandlersByProtocolGetTheirCapsulesAndDatagrams) {
  Pair p(ext_options());
  std::map<uint64_t, std::shared_ptr<Record>> server_made, client_made;
  std::optional<uint64_t> udp, ip, get;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (server_made.empty() && e.kind == EventKind::kSettings) {
      register_recording(*s.session, "connect-udp", false, true, server_made);
      register_recording(*s.session, "connect-ip", false, true, server_made);
    }
    if (e.kind != EventKind::kHeaders) return;
    if (e.stream_id == *get) {
      EXPECT_EQ(s.session->handler(e.stream_id), nullptr);  // ordinary request
      ASSERT_TRUE(s.session->send_response(e.stream_id, Fields{{":status", "204"}}));
      return;
    }
    ASSERT_NE(s.session->handler(e.stream_id), nullptr);
    accept_all(s, e);
  };
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kSettings) {
      register_recording(*c.session, "connect-udp", false, false, client_made);
      register_recording(*c.session, "connect-ip", false, false, client_made);
      get = *c.session->send_request(get_request("/plain"));
      udp = *c.session->send_request(connect("connect-udp", "/.well-known/masque/udp/h/1/"), {},
                                     false);
      ip =
          *c.session->send_request(connect("connect-ip", "/.well-known/masque/ip/*/*/"), {}, false);
      // Optimistic capsules (before the 2xx): the server parses them once it accepts.
      auto out = c.session->outbox(*ip);
      ASSERT_TRUE(out.send_capsule(h3::capsule::kAddressRequest, bytes("areq")));
      ASSERT_TRUE(out.send_capsule(0x4040, bytes("unknown, skipped")));
      ASSERT_TRUE(out.send_capsule(h3::capsule::kDatagram, bytes("via-capsule")));
    }
    if (e.kind == EventKind::kHeaders && client_made.contains(e.stream_id)) {
      EXPECT_TRUE(client_made[e.stream_id]->established);
      auto out = c.session->outbox(e.stream_id);
      ASSERT_TRUE(out.send_datagram(bytes(e.stream_id == *udp ? "u1" : "i1")));
      ASSERT_TRUE(out.send_datagram(bytes(e.stream_id == *udp ? "u2" : "i2")));
    }
  };
  auto done = [&] {
    return client_made.contains(*udp) && client_made.contains(*ip) &&
           client_made[*udp]->datagrams.size() == 2 && client_made[*ip]->datagrams.size() == 3;
  };
  ASSERT_TRUE(p.run_until(done));
  ASSERT_EQ(server_made.size(), 2u);
  const Record& su = *server_made.at(*udp);
  const Record& si = *server_made.at(*ip);
  EXPECT_EQ(su.kind, "connect-udp");
  EXPECT_EQ(si.kind, "connect-ip");
  EXPECT_TRUE(su.established && si.established);
  // Datagrams reach only the handler of their stream, in order (one link, no loss).
  EXPECT_EQ(su.datagrams, (std::vector<std::string>{"u1", "u2"}));
  EXPECT_EQ(si.datagrams, (std::vector<std::string>{"via-capsule", "i1", "i2"}));
  EXPECT_EQ(
      si.capsules,
      (std::vector<std::pair<uint64_t, std::string>>{{h3::capsule::kAddressRequest, "areq"}}));
  EXPECT_TRUE(su.capsules.empty());
  EXPECT_EQ(client_made.at(*udp)->datagrams,
            (std::vector<std::string>{"connect-udp:u1", "connect-udp:u2"}));
  EXPECT_EQ(client_made.at(*ip)->datagrams.front(), "connect-ip:via-capsule");
  const auto& st = p.server.session->stats();
  EXPECT_EQ(st.capsules_skipped_unknown, 1u);
  EXPECT_EQ(st.capsules_delivered, 1u);
  EXPECT_EQ(st.datagrams_to_handlers, 5u);  // 4 frames + 1 capsule
  EXPECT_EQ(st.datagrams_queued, 0u);
  EXPECT_EQ(p.client.session->stats().datagrams_sent, 4u);
  EXPECT_EQ(p.client.count(EventKind::kDatagram), 0u);  // all went to handlers
}

TEST(H3Extension, CapsuleAboveItsCapResetsTheStreamWithMessageError) {
  Pair p(ext_options());
  std::map<uint64_t, std::shared_ptr<Record>> server_made, client_made;
  std::optional<uint64_t> sid;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (server_made.empty() && e.kind == EventKind::kSettings) {
      register_recording(*s.session, "webtransport", true, false, server_made);
    }
    accept_all(s, e);
  };
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kSettings) {
      register_recording(*c.session, "webtransport", true, false, client_made);
      sid = *c.session->send_request(connect("webtransport", "/wt"), {}, false);
    }
    if (e.kind == EventKind::kHeaders) {
      // WT_CLOSE_SESSION: 32-bit code + at most 1024 bytes of message; this has 1025.
      std::string v(4 + 1025, 'x');
      ASSERT_TRUE(c.session->outbox(*sid).send_capsule(h3::capsule::kWtCloseSession, bytes(v)));
    }
  };
  ASSERT_TRUE(p.run_until([&] { return p.client.find(EventKind::kReset, *sid) != nullptr; }));
  EXPECT_EQ(p.client.find(EventKind::kReset, *sid)->code, h3::err::kMessageError);
  EXPECT_EQ(server_made.at(*sid)->closed, h3::err::kMessageError);
  EXPECT_TRUE(server_made.at(*sid)->capsules.empty());
  EXPECT_FALSE(p.client.session->is_closed());  // a stream error only
}

TEST(H3Extension, SessionStreamsReachTheirHandlerBothWays) {
  PairOptions o = ext_options();
  o.client.accept_session_streams = o.server.accept_session_streams = true;
  o.client.extra_settings = {{0x2c7cf000, 1}};  // SETTINGS_WT_ENABLED, say
  Pair p(o);
  std::map<uint64_t, std::shared_ptr<Record>> server_made, client_made;
  std::optional<uint64_t> sid, bidi, uni, server_uni, server_bidi;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (server_made.empty() && e.kind == EventKind::kSettings) {
      register_recording(*s.session, "webtransport", true, true, server_made);
    }
    if (e.kind != EventKind::kHeaders) return;
    accept_all(s, e);
    auto out = s.session->outbox(e.stream_id);
    auto id = out.open_stream(false);
    ASSERT_TRUE(id);
    server_uni = *id;
    ASSERT_TRUE(out.write(*id, bytes("from server"), true));
    auto b = out.open_stream(true);  // server-initiated bidi: the client routes it by 0x41
    ASSERT_TRUE(b);
    server_bidi = *b;
    ASSERT_TRUE(out.write(*b, bytes("server bidi"), true));
  };
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kSettings) {
      register_recording(*c.session, "webtransport", true, false, client_made);
      sid = *c.session->send_request(connect("webtransport", "/wt"), {}, false);
    }
    if (e.kind == EventKind::kHeaders && e.stream_id == *sid) {
      auto out = c.session->outbox(*sid);
      bidi = *out.open_stream(true);
      ASSERT_TRUE(out.write(*bidi, bytes("hello"), true));
      uni = *out.open_stream(false);
      ASSERT_TRUE(out.write(*uni, bytes("one way"), true));
    }
  };
  auto done = [&] {
    return sid && client_made.contains(*sid) && bidi && client_made[*sid]->fins.contains(*bidi) &&
           server_uni && client_made[*sid]->fins.contains(*server_uni) &&
           server_made.contains(*sid) && client_made[*sid]->fins.contains(*server_bidi) && uni &&
           server_made[*sid]->fins.contains(*uni);
  };
  ASSERT_TRUE(p.run_until(done));
  const Record& s = *server_made.at(*sid);
  const Record& c = *client_made.at(*sid);
  EXPECT_EQ(s.stream_data.at(*bidi), "hello");
  EXPECT_EQ(s.stream_data.at(*uni), "one way");
  EXPECT_EQ(c.stream_data.at(*bidi), "HELLO");  // the server's answer on the same stream
  EXPECT_EQ(c.stream_data.at(*server_uni), "from server");
  EXPECT_EQ(s.opened, (std::vector<std::pair<uint64_t, bool>>{{*bidi, true}, {*uni, false}}));
  EXPECT_EQ(c.stream_data.at(*server_bidi), "server bidi");
  EXPECT_EQ(*server_bidi % 4, 1u);  // server-initiated bidirectional
  EXPECT_EQ(c.opened.size(), 2u);
  EXPECT_EQ(p.client.session->stats().session_streams_routed, 2u);
  EXPECT_EQ(p.server.session->stats().session_streams_routed, 2u);
  EXPECT_EQ(p.server.session->active_requests(), 1u);  // the CONNECT only: no request parsed
  EXPECT_EQ(p.server.session->peer_settings()->get(0x2c7cf000), 1u);
  EXPECT_EQ(p.server.count(EventKind::kHeaders), 1u);
}

// A raw client opens 17 bidi streams naming session 68 before that session exists; the server
// holds 16 and refuses the 17th; then stream 68 arrives as a plain GET, so the 16 are refused
// as naming no session. A uni stream naming a non-request stream ID closes the connection.
TEST(H3Extension, StreamsForAnUnknownSessionAreBoundedThenRefused) {
  PairOptions o;
  o.client_raw = true;
  o.server.accept_session_streams = true;
  o.server.max_pending_session_streams = 16;
  Pair p(o);
  std::vector<uint64_t> wt;
  bool sent_get = false;
  auto stops = [&](uint64_t code) {
    size_t n = 0;
    for (const auto& e : p.client.raw_events) {
      n += e.kind == quic::EventKind::kStopSending && e.error_code == code;
    }
    return n;
  };
  p.client.on_tick = [&](Peer& c, Instant) {
    if (!c.handshake_done()) return;
    if (wt.empty()) {
      raw_uni(*c.conn, control_preamble());
      for (int i = 0; i < 17; ++i) {
        uint64_t id = *c.conn->open_stream(true);
        (void)c.conn->stream_write(id, std::vector<uint8_t>{0x40, 0x41, 0x40, 68, 'x'}, false);
        wt.push_back(id);
      }
    }
    if (!sent_get && stops(h3::wt::kBufferedStreamRejected) == 1) {
      sent_get = true;
      uint64_t id = *c.conn->open_stream(true);
      EXPECT_EQ(id, 68u);
      (void)c.conn->stream_write(id, headers_frame(get_request("/")), true);
    }
  };
  ASSERT_TRUE(p.run_until([&] { return stops(h3::wt::kSessionGone) == 16; }));
  EXPECT_EQ(stops(h3::wt::kBufferedStreamRejected), 1u);
  EXPECT_EQ(p.server.session->stats().session_streams_rejected, 17u);
  EXPECT_EQ(p.server.count(EventKind::kHeaders), 1u);  // only the GET was a request
  EXPECT_FALSE(p.server.session->is_closed());

  bool sent_bad = false;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (sent_bad) return;
    sent_bad = true;
    raw_uni(*c.conn, {0x40, 0x54, 0x02});  // session ID 2: a server uni stream, not a session
  };
  ASSERT_TRUE(p.run_until([&] { return p.client.transport_closed.has_value(); }));
  EXPECT_EQ(p.client.peer_close_code(), h3::err::kIdError);
}

// Stream headers that arrive a byte at a time (type, then session ID, across packets) still
// route the stream; here a raw client with a WebTransport session on stream 0.
TEST(H3Extension, SessionStreamHeaderSplitAcrossPackets) {
  PairOptions o;
  o.client_raw = true;
  o.server.enable_connect_protocol = true;
  o.server.accept_session_streams = true;
  Pair p(o);
  std::map<uint64_t, std::shared_ptr<Record>> made;
  std::optional<uint64_t> uni;
  size_t step = 0;
  const std::vector<uint8_t> header{0x40, 0x54, 0x00};
  p.client.on_tick = [&](Peer& c, Instant) {
    if (!c.handshake_done() || step > header.size()) return;
    if (step == 0) {
      std::vector<uint8_t> ctl{0x00};
      h3::Settings st;
      st.enable_connect_protocol = true;
      h3::append_settings(ctl, st);
      raw_uni(*c.conn, ctl);
      uint64_t sid = *c.conn->open_stream(true);
      (void)c.conn->stream_write(sid, headers_frame(connect("webtransport", "/wt")), false);
      uni = *c.conn->open_stream(false);
    }
    if (step < header.size()) {
      (void)c.conn->stream_write(*uni, std::vector<uint8_t>{header[step]}, false);
    } else {
      (void)c.conn->stream_write(*uni, bytes_of("ab"), true);
    }
    ++step;
  };
  p.server.on_session = [&](Peer& s) {
    register_recording(*s.session, "webtransport", true, false, made);
  };
  // Stream 0's CONNECT is read before the control stream (lower stream ID): our own
  // ENABLE_CONNECT_PROTOCOL is what allows it (RFC 9220 §3).
  ASSERT_TRUE(p.run_until([&] { return made.contains(0) && made[0]->fins.contains(*uni); }));
  EXPECT_EQ(made[0]->stream_data.at(*uni), "ab");
  EXPECT_EQ(made[0]->opened, (std::vector<std::pair<uint64_t, bool>>{{*uni, false}}));
}

// A bidi stream that ends inside its first varint (a truncated frame header, §7.1) or right
// after the WT_STREAM signal (no session ID) is H3_FRAME_ERROR, with routing on.
TEST(H3Extension, BidiStreamEndingInsideItsHeaderIsFrameError) {
  for (const std::vector<uint8_t>& head :
       {std::vector<uint8_t>{0x40}, std::vector<uint8_t>{0x40, 0x41},
        std::vector<uint8_t>{0x40, 0x41, 0x40}}) {
    PairOptions o;
    o.client_raw = true;
    o.server.accept_session_streams = true;
    Pair p(o);
    bool sent = false;
    p.client.on_tick = [&](Peer& c, Instant) {
      if (sent || !c.handshake_done()) return;
      sent = true;
      raw_uni(*c.conn, control_preamble());
      uint64_t id = *c.conn->open_stream(true);
      (void)c.conn->stream_write(id, head, true);
    };
    ASSERT_TRUE(p.run_until([&] { return p.client.transport_closed.has_value(); })) << head.size();
    EXPECT_EQ(p.client.peer_close_code(), h3::err::kFrameError) << head.size();
  }
}

// 2,000 HTTP datagrams in one burst on a CONNECT stream without a handler: all arrive whole
// and in order when the byte bound holds them; with a small bound the newest are kept and
// the drops are counted by reason.
void datagram_burst(size_t bound, size_t expect_kept) {
  constexpr size_t kCount = 2000, kSize = 100;
  PairOptions o = ext_options();
  o.server.max_queued_datagram_bytes = bound;
  o.quic_client.datagram_send_queue = o.quic_server.datagram_recv_queue = 4096;
  Pair p(o);
  std::optional<uint64_t> sid;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) { accept_all(s, e); };
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kSettings) {
      sid = *c.session->send_request(connect("connect-udp", "/u"), {}, false);
    }
    if (e.kind != EventKind::kHeaders) return;
    std::vector<uint8_t> d(kSize);
    for (size_t i = 0; i < kCount; ++i) {
      for (size_t k = 0; k < kSize; ++k) d[k] = static_cast<uint8_t>(i * 31 + k);
      d[0] = static_cast<uint8_t>(i >> 8);
      d[1] = static_cast<uint8_t>(i);
      ASSERT_TRUE(c.session->send_datagram(*sid, d));
    }
  };
  // The application does not read until every datagram was taken from the transport.
  ASSERT_TRUE(p.run_until(
      [&] { return p.server.session && p.server.session->stats().datagrams_received == kCount; }));
  const auto& st = p.server.session->stats();
  EXPECT_EQ(st.datagrams_dropped_queue_full, kCount - expect_kept);
  EXPECT_EQ(p.server.count(EventKind::kDatagram), 1u);  // signalled once until drained
  std::vector<uint8_t> buf(2000);
  size_t got = 0, first = kCount - expect_kept;
  while (auto d = p.server.session->recv_datagram(buf)) {
    ASSERT_EQ(d->stream_id, *sid);
    ASSERT_EQ(d->length, kSize);
    ASSERT_EQ(d->copied, kSize);
    size_t i = first + got;
    ASSERT_EQ(size_t{buf[0]} << 8 | buf[1], i);  // in order, the newest kept
    for (size_t k = 2; k < kSize; ++k) ASSERT_EQ(buf[k], static_cast<uint8_t>(i * 31 + k));
    ++got;
  }
  EXPECT_EQ(got, expect_kept);
  EXPECT_EQ(st.datagrams_queued, kCount);
  EXPECT_EQ(st.datagrams_truncated, 0u);
}

TEST(H3Extension, BurstOf2000DatagramsArrivesWholeWithinTheByteBound) {
  datagram_burst(h3::kDefaultMaxQueuedDatagramBytes, 2000);
}

TEST(H3Extension, BurstBeyondTheByteBoundKeepsTheNewestAndCountsDrops) {
  datagram_burst(50 * (100 + h3::kDatagramRecordCost), 50);
}

}  // namespace
}  // namespace h3test

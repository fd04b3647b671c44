// A misbehaving WebTransport peer: data after WT_CLOSE_SESSION, streams for closed and
// impossible sessions, malformed close capsules, too many sessions, bad SETTINGS, flow-control
// violations, and bounds on what an unread session can make us hold. The hostile side acts
// through its h3::Session directly (bypassing its own Host's checks).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "wt_fixture.h"

namespace wttest {
namespace {

namespace cap = webtransport::capsule;
namespace wterr = webtransport::err;

h3::Outbox raw_outbox(WtPair& p, uint64_t sid) {
  return p.client.peer->session->outbox(sid);
}

// The server ended the session `sid` with an HTTP/3 code (not an application close).
void expect_server_ended(WtPair& p, uint64_t sid, uint64_t code) {
  ASSERT_TRUE(p.run_until([&] { return p.server.find(EventKind::kClosed, sid) != nullptr; }));
  const Event* c = p.server.find(EventKind::kClosed, sid);
  EXPECT_EQ(c->code, code);
  EXPECT_FALSE(c->app_error);
  EXPECT_EQ(p.server.wt().session_count(), 0u);
}

TEST(WebTransportHostile, DataAfterCloseSessionResetsWithMessageError) {
  // A known capsule after the close, and one of an unknown type (skipped, but still data).
  for (uint64_t after : {cap::kDrainSession, uint64_t{0x1234567}}) {
    WtPair p;
    auto sid = p.open_session();
    ASSERT_TRUE(sid);
    h3::Outbox out = raw_outbox(p, *sid);
    ASSERT_TRUE(out.send_capsule(cap::kCloseSession, webtransport::encode_close_session(5, "x")));
    ASSERT_TRUE(out.send_capsule(after, {}));  // after the close: forbidden (§6)
    // The server reported the close, then reset the CONNECT stream for the data after it.
    const h3::Event* aborted = nullptr;
    ASSERT_TRUE(p.run_until([&] {
      aborted = p.client.peer->find(h3::EventKind::kReset, *sid);
      if (aborted == nullptr) aborted = p.client.peer->find(h3::EventKind::kStopSending, *sid);
      return aborted != nullptr;
    }));
    EXPECT_EQ(aborted->code, h3::err::kMessageError);
    const Event* c = p.server.find(EventKind::kClosed, *sid);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->code, 5u);
    EXPECT_EQ(p.server.count(EventKind::kDraining), 0u);
  }
}

TEST(WebTransportHostile, EarlyCapsulesThatEndTheSessionDuringAccept) {
  // Found by fuzz_wt_server: capsules sent before the 2xx are parsed inside accept(); a close
  // followed by more data ends the session right there.
  WtPair p;
  p.server.auto_accept = false;
  ASSERT_TRUE(p.ready());
  auto sid = p.client.wt().connect("localhost", "/wt", "");
  ASSERT_TRUE(sid);
  auto s = p.client.wt().open_stream(*sid, true);
  ASSERT_TRUE(s);
  ASSERT_TRUE(p.client.wt().write(*s, bytes("early"), false));
  h3::Outbox out = raw_outbox(p, *sid);
  ASSERT_TRUE(out.send_capsule(cap::kCloseSession, webtransport::encode_close_session(4, "x")));
  ASSERT_TRUE(out.send_capsule(cap::kDrainSession, {}));
  ASSERT_TRUE(p.run_until([&] { return p.server.count(EventKind::kRequest) == 1; }));
  p.run_until([] { return false; }, std::chrono::milliseconds(100));
  EXPECT_TRUE(p.server.wt().accept(*sid));
  while (auto e = p.server.wt().poll_event()) p.server.events.push_back(*e);
  const Event* c = p.server.find(EventKind::kClosed, *sid);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->code, 4u);  // the close was reported before the data after it ended the stream
  EXPECT_EQ(p.server.find(EventKind::kStreamOpened, *s), nullptr);
  EXPECT_EQ(p.server.wt().session_count(), 0u);
}

TEST(WebTransportHostile, StreamsForAClosedSessionAreRefusedWithSessionGone) {
  WtPair p;
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  ASSERT_TRUE(p.client.wt().close_session(*sid, 0, ""));
  ASSERT_TRUE(p.run_until([&] { return p.server.wt().session_count() == 0; }));
  uint64_t before = p.server.peer->session->stats().session_streams_rejected;
  // A uni stream naming the closed session: type 0x54, session ID, data.
  std::vector<uint8_t> bytes{0x40, 0x54, static_cast<uint8_t>(*sid), 'x'};
  uint64_t id = h3test::raw_uni(*p.client.peer->conn, bytes);
  ASSERT_TRUE(p.run_until(
      [&] { return p.server.peer->session->stats().session_streams_rejected == before + 1; }));
  EXPECT_EQ(p.server.find(EventKind::kStreamOpened, id), nullptr);
  EXPECT_EQ(p.server.wt().session_count(), 0u);
}

TEST(WebTransportHostile, StreamNamingANonRequestStreamIsIdError) {
  WtPair p;
  ASSERT_TRUE(p.open_session());
  (void)h3test::raw_uni(*p.client.peer->conn, {0x40, 0x54, 0x02, 'x'});  // 2: not client bidi
  ASSERT_TRUE(p.run_until([&] { return p.client.peer->peer_close_code().has_value(); }));
  EXPECT_EQ(*p.client.peer->peer_close_code(), h3::err::kIdError);
}

TEST(WebTransportHostile, OverlongOrNonUtf8CloseReasonIsMessageError) {
  for (bool overlong : {true, false}) {
    WtPair p;
    auto sid = p.open_session();
    ASSERT_TRUE(sid);
    std::vector<uint8_t> body(4, 0);
    if (overlong) {
      body.resize(4 + 1025, 'a');
    } else {
      body.push_back(0xc3);  // a cut-off two-byte character
    }
    ASSERT_TRUE(raw_outbox(p, *sid).send_capsule(cap::kCloseSession, body));
    expect_server_ended(p, *sid, h3::err::kMessageError);
  }
}

TEST(WebTransportHostile, SessionsBeyondTheLimitAreRejected) {
  WtOptions o;
  o.server.max_sessions = 2;
  o.client.max_sessions = 10;
  WtPair p(o);
  ASSERT_TRUE(p.ready());
  std::vector<uint64_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(*p.client.wt().connect("localhost", "/wt", ""));
  ASSERT_TRUE(p.run_until([&] {
    return p.client.count(EventKind::kEstablished) + p.client.count(EventKind::kRejected) == 3;
  }));
  EXPECT_EQ(p.client.count(EventKind::kEstablished), 2u);
  const Event* r = p.client.find(EventKind::kRejected, ids[2]);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->code, 0u);  // reset, not answered
  const h3::Event* reset = p.client.peer->find(h3::EventKind::kReset, ids[2]);
  ASSERT_NE(reset, nullptr);
  EXPECT_EQ(reset->code, h3::err::kRequestRejected);  // not processed (draft §5.2)
  EXPECT_EQ(p.server.wt().session_count(), 2u);
}

TEST(WebTransportHostile, WithoutFlowControlOnlyOneSession) {
  WtOptions o;
  o.client.initial_max_data = o.client.initial_max_streams_bidi = o.client.initial_max_streams_uni =
      0;
  WtPair p(o);
  ASSERT_TRUE(p.open_session());
  EXPECT_FALSE(p.client.wt().flow_control());
  auto second = p.client.wt().connect("localhost", "/wt", "");
  ASSERT_FALSE(second);  // the client keeps to one session itself
  EXPECT_EQ(second.error().code, webtransport::status::kWouldBlock);
  // A client that ignores the rule gets H3_REQUEST_REJECTED (draft §5.1).
  std::vector<h3::Field> f{{":method", "CONNECT"},
                           {":protocol", "webtransport-h3"},
                           {":scheme", "https"},
                           {":authority", "localhost"},
                           {":path", "/wt"}};
  auto id = p.client.peer->session->send_request(f, {}, false);
  ASSERT_TRUE(id);
  ASSERT_TRUE(p.run_until([&] { return p.client.peer->find(h3::EventKind::kReset, *id); }));
  EXPECT_EQ(p.client.peer->find(h3::EventKind::kReset, *id)->code, h3::err::kRequestRejected);
  EXPECT_EQ(p.server.wt().session_count(), 1u);
}

TEST(WebTransportHostile, ServerWtEnabledAboveOneIsSettingsError) {
  WtOptions o;
  o.tweak = [](h3test::PairOptions& po) {
    for (auto& [id, v] : po.server.extra_settings) {
      if (id == webtransport::setting::kWtEnabled) v = 2;
    }
  };
  WtPair p(o);
  ASSERT_TRUE(p.run_until([&] { return p.server.peer->peer_close_code().has_value(); }));
  EXPECT_EQ(*p.server.peer->peer_close_code(), h3::err::kSettingsError);
}

TEST(WebTransportHostile, ClientWithoutH3DatagramGetsItsSessionsTreatedAsMalformed) {
  WtOptions o;
  o.tweak = [](h3test::PairOptions& po) { po.client.enable_datagrams = false; };
  WtPair p(o);
  ASSERT_TRUE(p.ready());
  EXPECT_EQ(p.client.wt().version(), webtransport::Version::kNone);
  EXPECT_FALSE(p.client.wt().connect("localhost", "/wt", ""));
  std::vector<h3::Field> f{{":method", "CONNECT"},
                           {":protocol", "webtransport-h3"},
                           {":scheme", "https"},
                           {":authority", "localhost"},
                           {":path", "/wt"}};
  auto id = p.client.peer->session->send_request(f, {}, false);
  ASSERT_TRUE(id);
  ASSERT_TRUE(p.run_until([&] { return p.client.peer->find(h3::EventKind::kReset, *id); }));
  EXPECT_EQ(p.client.peer->find(h3::EventKind::kReset, *id)->code, h3::err::kMessageError);
  EXPECT_EQ(p.server.count(EventKind::kRequest), 0u);
}

TEST(WebTransportHostile, StreamsBeyondTheSessionLimitAreFlowControlError) {
  WtOptions o;
  o.server.initial_max_streams_uni = 2;
  WtPair p(o);
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(raw_outbox(p, *sid).open_stream(false));
  expect_server_ended(p, *sid, wterr::kFlowControlError);
  ASSERT_TRUE(p.run_until([&] { return p.client.find(EventKind::kClosed, *sid) != nullptr; }));
  EXPECT_EQ(p.client.find(EventKind::kClosed, *sid)->code, wterr::kFlowControlError);
}

TEST(WebTransportHostile, DataBeyondTheSessionLimitIsFlowControlError) {
  WtOptions o;
  o.server.initial_max_data = 1000;
  WtPair p(o);
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  auto s = raw_outbox(p, *sid).open_stream(false);
  ASSERT_TRUE(s);
  ASSERT_TRUE(raw_outbox(p, *sid).write(*s, std::vector<uint8_t>(1001, 'x'), true));
  expect_server_ended(p, *sid, wterr::kFlowControlError);
}

TEST(WebTransportHostile, NonIncreasingOrProhibitedFlowCapsulesEndTheSession) {
  for (uint64_t type : {cap::kMaxData, cap::kMaxStreamsBidi, cap::kMaxStreamDataH2}) {
    WtPair p;
    auto sid = p.open_session();
    ASSERT_TRUE(sid);
    // 1 is below every initial limit the server got from the client's SETTINGS.
    ASSERT_TRUE(raw_outbox(p, *sid).send_capsule(type, webtransport::encode_varint_body(1)));
    expect_server_ended(p, *sid, wterr::kFlowControlError);
  }
}

TEST(WebTransportHostile, UnreadDatagramsAndStreamsStayWithinTheirBounds) {
  WtOptions o;
  o.server.max_datagrams = 50;
  o.server.max_stream_buffer = 64 * 1024;
  o.tweak = [](h3test::PairOptions& po) {
    po.quic_server.keep_alive = std::chrono::milliseconds(50);
  };
  WtPair p(o);
  p.server.on_event = nullptr;  // the server application never reads
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  for (int i = 0; i < 400; ++i) {
    (void)p.client.wt().send_datagram(*sid, bytes("datagram " + std::to_string(i)));
  }
  auto s = p.client.wt().open_stream(*sid, false);
  ASSERT_TRUE(s);
  std::string big = pattern(1 << 20, 4);
  size_t off = 0;
  p.client.on_tick = [&](WtPeer& w) {
    while (off < big.size()) {
      auto n = w.wt().write(*s, bytes(big).subspan(off), true);
      if (!n) break;
      off += *n;
    }
  };
  bool dropped = p.run_until([&] { return p.server.wt().datagrams_dropped() >= 300; },
                             std::chrono::seconds(5));
  ASSERT_TRUE(dropped) << p.server.wt().datagrams_dropped() << " dropped; h3 received "
                       << p.server.peer->session->stats().datagrams_received << ", to handlers "
                       << p.server.peer->session->stats().datagrams_to_handlers;
  p.run_until([] { return false; }, std::chrono::seconds(2));
  // At most the bound is held; the newest survive.
  size_t kept = 0;
  std::string last;
  uint8_t buf[64];
  while (auto n = p.server.wt().recv_datagram(*sid, buf)) {
    ++kept;
    last.assign(buf, buf + *n);
  }
  EXPECT_LE(kept, 50u);
  EXPECT_EQ(last, "datagram 399");
  // The unread stream holds at most its bound plus one read chunk; the rest waits in QUIC.
  // The server application now reads (in its hook, woken by keep-alive PINGs): the first read
  // shows what was held, and reading resumes the stream until the whole megabyte arrived.
  std::optional<size_t> held;
  std::string got;
  bool fin = false;
  p.server.on_tick = [&](WtPeer& w) {
    if (!held) {
      std::vector<uint8_t> all(4 << 20);
      auto r = w.wt().read(*s, all);
      ASSERT_TRUE(r);
      held = r->bytes;
      got.assign(reinterpret_cast<const char*>(all.data()), r->bytes);
    }
    if (!fin) fin = drain(w.wt(), *s, got);
  };
  ASSERT_TRUE(p.run_until([&] { return fin; }));
  EXPECT_LE(*held, 64u * 1024 + h3::kReadChunk);
  EXPECT_LT(*held, big.size());
  EXPECT_EQ(got, big);
}

TEST(WebTransportHostile, ManyUnreadStreamsWaitInQuicBeyondTheActiveBound) {
  // No flow control (the server advertises none): only QUIC's stream limit holds the peer, and
  // streams read to their FIN by h3 return their QUIC credit. The Host reads at most
  // kMaxActivePeerStreams of them into its buffers while the application reads nothing.
  WtOptions o;
  o.server.initial_max_data = o.server.initial_max_streams_bidi = 0;
  o.server.initial_max_streams_uni = 0;
  o.tweak = [](h3test::PairOptions& po) {
    po.quic_server.keep_alive = std::chrono::milliseconds(50);
    po.quic_server.max_streams_uni = 64;  // credit comes back as h3 finishes streams
  };
  WtPair p(o);
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  ASSERT_FALSE(p.server.wt().flow_control());
  constexpr size_t kStreams = webtransport::kMaxActivePeerStreams + 100;
  size_t opened = 0;
  p.client.on_tick = [&](WtPeer& w) {
    while (opened < kStreams) {
      auto s = w.wt().open_stream(*sid, false);
      if (!s) break;  // QUIC's stream limit: more credit later
      ASSERT_TRUE(w.wt().write(*s, bytes("stream " + std::to_string(opened)), true));
      ++opened;
    }
  };
  p.run_until([&] { return false; }, std::chrono::seconds(2));
  // Everything the peer could open is announced; only the bound's worth is buffered.
  std::set<uint64_t> done;
  std::map<uint64_t, std::string> got;
  auto read_all = [&](WtPeer& w) {
    for (const auto& e : w.events) {
      if (e.kind == EventKind::kStreamOpened && !done.contains(e.stream_id) &&
          drain(w.wt(), e.stream_id, got[e.stream_id])) {
        done.insert(e.stream_id);
      }
    }
  };
  read_all(p.server);
  EXPECT_GT(done.size(), 0u);
  EXPECT_LE(done.size(), webtransport::kMaxActivePeerStreams);
  EXPECT_LT(opened, kStreams);  // the peer was held back
  // Reading on (in the hook) resumes the held streams: all of them arrive, byte-exact.
  p.server.on_tick = read_all;
  ASSERT_TRUE(p.run_until([&] { return done.size() == kStreams; }));
  std::set<std::string> contents;
  for (const auto& [id, text] : got) contents.insert(text);
  EXPECT_EQ(contents.size(), kStreams);
  EXPECT_TRUE(contents.contains("stream " + std::to_string(kStreams - 1)));
}

TEST(WebTransportHostile, ConnectsBeforeTheClientsSettingsWaitAndAreBounded) {
  WtOptions o;
  o.tweak = [](h3test::PairOptions& po) { po.client_raw = true; };
  WtPair p(o);
  ASSERT_TRUE(p.run_until([&] { return p.client.peer->handshake_done(); }));
  quic::Connection& c = *p.client.peer->conn;
  std::vector<h3::Field> f{{":method", "CONNECT"},
                           {":protocol", "webtransport-h3"},
                           {":scheme", "https"},
                           {":authority", "localhost"},
                           {":path", "/wt"}};
  std::vector<uint64_t> ids;
  for (size_t i = 0; i <= webtransport::kMaxHeldRequests; ++i) {
    auto id = c.open_stream(true);
    ASSERT_TRUE(id);
    ASSERT_TRUE(c.stream_write(*id, h3test::headers_frame(f), false));
    ids.push_back(*id);
  }
  // Not processed before the client's SETTINGS (draft §3.1); one beyond the bound is refused.
  auto refused = [&] {
    for (const auto& e : p.client.peer->raw_events) {
      if (e.kind == quic::EventKind::kStreamReset && e.stream_id == ids.back()) return true;
    }
    return false;
  };
  ASSERT_TRUE(p.run_until(refused));
  EXPECT_EQ(p.server.count(EventKind::kRequest), 0u);
  h3::Settings s;
  s.h3_datagram = true;
  s.extensions = {{webtransport::setting::kWtEnabled, 1},
                  {webtransport::setting::kInitialMaxData, 1 << 20}};
  std::vector<uint8_t> ctl{0x00};
  h3::append_settings(ctl, s);
  (void)h3test::raw_uni(c, ctl);
  ASSERT_TRUE(p.run_until([&] { return p.server.count(EventKind::kRequest) == 64; }));
  EXPECT_EQ(p.server.wt().version(), webtransport::Version::kDraft15);
  EXPECT_EQ(p.server.find(EventKind::kRequest, ids.back()), nullptr);
}

}  // namespace
}  // namespace wttest

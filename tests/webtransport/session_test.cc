// WebTransport sessions end to end over the simulator, modelled on the quic-interop-runner
// WebTransport cases: handshake (each draft version), transfer on bidirectional and
// unidirectional streams both ways, datagrams both ways, 100 sessions on one connection, and
// close with code and reason; plus flow control, drain and the reliable stream header.
#include <gtest/gtest.h>

#include <map>

#include "wt_fixture.h"

namespace wttest {
namespace {

using webtransport::Version;

// Server behaviour used by several tests: echo bidi streams on themselves, uni streams on a
// new uni stream after the FIN, datagrams as datagrams.
void echo_server(WtPeer& s) {
  auto data = std::make_shared<std::map<uint64_t, std::string>>();
  s.on_event = [data](WtPeer& w, const Event& e) {
    if (e.kind == EventKind::kDatagram) {
      uint8_t buf[2048];
      while (auto n = w.wt().recv_datagram(e.session_id, buf)) {
        EXPECT_TRUE(w.wt().send_datagram(e.session_id, quic::Bytes(buf, *n)));
      }
    }
    if (e.kind != EventKind::kReadable) return;
    std::string& got = (*data)[e.stream_id];
    bool fin = drain(w.wt(), e.stream_id, got);
    if (!fin) return;
    uint64_t out = e.stream_id;
    if ((e.stream_id & 2) != 0) out = *w.wt().open_stream(e.session_id, false);
    auto n = w.wt().write(out, bytes(got), true);
    ASSERT_TRUE(n);
    ASSERT_EQ(*n, got.size());  // fits the echo's send queue and the peer's credit here
  };
}

TEST(WebTransport, HandshakeNegotiatesTheHighestCommonDraft) {
  struct Case {
    bool c02, c07, c15;
    Version want;
  };
  for (Case c :
       {Case{true, true, true, Version::kDraft15}, Case{true, true, false, Version::kDraft07},
        Case{true, false, false, Version::kDraft02}}) {
    WtOptions o;
    o.client.draft02 = c.c02;
    o.client.draft07 = c.c07;
    o.client.draft15 = c.c15;
    WtPair p(o);
    auto sid = p.open_session();
    ASSERT_TRUE(sid) << static_cast<int>(c.want);
    EXPECT_EQ(p.client.wt().version(), c.want);
    EXPECT_EQ(p.server.wt().version(), c.want);
    const Event* req = p.server.find(EventKind::kRequest, *sid);
    ASSERT_NE(req, nullptr);
    std::map<std::string, std::string> f;
    for (const auto& x : req->fields) f[x.name] = x.value;
    EXPECT_EQ(f[":protocol"], c.want == Version::kDraft15 ? "webtransport-h3" : "webtransport");
    EXPECT_EQ(f[":path"], "/wt");
    EXPECT_EQ(f["origin"], "https://example.test");
    // Draft-02 (Chromium's) confirms the version in the response.
    const Event* est = p.client.find(EventKind::kEstablished, *sid);
    ASSERT_NE(est, nullptr);
    bool confirmed = false;
    for (const auto& x : est->fields) {
      confirmed |= x.name == "sec-webtransport-http3-draft" && x.value == "draft02";
    }
    EXPECT_EQ(confirmed, c.want == Version::kDraft02);
    EXPECT_EQ(p.client.wt().flow_control(), c.want == Version::kDraft15);
  }
}

TEST(WebTransport, TransferOnBidiAndUniStreamsBothWays) {
  WtPair p;
  echo_server(p.server);
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  // Client-initiated: 200 KB on a bidi stream (echoed on it) and on a uni stream (echoed on a
  // server uni stream).
  std::string big = pattern(200 * 1024, 3), uni = pattern(150 * 1024, 5);
  auto b = p.client.wt().open_stream(*sid, true);
  auto u = p.client.wt().open_stream(*sid, false);
  ASSERT_TRUE(b && u);
  std::map<uint64_t, std::string> got;
  std::map<uint64_t, size_t> sent;
  std::map<uint64_t, std::string> to_send{{*b, big}, {*u, uni}};
  p.client.on_tick = [&](WtPeer& w) {
    for (auto& [id, s] : to_send) {
      size_t& off = sent[id];
      while (off < s.size()) {
        auto n = w.wt().write(id, bytes(s).subspan(off), true);
        if (!n) break;
        off += *n;
      }
    }
  };
  std::set<uint64_t> fins;
  p.client.on_event = [&](WtPeer& w, const Event& e) {
    if (e.kind == EventKind::kReadable && drain(w.wt(), e.stream_id, got[e.stream_id])) {
      fins.insert(e.stream_id);
    }
  };
  ASSERT_TRUE(p.run_until([&] { return fins.size() == 2; }));
  EXPECT_EQ(got[*b], big);
  uint64_t echo_uni = 0;
  for (auto id : fins) {
    if (id != *b) echo_uni = id;
  }
  EXPECT_EQ(echo_uni & 3, 3u);  // a server-initiated uni stream
  EXPECT_EQ(got[echo_uni], uni);
  EXPECT_NE(p.client.find(EventKind::kStreamOpened, echo_uni), nullptr);

  // Server-initiated bidi stream: the client echoes it.
  p.client.on_event = [&](WtPeer& w, const Event& e) {
    if (e.kind != EventKind::kReadable) return;
    if (drain(w.wt(), e.stream_id, got[e.stream_id])) {
      ASSERT_TRUE(w.wt().write(e.stream_id, bytes(got[e.stream_id]), true));
    }
  };
  p.client.on_tick = nullptr;
  std::string from_server = pattern(64 * 1024, 9);
  auto sb = p.server.wt().open_stream(*sid, true);
  ASSERT_TRUE(sb);
  ASSERT_EQ(*p.server.wt().write(*sb, bytes(from_server), true), from_server.size());
  std::string back;
  bool done = false;
  p.server.on_event = [&](WtPeer& w, const Event& e) {
    if (e.kind == EventKind::kReadable && e.stream_id == *sb) done = drain(w.wt(), *sb, back);
  };
  ASSERT_TRUE(p.run_until([&] { return done; }));
  EXPECT_EQ(back, from_server);
}

TEST(WebTransport, DatagramsBothWays) {
  WtPair p;
  echo_server(p.server);
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(p.client.wt().send_datagram(*sid, bytes("dgram " + std::to_string(i))));
  }
  std::set<std::string> got;
  p.client.on_event = [&](WtPeer& w, const Event& e) {
    if (e.kind != EventKind::kDatagram) return;
    uint8_t buf[256];
    while (auto n = w.wt().recv_datagram(e.session_id, buf)) got.emplace(buf, buf + *n);
  };
  ASSERT_TRUE(p.run_until([&] { return got.size() == 20; }));
  EXPECT_TRUE(got.contains("dgram 19"));
  // Server-initiated datagrams reach the client's session too.
  ASSERT_TRUE(p.server.wt().send_datagram(*sid, bytes("from server")));
  ASSERT_TRUE(p.run_until([&] { return got.contains("from server"); }));
}

TEST(WebTransport, HundredSessionsOnOneConnection) {
  WtPair p;
  echo_server(p.server);
  ASSERT_TRUE(p.ready());
  std::vector<uint64_t> sids;
  for (int i = 0; i < 100; ++i) {
    auto id = p.client.wt().connect("localhost", "/s" + std::to_string(i), "");
    ASSERT_TRUE(id) << i << ": " << id.error().reason;
    sids.push_back(*id);
  }
  ASSERT_TRUE(p.run_until([&] { return p.client.count(EventKind::kEstablished) == 100; }));
  EXPECT_EQ(p.server.wt().session_count(), 100u);
  // Each session echoes its own bidi stream and datagram: nothing crosses sessions.
  std::map<uint64_t, uint64_t> stream_session;
  for (uint64_t sid : sids) {
    auto s = p.client.wt().open_stream(sid, true);
    ASSERT_TRUE(s);
    stream_session[*s] = sid;
    ASSERT_TRUE(p.client.wt().write(*s, bytes("session " + std::to_string(sid)), true));
    ASSERT_TRUE(p.client.wt().send_datagram(sid, bytes("d" + std::to_string(sid))));
  }
  std::map<uint64_t, std::string> echoed, dgrams;
  size_t fins = 0;
  p.client.on_event = [&](WtPeer& w, const Event& e) {
    if (e.kind == EventKind::kReadable) fins += drain(w.wt(), e.stream_id, echoed[e.stream_id]);
    if (e.kind == EventKind::kDatagram) {
      uint8_t buf[64];
      while (auto n = w.wt().recv_datagram(e.session_id, buf))
        dgrams[e.session_id].assign(buf, buf + *n);
    }
  };
  ASSERT_TRUE(p.run_until([&] { return fins == 100 && dgrams.size() == 100; }));
  for (auto [stream, sid] : stream_session) {
    EXPECT_EQ(echoed[stream], "session " + std::to_string(sid));
    EXPECT_EQ(dgrams[sid], "d" + std::to_string(sid));
  }
}

TEST(WebTransport, CloseWithCodeAndReasonEndsTheSessionAndItsStreams) {
  WtPair p;
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  auto s = p.server.wt().open_stream(*sid, false);
  ASSERT_TRUE(s);
  ASSERT_TRUE(p.server.wt().write(*s, bytes("partial"), false));
  ASSERT_TRUE(p.run_until([&] { return p.client.count(EventKind::kStreamOpened) == 1; }));
  // "ünïcode": the reason arrives byte-exact.
  std::string reason =
      "bye \xc3\xbc"
      "n\xc3\xaf"
      "code";
  ASSERT_TRUE(p.client.wt().close_session(*sid, 0xdeadbeef, reason));
  EXPECT_FALSE(p.client.wt().open_stream(*sid, true));  // no new streams after close (§6)
  EXPECT_FALSE(p.client.wt().send_datagram(*sid, bytes("x")));
  ASSERT_TRUE(p.run_until([&] { return p.server.count(EventKind::kClosed) == 1; }));
  const Event* c = p.server.find(EventKind::kClosed, *sid);
  EXPECT_EQ(c->code, 0xdeadbeefu);
  EXPECT_EQ(c->reason, reason);
  EXPECT_TRUE(c->app_error);
  EXPECT_FALSE(p.server.wt().write(*s, bytes("more"), true));  // the stream went with it
  EXPECT_EQ(p.server.wt().session_count(), 0u);
  ASSERT_TRUE(p.run_until([&] { return p.client.wt().session_count() == 0; }));
  EXPECT_EQ(p.client.count(EventKind::kClosed), 0u);  // the closer is not told again
}

TEST(WebTransport, OverlongCloseReasonIsCutAtACharacterBoundary) {
  WtPair p;
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  std::string reason(1023, 'a');
  reason += "\xe2\x82\xac tail";  // a 3-byte character straddles byte 1024
  ASSERT_TRUE(p.server.wt().close_session(*sid, 9, reason));
  ASSERT_TRUE(p.run_until([&] { return p.client.count(EventKind::kClosed) == 1; }));
  const Event* c = p.client.find(EventKind::kClosed, *sid);
  EXPECT_EQ(c->code, 9u);
  EXPECT_EQ(c->reason, std::string(1023, 'a'));
}

TEST(WebTransport, FinWithoutCapsuleIsCloseZeroAndDrainIsReported) {
  WtPair p;
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  ASSERT_TRUE(p.server.wt().drain_session(*sid));
  ASSERT_TRUE(p.run_until([&] { return p.client.count(EventKind::kDraining) == 1; }));
  EXPECT_TRUE(p.client.wt().session_open(*sid));  // draining is advice, the session goes on
  // A FIN on the CONNECT stream without WT_CLOSE_SESSION is a close with 0 and no message (§6).
  ASSERT_TRUE(p.client.peer->session->outbox(*sid).finish());
  ASSERT_TRUE(p.run_until([&] { return p.server.count(EventKind::kClosed) == 1; }));
  const Event* c = p.server.find(EventKind::kClosed, *sid);
  EXPECT_EQ(c->code, 0u);
  EXPECT_TRUE(c->app_error);
  EXPECT_TRUE(c->reason.empty());
}

TEST(WebTransport, OptimisticStreamAndDatagramWaitForTheServersAccept) {
  WtPair p;
  p.server.auto_accept = false;
  ASSERT_TRUE(p.ready());
  auto sid = p.client.wt().connect("localhost", "/wt", "");
  ASSERT_TRUE(sid);
  // Before the 2xx (draft §4): a stream with data and FIN, and a datagram.
  auto s = p.client.wt().open_stream(*sid, false);
  ASSERT_TRUE(s);
  ASSERT_TRUE(p.client.wt().write(*s, bytes("early"), true));
  ASSERT_TRUE(p.run_until([&] { return p.server.count(EventKind::kRequest) == 1; }));
  (void)p.client.wt().send_datagram(*sid, bytes("early datagram"));
  p.run_until([] { return false; }, std::chrono::milliseconds(200));
  // Nothing is announced for a session the application has not accepted.
  EXPECT_EQ(p.server.count(EventKind::kStreamOpened), 0u);
  EXPECT_EQ(p.server.count(EventKind::kDatagram), 0u);
  ASSERT_TRUE(p.server.wt().accept(*sid));
  while (auto e = p.server.wt().poll_event()) p.server.events.push_back(*e);
  EXPECT_NE(p.server.find(EventKind::kStreamOpened, *s), nullptr);
  EXPECT_NE(p.server.find(EventKind::kDatagram, *sid), nullptr);
  std::string got;
  EXPECT_TRUE(drain(p.server.wt(), *s, got));
  EXPECT_EQ(got, "early");
  uint8_t buf[64];
  auto n = p.server.wt().recv_datagram(*sid, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buf, buf + *n), "early datagram");
}

TEST(WebTransport, RejectionsCarryTheirStatus) {
  WtOptions o;
  o.server.allowed_origins = {"https://good.test"};
  WtPair p(o);
  p.server.auto_accept = false;
  p.server.on_event = [](WtPeer& w, const Event& e) {
    if (e.kind != EventKind::kRequest) return;
    for (const auto& f : e.fields) {
      if (f.name != ":path") continue;
      auto r = f.value == "/ok" ? w.wt().accept(e.session_id) : w.wt().reject(e.session_id, 404);
      ASSERT_TRUE(r);
    }
  };
  ASSERT_TRUE(p.ready());
  auto bad_origin = p.client.wt().connect("localhost", "/ok", "https://evil.test");
  auto not_found = p.client.wt().connect("localhost", "/nope", "https://good.test");
  auto ok = p.client.wt().connect("localhost", "/ok", "https://good.test");
  ASSERT_TRUE(bad_origin && not_found && ok);
  ASSERT_TRUE(p.run_until([&] { return p.client.count(EventKind::kRejected) == 2; }));
  EXPECT_EQ(p.client.find(EventKind::kRejected, *bad_origin)->code, 403u);  // draft §3.2
  EXPECT_EQ(p.client.find(EventKind::kRejected, *not_found)->code, 404u);
  ASSERT_TRUE(p.run_until([&] { return p.client.find(EventKind::kEstablished, *ok); }));
  EXPECT_EQ(p.client.wt().session_count(), 1u);
  EXPECT_EQ(p.server.wt().session_count(), 1u);
}

TEST(WebTransport, ApplicationProtocolNegotiation) {
  WtOptions o;
  o.client.protocols = {"chat-v2", "chat"};
  o.client.require_protocol = true;
  WtPair p(o);
  p.server.auto_accept = false;
  p.server.on_event = [](WtPeer& w, const Event& e) {
    if (e.kind != EventKind::kRequest) return;
    ASSERT_EQ(e.protocols, (std::vector<std::string>{"chat-v2", "chat"}));
    EXPECT_FALSE(w.wt().accept(e.session_id, {}, "other"));  // not offered: refused (§3.3)
    ASSERT_TRUE(w.wt().accept(e.session_id, {}, "chat"));
  };
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  EXPECT_EQ(p.client.find(EventKind::kEstablished, *sid)->protocols,
            (std::vector<std::string>{"chat"}));
}

TEST(WebTransport, MissingOrForeignProtocolIsAlpnError) {
  for (bool answer_foreign : {false, true}) {
    WtOptions o;
    o.client.protocols = {"chat"};
    o.client.require_protocol = true;
    WtPair p(o);
    p.server.auto_accept = false;
    // The server answers through its h3 session directly: no WT-Protocol, or one not offered.
    p.server.on_event = [&](WtPeer& w, const Event& e) {
      if (e.kind != EventKind::kRequest) return;
      std::vector<h3::Field> head{{":status", "200"}};
      if (answer_foreign) head.push_back({"wt-protocol", "\"other\""});
      ASSERT_TRUE(w.peer->session->send_response(e.session_id, head, {}, false));
    };
    ASSERT_TRUE(p.ready());
    auto sid = p.client.wt().connect("localhost", "/wt", "");
    ASSERT_TRUE(sid);
    ASSERT_TRUE(p.run_until([&] { return p.client.find(EventKind::kClosed, *sid) != nullptr; }));
    EXPECT_EQ(p.client.find(EventKind::kClosed, *sid)->code, webtransport::err::kAlpnError);
    EXPECT_EQ(p.client.find(EventKind::kEstablished, *sid), nullptr);
  }
}

TEST(WebTransport, GoawayAsksSessionsToDrain) {
  WtPair p;
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  p.server.peer->session->goaway(p.server.now);
  ASSERT_TRUE(p.run_until([&] { return p.client.count(EventKind::kDraining) == 1; }));
  EXPECT_TRUE(p.client.wt().session_open(*sid));
  EXPECT_FALSE(p.client.wt().connect("localhost", "/wt", ""));  // no new sessions (§4.6)
}

TEST(WebTransport, FlowControlCreditCarriesATransferFarBeyondTheWindow) {
  WtOptions o;
  o.server.initial_max_data = 4096;  // the client may send 4 KB before WT_MAX_DATA
  WtPair p(o);
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  ASSERT_TRUE(p.client.wt().flow_control());
  std::string data = pattern(100 * 1024, 1);
  auto s = p.client.wt().open_stream(*sid, false);
  ASSERT_TRUE(s);
  auto first = p.client.wt().write(*s, bytes(data), true);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 4096u);  // held to the session's credit
  size_t off = *first;
  p.client.on_event = [&](WtPeer& w, const Event& e) {
    if (e.kind != EventKind::kWritable || e.stream_id != *s) return;
    while (off < data.size()) {
      auto n = w.wt().write(*s, bytes(data).subspan(off), true);
      if (!n) break;
      off += *n;
    }
  };
  std::string got;
  bool fin = false;
  p.server.on_event = [&](WtPeer& w, const Event& e) {
    if (e.kind == EventKind::kReadable && e.stream_id == *s) fin = drain(w.wt(), *s, got);
  };
  ASSERT_TRUE(p.run_until([&] { return fin; }));
  EXPECT_EQ(got, data);
  EXPECT_GT(p.client.count(EventKind::kWritable), 10u);  // many WT_MAX_DATA round trips
}

TEST(WebTransport, StreamLimitBlocksThenMaxStreamsReleases) {
  WtOptions o;
  o.server.initial_max_streams_uni = 2;
  WtPair p(o);
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 2; ++i) {
    auto s = p.client.wt().open_stream(*sid, false);
    ASSERT_TRUE(s);
    ASSERT_TRUE(p.client.wt().write(*s, bytes("x"), true));
    ids.push_back(*s);
  }
  auto third = p.client.wt().open_stream(*sid, false);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, webtransport::status::kWouldBlock);
  // The server reads both to the end: their credit returns with WT_MAX_STREAMS.
  p.server.on_event = [](WtPeer& w, const Event& e) {
    std::string sink;
    if (e.kind == EventKind::kReadable) (void)drain(w.wt(), e.stream_id, sink);
  };
  ASSERT_TRUE(p.run_until([&] { return p.client.count(EventKind::kStreamsAvailable) > 0; }));
  EXPECT_TRUE(p.client.wt().open_stream(*sid, false));
}

TEST(WebTransport, StreamResetKeepsItsHeaderAndMapsTheApplicationCode) {
  WtPair p;
  auto sid = p.open_session();
  ASSERT_TRUE(sid);
  // Opened and reset at once: RESET_STREAM_AT keeps the 0x54 + session ID header reliable, so
  // the server still learns which session the reset belongs to (draft §4.4).
  auto s = p.client.wt().open_stream(*sid, false);
  ASSERT_TRUE(s);
  ASSERT_TRUE(p.client.wt().write(*s, bytes("doomed"), false));
  ASSERT_TRUE(p.client.wt().reset_stream(*s, 0xfffffffe));
  ASSERT_TRUE(p.run_until([&] { return p.server.count(EventKind::kStreamReset) == 1; }));
  const Event* r = p.server.find(EventKind::kStreamReset, *s);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->app_error);
  EXPECT_EQ(r->code, 0xfffffffeu);
  EXPECT_EQ(r->session_id, *sid);
  uint8_t buf[16];
  auto rd = p.server.wt().read(*s, buf);
  ASSERT_FALSE(rd);
  EXPECT_EQ(rd.error().code, webtransport::status::kReset);
  EXPECT_EQ(rd.error().frame_type, webtransport::app_error_to_h3(0xfffffffe));
}

}  // namespace
}  // namespace wttest

// Server push (RFC 9114 §4.6) between two Sessions over the simulator, and a misbehaving
// raw server for the rules a correct Session never breaks.
#include <gtest/gtest.h>

#include "h3_fixture.h"

namespace h3test {
namespace {

using h3::Event;
using h3::EventKind;
using h3::Field;
using Fields = std::vector<Field>;
namespace err = h3::err;
using Bytes = std::vector<uint8_t>;

PairOptions push_enabled(uint64_t window = 16) {
  PairOptions o;
  o.client.enable_push = true;
  o.client.max_concurrent_pushes = window;
  return o;
}

// The client sends one GET once the server's SETTINGS are in.
void send_get_when_ready(Pair& p, std::optional<uint64_t>& id, std::string path = "/") {
  p.client.on_tick = [&id, path](Peer& c, Instant) {
    if (id || !c.handshake_done() || !c.session->peer_settings()) return;
    auto r = c.session->send_request(get_request(path));
    ASSERT_TRUE(r);
    id = *r;
  };
}

std::string read_all(h3::Session& s, uint64_t id) {
  std::string out;
  uint8_t buf[1024];
  bool fin = false;
  while (size_t n = s.read_body(id, buf, &fin)) out.append(reinterpret_cast<char*>(buf), n);
  return out;
}

TEST(H3Push, DisabledByDefaultSoTheServerCannotPromise) {
  Pair p;
  std::optional<uint64_t> req;
  send_get_when_ready(p, req);
  std::optional<quic::Error> promise_error;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (e.kind != EventKind::kHeaders) return;
    auto r = s.session->promise_push(e.stream_id, get_request("/style.css"));
    ASSERT_FALSE(r);
    promise_error = r.error();
    ASSERT_TRUE(s.session->send_response(e.stream_id, Fields{{":status", "200"}}));
  };
  ASSERT_TRUE(p.run_until([&] { return p.client.count(EventKind::kFinished) == 1; }));
  EXPECT_EQ(promise_error->code, err::kIdError);
  EXPECT_FALSE(p.client.session->max_push_id_sent());
}

TEST(H3Push, PromiseAndPushedResponseReachTheClient) {
  Pair p(push_enabled());
  std::optional<uint64_t> req;
  send_get_when_ready(p, req);
  std::optional<uint64_t> push_stream;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (e.kind != EventKind::kHeaders) return;
    auto pid = s.session->promise_push(e.stream_id, get_request("/style.css"));
    ASSERT_TRUE(pid);
    EXPECT_EQ(*pid, 0u);
    auto ps = s.session->open_push_stream(*pid);
    ASSERT_TRUE(ps);
    push_stream = *ps;
    EXPECT_EQ(*ps & 3, 3u);  // server-initiated unidirectional
    std::string css = "body{}";
    ASSERT_TRUE(
        s.session->send_response(*ps, Fields{{":status", "200"}}, Bytes(css.begin(), css.end())));
    ASSERT_TRUE(s.session->send_response(e.stream_id, Fields{{":status", "200"}}));
  };
  std::string pushed_body;
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kData || e.kind == EventKind::kFinished) {
      if (c.session->push_id_of(e.stream_id)) pushed_body += read_all(*c.session, e.stream_id);
    }
  };
  ASSERT_TRUE(p.run_until([&] {
    return push_stream && p.client.find(EventKind::kFinished, *push_stream) &&
           p.client.find(EventKind::kFinished, 0);
  }));
  const Event* promise = p.client.find(EventKind::kPushPromise, 0);
  ASSERT_TRUE(promise);
  EXPECT_EQ(promise->code, 0u);
  EXPECT_EQ(promise->fields, get_request("/style.css"));
  const Event* opened = p.client.find(EventKind::kPushOpened, *push_stream);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->code, 0u);
  const Event* head = p.client.find(EventKind::kHeaders, *push_stream);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->fields, (Fields{{":status", "200"}}));
  EXPECT_EQ(pushed_body, "body{}");
  EXPECT_EQ(p.client.peer_close_code(), std::nullopt);
  EXPECT_EQ(p.server.peer_close_code(), std::nullopt);
}

TEST(H3Push, MaxPushIdWindowBoundsPromisesAndSlidesWhenPushesFinish) {
  Pair p(push_enabled(2));
  std::optional<uint64_t> req;
  send_get_when_ready(p, req);
  std::optional<uint64_t> third_error;
  int finished_pushes = 0;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (e.kind != EventKind::kHeaders) return;
    for (uint64_t want = 0; want < 2; ++want) {
      auto pid = s.session->promise_push(e.stream_id, get_request("/" + std::to_string(want)));
      ASSERT_TRUE(pid);
      EXPECT_EQ(*pid, want);
    }
    auto third = s.session->promise_push(e.stream_id, get_request("/2"));
    ASSERT_FALSE(third);
    third_error = third.error().code;
    auto ps = s.session->open_push_stream(0);
    ASSERT_TRUE(ps);
    ASSERT_TRUE(s.session->send_response(*ps, Fields{{":status", "204"}}));
  };
  p.client.on_event = [&](Peer&, const Event& e, Instant) {
    if (e.kind == EventKind::kFinished && (e.stream_id & 2) != 0) ++finished_pushes;
  };
  ASSERT_TRUE(p.run_until([&] { return finished_pushes == 1; }));
  EXPECT_EQ(third_error, err::kIdError);
  // Push 0 is over: the client allows push ID 2 now.
  ASSERT_TRUE(p.run_until([&] { return p.client.session->max_push_id_sent() == 2u; }));
  bool promised = false;
  ASSERT_TRUE(p.run_until([&] {
    if (!promised) promised = p.server.session->promise_push(*req, get_request("/2")).has_value();
    return promised;
  }));
}

TEST(H3Push, WindowIsClampedToKMaxPendingPushes) {
  Pair p(push_enabled(1000));
  ASSERT_TRUE(
      p.run_until([&] { return p.client.session && p.client.session->max_push_id_sent(); }));
  EXPECT_EQ(*p.client.session->max_push_id_sent(), h3::kMaxPendingPushes - 1);
}

TEST(H3Push, ClientCancelsAPromiseBeforeItsStream) {
  Pair p(push_enabled());
  std::optional<uint64_t> req;
  send_get_when_ready(p, req);
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (e.kind != EventKind::kHeaders) return;
    ASSERT_TRUE(s.session->promise_push(e.stream_id, get_request("/a.js")));
    ASSERT_TRUE(s.session->send_response(e.stream_id, Fields{{":status", "200"}}, {}, false));
  };
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kPushPromise) {
      ASSERT_TRUE(c.session->cancel_push(e.code));
    }
  };
  ASSERT_TRUE(p.run_until([&] { return p.server.count(EventKind::kPushCancelled) == 1; }));
  EXPECT_EQ(p.server.events.back().code, 0u);
  // The server can no longer fulfil it.
  EXPECT_FALSE(p.server.session->open_push_stream(0));
  EXPECT_FALSE(p.client.session->cancel_push(0));  // already over
}

TEST(H3Push, ClientCancelsAnOpenPushStreamWithStopSending) {
  Pair p(push_enabled());
  std::optional<uint64_t> req;
  send_get_when_ready(p, req);
  std::optional<uint64_t> push_stream;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (e.kind != EventKind::kHeaders || e.stream_id != 0) return;
    auto pid = s.session->promise_push(e.stream_id, get_request("/big"));
    ASSERT_TRUE(pid);
    push_stream = *s.session->open_push_stream(*pid);
    ASSERT_TRUE(s.session->send_response(*push_stream, Fields{{":status", "200"}}, {}, false));
    Bytes chunk(100000, 0x61);
    ASSERT_TRUE(s.session->send_body(*push_stream, chunk, false));
  };
  p.client.on_event = [&](Peer& c, const Event& e, Instant) {
    if (e.kind == EventKind::kPushOpened) {
      ASSERT_TRUE(c.session->cancel_push(e.code));
    }
  };
  ASSERT_TRUE(p.run_until(
      [&] { return push_stream && p.server.find(EventKind::kStopSending, *push_stream); }));
  EXPECT_EQ(p.server.find(EventKind::kStopSending, *push_stream)->code, err::kRequestCancelled);
  // The push stream's state is gone on both sides and the connection is fine.
  ASSERT_TRUE(p.run_until([&] { return !p.server.session->push_id_of(*push_stream); }));
  EXPECT_FALSE(p.client.session->push_id_of(*push_stream));
  EXPECT_EQ(p.client.peer_close_code(), std::nullopt);
}

TEST(H3Push, ServerCancelsAPromiseItWillNotFulfil) {
  Pair p(push_enabled());
  std::optional<uint64_t> req;
  send_get_when_ready(p, req);
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (e.kind != EventKind::kHeaders) return;
    auto pid = s.session->promise_push(e.stream_id, get_request("/gone"));
    ASSERT_TRUE(pid);
    ASSERT_TRUE(s.session->cancel_push(*pid));
    EXPECT_FALSE(s.session->open_push_stream(*pid));
    ASSERT_TRUE(s.session->send_response(e.stream_id, Fields{{":status", "200"}}));
  };
  ASSERT_TRUE(p.run_until([&] { return p.client.count(EventKind::kPushCancelled) == 1; }));
  EXPECT_TRUE(p.client.find(EventKind::kPushPromise, 0));
}

TEST(H3Push, ServerRefusesMoreThanKMaxPendingPushesEvenIfTheClientAllowsThem) {
  // A raw client allows push IDs up to 1000; the server still holds at most 64 promises.
  Pair p({.client_raw = true});
  bool sent = false;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (sent || !c.handshake_done()) return;
    sent = true;
    Bytes ctl = control_preamble();
    h3::append_max_push_id(ctl, 1000);
    raw_uni(*c.conn, ctl);
    uint64_t id = *c.conn->open_stream(true);
    (void)c.conn->stream_write(id, headers_frame(get_request("/")), false);
  };
  size_t promised = 0;
  std::optional<uint64_t> refused;
  p.server.on_event = [&](Peer& s, const Event& e, Instant) {
    if (e.kind != EventKind::kHeaders) return;
    for (size_t i = 0; i <= h3::kMaxPendingPushes; ++i) {
      auto pid = s.session->promise_push(e.stream_id, get_request("/" + std::to_string(i)));
      if (!pid) {
        refused = pid.error().code;
        break;
      }
      ++promised;
    }
  };
  ASSERT_TRUE(p.run_until([&] { return refused.has_value(); }));
  EXPECT_EQ(promised, h3::kMaxPendingPushes);
  EXPECT_EQ(*refused, err::kExcessiveLoad);
}

// --- a raw server breaking the push rules against a push-enabled client (window 4: IDs 0-3)

std::optional<uint64_t> push_client_closes_with(
    std::function<void(quic::Connection&, uint64_t request, uint64_t control)> misbehave,
    std::vector<h3::Event>* client_events = nullptr) {
  PairOptions o = push_enabled(4);
  o.server_raw = true;
  Pair p(o);
  bool sent = false, done = false;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (!sent && c.handshake_done()) {
      sent = true;
      ASSERT_TRUE(c.session->send_request(get_request("/")));
    }
  };
  p.server.on_tick = [&](Peer& s, Instant) {
    if (done || !s.handshake_done()) return;
    for (const auto& e : s.raw_events) {
      if (e.kind == quic::EventKind::kStreamOpened && (e.stream_id & 3) == 0) {
        done = true;
        uint64_t control = raw_uni(*s.conn, control_preamble());
        misbehave(*s.conn, e.stream_id, control);
        return;
      }
    }
  };
  p.run_until([&] { return p.server.peer_close_code().has_value(); }, std::chrono::seconds(2));
  if (client_events) *client_events = p.client.events;
  return p.server.peer_close_code();
}

Bytes push_promise(uint64_t push_id, const Fields& fields) {
  Bytes hf = headers_frame(fields);  // HEADERS frame: type 0x01, length, section
  Bytes section(hf.begin() + 2, hf.end());
  Bytes out;
  h3::append_push_promise(out, push_id, section);
  return out;
}

Bytes push_stream_header(uint64_t push_id) {
  Bytes b{0x01};
  h3::append_varint(b, push_id);
  return b;
}

TEST(H3PushErrors, PushPromiseBeyondMaxPushIdIsIdError) {
  EXPECT_EQ(push_client_closes_with([](quic::Connection& c, uint64_t req, uint64_t) {
              (void)c.stream_write(req, push_promise(4, get_request("/x")), false);
            }),
            err::kIdError);
}

TEST(H3PushErrors, PushStreamBeyondMaxPushIdIsIdError) {
  EXPECT_EQ(push_client_closes_with(
                [](quic::Connection& c, uint64_t, uint64_t) { raw_uni(c, push_stream_header(4)); }),
            err::kIdError);
}

TEST(H3PushErrors, SecondPushStreamForOnePushIdIsIdError) {
  EXPECT_EQ(push_client_closes_with([](quic::Connection& c, uint64_t, uint64_t) {
              raw_uni(c, push_stream_header(1));
              raw_uni(c, push_stream_header(1));
            }),
            err::kIdError);
}

TEST(H3PushErrors, PushPromiseOnAPushStreamIsFrameUnexpected) {
  EXPECT_EQ(push_client_closes_with([](quic::Connection& c, uint64_t, uint64_t) {
              Bytes b = push_stream_header(0);
              Bytes pp = push_promise(1, get_request("/x"));
              b.insert(b.end(), pp.begin(), pp.end());
              raw_uni(c, b);
            }),
            err::kFrameUnexpected);
}

TEST(H3PushErrors, SamePushIdPromisedForAnotherRequestIsGeneralProtocolError) {
  EXPECT_EQ(push_client_closes_with([](quic::Connection& c, uint64_t req, uint64_t) {
              Bytes b = push_promise(2, get_request("/x"));
              Bytes again = push_promise(2, get_request("/y"));
              b.insert(b.end(), again.begin(), again.end());
              (void)c.stream_write(req, b, false);
            }),
            err::kGeneralProtocolError);
}

TEST(H3PushErrors, CancelPushBeyondMaxPushIdFromServerIsIdError) {
  EXPECT_EQ(push_client_closes_with([](quic::Connection& c, uint64_t, uint64_t control) {
              Bytes b;
              h3::append_cancel_push(b, 4);
              (void)c.stream_write(control, b, false);
            }),
            err::kIdError);
}

TEST(H3PushErrors, SamePromiseOnTwoFramesIsAcceptedAndReportedOnce) {
  std::vector<h3::Event> events;
  EXPECT_EQ(push_client_closes_with(
                [](quic::Connection& c, uint64_t req, uint64_t) {
                  Bytes b = push_promise(3, get_request("/x"));
                  Bytes again = push_promise(3, get_request("/x"));
                  b.insert(b.end(), again.begin(), again.end());
                  (void)c.stream_write(req, b, false);
                },
                &events),
            std::nullopt);
  size_t promises = 0;
  for (const auto& e : events) promises += e.kind == EventKind::kPushPromise;
  EXPECT_EQ(promises, 1u);
}

TEST(H3PushErrors, PromiseOfAnUnsafeMethodResetsTheRequestWithMessageError) {
  std::vector<h3::Event> events;
  Fields post = get_request("/form");
  post[0].value = "POST";
  EXPECT_EQ(push_client_closes_with(
                [post](quic::Connection& c, uint64_t req, uint64_t) {
                  (void)c.stream_write(req, push_promise(0, post), false);
                },
                &events),
            std::nullopt);
  bool reset = false;
  for (const auto& e : events) {
    reset |= e.kind == EventKind::kReset && e.stream_id == 0 && e.code == err::kMessageError;
  }
  EXPECT_TRUE(reset);
}

}  // namespace
}  // namespace h3test

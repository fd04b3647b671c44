// The h3spec-style error cases: a raw QUIC peer writes bytes that break an HTTP/3 rule and the
// test asserts the application error code of the CONNECTION_CLOSE our Session sends back.
#include <gtest/gtest.h>

#include "h3_fixture.h"

namespace h3test {
namespace {

namespace err = h3::err;
using Bytes = std::vector<uint8_t>;

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A raw client misbehaves once the handshake is done; returns the server's close code.
std::optional<uint64_t> server_closes_with(std::function<void(quic::Connection&)> misbehave) {
  Pair p({.client_raw = true});
  bool done = false;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (done || !c.handshake_done()) return;
    done = true;
    misbehave(*c.conn);
  };
  p.run_until([&] { return p.client.peer_close_code().has_value(); });
  if (p.server.session && p.server.session->close_error()) {
    EXPECT_EQ(p.server.session->close_error()->code, p.client.peer_close_code().value_or(0));
  }
  return p.client.peer_close_code();
}

// A raw server misbehaves; a Session client that sent one GET must close with the code.
std::optional<uint64_t> client_closes_with(
    std::function<void(quic::Connection&, std::optional<uint64_t> request)> misbehave) {
  Pair p({.server_raw = true});
  bool sent = false, done = false;
  p.client.on_tick = [&](Peer& c, Instant) {
    if (!sent && c.handshake_done()) {
      sent = true;
      ASSERT_TRUE(c.session->send_request(get_request("/")));
    }
  };
  p.server.on_tick = [&](Peer& s, Instant) {
    if (done || !s.handshake_done()) return;
    std::optional<uint64_t> request;
    for (const auto& e : s.raw_events) {
      if (e.kind == quic::EventKind::kStreamOpened && (e.stream_id & 3) == 0) request = e.stream_id;
    }
    done = true;
    misbehave(*s.conn, request);
  };
  p.run_until([&] { return p.server.peer_close_code().has_value(); });
  return p.server.peer_close_code();
}

TEST(H3Errors, ControlStreamNotStartingWithSettingsIsMissingSettings) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, {0x00, 0x07, 0x01, 0x00});
            }),
            err::kMissingSettings);
}

TEST(H3Errors, SecondControlStreamIsStreamCreationError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, control_preamble());
              raw_uni(c, control_preamble());
            }),
            err::kStreamCreationError);
}

TEST(H3Errors, SecondQpackEncoderStreamIsStreamCreationError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, {0x02});
              raw_uni(c, {0x02});
            }),
            err::kStreamCreationError);
}

TEST(H3Errors, ClosedControlStreamIsClosedCriticalStream) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) { raw_uni(c, control_preamble(), true); }),
            err::kClosedCriticalStream);
}

TEST(H3Errors, ResetControlStreamIsClosedCriticalStream) {
  // The reset goes out a round trip after the stream's bytes, so the server knows its type.
  Pair p({.client_raw = true});
  std::optional<uint64_t> id;
  Instant opened{};
  bool reset = false;
  p.client.on_tick = [&](Peer& c, Instant now) {
    if (!c.handshake_done()) return;
    if (!id) {
      id = raw_uni(*c.conn, control_preamble());
      opened = now;
    } else if (!reset && now - opened > std::chrono::milliseconds(100)) {
      reset = true;
      ASSERT_TRUE(c.conn->stream_reset(*id, err::kNoError));
    }
  };
  ASSERT_TRUE(p.run_until([&] { return p.client.peer_close_code().has_value(); }));
  EXPECT_EQ(p.client.peer_close_code(), err::kClosedCriticalStream);
}

TEST(H3Errors, ClosedQpackDecoderStreamIsClosedCriticalStream) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, control_preamble());
              raw_uni(c, {0x03}, true);
            }),
            err::kClosedCriticalStream);
}

TEST(H3Errors, SecondSettingsIsFrameUnexpected) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              Bytes b = control_preamble();
              h3::append_settings(b, {});
              raw_uni(c, b);
            }),
            err::kFrameUnexpected);
}

TEST(H3Errors, DataOnControlStreamIsFrameUnexpected) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, cat(control_preamble(), {0x00, 0x01, 0x61}));
            }),
            err::kFrameUnexpected);
}

TEST(H3Errors, HeadersOnControlStreamIsFrameUnexpected) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, cat(control_preamble(), headers_frame(get_request("/"))));
            }),
            err::kFrameUnexpected);
}

TEST(H3Errors, Http2FrameTypeIsFrameUnexpected) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, cat(control_preamble(), {0x06, 0x00}));  // PING
            }),
            err::kFrameUnexpected);
}

TEST(H3Errors, Http2SettingIsSettingsError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, {0x00, 0x04, 0x02, 0x02, 0x00});
            }),
            err::kSettingsError);
}

TEST(H3Errors, DuplicateSettingIsSettingsError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, {0x00, 0x04, 0x04, 0x06, 0x01, 0x06, 0x01});
            }),
            err::kSettingsError);
}

TEST(H3Errors, DataBeforeHeadersIsFrameUnexpected) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, control_preamble());
              uint64_t id = *c.open_stream(true);
              (void)c.stream_write(id, Bytes{0x00, 0x01, 0x61}, true);
            }),
            err::kFrameUnexpected);
}

TEST(H3Errors, CancelPushOnRequestStreamIsFrameUnexpected) {
  EXPECT_EQ(
      server_closes_with([](quic::Connection& c) {
        raw_uni(c, control_preamble());
        uint64_t id = *c.open_stream(true);
        (void)c.stream_write(id, cat(headers_frame(get_request("/")), {0x03, 0x01, 0x00}), true);
      }),
      err::kFrameUnexpected);
}

TEST(H3Errors, FrameTruncatedByFinIsFrameError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, control_preamble());
              uint64_t id = *c.open_stream(true);
              (void)c.stream_write(id, Bytes{0x01, 0x05, 0xaa}, true);
            }),
            err::kFrameError);
}

TEST(H3Errors, PushStreamFromClientIsStreamCreationError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, control_preamble());
              raw_uni(c, {0x01, 0x00});
            }),
            err::kStreamCreationError);
}

TEST(H3Errors, CancelPushBeyondMaxPushIdIsIdError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, cat(control_preamble(), {0x03, 0x01, 0x00}));
            }),
            err::kIdError);
}

TEST(H3Errors, ClientGoawayIdIncreaseIsIdError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, cat(control_preamble(), {0x07, 0x01, 0x00, 0x07, 0x01, 0x04}));
            }),
            err::kIdError);
}

TEST(H3Errors, PriorityUpdateForNonRequestStreamIsIdError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              Bytes b = control_preamble();
              h3::append_priority_update(b, h3::frame::kPriorityUpdateRequest, 2, "u=1");
              raw_uni(c, b);
            }),
            err::kIdError);
}

// RFC 9218 §7.1: PRIORITY_UPDATE belongs on the control stream.
TEST(H3Errors, PriorityUpdateOnRequestStreamIsFrameUnexpected) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, control_preamble());
              uint64_t id = *c.open_stream(true);
              Bytes b = headers_frame(get_request("/"));
              h3::append_priority_update(b, h3::frame::kPriorityUpdateRequest, id, "u=1");
              (void)c.stream_write(id, b, true);
            }),
            err::kFrameUnexpected);
}

// RFC 9218 §7.2: a push ID beyond the client's MAX_PUSH_ID is H3_ID_ERROR.
TEST(H3Errors, PushPriorityUpdateBeyondMaxPushIdIsIdError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              Bytes b = control_preamble();
              h3::append_max_push_id(b, 2);
              h3::append_priority_update(b, h3::frame::kPriorityUpdatePush, 2, "u=1");
              h3::append_priority_update(b, h3::frame::kPriorityUpdatePush, 3, "u=1");
              raw_uni(c, b);
            }),
            err::kIdError);
}

TEST(H3Errors, PushPriorityUpdateWithoutMaxPushIdIsIdError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              Bytes b = control_preamble();
              h3::append_priority_update(b, h3::frame::kPriorityUpdatePush, 0, "u=1");
              raw_uni(c, b);
            }),
            err::kIdError);
}

TEST(H3Errors, MaxPushIdDecreaseIsIdError) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              Bytes b = control_preamble();
              h3::append_max_push_id(b, 5);
              h3::append_max_push_id(b, 4);
              raw_uni(c, b);
            }),
            err::kIdError);
}

TEST(H3Errors, OversizedSettingsFrameIsExcessiveLoad) {
  EXPECT_EQ(server_closes_with([](quic::Connection& c) {
              raw_uni(c, {0x00, 0x04, 0x80, 0x01, 0x00, 0x00});  // SETTINGS of 64 KiB
            }),
            err::kExcessiveLoad);
}

// --- a misbehaving server

TEST(H3Errors, PushStreamWithoutMaxPushIdIsIdError) {
  EXPECT_EQ(client_closes_with([](quic::Connection& c, std::optional<uint64_t>) {
              raw_uni(c, control_preamble());
              raw_uni(c, {0x01, 0x00});
            }),
            err::kIdError);
}

TEST(H3Errors, PushPromiseOnResponseIsIdError) {
  EXPECT_EQ(client_closes_with([](quic::Connection& c, std::optional<uint64_t> req) {
              raw_uni(c, control_preamble());
              ASSERT_TRUE(req);
              (void)c.stream_write(*req, Bytes{0x05, 0x03, 0x00, 0x00, 0x00}, false);
            }),
            err::kIdError);
}

TEST(H3Errors, ServerInitiatedBidiStreamIsStreamCreationError) {
  EXPECT_EQ(client_closes_with([](quic::Connection& c, std::optional<uint64_t>) {
              raw_uni(c, control_preamble());
              uint64_t id = *c.open_stream(true);
              (void)c.stream_write(id, Bytes{0x01, 0x00}, false);
            }),
            err::kStreamCreationError);
}

TEST(H3Errors, GoawayWithNonRequestIdIsIdError) {
  EXPECT_EQ(client_closes_with([](quic::Connection& c, std::optional<uint64_t>) {
              raw_uni(c, cat(control_preamble(), {0x07, 0x01, 0x01}));
            }),
            err::kIdError);
}

TEST(H3Errors, MaxPushIdFromServerIsFrameUnexpected) {
  EXPECT_EQ(client_closes_with([](quic::Connection& c, std::optional<uint64_t>) {
              raw_uni(c, cat(control_preamble(), {0x0d, 0x01, 0x00}));
            }),
            err::kFrameUnexpected);
}

TEST(H3Errors, PriorityUpdateFromServerIsFrameUnexpected) {
  EXPECT_EQ(client_closes_with([](quic::Connection& c, std::optional<uint64_t>) {
              Bytes b = control_preamble();
              h3::append_priority_update(b, h3::frame::kPriorityUpdateRequest, 0, "u=1");
              raw_uni(c, b);
            }),
            err::kFrameUnexpected);
}

TEST(H3Errors, DataBeforeResponseHeadersIsFrameUnexpected) {
  EXPECT_EQ(client_closes_with([](quic::Connection& c, std::optional<uint64_t> req) {
              raw_uni(c, control_preamble());
              ASSERT_TRUE(req);
              (void)c.stream_write(*req, Bytes{0x00, 0x01, 0x61}, true);
            }),
            err::kFrameUnexpected);
}

}  // namespace
}  // namespace h3test

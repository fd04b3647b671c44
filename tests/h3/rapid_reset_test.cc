// HTTP/3 rapid reset (CVE-2023-44487 style, RFC 9114 §10.5): a client that opens and cancels
// requests as fast as stream credit allows is closed with H3_EXCESSIVE_LOAD once it cancelled
// more than SessionConfig::max_early_cancels requests inside early_cancel_window, with the
// server's memory bounded; a client that cancels some of its requests is left alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <set>

#include "core/hostile_fixture.h"
#include "h3_fixture.h"

namespace h3test {
namespace {

using quic::hostile::live_heap_bytes;

constexpr size_t kFloodRequests = 10000;

enum class Variant {
  kHeadersThenCancel,   // HEADERS, RESET_STREAM and STOP_SENDING at once
  kResetOnly,           // HEADERS and RESET_STREAM, no STOP_SENDING
  kPartialHeaders,      // half a HEADERS frame, then the cancel
  kPartialBody,         // HEADERS and part of a body, then the cancel
  kCancelLater,         // HEADERS and part of a body; the cancel once a response head came
};

std::vector<uint8_t> request_bytes(Variant v) {
  std::vector<uint8_t> b = headers_frame(get_request("/flood"));
  switch (v) {
    case Variant::kPartialHeaders:
      b.resize(b.size() / 2);
      break;
    case Variant::kPartialBody:
    case Variant::kCancelLater:
      h3::append_data(b, std::vector<uint8_t>(100, 'x'));
      b.resize(b.size() - 40);  // the DATA frame announces more than arrives
      break;
    default:
      break;
  }
  return b;
}

struct FloodResult {
  size_t attempted = 0;
  int64_t peak_growth = 0;
};

// A raw client that opens a request, cancels it at once and repeats while stream credit lasts,
// draining its side of every stream so credit keeps coming back.
FloodResult run_flood(Pair& p, Variant v) {
  FloodResult res;
  const std::vector<uint8_t> req = request_bytes(v);
  bool preamble = false;
  int64_t base = 0;
  std::set<uint64_t> later;  // kCancelLater: cancelled when the response head arrives
  // The server starts every response (its head, no end): it did work for each request.
  p.server.on_event = [](Peer& s, const h3::Event& e, Instant) {
    if (e.kind != h3::EventKind::kHeaders) return;
    std::vector<h3::Field> head{{":status", "200"}};
    (void)s.session->send_response(e.stream_id, head, {}, false);
  };
  p.client.on_tick = [&](Peer& c, Instant) {
    if (!c.handshake_done() || c.conn->is_closed()) return;
    if (!preamble) {
      preamble = true;
      raw_uni(*c.conn, control_preamble());
      base = live_heap_bytes();
    }
    auto cancel = [&](uint64_t id) {
      (void)c.conn->stream_reset(id, h3::err::kRequestCancelled);
      if (v != Variant::kResetOnly) {
        (void)c.conn->stream_stop_sending(id, h3::err::kRequestCancelled);
      }
    };
    std::vector<uint8_t> sink(4096);
    for (const quic::Event& e : c.raw_events) {
      if (e.kind != quic::EventKind::kStreamReset && e.kind != quic::EventKind::kStreamReadable)
        continue;
      if (later.erase(e.stream_id) != 0) cancel(e.stream_id);
      bool fin = false;
      for (int i = 0; i < 8; ++i) {
        auto n = c.conn->stream_read(e.stream_id, sink, &fin);
        if (!n || *n == 0 || fin) break;
      }
    }
    c.raw_events.clear();
    while (res.attempted < kFloodRequests) {
      auto id = c.conn->open_stream(true);
      if (!id) break;
      ++res.attempted;
      (void)c.conn->stream_write(*id, req, false);
      if (v == Variant::kCancelLater) {
        later.insert(*id);
      } else {
        cancel(*id);
      }
    }
    res.peak_growth = std::max(res.peak_growth, live_heap_bytes() - base);
  };
  p.run_until([&] { return p.client.conn != nullptr && p.client.conn->is_closed(); },
              std::chrono::seconds(30));
  return res;
}

class RapidReset : public ::testing::TestWithParam<Variant> {};

TEST_P(RapidReset, FloodIsClosedWithExcessiveLoadAfterABoundedNumber) {
  PairOptions o;
  o.client_raw = true;
  Pair p(o);
  FloodResult r = run_flood(p, GetParam());
  const size_t limit = h3::kDefaultMaxEarlyCancels;
  const size_t credit = quic::ConnectionConfig{}.max_streams_bidi;  // requests open at once
  ASSERT_NE(p.client.conn, nullptr);
  EXPECT_EQ(p.client.peer_close_code(), h3::err::kExcessiveLoad);
  ASSERT_NE(p.server.session, nullptr);
  EXPECT_TRUE(p.server.session->is_closed());
  // Closed long before the flood ends: the limit, plus the requests open (at most one window
  // of stream credit) and those in flight when it was crossed.
  EXPECT_LE(r.attempted, limit + 2 * credit);
  EXPECT_LE(p.server.count(h3::EventKind::kHeaders), limit + credit);
  EXPECT_GT(p.server.session->stats().requests_cancelled_early, limit);
  EXPECT_LT(r.peak_growth, 1 << 20) << "heap growth during the flood " << r.peak_growth;
}

INSTANTIATE_TEST_SUITE_P(Variants, RapidReset,
                         ::testing::Values(Variant::kHeadersThenCancel, Variant::kResetOnly,
                                           Variant::kPartialHeaders, Variant::kPartialBody,
                                           Variant::kCancelLater));

// Below the limit, a cancelled request gives its stream (and the peer its credit) back: a
// client that never crosses the limit can run any number of open+cancel cycles slowly, and the
// server holds no state for them.
TEST(RapidReset, CancelledRequestsLeaveNoState) {
  PairOptions o;
  o.client_raw = true;
  o.server.max_early_cancels = 1000000;  // never trips: measures the per-request state
  Pair p(o);
  int64_t base = 0;
  bool preamble = false;
  size_t attempted = 0;
  const std::vector<uint8_t> req = request_bytes(Variant::kResetOnly);
  p.client.on_tick = [&](Peer& c, Instant) {
    if (!c.handshake_done()) return;
    if (!preamble) {
      preamble = true;
      raw_uni(*c.conn, control_preamble());
    }
    std::vector<uint8_t> sink(4096);
    for (const quic::Event& e : c.raw_events) {
      bool fin = false;
      if (e.kind == quic::EventKind::kStreamReset) (void)c.conn->stream_read(e.stream_id, sink, &fin);
    }
    c.raw_events.clear();
    while (attempted < 2000) {
      auto id = c.conn->open_stream(true);
      if (!id) break;
      if (++attempted == 200) base = live_heap_bytes();
      (void)c.conn->stream_write(*id, req, false);
      (void)c.conn->stream_reset(*id, h3::err::kRequestCancelled);
    }
  };
  ASSERT_TRUE(p.run_until([&] { return attempted >= 2000; }, std::chrono::seconds(30)))
      << "stream credit stopped coming back after " << attempted << " requests";
  p.run_until([] { return false; }, std::chrono::seconds(1));
  EXPECT_FALSE(p.server.session->is_closed());
  EXPECT_EQ(p.server.session->active_requests(), 0u);
  EXPECT_EQ(p.server.session->stats().requests_cancelled_early, 2000u);
  // 1,800 more cycles after the baseline: far less than a request's worth of state each.
  EXPECT_LT(live_heap_bytes() - base, 256 * 1024);
}

// Normal browsing: 1,000 requests, every tenth cancelled before its response; the rest are
// answered. The server must not close the connection.
TEST(RapidReset, ClientCancellingTenPercentIsNotClosed) {
  Pair p;
  constexpr size_t kRequests = 1000;
  size_t sent = 0, cancelled = 0;
  p.server.on_event = [](Peer& s, const h3::Event& e, Instant) {
    if (e.kind != h3::EventKind::kHeaders) return;
    std::vector<h3::Field> head{{":status", "200"}};
    (void)s.session->send_response(e.stream_id, head, bytes_of("hello"), true);
  };
  p.client.on_event = [](Peer& c, const h3::Event& e, Instant) {
    if (e.kind != h3::EventKind::kData && e.kind != h3::EventKind::kFinished) return;
    std::array<uint8_t, 64> sink;
    bool fin = false;
    while (c.session->read_body(e.stream_id, sink, &fin) > 0) {
    }
  };
  p.client.on_tick = [&](Peer& c, Instant) {
    if (!c.session || !c.handshake_done() || c.session->is_closed()) return;
    while (sent < kRequests && c.session->active_requests() < 50) {
      auto id = c.session->send_request(get_request("/r" + std::to_string(sent)));
      if (!id) break;
      if (++sent % 10 == 0) {
        ASSERT_TRUE(c.session->cancel(*id, h3::err::kRequestCancelled));
        ++cancelled;
      }
    }
  };
  ASSERT_TRUE(p.run_until([&] {
    return sent == kRequests && p.client.session->active_requests() == 0;
  }));
  EXPECT_EQ(cancelled, kRequests / 10);
  EXPECT_FALSE(p.server.session->is_closed());
  EXPECT_FALSE(p.client.session->is_closed());
  EXPECT_EQ(p.client.count(h3::EventKind::kFinished), kRequests - cancelled);
  EXPECT_LE(p.server.session->stats().requests_cancelled_early, cancelled);
}

}  // namespace
}  // namespace h3test

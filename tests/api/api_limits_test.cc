// The facade's own bounds (src/api/core.h): stream records of freed streams are swept, and
// level-triggered events are queued once per stream however often the core reports them.
#include <gtest/gtest.h>

#include "api/core.h"
#include "api_pair.h"

namespace apitest {
namespace {

using tquic::Errc;
using tquic::EventKind;

TEST(ApiLimits, StreamRecordsOfFreedStreamsAreSwept) {
  // The client resets far more streams than kStreamRecordSweep; the server keeps a record
  // (the reset code) only while it may still be asked for it.
  constexpr size_t kStreams = 6 * tquic::detail::kStreamRecordSweep;
  PairOptions o;
  o.server.connection.max_streams_uni = 100;
  Pair p(o);
  ASSERT_TRUE(p.handshake());
  size_t opened = 0;
  std::vector<uint64_t> ids;
  ASSERT_TRUE(p.run_until([&] {
    while (opened < kStreams) {
      auto id = p.client.open_stream(false);
      if (!id) {
        EXPECT_EQ(id.error().code, Errc::would_block);
        break;  // the server's limit: more once it frees streams (streams_available)
      }
      EXPECT_TRUE(p.client.stream_write(*id, pattern(10)).has_value());
      EXPECT_TRUE(p.client.stream_reset(*id, 1000 + *id).has_value());
      ids.push_back(*id);
      ++opened;
    }
    (void)drain_events(*p.server);
    (void)drain_events(p.client);
    return opened == kStreams;
  }, 60s));
  p.run_for(1s);
  (void)drain_events(*p.server);
  auto& core = tquic::detail::EndpointCore::of(p.server_ep);
  size_t records = core.state(p.server->id()).records.size();
  EXPECT_LT(records, 2 * tquic::detail::kStreamRecordSweep);
  // Whatever was swept, no stream answers would_block or unknown: it is reset or finished.
  uint8_t buf[16];
  size_t reset_codes = 0;
  for (uint64_t id : ids) {
    auto r = p.server->stream_read(id, buf);
    ASSERT_FALSE(r.has_value());
    ASSERT_TRUE(r.error().code == Errc::stream_reset || r.error().code == Errc::finished)
        << tquic::to_string(r.error());
    if (r.error().code == Errc::stream_reset) {
      EXPECT_EQ(r.error().app_code, 1000 + id);
      ++reset_codes;
    }
  }
  EXPECT_EQ(reset_codes, records);  // every remaining record still answers with its code
}

TEST(ApiLimits, LevelTriggeredEventsQueueOncePerStream) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  auto id = p.client.open_stream(true);
  ASSERT_TRUE(id.has_value());
  // Many separate writes, each its own packet round. The server never polls events, but its
  // stream calls move the core's events into the facade's queue each time (the core reports
  // the stream readable again after every arrival).
  uint8_t buf[1];
  for (int i = 0; i < 50; ++i) {
    auto w = p.client.stream_write(*id, pattern(100));
    ASSERT_TRUE(w.has_value()) << i << ": " << tquic::to_string(w.error());
    p.run_for(30ms);
    EXPECT_EQ(p.server->stream_write(*id + 4, buf).error().code, Errc::unknown_stream);
  }
  // One readable event, not fifty.
  auto events = drain_events(*p.server);
  size_t readable = 0;
  for (const auto& e : events) readable += e.kind == EventKind::stream_readable;
  EXPECT_EQ(readable, 1u);
  EXPECT_TRUE(has_event(events, EventKind::stream_opened, *id));
}

}  // namespace
}  // namespace apitest

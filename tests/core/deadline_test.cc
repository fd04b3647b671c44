// Deadline API of the connection (docs/multipath.md "Deadline scheduler"): stream deadlines
// (set, read back, clear, bounded by kMaxDeadlineStreams) and DATAGRAMs dropped once their
// deadline passed in the send queue. The path choice itself is tested in
// tests/mp/scheduler_test.cc and tests/harness/deadline_scenarios_test.cc.
#include <gtest/gtest.h>

#include "hostile_fixture.h"

namespace quic {
namespace {

using namespace std::chrono_literals;
using hostile::Pair;
using hostile::PairOptions;

PairOptions datagram_options() {
  PairOptions o = hostile::with_datagrams();
  o.server.max_streams_bidi = 1000;
  return o;
}

TEST(StreamDeadline, SetReadBackAndClear) {
  Pair p(datagram_options());
  ASSERT_TRUE(p.handshake());
  Connection& c = p.client();
  auto id = c.open_stream(true);
  ASSERT_TRUE(id);
  EXPECT_FALSE(c.stream_deadline(*id).has_value());
  Instant at = p.now() + 150ms;
  ASSERT_TRUE(c.set_stream_deadline(*id, at));
  EXPECT_EQ(c.stream_deadline(*id), at);
  ASSERT_TRUE(c.set_stream_deadline(*id, std::nullopt));
  EXPECT_FALSE(c.stream_deadline(*id).has_value());
  // No such stream (never opened).
  EXPECT_FALSE(c.set_stream_deadline(*id + 400, at));
  // The data of a stream with a deadline still arrives (one path: nothing to choose).
  ASSERT_TRUE(c.set_stream_deadline(*id, at));
  std::vector<uint8_t> data(3000, 7);
  ASSERT_EQ(c.stream_write(*id, data, true).value_or(0), data.size());
  p.run();
  std::vector<uint8_t> out(4000);
  bool fin = false;
  auto n = p.server()->stream_read(*id, out, &fin);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, data.size());
  EXPECT_TRUE(fin);
}

TEST(StreamDeadline, AtMostKMaxDeadlineStreamsAtOnce) {
  Pair p(datagram_options());
  ASSERT_TRUE(p.handshake());
  Connection& c = p.client();
  std::vector<uint64_t> ids;
  for (size_t i = 0; i <= kMaxDeadlineStreams; ++i) {
    auto id = c.open_stream(true);
    ASSERT_TRUE(id) << i;
    ids.push_back(*id);
  }
  Instant at = p.now() + 1s;
  for (size_t i = 0; i < kMaxDeadlineStreams; ++i) ASSERT_TRUE(c.set_stream_deadline(ids[i], at));
  EXPECT_FALSE(c.set_stream_deadline(ids.back(), at));  // one past the limit
  EXPECT_TRUE(c.set_stream_deadline(ids[0], at + 1s));  // moving an existing one is fine
  ASSERT_TRUE(c.set_stream_deadline(ids[0], std::nullopt));
  EXPECT_TRUE(c.set_stream_deadline(ids.back(), at));  // room again
}

TEST(DatagramDeadline, ExpiredInTheQueueIsDroppedAndCounted) {
  Pair p(datagram_options());
  ASSERT_TRUE(p.handshake());
  Connection& c = p.client();
  std::vector<uint8_t> late(100, 1), fresh(100, 2), plain(100, 3);
  ASSERT_TRUE(c.send_datagram(late, p.now() + 10ms));
  ASSERT_TRUE(c.send_datagram(fresh, p.now() + 1s));
  ASSERT_TRUE(c.send_datagram(plain));  // no deadline: never expires
  p.advance(20ms);                       // the first one's deadline passes before it is sent
  p.run();
  EXPECT_EQ(c.stats().datagrams_expired, 1u);
  auto a = p.server()->recv_datagram();
  auto b = p.server()->recv_datagram();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, fresh);
  EXPECT_EQ(*b, plain);
  EXPECT_FALSE(p.server()->recv_datagram());
}

TEST(DatagramDeadline, DueNowIsAlreadyTooLate) {
  Pair p(datagram_options());
  ASSERT_TRUE(p.handshake());
  Connection& c = p.client();
  ASSERT_TRUE(c.send_datagram(std::vector<uint8_t>(10, 1), p.now()));
  p.run();
  EXPECT_EQ(c.stats().datagrams_expired, 1u);
  EXPECT_FALSE(p.server()->recv_datagram());
}

}  // namespace
}  // namespace quic

// DATAGRAM API of the connection (docs/datagrams.md) on the in-memory pair: queues bounded in
// bytes, would-block and kDatagramsWritable, the receive bound (peer input), reads into the
// caller's buffer, the payload-limit event, and no allocation per datagram in steady state.
// Multipath behaviour (re-sending after a path failure, MTU changes) is in
// tests/harness/datagram_scenarios_test.cc.
#include <gtest/gtest.h>

#include <array>
#include <set>

#include "hostile_fixture.h"

namespace quic {
namespace {

using namespace std::chrono_literals;
using hostile::Pair;
using hostile::PairOptions;

PairOptions datagram_options() { return hostile::with_datagrams(); }

std::vector<uint8_t> numbered(uint32_t n, size_t len) {
  std::vector<uint8_t> d(len, static_cast<uint8_t>(n * 7));
  for (size_t i = 0; i < 4 && i < len; ++i) d[i] = static_cast<uint8_t>(n >> (24 - 8 * i));
  return d;
}

uint32_t number_of(Bytes d) {
  return static_cast<uint32_t>(d[0]) << 24 | static_cast<uint32_t>(d[1]) << 16 |
         static_cast<uint32_t>(d[2]) << 8 | d[3];
}

size_t count_events(Connection& c, EventKind kind) {
  size_t n = 0;
  while (auto e = c.poll_event()) n += e->kind == kind;
  return n;
}

TEST(DatagramQueues, FullSendQueueRefusesThenSaysWritableOnceDrained) {
  PairOptions o = datagram_options();
  o.client.datagram_send_buffer = 10 * 1000;
  Pair p(o);
  ASSERT_TRUE(p.handshake());
  Connection& c = p.client();
  (void)count_events(c, EventKind::kDatagramsWritable);
  uint32_t queued = 0;
  Status st;
  while ((st = c.send_datagram(numbered(queued, 1000)))) ++queued;
  EXPECT_EQ(queued, 10u);  // 10 x 1000 bytes: the bound, not an entry count
  ASSERT_FALSE(st);
  EXPECT_TRUE(would_block(st.error()));
  EXPECT_EQ(c.stats().datagrams_refused, 1u);
  EXPECT_EQ(c.datagram_send_queue_bytes(), 10'000u);
  EXPECT_EQ(count_events(c, EventKind::kDatagramsWritable), 0u);  // nothing drained yet
  p.run();
  EXPECT_EQ(c.datagram_send_queue_bytes(), 0u);
  EXPECT_EQ(count_events(c, EventKind::kDatagramsWritable), 1u);
  EXPECT_EQ(count_events(c, EventKind::kDatagramsWritable), 0u);  // once per refusal
  // Nothing older was dropped to make room: all ten arrive, in order.
  std::vector<uint8_t> buf(2000);
  for (uint32_t i = 0; i < queued; ++i) {
    auto n = p.server()->recv_datagram(buf);
    ASSERT_TRUE(n) << i;
    EXPECT_EQ(number_of(Bytes(buf.data(), *n)), i);
  }
  EXPECT_TRUE(c.send_datagram(numbered(99, 1000)));
}

// kDatagramsWritable comes only once the queue is at or below the low-water mark.
TEST(DatagramQueues, WritableEventWaitsForTheLowWaterMark) {
  PairOptions o = datagram_options();
  o.client.datagram_send_buffer = 100 * 1000;
  o.client.datagram_send_low_water = 20 * 1000;
  Pair p(o);
  ASSERT_TRUE(p.handshake());
  Connection& c = p.client();
  (void)count_events(c, EventKind::kDatagramsWritable);
  uint32_t n = 0;
  while (c.send_datagram(numbered(n, 1000))) ++n;
  ASSERT_EQ(n, 100u);
  size_t events = 0;
  std::set<Instant> flights;  // the instants the client sent DATAGRAMs at
  p.pair().intercept = [&](test::Dir dir, sim::Datagram& d, Instant now) {
    if (dir == test::Dir::kToServer && d.payload.size() > 1000) flights.insert(now);
    return test::Verdict::kPass;
  };
  // After every step (one flight leaving, an ACK arriving), the event and the mark agree.
  ASSERT_TRUE(p.pair().drive_until(
      [&] {
        size_t e = count_events(c, EventKind::kDatagramsWritable);
        if (e > 0) {
          EXPECT_LE(c.datagram_send_queue_bytes(), 20u * 1000) << p.pair().steps();
        } else if (c.datagram_send_queue_bytes() <= 20u * 1000) {
          EXPECT_EQ(events, 1u) << p.pair().steps();  // at or below the mark: raised by now
        }
        events += e;
        return c.datagram_send_queue_bytes() == 0;
      },
      test::Limits{10'000, 10s}));
  EXPECT_GT(flights.size(), 2u);  // drained over several flights, so the mark was really waited for
  EXPECT_EQ(events, 1u);
}

// The receive queue is bounded in bytes: what arrives beyond it is dropped and counted, so a
// peer (or an application that stopped reading) cannot grow it.
TEST(DatagramQueues, FullReceiveQueueDropsAndCounts) {
  PairOptions o = datagram_options();
  o.server.datagram_recv_buffer = 5 * 1000;
  Pair p(o);
  ASSERT_TRUE(p.handshake());
  for (uint32_t i = 0; i < 12; ++i) ASSERT_TRUE(p.client().send_datagram(numbered(i, 1000)));
  p.run();
  Connection& s = *p.server();
  EXPECT_EQ(s.stats().datagrams_received, 5u);
  EXPECT_EQ(s.stats().datagrams_recv_dropped, 7u);
  std::vector<uint8_t> buf(1500);
  for (uint32_t i = 0; i < 5; ++i) {
    auto n = s.recv_datagram(buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(number_of(Bytes(buf.data(), *n)), i);  // the first ones are kept
  }
  auto none = s.recv_datagram(buf);
  ASSERT_FALSE(none);
  EXPECT_TRUE(would_block(none.error()));
}

TEST(DatagramQueues, ReadsIntoTheCallersBuffer) {
  Pair p(datagram_options());
  ASSERT_TRUE(p.handshake());
  ASSERT_TRUE(p.client().send_datagram(numbered(5, 300)));
  ASSERT_TRUE(p.client().send_datagram(Bytes()));  // empty datagrams exist (RFC 9221 §4)
  p.run();
  Connection& s = *p.server();
  EXPECT_EQ(count_events(s, EventKind::kDatagramReceived), 1u);  // edge-triggered
  EXPECT_EQ(s.next_datagram_size(), 300u);
  std::vector<uint8_t> small(100), buf(300);
  auto n = s.recv_datagram(small);
  ASSERT_FALSE(n);  // too small: the datagram stays queued
  EXPECT_FALSE(would_block(n.error()));
  n = s.recv_datagram(buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 300u);
  EXPECT_EQ(buf, numbered(5, 300));
  n = s.recv_datagram(buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_FALSE(s.next_datagram_size());
}

// peek_datagram shows the oldest datagram in place until pop_datagram takes it; a datagram
// sent in parts arrives joined.
TEST(DatagramQueues, PeekAndPopInPlace) {
  Pair p(datagram_options());
  ASSERT_TRUE(p.handshake());
  const std::vector<uint8_t> head = {1, 2, 3}, body = numbered(7, 500);
  const std::array<Bytes, 2> parts = {Bytes(head), Bytes(body)};
  ASSERT_TRUE(p.client().send_datagram(parts));
  ASSERT_TRUE(p.client().send_datagram(numbered(8, 200)));
  // Parts past the largest payload are refused as one datagram would be.
  const std::vector<uint8_t> big(p.client().max_datagram_payload());
  const std::array<Bytes, 2> too_big = {Bytes(head), Bytes(big)};
  EXPECT_FALSE(p.client().send_datagram(too_big));
  p.run();
  Connection& s = *p.server();
  auto d = s.peek_datagram();
  ASSERT_TRUE(d);
  std::vector<uint8_t> want = head;
  want.insert(want.end(), body.begin(), body.end());
  EXPECT_EQ(std::vector<uint8_t>(d->begin(), d->end()), want);
  EXPECT_EQ(s.peek_datagram()->data(), d->data());  // the same bytes, not a copy
  s.pop_datagram();
  d = s.peek_datagram();
  ASSERT_TRUE(d);
  EXPECT_EQ(number_of(*d), 8u);
  s.pop_datagram();
  EXPECT_FALSE(s.peek_datagram());
  s.pop_datagram();  // nothing queued: no effect
  EXPECT_FALSE(s.next_datagram_size());
}

// 2,000 datagrams queued at once (the queue once held 64) all arrive, intact and in order.
TEST(DatagramQueues, BurstOfTwoThousandArrivesWhole) {
  Pair p(datagram_options());
  ASSERT_TRUE(p.handshake());
  for (uint32_t i = 0; i < 2000; ++i) ASSERT_TRUE(p.client().send_datagram(numbered(i, 1000)));
  std::vector<uint8_t> buf(1500);
  uint32_t next = 0;
  for (int round = 0; round < 100 && next < 2000; ++round) {
    p.run();
    while (auto n = p.server()->recv_datagram(buf)) {
      ASSERT_EQ(*n, 1000u);
      ASSERT_EQ(Bytes(buf.data(), *n)[999], numbered(next, 1000)[999]);
      ASSERT_EQ(number_of(Bytes(buf.data(), *n)), next++);
    }
  }
  EXPECT_EQ(next, 2000u);
  EXPECT_EQ(p.client().stats().datagrams_sent, 2000u);
  EXPECT_EQ(p.client().stats().datagrams_refused, 0u);
}

// send_datagram and recv_datagram allocate nothing once the rings have grown: the payload is
// copied into the queue's ring and out into the caller's buffer.
TEST(DatagramQueues, NoAllocationPerDatagramInSteadyState) {
  Pair p(datagram_options());
  ASSERT_TRUE(p.handshake());
  Connection& c = p.client();
  std::vector<uint8_t> buf(1500);
  uint64_t send_allocs = 0, recv_allocs = 0;
  uint32_t received = 0;
  for (int round = 0; round < 20; ++round) {
    uint64_t a = hostile::heap_allocations();
    for (uint32_t i = 0; i < 100; ++i) ASSERT_TRUE(c.send_datagram(numbered(i, 1000)));
    uint64_t b = hostile::heap_allocations();
    p.run();
    uint64_t d = hostile::heap_allocations();
    Connection& s = *p.server();
    while (s.next_datagram_size()) {
      ASSERT_TRUE(s.recv_datagram(buf));
      ++received;
    }
    uint64_t e = hostile::heap_allocations();
    if (round >= 2) {  // rounds 0 and 1 grow the rings
      send_allocs += b - a - 100;  // numbered() builds each payload in a vector: 100 per round
      recv_allocs += e - d;
    }
  }
  EXPECT_EQ(received, 2000u);
  EXPECT_EQ(send_allocs, 0u);
  EXPECT_EQ(recv_allocs, 0u);
}

TEST(DatagramQueues, PayloadLimitIsAnnounced) {
  Pair p(datagram_options());
  ASSERT_TRUE(p.handshake());
  Connection& c = p.client();
  std::optional<uint64_t> told;
  while (auto e = c.poll_event()) {
    if (e->kind == EventKind::kDatagramPayloadChanged) told = e->stream_id;
  }
  ASSERT_TRUE(told);
  EXPECT_EQ(*told, c.max_datagram_payload());
  EXPECT_GT(*told, 1000u);
  // Within the peer's frame limit (1200 for the whole frame) and the path's packet.
  EXPECT_LE(*told, 1200u - 3u);
  EXPECT_FALSE(c.send_datagram(std::vector<uint8_t>(*told + 1)));
  EXPECT_TRUE(c.send_datagram(std::vector<uint8_t>(*told)));
  p.run();
  auto got = p.server()->recv_datagram();  // a datagram of the largest size does get through
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), *told);
}

// A datagram queued under a larger limit that no usable path can carry any more (path 0
// migrated and starts again at 1200 bytes, RFC 9000 §14.1) is dropped and counted, not left
// blocking the queue; the event announces the smaller limit.
TEST(DatagramQueues, QueuedDatagramTooLargeAfterTheLimitShrankIsDropped) {
  PairOptions o;
  o.client.max_datagram_frame_size = o.server.max_datagram_frame_size = 65535;
  Pair p(o);
  ASSERT_TRUE(p.handshake());
  Connection& c = p.client();
  for (int i = 0; i < 100 && c.max_datagram_payload() < 1300; ++i) {  // DPLPMTUD raises it
    p.advance(100ms);
    p.run();
  }
  ASSERT_GE(c.max_datagram_payload(), 1300u);
  (void)count_events(c, EventKind::kDatagramPayloadChanged);
  ASSERT_TRUE(c.send_datagram(numbered(1, 1300)));
  ASSERT_TRUE(c.send_datagram(numbered(2, 500)));
  ASSERT_TRUE(c.migrate(SocketAddress::v4(192, 0, 2, 77, 5555)));
  EXPECT_LT(c.max_datagram_payload(), 1300u);
  EXPECT_EQ(count_events(c, EventKind::kDatagramPayloadChanged), 1u);
  p.run();
  EXPECT_EQ(c.stats().datagrams_too_large, 1u);
  auto got = p.server()->recv_datagram();
  ASSERT_TRUE(got);
  EXPECT_EQ(number_of(*got), 2u);
  EXPECT_FALSE(p.server()->recv_datagram());
}

// Without DATAGRAM negotiated the limit stays 0 and no event is raised.
TEST(DatagramQueues, NoEventWithoutDatagramSupport) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(p.client().max_datagram_payload(), 0u);
  EXPECT_EQ(count_events(p.client(), EventKind::kDatagramPayloadChanged), 0u);
}

}  // namespace
}  // namespace quic

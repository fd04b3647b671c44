// The delivery-rate sampler against hand-computed samples (draft-cheng-iccrg-delivery-rate-
// estimation §3): send/ACK intervals, the newest-packet rule, app-limited marking, losses, and
// the bounded record store.
#include "cc/delivery_rate.h"

#include <gtest/gtest.h>

#include <vector>

#include "cc_driver.h"  // kMds, t0
namespace quic {
namespace {

constexpr uint32_t kSize = 1000;

SentPacket packet(uint64_t pn, Instant sent) { return SentPacket{pn, sent, kSize, true, true}; }

struct Flow {
  DeliveryRateSampler s;
  uint64_t in_flight = 0;
  void send(uint64_t pn, Instant at) {
    in_flight += kSize;
    s.on_packet_sent(at, pn, kSize, in_flight);
  }
  const RateSample& ack(std::vector<SentPacket> acked, Instant at, Duration min_rtt = 0ms) {
    in_flight -= acked.size() * kSize;
    return s.on_ack(at, acked, min_rtt);
  }
};

// Ten packets 1 ms apart from idle; the first is acked at 50 ms, then one more is sent, and it
// is acked at 100 ms with the other nine.
TEST(DeliveryRate, HandComputedSamples) {
  Flow f;
  for (uint64_t pn = 0; pn < 10; ++pn) f.send(pn, t0 + pn * 1ms);
  // Packet 0: delivered 1000 bytes; send interval 0, ACK interval 50 ms -> 20,000 B/s.
  const RateSample& a = f.ack({packet(0, t0)}, t0 + 50ms);
  EXPECT_TRUE(a.valid);
  EXPECT_EQ(a.delivered, 1000u);
  EXPECT_EQ(a.prior_delivered, 0u);
  EXPECT_EQ(a.send_elapsed, 0ms);
  EXPECT_EQ(a.ack_elapsed, 50ms);
  EXPECT_DOUBLE_EQ(a.delivery_rate, 20'000.0);
  EXPECT_EQ(a.rtt, 50ms);
  EXPECT_EQ(a.tx_in_flight, 1000u);  // in flight when packet 0 left, itself included
  EXPECT_EQ(f.s.delivered(), 1000u);

  f.send(10, t0 + 50ms);  // remembers delivered 1000 at 50 ms, flight start = packet 0's send
  std::vector<SentPacket> rest;
  for (uint64_t pn = 1; pn < 10; ++pn) rest.push_back(packet(pn, t0 + pn * 1ms));
  rest.push_back(packet(10, t0 + 50ms));
  // The newest packet (10) forms the sample: 10,000 bytes delivered since it left; send
  // interval 50 - 0 ms, ACK interval 100 - 50 ms -> 10,000 B / 50 ms = 200,000 B/s.
  const RateSample& b = f.ack(rest, t0 + 100ms);
  EXPECT_TRUE(b.valid);
  EXPECT_EQ(b.prior_delivered, 1000u);
  EXPECT_EQ(b.delivered, 10'000u);
  EXPECT_EQ(b.send_elapsed, 50ms);
  EXPECT_EQ(b.ack_elapsed, 50ms);
  EXPECT_DOUBLE_EQ(b.delivery_rate, 200'000.0);
  EXPECT_EQ(b.newly_acked, 10'000u);
  EXPECT_EQ(b.rtt, 50ms);
  EXPECT_EQ(f.s.records(), 0u);
}

// The interval is the longer of the send and ACK intervals: a burst of ACKs (ACK compression)
// cannot make the rate exceed what the sender paced out.
TEST(DeliveryRate, SendIntervalBoundsCompressedAcks) {
  Flow f;
  f.send(0, t0);
  f.send(1, t0 + 5ms);
  f.ack({packet(0, t0)}, t0 + 10ms);  // packet 1 still out: the flight goes on
  for (uint64_t pn = 2; pn <= 5; ++pn) f.send(pn, t0 + (pn - 1) * 10ms);  // 10 ms apart
  // Packets 1-5 acknowledged together at 45 ms. Packet 5 (sent at 40 ms, delivered 1000 at
  // its send) forms the sample: send interval 40 ms from packet 0's send, ACK interval
  // 45 - 10 = 35 ms; 5000 bytes over the longer 40 ms.
  const RateSample& r = f.ack({packet(1, t0 + 5ms), packet(2, t0 + 10ms), packet(3, t0 + 20ms),
                               packet(4, t0 + 30ms), packet(5, t0 + 40ms)},
                              t0 + 45ms);
  EXPECT_EQ(r.send_elapsed, 40ms);
  EXPECT_EQ(r.ack_elapsed, 35ms);
  EXPECT_EQ(r.interval, 40ms);
  EXPECT_EQ(r.delivered, 5000u);
  EXPECT_DOUBLE_EQ(r.delivery_rate, 125'000.0);
}

TEST(DeliveryRate, IntervalBelowMinRttIsNoSample) {
  Flow f;
  f.send(0, t0);
  const RateSample& r = f.ack({packet(0, t0)}, t0 + 10ms, 20ms);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.delivery_rate, 0.0);
  EXPECT_EQ(r.newly_acked, 1000u);  // still delivered
  EXPECT_EQ(f.s.delivered(), 1000u);
}

// §3.4: after the sender ran dry with 2000 bytes in flight, packets sent until those 2000 bytes
// (plus what was already delivered) are delivered carry the app-limited mark.
TEST(DeliveryRate, AppLimitedMarkingAndClearing) {
  Flow f;
  f.send(0, t0);
  f.send(1, t0 + 1ms);
  EXPECT_FALSE(f.s.app_limited());
  f.s.on_app_limited(f.in_flight);  // delivered 0 + 2000 in flight
  EXPECT_TRUE(f.s.app_limited());
  f.send(2, t0 + 2ms);
  EXPECT_FALSE(f.ack({packet(0, t0)}, t0 + 30ms).is_app_limited);  // sent before the mark
  EXPECT_TRUE(f.s.app_limited());                                    // delivered 1000 <= 2000
  EXPECT_FALSE(f.ack({packet(1, t0 + 1ms)}, t0 + 31ms).is_app_limited);
  EXPECT_TRUE(f.s.app_limited());  // delivered 2000, not yet past the mark
  EXPECT_TRUE(f.ack({packet(2, t0 + 2ms)}, t0 + 32ms).is_app_limited);
  EXPECT_FALSE(f.s.app_limited());  // delivered 3000 > 2000: the bubble is gone
  f.send(3, t0 + 33ms);
  EXPECT_FALSE(f.ack({packet(3, t0 + 33ms)}, t0 + 63ms).is_app_limited);
}

// Losses leave the record store, count towards `lost`, and show up in the next sample as data
// lost while that packet was in flight.
TEST(DeliveryRate, LossesCountedAgainstTheSample) {
  Flow f;
  for (uint64_t pn = 0; pn < 5; ++pn) f.send(pn, t0 + pn * 1ms);
  std::vector<SentPacket> lost = {packet(1, t0 + 1ms), packet(2, t0 + 2ms)};
  f.in_flight -= 2 * kSize;
  f.s.on_lost(lost);
  EXPECT_EQ(f.s.lost(), 2000u);
  EXPECT_EQ(f.s.find(1), nullptr);
  ASSERT_NE(f.s.find(3), nullptr);
  EXPECT_EQ(f.s.find(3)->tx_in_flight, 4000u);
  const RateSample& r = f.ack({packet(0, t0), packet(3, t0 + 3ms)}, t0 + 40ms);
  EXPECT_EQ(r.lost, 2000u);  // both were lost after packet 3 left
  EXPECT_EQ(r.tx_in_flight, 4000u);
  EXPECT_EQ(r.delivered, 2000u);
  // A lost packet acknowledged later (spurious loss) is delivered but forms no sample.
  const RateSample& late = f.ack({packet(1, t0 + 1ms)}, t0 + 41ms);
  EXPECT_EQ(late.newly_acked, 1000u);
  EXPECT_LT(late.rtt, 0ms);
  f.s.forget(4);  // e.g. a lost PMTU probe: gone, not counted
  EXPECT_EQ(f.s.lost(), 2000u);
  EXPECT_EQ(f.s.records(), 0u);
}

// Packets that are not in flight (ACK-only) and packet numbers replayed out of order neither
// create records nor count as delivered.
TEST(DeliveryRate, IgnoresNonInFlightAndReplays) {
  Flow f;
  f.send(5, t0);
  f.s.on_packet_sent(t0, 4, kSize, 2 * kSize);  // lower pn than the last: ignored
  EXPECT_EQ(f.s.records(), 1u);
  SentPacket ack_only{6, t0, 50, false, false};
  EXPECT_EQ(f.s.on_ack(t0 + 5ms, std::vector<SentPacket>{ack_only}, 0ms).newly_acked, 0u);
  EXPECT_EQ(f.s.delivered(), 0u);
}

// The record store never exceeds kMaxDeliveryRecords: the oldest record goes first.
TEST(DeliveryRate, RecordStoreIsBounded) {
  DeliveryRateSampler s;
  const uint64_t n = kMaxDeliveryRecords + 100;
  for (uint64_t pn = 0; pn < n; ++pn) s.on_packet_sent(t0, pn, kSize, (pn + 1) * kSize);
  EXPECT_EQ(s.records(), kMaxDeliveryRecords);
  EXPECT_EQ(s.find(0), nullptr);
  EXPECT_NE(s.find(100), nullptr);
  EXPECT_NE(s.find(n - 1), nullptr);
}

}  // namespace
}  // namespace quic

#include "cc/hystart.h"

#include <gtest/gtest.h>

#include "cc/cubic.h"
#include "cc/new_reno.h"
#include "cc_driver.h"

namespace quic {
namespace {

// Runs one HyStart++ round: the round starts with packet `first`, `count` packets are sent and
// each acknowledged with the given RTT sample.
uint64_t run_round(HystartPlusPlus& h, uint64_t& pn, int count, Duration rtt) {
  uint64_t first = pn;
  for (int i = 0; i < count; ++i) h.on_packet_sent(pn++);
  uint64_t divisor = 0;
  for (uint64_t p = first; p < pn; ++p) divisor = h.on_ack(p, rtt);
  return divisor;
}

TEST(HystartPlusPlus, RttRiseEntersCssThenCongestionAvoidance_Rfc9406_4_2) {
  HystartPlusPlus h;
  uint64_t pn = 0;
  EXPECT_EQ(run_round(h, pn, 10, 100ms), 1u);
  EXPECT_EQ(run_round(h, pn, 10, 100ms), 1u);
  // Threshold: clamp(100/8, 4, 16) = 12.5 ms. 112 ms stays in slow start.
  EXPECT_EQ(run_round(h, pn, 10, 112ms), 1u);
  EXPECT_EQ(h.phase(), HystartPlusPlus::Phase::kSlowStart);
  // 112 -> 126 ms: +14 >= 112/8 = 14 ms: conservative slow start.
  EXPECT_EQ(run_round(h, pn, 10, 126ms), kHystartCssGrowthDivisor);
  EXPECT_EQ(h.phase(), HystartPlusPlus::Phase::kConservative);
  // Rounds are counted once CSS began; each ends when its first packet is acknowledged.
  for (uint32_t r = 0; r < kHystartCssRounds; ++r) {
    EXPECT_FALSE(h.should_exit_slow_start());
    run_round(h, pn, 10, 126ms);
  }
  EXPECT_TRUE(h.should_exit_slow_start());
}

TEST(HystartPlusPlus, FewerThanEightSamplesNeverExit) {
  HystartPlusPlus h;
  uint64_t pn = 0;
  run_round(h, pn, 7, 100ms);
  run_round(h, pn, 7, 300ms);
  EXPECT_EQ(h.phase(), HystartPlusPlus::Phase::kSlowStart);
}

TEST(HystartPlusPlus, SpuriousRiseReturnsToSlowStart) {
  HystartPlusPlus h;
  uint64_t pn = 0;
  run_round(h, pn, 10, 100ms);
  run_round(h, pn, 10, 130ms);
  ASSERT_EQ(h.phase(), HystartPlusPlus::Phase::kConservative);
  run_round(h, pn, 10, 100ms);  // below the CSS baseline of 130 ms
  EXPECT_EQ(h.phase(), HystartPlusPlus::Phase::kSlowStart);
}

TEST(HystartPlusPlus, CubicLeavesSlowStartWithoutLoss) {
  Cubic cc(kMds);
  Driver d{cc};
  d.clocked_round();
  d.clocked_round();
  EXPECT_EQ(cc.cwnd(), 40u * kMds);  // plain doubling while the RTT is flat
  d.rtt_value = 150ms;               // a queue builds
  d.clocked_round();
  // The RTT rise is seen after 8 samples; the rest of the round grows at a quarter rate.
  EXPECT_LT(cc.cwnd(), 80u * kMds);
  EXPECT_GT(cc.cwnd(), 40u * kMds);
  for (uint32_t r = 0; r < kHystartCssRounds + 1; ++r) d.clocked_round();
  EXPECT_FALSE(cc.in_slow_start());
  EXPECT_EQ(cc.ssthresh() != UINT64_MAX, true);
  EXPECT_FALSE(cc.last_event().has_value());  // no loss was needed
}

TEST(HystartPlusPlus, NewRenoKeepsPlainSlowStart) {
  NewReno cc(kMds);
  Driver d{cc};
  d.clocked_round();
  d.rtt_value = 300ms;
  d.clocked_round();
  d.clocked_round();
  EXPECT_EQ(cc.cwnd(), 80u * kMds);
  EXPECT_TRUE(cc.in_slow_start());
}

}  // namespace
}  // namespace quic

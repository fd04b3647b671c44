#include "recovery/rtt.h"

#include <gtest/gtest.h>

#include "recovery/pto.h"
#include "recovery_test_util.h"

namespace quic {
namespace {

using test::t0;

TEST(RttEstimator, InitialValuesBeforeAnySample) {
  RttEstimator rtt;
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_EQ(rtt.smoothed(), 333ms);
  EXPECT_EQ(rtt.rttvar(), Duration(166'500'000));
  // RFC 9002 §6.2.2: 333 + 4*166.5 = 999 ms, "a PTO of 1 second".
  EXPECT_EQ(rtt.pto_base(), 999ms);
  EXPECT_EQ(rtt.first_sample_time(), kNever);
}

TEST(RttEstimator, FirstSampleReplacesInitialValues_Rfc9002_5_3) {
  RttEstimator rtt;
  // The first sample ignores ack_delay entirely.
  rtt.update(100ms, 20ms, true, 25ms, t0);
  EXPECT_TRUE(rtt.has_sample());
  EXPECT_EQ(rtt.smoothed(), 100ms);
  EXPECT_EQ(rtt.rttvar(), 50ms);
  EXPECT_EQ(rtt.min_rtt(), 100ms);
  EXPECT_EQ(rtt.latest(), 100ms);
  EXPECT_EQ(rtt.first_sample_time(), t0);
  EXPECT_EQ(rtt.pto_base(), 300ms);
}

TEST(RttEstimator, SubsequentSampleEwmaHandComputed) {
  RttEstimator rtt;
  rtt.update(100ms, 0ms, true, 25ms, t0);
  // adjusted = 140 - 20 = 120 (140 >= min_rtt 100 + 20).
  // rttvar = 3/4*50 + 1/4*|100-120| = 37.5 + 5 = 42.5; smoothed = 7/8*100 + 1/8*120 = 102.5.
  rtt.update(140ms, 20ms, true, 25ms, t0 + 1s);
  EXPECT_EQ(rtt.smoothed(), Duration(102'500'000));
  EXPECT_EQ(rtt.rttvar(), Duration(42'500'000));
  EXPECT_EQ(rtt.min_rtt(), 100ms);
  EXPECT_EQ(rtt.latest(), 140ms);
  EXPECT_EQ(rtt.first_sample_time(), t0);  // unchanged by later samples
}

TEST(RttEstimator, AckDelayClampedByMaxAckDelayOnlyAfterHandshakeConfirmed) {
  RttEstimator before;
  before.update(100ms, 0ms, false, 25ms, t0);
  // Not confirmed: full 50 ms delay subtracted, adjusted = 150 - 50 = 100.
  before.update(150ms, 50ms, false, 25ms, t0);
  EXPECT_EQ(before.smoothed(), 100ms);
  EXPECT_EQ(before.rttvar(), Duration(37'500'000));  // 3/4*50 + 0

  RttEstimator after;
  after.update(100ms, 0ms, true, 25ms, t0);
  // Confirmed: delay clamped to 25 ms, adjusted = 125; smoothed = 87.5 + 15.625 = 103.125.
  after.update(150ms, 50ms, true, 25ms, t0);
  EXPECT_EQ(after.smoothed(), Duration(103'125'000));
  EXPECT_EQ(after.rttvar(), Duration(43'750'000));  // 37.5 + 25/4
}

TEST(RttEstimator, AckDelayNotSubtractedBelowMinRtt) {
  RttEstimator rtt;
  rtt.update(100ms, 0ms, true, 25ms, t0);
  // 110 < 100 + 20: the delay is implausible, the raw sample is used.
  rtt.update(110ms, 20ms, true, 25ms, t0);
  EXPECT_EQ(rtt.smoothed(), Duration(101'250'000));  // 87.5 + 13.75
}

TEST(RttEstimator, MinRttIgnoresAckDelay) {
  RttEstimator rtt;
  rtt.update(100ms, 0ms, true, 25ms, t0);
  rtt.update(80ms, 30ms, false, 25ms, t0);
  EXPECT_EQ(rtt.min_rtt(), 80ms);  // not 50
  rtt.update(90ms, 0ms, true, 25ms, t0);
  EXPECT_EQ(rtt.min_rtt(), 80ms);
}

TEST(RttEstimator, HostileAckDelayDoesNotOverflow) {
  RttEstimator rtt;
  rtt.update(100ms, 0ms, true, 25ms, t0);
  rtt.update(100ms, Duration::max(), false, 25ms, t0);
  EXPECT_EQ(rtt.smoothed(), 100ms);
}

TEST(RttEstimator, ResetForgetsHistory) {
  RttEstimator rtt;
  rtt.update(100ms, 0ms, true, 25ms, t0);
  rtt.reset(50ms);
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_EQ(rtt.smoothed(), 50ms);
  EXPECT_EQ(rtt.rttvar(), 25ms);
  rtt.update(10ms, 0ms, true, 25ms, t0);
  EXPECT_EQ(rtt.smoothed(), 10ms);  // a first sample again
}

TEST(RttEstimator, PersistentCongestionResetsMinRttToLatest) {
  RttEstimator rtt;
  rtt.update(50ms, 0ms, true, 25ms, t0);
  rtt.update(200ms, 0ms, true, 25ms, t0);
  rtt.on_persistent_congestion();
  EXPECT_EQ(rtt.min_rtt(), 200ms);
}

TEST(PtoDuration, IncludesAckDelayOnlyWhenAskedAndDoublesPerCount) {
  RttEstimator rtt;
  rtt.update(100ms, 0ms, true, 25ms, t0);  // pto_base 300 ms
  EXPECT_EQ(pto_duration(rtt, 25ms, false, 0), 300ms);
  EXPECT_EQ(pto_duration(rtt, 25ms, true, 0), 325ms);
  EXPECT_EQ(pto_duration(rtt, 25ms, true, 1), 650ms);
  EXPECT_EQ(pto_duration(rtt, 25ms, true, 3), 2600ms);
  // The backoff stops doubling at kMaxPtoBackoffShift.
  EXPECT_EQ(pto_duration(rtt, 25ms, true, 1000), 325ms * (int64_t{1} << kMaxPtoBackoffShift));
}

TEST(PtoDuration, NeverBelowGranularity) {
  RttEstimator rtt(Duration(1));
  rtt.update(Duration(1), 0ms, true, 0ms, t0);
  EXPECT_GE(pto_duration(rtt, 0ms, false, 0), kGranularity);
}

TEST(PersistentCongestionDuration, IsThreePtosIncludingMaxAckDelay) {
  RttEstimator rtt;
  rtt.update(100ms, 0ms, true, 25ms, t0);
  EXPECT_EQ(persistent_congestion_duration(rtt, 25ms), 975ms);
}

}  // namespace
}  // namespace quic

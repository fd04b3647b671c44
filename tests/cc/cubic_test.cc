#include "cc/cubic.h"

#include <gtest/gtest.h>

#include <cmath>

#include "cc_driver.h"

namespace quic {
namespace {

TEST(CubicFunction, KAndWindowAtKnownTimes_Rfc9438_4_2) {
  // W_max 100 segments, cwnd_epoch 70 (beta 0.7): K = cbrt(30 / 0.4) = cbrt(75).
  double k = cubic_k_seconds(100, 70);
  EXPECT_NEAR(k, 4.2171633265, 1e-9);
  EXPECT_NEAR(cubic_window_segments(0, k, 100), 70.0, 1e-9);   // starts at cwnd_epoch
  EXPECT_NEAR(cubic_window_segments(k, k, 100), 100.0, 1e-9);  // plateau at W_max
  EXPECT_NEAR(cubic_window_segments(k + 1, k, 100), 100.4, 1e-9);
  EXPECT_NEAR(cubic_window_segments(k + 2, k, 100), 103.2, 1e-9);
  EXPECT_NEAR(cubic_window_segments(k - 1, k, 100), 99.6, 1e-9);
  EXPECT_EQ(cubic_k_seconds(50, 70), 0.0);  // already above W_max
}

TEST(Cubic, LossReducesByBeta) {
  Cubic cc(kMds);
  Driver d{cc};
  d.round_trip();  // 24000
  EXPECT_EQ(cc.cwnd(), 24000u);
  d.lose({d.send_window()[0]});
  EXPECT_EQ(cc.cwnd(), 16800u);  // 0.7 * 24000
  EXPECT_EQ(cc.ssthresh(), 16800u);
  EXPECT_DOUBLE_EQ(cc.w_max(), 24000.0);
}

TEST(Cubic, FastConvergenceLowersWmax) {
  Cubic cc(kMds);
  Driver d{cc};
  d.round_trip();
  auto sent = d.send_window();
  d.now += 100ms;
  d.lose({sent[0]});  // w_max 24000, cwnd 16800
  d.ack(std::vector<SentPacket>(sent.begin() + 1, sent.end()));
  d.now += 1ms;
  auto later = d.send_window();
  d.now += 100ms;
  d.lose({later[0]});  // lost again below the previous maximum
  EXPECT_DOUBLE_EQ(cc.w_max(), 16800.0 * 1.7 / 2.0);
  EXPECT_EQ(cc.cwnd(), 11760u);  // 0.7 * 16800
}

TEST(Cubic, WindowReturnsToWmaxAroundK) {
  Cubic cc(kMds);
  Driver d{cc};
  while (cc.cwnd() < 160 * kMds) d.round_trip();  // slow start to 160 segments
  ASSERT_EQ(cc.cwnd(), 160u * kMds);
  d.round_trip_with_loss();
  EXPECT_EQ(cc.cwnd(), 112u * kMds);
  const Instant epoch = d.now;
  const double k = cubic_k_seconds(160, 112);  // cbrt(120) = 4.93 s
  double half_way = 0;
  while (d.now - epoch < Duration(static_cast<int64_t>(k * 1e9))) {
    d.round_trip();
    if (half_way == 0 && d.now - epoch >= Duration(static_cast<int64_t>(k * 0.5e9))) {
      half_way = d.cwnd_segments();
    }
  }
  // Concave region: half way to K the window is W_cubic(K/2 + RTT) ~ 154.8 segments, well
  // above what Reno's +0.53 segment per RTT would have reached (~125).
  EXPECT_NEAR(half_way, cubic_window_segments(k * 0.5 + 0.1, k, 160), 3.0);
  // At K the window is back at W_max (it aims one RTT ahead, so slightly above).
  EXPECT_NEAR(d.cwnd_segments(), 160.0, 2.0);
  // Beyond K the convex region probes upwards, slowly at first.
  for (int i = 0; i < 10; ++i) d.round_trip();
  EXPECT_GT(d.cwnd_segments(), 160.0);
  EXPECT_LT(d.cwnd_segments(), 163.0);
}

TEST(Cubic, RenoFriendlyRegionOnShortRtt) {
  Cubic cc(kMds);
  Driver d{cc, 10ms};
  while (cc.cwnd() < 160 * kMds) d.round_trip();
  d.round_trip_with_loss();
  const Instant epoch = d.now;
  for (int i = 0; i < 20; ++i) d.round_trip();
  double t = static_cast<double>((d.now - epoch).count()) / 1e9;
  double k = cubic_k_seconds(160, 112);
  // With a 10 ms RTT, Reno's additive increase (alpha ~0.53 segment per RTT) outpaces the
  // cubic curve early in the epoch: the window follows W_est.
  EXPECT_GT(d.cwnd_segments(), cubic_window_segments(t + 0.01, k, 160) + 2.0);
  EXPECT_NEAR(d.cwnd_segments(), 112.0 + 20 * 3.0 * 0.3 / 1.7, 1.0);
  EXPECT_NEAR(cc.w_est() / kMds, d.cwnd_segments(), 1.0);
}

TEST(Cubic, AppLimitedAcksDoNotGrowTheWindow) {
  Cubic cc(kMds);
  Driver d{cc};
  d.round_trip();
  d.round_trip_with_loss();
  uint64_t after_loss = cc.cwnd();
  RttEstimator rtt(100ms);
  Instant now = d.now + 1ms;
  for (uint64_t pn = 1000; pn < 1100; ++pn) {
    SentPacket p{pn, now, kMds, true, true};
    cc.on_packet_sent(now, pn, kMds, kMds);
    now += 100ms;
    std::vector<SentPacket> acked{p};
    cc.on_packets_acked(now, acked, rtt, 0);
  }
  EXPECT_EQ(cc.cwnd(), after_loss);
}

TEST(Cubic, AppLimitedTimeDoesNotCountAsGrowthTime_Rfc9438_5_8) {
  Cubic cc(kMds);
  Driver d{cc};
  while (cc.cwnd() < 160 * kMds) d.round_trip();
  d.round_trip_with_loss();  // 112 segments, K ~4.9 s
  for (int i = 0; i < 5; ++i) d.round_trip();
  // Three seconds of trickling: one packet in flight at a time.
  for (int i = 0; i < 30; ++i) {
    SentPacket p{d.next_pn++, d.now, kMds, true, true};
    d.in_flight += kMds;
    cc.on_packet_sent(d.now, p.pn, kMds, d.in_flight);
    d.now += 100ms;
    d.ack({p});
  }
  double before = d.cwnd_segments();
  EXPECT_NEAR(before, 123.7, 0.1);  // unchanged by the trickle
  d.round_trip();
  // Had the idle time counted, W_cubic(t) would be near W_max (~159) and the window would
  // jump by tens of segments in this one round trip.
  EXPECT_LT(d.cwnd_segments() - before, 3.0);
  EXPECT_GT(d.cwnd_segments(), before);
}

TEST(Cubic, PersistentCongestionCollapsesToMinimumWindow) {
  Cubic cc(kMds);
  Driver d{cc};
  d.round_trip();
  auto sent = d.send_window();
  d.now += 1s;
  d.lose(sent, true);
  EXPECT_EQ(cc.cwnd(), minimum_window(kMds));
  EXPECT_TRUE(cc.in_slow_start());
}

}  // namespace
}  // namespace quic

#include "cc/new_reno.h"

#include <gtest/gtest.h>

#include <vector>

#include "cc_driver.h"

namespace quic {
namespace {

TEST(NewReno, InitialAndMinimumWindow_Rfc9002_7_2) {
  EXPECT_EQ(initial_window(1200), 12000u);  // 10 * 1200
  EXPECT_EQ(initial_window(1500), 14720u);  // min(15000, 14720)
  EXPECT_EQ(initial_window(9000), 18000u);  // min(90000, max(14720, 18000))
  EXPECT_EQ(minimum_window(1200), 2400u);
  NewReno cc(kMds);
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_TRUE(cc.in_slow_start());
  EXPECT_STREQ(cc.name(), "newreno");
}

TEST(NewReno, SlowStartDoublesPerRoundTrip) {
  NewReno cc(kMds);
  Driver d{cc};
  for (int i = 0; i < 4; ++i) {
    uint64_t before = cc.cwnd();
    d.round_trip();
    EXPECT_EQ(cc.cwnd(), 2 * before);
  }
}

TEST(NewReno, LossHalvesOnceAndCongestionAvoidanceAddsOneDatagramPerRtt) {
  NewReno cc(kMds);
  Driver d{cc};
  d.round_trip();               // 24000
  auto sent = d.send_window();  // 20 packets
  d.now += 100ms;
  // Two losses of that flight in separate ACKs: one reduction only (same recovery period).
  d.lose({sent[0]});
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_EQ(cc.ssthresh(), 12000u);
  EXPECT_TRUE(cc.in_recovery());
  ASSERT_TRUE(cc.last_event().has_value());
  EXPECT_EQ(cc.last_event()->cwnd_before, 24000u);
  d.lose({sent[1]});
  EXPECT_EQ(cc.cwnd(), 12000u);
  // Acks of packets sent before recovery began do not grow the window.
  d.ack(std::vector<SentPacket>(sent.begin() + 2, sent.end()));
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_TRUE(cc.in_recovery());
  EXPECT_FALSE(cc.in_slow_start());
  // A packet sent after recovery began ends it; then +1 datagram per window acknowledged.
  d.now += 1ms;
  for (int i = 0; i < 3; ++i) {
    uint64_t before = cc.cwnd();
    d.round_trip();
    EXPECT_FALSE(cc.in_recovery());
    EXPECT_EQ(cc.cwnd(), before + kMds);
  }
}

TEST(NewReno, NewLossAfterRecoveryReducesAgain) {
  NewReno cc(kMds);
  Driver d{cc};
  d.round_trip();
  auto sent = d.send_window();
  d.now += 100ms;
  d.lose({sent[0]});
  EXPECT_EQ(cc.cwnd(), 12000u);
  d.ack(std::vector<SentPacket>(sent.begin() + 1, sent.end()));
  d.now += 1ms;
  auto later = d.send_window();  // sent after the recovery start
  d.now += 100ms;
  d.lose({later[0]});
  EXPECT_EQ(cc.cwnd(), 6000u);
}

TEST(NewReno, PersistentCongestionCollapsesToMinimumWindow) {
  NewReno cc(kMds);
  Driver d{cc};
  d.round_trip();
  auto sent = d.send_window();
  d.now += 1s;
  d.lose(sent, /*persistent=*/true);
  EXPECT_EQ(cc.cwnd(), minimum_window(kMds));
  EXPECT_FALSE(cc.in_recovery());
  EXPECT_EQ(cc.last_event()->kind, CongestionEvent::Kind::kPersistentCongestion);
  // Back in slow start below ssthresh (12000).
  EXPECT_TRUE(cc.in_slow_start());
  d.round_trip();
  EXPECT_EQ(cc.cwnd(), 2 * minimum_window(kMds));
}

TEST(NewReno, EcnCeIsACongestionEvent) {
  NewReno cc(kMds);
  Driver d{cc};
  d.round_trip();
  d.now += 1ms;
  cc.on_ecn_ce(d.now, d.now - 50ms);
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_EQ(cc.last_event()->kind, CongestionEvent::Kind::kEcnCe);
  cc.on_ecn_ce(d.now, d.now - 40ms);  // still in the same recovery period
  EXPECT_EQ(cc.cwnd(), 12000u);
}

TEST(NewReno, LostMtuProbeAndAckOnlyPacketsAreNoCongestionSignal) {
  NewReno cc(kMds);
  SentPacket probe{1, t0, 1500, true, true, /*is_mtu_probe=*/true};
  SentPacket ack_only{2, t0, 50, false, false};
  std::vector<SentPacket> lost{probe, ack_only};
  cc.on_packets_lost(t0 + 1s, lost, false, 0);
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_FALSE(cc.last_event().has_value());
}

TEST(NewReno, AppLimitedSenderDoesNotGrowWindow) {
  NewReno cc(kMds);
  RttEstimator rtt;
  Instant now = t0;
  for (uint64_t pn = 0; pn < 100; ++pn) {
    SentPacket p{pn, now, kMds, true, true};
    cc.on_packet_sent(now, pn, kMds, kMds);  // one packet in flight at a time
    now += 10ms;
    std::vector<SentPacket> acked{p};
    cc.on_packets_acked(now, acked, rtt, 0);
  }
  EXPECT_EQ(cc.cwnd(), 12000u);
}

TEST(NewReno, MtuChangeRecomputesUntouchedInitialWindow) {
  NewReno cc(kMds);
  cc.on_mtu_changed(1452);
  EXPECT_EQ(cc.cwnd(), initial_window(1452));
  cc.on_mtu_changed(100);  // clamped to 1200
  EXPECT_EQ(cc.cwnd(), initial_window(1200));
}

TEST(NewReno, ResetReturnsToInitialState) {
  NewReno cc(kMds);
  Driver d{cc};
  d.round_trip();
  d.lose({d.send_window()[0]});
  cc.reset();
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_EQ(cc.ssthresh(), UINT64_MAX);
  EXPECT_FALSE(cc.in_recovery());
  EXPECT_FALSE(cc.last_event().has_value());
}

TEST(CongestionControllerFactory, ParsesNamesAndBuildsControllers) {
  EXPECT_EQ(parse_cc_name("newreno"), CcAlgorithm::kNewReno);
  EXPECT_EQ(parse_cc_name("CUBIC"), CcAlgorithm::kCubic);
  EXPECT_EQ(parse_cc_name("bbr"), CcAlgorithm::kBbr);
  EXPECT_FALSE(parse_cc_name("bbr2").has_value());
  EXPECT_FALSE(parse_cc_name("").has_value());
  EXPECT_STREQ(make_congestion_controller(CcAlgorithm::kCubic, kMds)->name(), "cubic");
  EXPECT_STREQ(make_congestion_controller(CcAlgorithm::kNewReno, kMds)->name(), "newreno");
}

TEST(PacingRate, IsGainTimesWindowOverSmoothedRtt) {
  NewReno cc(kMds);
  RttEstimator rtt;
  rtt.update(100ms, 0ms, true, 25ms, t0);
  // Slow start: 2 * 12000 B / 0.1 s = 240 kB/s = 1.92 Mbit/s.
  EXPECT_EQ(cc.pacing_rate_bps(rtt), 1'920'000u);
  Driver d{cc};
  d.round_trip();
  d.lose({d.send_window()[0]});  // cwnd 12000, avoidance: 1.25 * 12000 / 0.1 * 8
  EXPECT_EQ(cc.pacing_rate_bps(rtt), 1'200'000u);
}

}  // namespace
}  // namespace quic

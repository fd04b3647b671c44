// LIA (RFC 6356), OLIA (Khalili et al.) and BALIA (Peng et al.): the coupled increase against
// hand-computed values, OLIA's path sets, BALIA's decrease, group membership, and the single
// path case equal to NewReno.
#include "cc/coupled_controller.h"

#include <gtest/gtest.h>

#include <vector>

#include "cc/new_reno.h"
#include "cc_driver.h"

namespace quic {
namespace {

// A member with a given window (in datagrams of kMds) and RTT, acknowledged at t0.
CoupledPathState member(uint64_t packets, Duration rtt, uint64_t l1 = 0, uint64_t l2 = 0) {
  CoupledPathState s;
  s.cwnd = packets * kMds;
  s.srtt = rtt;
  s.has_rtt = true;
  s.last_ack = t0;
  s.bytes_between_losses = l1;
  s.bytes_since_loss = l2;
  return s;
}

TEST(CoupledCc, NamesAndFactory) {
  EXPECT_EQ(parse_cc_name("lia"), CcAlgorithm::kLia);
  EXPECT_EQ(parse_cc_name("OLIA"), CcAlgorithm::kOlia);
  EXPECT_EQ(parse_cc_name("Balia"), CcAlgorithm::kBalia);
  EXPECT_FALSE(parse_cc_name("wvegas").has_value());
  CoupledGroup g;
  EXPECT_STREQ(make_congestion_controller(CcAlgorithm::kLia, kMds, &g)->name(), "lia");
  EXPECT_STREQ(make_congestion_controller(CcAlgorithm::kOlia, kMds, &g)->name(), "olia");
  EXPECT_STREQ(make_congestion_controller(CcAlgorithm::kBalia, kMds, nullptr)->name(), "balia");
  EXPECT_EQ(g.size(), 0u);  // the temporaries left the group
  EXPECT_NE(make_coupled_group_if_needed(CcAlgorithm::kOlia), nullptr);
  EXPECT_EQ(make_coupled_group_if_needed(CcAlgorithm::kCubic), nullptr);
  EXPECT_EQ(make_coupled_group_if_needed(CcAlgorithm::kNewReno), nullptr);
}

TEST(CoupledCc, GroupSums_Rfc6356_3) {
  CoupledGroup g;
  CoupledPathState a = member(20, 100ms), b = member(10, 200ms);
  g.join(&a);
  g.join(&b);
  g.join(&a);  // idempotent
  EXPECT_EQ(g.size(), 2u);
  auto s = g.sums(a, t0);
  EXPECT_EQ(s.paths, 2u);
  EXPECT_EQ(s.total_cwnd, 30u * kMds);
  // cwnd/rtt^2: 24000/0.01 = 2.4e6 and 12000/0.04 = 3e5; cwnd/rtt: 240000 + 60000.
  EXPECT_DOUBLE_EQ(s.max_cwnd_over_rtt2, 2.4e6);
  EXPECT_DOUBLE_EQ(s.sum_cwnd_over_rtt, 300000.0);
  EXPECT_DOUBLE_EQ(s.max_cwnd_over_rtt, 240000.0);
}

TEST(CoupledCc, LiaAlphaForTwoPaths_Rfc6356_3) {
  CoupledGroup g;
  // Equal paths, 10 packets each at 100 ms: alpha = 20·(10/0.01)/(200)^2 = 0.5 (in packets),
  // so each path's increase is alpha/cwnd_total = 1/40 packet per ACK, a quarter of TCP's 1/10.
  CoupledPathState a = member(10, 100ms), b = member(10, 100ms);
  g.join(&a);
  g.join(&b);
  EXPECT_NEAR(lia_gain(g.sums(a, t0), a), 0.25, 1e-12);
  // 20 packets at 100 ms and 10 at 200 ms: alpha = 30·2000/250^2 = 0.96; gains
  // alpha·w_i/w_total = 0.64 and 0.32.
  a = member(20, 100ms);
  b = member(10, 200ms);
  EXPECT_NEAR(lia_gain(g.sums(a, t0), a), 0.64, 1e-12);
  EXPECT_NEAR(lia_gain(g.sums(b, t0), b), 0.32, 1e-12);
}

TEST(CoupledCc, LiaIncreaseIsCappedByTheUncoupledOne) {
  CoupledGroup g;
  // 10 packets at 10 ms and 100 at 1 s: alpha·w_2/w_total = 100·1e5/1100^2 = 8.26 > 1.
  CoupledPathState a = member(10, 10ms), b = member(100, 1000ms);
  g.join(&a);
  g.join(&b);
  EXPECT_DOUBLE_EQ(lia_gain(g.sums(b, t0), b), 1.0);
  EXPECT_LT(lia_gain(g.sums(a, t0), a), 1.0);
}

TEST(CoupledCc, OliaBestAndMaxWindowSets) {
  CoupledGroup g;
  // a: the largest window; b: the best path (largest l/rtt^2); c: neither.
  CoupledPathState a = member(40, 100ms, 50'000, 10'000);
  CoupledPathState b = member(20, 100ms, 10'000, 400'000);
  CoupledPathState c = member(10, 100ms, 20'000, 0);
  for (auto* m : {&a, &b, &c}) g.join(m);
  EXPECT_TRUE(g.olia_in_max_window(a, a, t0));
  EXPECT_FALSE(g.olia_in_max_window(b, a, t0));
  EXPECT_TRUE(g.olia_in_best(b, a, t0));
  EXPECT_FALSE(g.olia_in_best(a, a, t0));
  EXPECT_FALSE(g.olia_in_best(c, a, t0));
  // B\M = {b}: alpha_b = 1/(3·1), alpha_a = -1/(3·1), alpha_c = 0.
  EXPECT_DOUBLE_EQ(g.olia_alpha(b, t0), 1.0 / 3);
  EXPECT_DOUBLE_EQ(g.olia_alpha(a, t0), -1.0 / 3);
  EXPECT_DOUBLE_EQ(g.olia_alpha(c, t0), 0.0);
  // The gain: w_r^2/rtt_r^2/(sum w/rtt)^2 + alpha_r. Sum w/rtt = 70 packets/0.1 s, so for b
  // (20/0.1)^2/(700)^2 = 4/49, plus 1/3; for a 16/49 - 1/3 < 0 (a gives window away).
  auto s = g.sums(b, t0);
  EXPECT_NEAR(olia_gain(s, b, g.olia_alpha(b, t0)), 4.0 / 49 + 1.0 / 3, 1e-12);
  EXPECT_NEAR(olia_gain(g.sums(a, t0), a, g.olia_alpha(a, t0)), 16.0 / 49 - 1.0 / 3, 1e-12);
  // When the best path also has the largest window, B\M is empty and every alpha is 0.
  b.bytes_since_loss = 0;
  a.bytes_since_loss = 900'000;
  EXPECT_DOUBLE_EQ(g.olia_alpha(a, t0), 0.0);
  EXPECT_DOUBLE_EQ(g.olia_alpha(b, t0), 0.0);
}

TEST(CoupledCc, OliaInterLossDistanceFollowsLosses) {
  CoupledGroup g;
  CoupledController cc(CcAlgorithm::kOlia, kMds, &g);
  Driver d{cc};
  d.round_trip();  // 10 packets acked in slow start
  EXPECT_EQ(cc.coupled_state().bytes_since_loss, 10u * kMds);
  d.round_trip_with_loss();  // 19 more acked, then the loss ends the epoch
  EXPECT_EQ(cc.coupled_state().bytes_between_losses, 10u * kMds);
  EXPECT_EQ(cc.coupled_state().bytes_since_loss, 19u * kMds);
  EXPECT_EQ(cc.coupled_state().inter_loss_bytes(), 19u * kMds);
}

TEST(CoupledCc, BaliaIncreaseAndDecrease) {
  CoupledGroup g;
  // Equal paths: x_r/X = 1/2, alpha = 1: gain (1/2)^2·1·1 = 1/4 (like LIA), decrease 1/2.
  CoupledPathState a = member(10, 100ms), b = member(10, 100ms);
  g.join(&a);
  g.join(&b);
  EXPECT_NEAR(balia_gain(g.sums(a, t0), a), 0.25, 1e-12);
  EXPECT_NEAR(balia_keep_fraction(g.sums(a, t0), a), 0.5, 1e-12);
  // a: x = 100 pkt/s, b: x = 300 pkt/s. For a: alpha = 3, gain (1/4)^2·(4/2)·(7/5) = 0.175,
  // decrease min(3, 1.5)/2 = 0.75 of the window. For b: alpha = 1, gain (3/4)^2 = 0.5625.
  a = member(10, 100ms);
  b = member(30, 100ms);
  EXPECT_NEAR(balia_gain(g.sums(a, t0), a), 0.175, 1e-12);
  EXPECT_NEAR(balia_keep_fraction(g.sums(a, t0), a), 0.25, 1e-12);
  EXPECT_NEAR(balia_gain(g.sums(b, t0), b), 0.5625, 1e-12);
  EXPECT_NEAR(balia_keep_fraction(g.sums(b, t0), b), 0.5, 1e-12);
  // alpha = 1.2 keeps 1 - 0.6 = 0.4.
  a = member(25, 100ms);
  EXPECT_NEAR(balia_keep_fraction(g.sums(a, t0), a), 0.4, 1e-12);
}

TEST(CoupledCc, BaliaControllerLossResponseUsesAlpha) {
  CoupledGroup g;
  CoupledPathState other = member(100, 100ms);  // x = 1000 pkt/s
  g.join(&other);
  CoupledController cc(CcAlgorithm::kBalia, kMds, &g);
  Driver d{cc};
  d.round_trip();  // 20 packets, x = 200 pkt/s: alpha = 5, keep 1 - 0.75 = 0.25
  other.last_ack = d.now;
  d.round_trip_with_loss();
  // The loss arrives before the ACKs, at 20 packets: keep a quarter (NewReno would keep half).
  EXPECT_EQ(cc.cwnd(), 5u * kMds);
  EXPECT_EQ(cc.ssthresh(), 5u * kMds);
}

// Two controllers in one group grow, per window acknowledged, by the gain the formula gives.
TEST(CoupledCc, LiaControllersInOneGroupGrowByTheCoupledShare) {
  CoupledGroup g;
  CoupledController a(CcAlgorithm::kLia, kMds, &g), b(CcAlgorithm::kLia, kMds, &g);
  EXPECT_EQ(g.size(), 2u);
  Driver da{a}, db{b};
  // Both leave slow start at 12 packets after a loss (24 halved).
  for (Driver* d : {&da, &db}) {
    d->round_trip();
    d->round_trip_with_loss();
    d->now = da.now;
  }
  ASSERT_EQ(a.cwnd(), 12000u);
  ASSERT_EQ(b.cwnd(), 12000u);
  EXPECT_NEAR(a.current_gain(da.now), 0.25, 1e-12);
  // 16 rounds each: NewReno would add 16 datagrams; about a quarter of that per path (the
  // gain drifts a little as the windows grow).
  for (int i = 0; i < 16; ++i) {
    da.round_trip();
    db.now = da.now;
    db.round_trip();
  }
  EXPECT_GE(a.cwnd(), 12000u + 3 * kMds);
  EXPECT_LE(a.cwnd(), 12000u + 5 * kMds);
  EXPECT_GE(b.cwnd(), 12000u + 3 * kMds);
  EXPECT_LE(b.cwnd(), 12000u + 5 * kMds);
}

TEST(CoupledCc, PathLeavingTheGroupRestoresUncoupledGrowth) {
  CoupledGroup g;
  CoupledController a(CcAlgorithm::kLia, kMds, &g);
  Driver da{a};
  da.round_trip();
  da.round_trip_with_loss();
  {
    auto b = make_congestion_controller(CcAlgorithm::kLia, kMds, &g);
    Driver db{*b};
    db.now = da.now;
    db.round_trip();
    EXPECT_EQ(g.size(), 2u);
    EXPECT_LT(a.current_gain(db.now), 1.0);
  }
  EXPECT_EQ(g.size(), 1u);  // the destructor left the group
  EXPECT_DOUBLE_EQ(a.current_gain(da.now), 1.0);
}

TEST(CoupledCc, StaleMemberStopsCounting) {
  CoupledGroup g;
  CoupledPathState self = member(10, 100ms), dead = member(50, 100ms);
  g.join(&self);
  g.join(&dead);
  EXPECT_EQ(g.sums(self, t0 + 400ms).paths, 2u);  // 4 RTTs without an ACK still counts
  EXPECT_EQ(g.sums(self, t0 + 401ms).paths, 1u);
  CoupledPathState fresh;  // joined, never acknowledged
  g.join(&fresh);
  EXPECT_EQ(g.sums(self, t0).paths, 2u);
  g.leave(&fresh);
  g.leave(&dead);
  g.leave(&dead);  // harmless
  EXPECT_EQ(g.size(), 1u);
}

// Alone on a path (or without a group) every coupled algorithm grows exactly like NewReno.
TEST(CoupledCc, SinglePathEqualsNewReno) {
  for (CcAlgorithm alg : {CcAlgorithm::kLia, CcAlgorithm::kOlia, CcAlgorithm::kBalia}) {
    for (bool with_group : {true, false}) {
      CoupledGroup g;
      auto coupled = make_congestion_controller(alg, kMds, with_group ? &g : nullptr);
      NewReno reno(kMds);
      Driver dc{*coupled}, dr{reno};
      // A clocked round in which the flight's first packet is lost.
      auto lossy = [](Driver& d) {
        if (d.flight.empty()) d.flight = d.send_window();
        d.now += d.rtt_value;
        d.lose({d.flight.front()});
        d.ack(std::vector<SentPacket>(d.flight.begin() + 1, d.flight.end()));
        d.flight.clear();
        d.now += 1ms;
      };
      for (int i = 0; i < 40; ++i) {
        if (i % 13 == 5) {
          lossy(dc);
          lossy(dr);
        } else {
          dc.clocked_round();
          dr.clocked_round();
        }
        ASSERT_EQ(coupled->cwnd(), reno.cwnd()) << coupled->name() << " round " << i;
        ASSERT_EQ(coupled->ssthresh(), reno.ssthresh());
        ASSERT_EQ(coupled->in_recovery(), reno.in_recovery());
      }
      EXPECT_GT(reno.cwnd(), reno.ssthresh());  // it grew in congestion avoidance
    }
  }
}

TEST(CoupledCc, PersistentCongestionAndResetLikeNewReno) {
  CoupledGroup g;
  CoupledController cc(CcAlgorithm::kOlia, kMds, &g);
  Driver d{cc};
  d.round_trip();
  auto sent = d.send_window();
  d.now += 1s;
  d.lose(sent, true);
  EXPECT_EQ(cc.cwnd(), minimum_window(kMds));
  EXPECT_EQ(cc.coupled_state().cwnd, minimum_window(kMds));
  cc.reset();
  EXPECT_EQ(cc.cwnd(), initial_window(kMds));
  EXPECT_EQ(cc.coupled_state().cwnd, initial_window(kMds));
  EXPECT_FALSE(cc.coupled_state().has_rtt);
}

TEST(CoupledCc, OliaNegativeGainNeverGoesBelowTheMinimumWindow) {
  CoupledGroup g;
  // The best path (huge inter-loss distance, small window) makes ours, the largest, give
  // window away: alpha = -1/2, and its own term (100/(100+20))^2 = 25/36 leaves g ≈ 0.19.
  CoupledPathState best = member(2, 100ms, 0, 100'000'000);
  g.join(&best);
  CoupledController cc(CcAlgorithm::kOlia, kMds, &g);
  Driver d{cc};
  d.round_trip();
  d.round_trip_with_loss();  // cwnd 10 packets
  best.last_ack = d.now;
  EXPECT_NEAR(cc.current_gain(d.now), 25.0 / 36 - 0.5, 1e-9);
  // Driven by a far better, larger-window-free path the gain can go negative; the window
  // shrinks by at most a datagram per window acknowledged and stops at the minimum.
  best = member(1, 1ms, 0, 100'000'000);
  best.last_ack = d.now;
  EXPECT_LT(cc.current_gain(d.now), 0.0);
  for (int i = 0; i < 50; ++i) {
    best.last_ack = d.now + d.rtt_value;  // acknowledged all along (its RTT is 1 ms)
    d.round_trip();
    EXPECT_FALSE(cc.in_slow_start());
    EXPECT_GE(cc.cwnd(), minimum_window(kMds));
  }
  EXPECT_EQ(cc.cwnd(), minimum_window(kMds));
}

}  // namespace
}  // namespace quic

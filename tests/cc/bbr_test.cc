// BBR's state machine and model against the small bottleneck model of bottleneck_link.h.
#include "cc/bbr.h"

#include <gtest/gtest.h>

#include <vector>

#include "bottleneck_link.h"
#include "cc_driver.h"  // kMds, t0

namespace quic {
namespace {


struct Transition {
  Instant at;
  Bbr::State state;
};

// The shared bottleneck model, recording BBR's state changes.
struct BbrLink : BottleneckLink {
  std::vector<Transition> transitions;

  BbrLink(Bbr& bbr, double rate, Duration round_trip) : BottleneckLink{bbr, rate, round_trip} {
    observer = [this, &bbr] {
      if (transitions.empty() || transitions.back().state != bbr.state()) {
        transitions.push_back({now, bbr.state()});
      }
    };
  }
  BbrLink(const BbrLink&) = delete;
  BbrLink& operator=(const BbrLink&) = delete;

  bool visited(Bbr::State s) const {
    for (const auto& t : transitions) {
      if (t.state == s) return true;
    }
    return false;
  }
  std::vector<Instant> entries(Bbr::State s) const {
    std::vector<Instant> out;
    for (const auto& t : transitions) {
      if (t.state == s) out.push_back(t.at);
    }
    return out;
  }
};

TEST(Bbr, NameFactoryAndInitialState) {
  EXPECT_EQ(parse_cc_name("bbr"), CcAlgorithm::kBbr);
  EXPECT_EQ(parse_cc_name("BBR"), CcAlgorithm::kBbr);
  auto cc = make_congestion_controller(CcAlgorithm::kBbr, kMds);
  EXPECT_STREQ(cc->name(), "bbr");
  EXPECT_EQ(cc->cwnd(), initial_window(kMds));
  EXPECT_EQ(cc->ssthresh(), UINT64_MAX);
  EXPECT_TRUE(cc->in_slow_start());
  EXPECT_FALSE(cc->in_recovery());
  // Before any RTT sample: the initial window at the startup gain over 1 ms (not 333 ms).
  RttEstimator rtt;
  EXPECT_GT(cc->pacing_rate_bps(rtt), 100'000'000u);
}

// 20 Mbit/s, 40 ms: Startup finds the rate within a few rounds, Drain empties the queue it
// built, ProbeBW follows; the model matches the link.
TEST(Bbr, StartupDrainProbeBw) {
  Bbr cc(kMds);
  BbrLink link{cc, 2.5e6, 40ms};
  link.run_for(3s);
  ASSERT_GE(link.transitions.size(), 3u);
  EXPECT_EQ(link.transitions[0].state, Bbr::State::kStartup);
  EXPECT_EQ(link.transitions[1].state, Bbr::State::kDrain);
  // ProbeBW starts in Down; with the queue already drained it may cruise on the same ACK.
  EXPECT_TRUE(link.transitions[2].state == Bbr::State::kProbeBwDown ||
              link.transitions[2].state == Bbr::State::kProbeBwCruise);
  EXPECT_LT(link.transitions[1].at - t0, 600ms);  // ~10 rounds of 40 ms at most
  EXPECT_TRUE(cc.full_bw_reached());
  EXPECT_FALSE(cc.in_slow_start());
  EXPECT_NEAR(cc.max_bw(), 2.5e6, 0.03 * 2.5e6);
  EXPECT_GE(cc.min_rtt(), 40ms);
  EXPECT_LE(cc.min_rtt(), 42ms);
  // Window: cwnd_gain (≤ 2.25) x BDP plus the quantisation budget, never much more.
  EXPECT_LE(static_cast<double>(cc.cwnd()), 2.25 * link.bdp_bytes() + 3 * 2500 + 20 * kMds);
  EXPECT_GE(static_cast<double>(cc.cwnd()), link.bdp_bytes());
  // Pacing at the estimate (1% margin) in cruise drives the pacer.
  link.run_for(200ms);
  if (cc.state() == Bbr::State::kProbeBwCruise) {
    EXPECT_NEAR(static_cast<double>(cc.pacing_rate_bps(link.rtt_est)), 0.99 * cc.bw() * 8,
                0.001 * cc.bw() * 8);
  }
  // The link was kept busy: at least 90% of its capacity delivered over the 3.2 s.
  EXPECT_GE(static_cast<double>(link.acked_bytes), 0.9 * 2.5e6 * 3.2);
}

// ProbeBW cycles: Refill -> Up -> Down -> Cruise, the next probe 2-3 s after the cycle began
// (63 rounds of 40 ms, 2.5 s, is the Reno-coexistence bound); leaving ProbeRTT begins a cycle.
TEST(Bbr, ProbeBwCycle) {
  Bbr cc(kMds);
  BbrLink link{cc, 2.5e6, 40ms};
  link.run_for(20s);
  size_t refills = 0;
  Instant cycle_start = kNever;
  for (size_t i = 1; i < link.transitions.size(); ++i) {
    const auto& prev = link.transitions[i - 1];
    const auto& t = link.transitions[i];
    bool begins = t.state == Bbr::State::kProbeBwDown ||
                  (t.state == Bbr::State::kProbeBwCruise && prev.state != Bbr::State::kProbeBwDown);
    if (begins) cycle_start = t.at;
    if (t.state != Bbr::State::kProbeBwRefill) continue;
    ++refills;
    ASSERT_NE(cycle_start, kNever);
    EXPECT_GE(t.at - cycle_start, 1900ms) << i;
    EXPECT_LE(t.at - cycle_start, 3000ms) << i;
  }
  EXPECT_GE(refills, 4u);
  // The phase order after a refill.
  bool ordered = false;
  for (size_t i = 0; i + 3 < link.transitions.size(); ++i) {
    if (link.transitions[i].state == Bbr::State::kProbeBwRefill &&
        link.transitions[i + 1].state == Bbr::State::kProbeBwUp &&
        link.transitions[i + 2].state == Bbr::State::kProbeBwDown &&
        link.transitions[i + 3].state == Bbr::State::kProbeBwCruise) {
      ordered = true;
    }
  }
  EXPECT_TRUE(ordered);
  EXPECT_NEAR(cc.max_bw(), 2.5e6, 0.03 * 2.5e6);
}

// No lower RTT sample for 5 s: ProbeRTT cuts the window to half a BDP for at least 200 ms and
// a round, then returns to ProbeBW.
TEST(Bbr, ProbeRttEvery5Seconds) {
  Bbr cc(kMds);
  BbrLink link{cc, 2.5e6, 40ms};
  uint64_t max_cwnd_in_probe_rtt = 0;
  Instant until = t0 + 12s;
  while (link.now < until) {
    link.run_for(1ms);
    if (cc.state() == Bbr::State::kProbeRtt) {
      max_cwnd_in_probe_rtt = std::max(max_cwnd_in_probe_rtt, cc.cwnd());
    }
  }
  auto entries = link.entries(Bbr::State::kProbeRtt);
  ASSERT_GE(entries.size(), 1u);
  EXPECT_GE(entries[0] - t0, 5s);
  EXPECT_LE(entries[0] - t0, 6s);
  EXPECT_LE(static_cast<double>(max_cwnd_in_probe_rtt),
            std::max(0.5 * link.bdp_bytes(), 4.0 * kMds) + kMds);
  // How long it lasted: from entry to the next state.
  for (size_t i = 0; i + 1 < link.transitions.size(); ++i) {
    if (link.transitions[i].state != Bbr::State::kProbeRtt) continue;
    Duration d = link.transitions[i + 1].at - link.transitions[i].at;
    EXPECT_GE(d, 200ms);
    EXPECT_LE(d, 200ms + 4 * 40ms);
    EXPECT_EQ(link.transitions[i + 1].state, Bbr::State::kProbeBwCruise);
  }
}

// 1% random (non-congestive) loss: the bandwidth model and the sending rate hold.
TEST(Bbr, RandomLossKeepsBandwidth) {
  Bbr cc(kMds);
  BbrLink link{cc, 25e6 / 8, 30ms};
  uint64_t x = 12345;
  link.drop = [&x](uint64_t) {  // deterministic 1% Bernoulli
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % 100 == 0;
  };
  link.run_for(2s);
  uint64_t acked_before = link.acked_bytes;
  link.run_for(10s);
  EXPECT_GT(link.lost_packets, 100u);
  double rate = static_cast<double>(link.acked_bytes - acked_before) / 10.0;
  EXPECT_GE(rate, 0.85 * link.rate_Bps);
  EXPECT_NEAR(cc.max_bw(), link.rate_Bps, 0.05 * link.rate_Bps);
}

// Heavy loss is congestion: 5% loss takes Startup out on loss (inflight_longterm set) and
// keeps the short-term bounds below the maximum.
TEST(Bbr, HeavyLossBoundsInflight) {
  Bbr cc(kMds);
  BbrLink link{cc, 2.5e6, 40ms};
  link.drop = [](uint64_t pn) { return pn % 20 == 7; };
  link.run_for(1s);
  EXPECT_TRUE(cc.full_bw_reached());
  EXPECT_NE(cc.inflight_longterm(), UINT64_MAX);
  link.run_for(3s);
  EXPECT_LT(cc.bw_shortterm(), cc.max_bw() + 1);
  EXPECT_NE(cc.inflight_shortterm(), UINT64_MAX);
}

// A shallow queue (10 packets on a 83-packet BDP): probing overflows it, the loss rate passes
// the threshold, and the upper bound keeps later probes near the BDP + queue.
TEST(Bbr, ShallowQueueLongTermBound) {
  Bbr cc(kMds);
  BbrLink link{cc, 2.5e6, 40ms};
  link.queue_packets = 10;
  link.run_for(2s);
  uint64_t lost_before = link.lost_packets;
  uint64_t sent_before = link.next_pn;
  link.run_for(10s);
  EXPECT_NE(cc.inflight_longterm(), UINT64_MAX);
  EXPECT_LE(static_cast<double>(cc.inflight_longterm()), 2.0 * link.bdp_bytes());
  double loss = static_cast<double>(link.lost_packets - lost_before) /
                static_cast<double>(link.next_pn - sent_before);
  EXPECT_LT(loss, 0.01);
  EXPECT_GE(static_cast<double>(link.acked_bytes), 0.85 * 2.5e6 * 12);
}

// App-limited samples (a sender with one packet per 10 ms, a fifth of the link) neither lower
// the bandwidth estimate nor advance its filter.
TEST(Bbr, AppLimitedSamplesKeepTheEstimate) {
  Bbr cc(kMds);
  BbrLink link{cc, 2.5e6, 40ms};
  link.run_for(2s);
  double before = cc.max_bw();
  link.app_interval = 2400us;  // 0.5 MB/s
  link.run_for(8s);
  EXPECT_TRUE(cc.sampler().last().is_app_limited);
  EXPECT_NEAR(cc.max_bw(), before, 0.01 * before);
  EXPECT_GT(cc.max_bw(), 2.4e6);
}

TEST(Bbr, PersistentCongestionAndReset) {
  Bbr cc(kMds);
  BbrLink link{cc, 2.5e6, 40ms};
  link.run_for(2s);
  cc.on_packets_lost(link.now, {}, true, 0);
  EXPECT_EQ(cc.cwnd(), 4u * kMds);
  ASSERT_TRUE(cc.last_event().has_value());
  EXPECT_EQ(cc.last_event()->kind, CongestionEvent::Kind::kPersistentCongestion);
  EXPECT_GT(cc.last_event()->cwnd_before, 4u * kMds);
  // The model survives: the window regrows by what is acknowledged.
  link.net.clear();
  link.in_flight = 0;
  link.link_free = link.now;
  link.run_for(1s);
  EXPECT_GE(static_cast<double>(cc.cwnd()), link.bdp_bytes());
  cc.reset();
  EXPECT_EQ(cc.state(), Bbr::State::kStartup);
  EXPECT_EQ(cc.cwnd(), initial_window(kMds));
  EXPECT_EQ(cc.max_bw(), 0.0);
  EXPECT_FALSE(cc.last_event().has_value());
}

TEST(Bbr, MtuProbeLossIsNoCongestion) {
  Bbr cc(kMds);
  cc.on_packet_sent(t0, 0, 1500, 1500);
  SentPacket probe{0, t0, 1500, true, true, true};
  cc.on_packets_lost(t0 + 50ms, std::vector<SentPacket>{probe}, false, 0);
  EXPECT_EQ(cc.sampler().lost(), 0u);
  EXPECT_EQ(cc.sampler().records(), 0u);
  cc.on_mtu_changed(1400);
  EXPECT_EQ(cc.cwnd(), initial_window(1400));
}

// ECN-CE is congestion even without loss: the round's short-term bounds take the 0.7 cut.
TEST(Bbr, EcnCeCutsTheShortTermBounds) {
  Bbr cc(kMds);
  BbrLink link{cc, 2.5e6, 40ms};
  link.run_for(1500ms);  // cruising (the next probe is ~2.5 s after 0.56 s)
  while (cc.state() != Bbr::State::kProbeBwCruise) link.run_for(5ms);
  EXPECT_EQ(cc.inflight_shortterm(), UINT64_MAX);
  cc.on_ecn_ce(link.now, link.now);
  link.run_for(100ms);  // past the end of the round
  EXPECT_EQ(cc.state(), Bbr::State::kProbeBwCruise);
  EXPECT_LE(cc.bw_shortterm(), cc.max_bw());
  EXPECT_NE(cc.inflight_shortterm(), UINT64_MAX);
  ASSERT_TRUE(cc.last_event().has_value());
  EXPECT_EQ(cc.last_event()->kind, CongestionEvent::Kind::kEcnCe);
}

}  // namespace
}  // namespace quic

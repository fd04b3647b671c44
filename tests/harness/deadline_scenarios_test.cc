// The deadline scheduler and DATAGRAM duplication in virtual time (mp_deadline_scenarios.cc):
// the runs are deterministic, so the figures are asserted with tight bounds.
#include <gtest/gtest.h>

#include <algorithm>

#include "harness/mp_scenario.h"

namespace harness {
namespace {

MpResult run(const char* name, quic::SchedulerKind k, uint64_t bytes = 0) {
  auto s = named_mp_scenario(name);
  EXPECT_TRUE(s.has_value()) << name;
  if (!s) return {};
  s->scheduler = k;
  if (bytes > 0) s->bytes = bytes;
  MpResult r = run_mp_scenario(*s);
  std::printf("%s/%s: ok=%d goodput=%.1f Mbit/s datagrams sent=%lu received=%lu on-time=%lu "
              "duplicates=%lu expired=%lu copies=%lu\n",
              name, std::string(quic::scheduler_name(k)).c_str(), r.ok, r.goodput_bps / 1e6,
              static_cast<unsigned long>(r.datagrams_sent),
              static_cast<unsigned long>(r.datagrams_received),
              static_cast<unsigned long>(r.datagrams_on_time),
              static_cast<unsigned long>(r.datagram_duplicates),
              static_cast<unsigned long>(r.datagrams_expired),
              static_cast<unsigned long>(r.datagram_copies_sent));
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.bytes, s->bytes);
  EXPECT_EQ(r.datagrams_corrupt, 0u);
  return r;
}

uint64_t datagrams_on_paths(const MpResult& r) {
  uint64_t n = 0;
  for (const auto& p : r.paths) n += p.datagrams;
  return n;
}

// LTE + satellite: the deadline scheduler keeps the real-time flow on LTE (every datagram
// within 150 ms) while bulk data still fills both links; minRTT and round robin put some of
// it on the satellite whenever LTE's window is full, and those arrive 300 ms late.
TEST(DeadlineScenario, DeadlineSchedulerMeetsEveryDeadlineOthersMissSome) {
  MpResult dl = run("deadline", quic::SchedulerKind::kDeadline);
  MpResult minrtt = run("deadline", quic::SchedulerKind::kMinRtt);
  MpResult rr = run("deadline", quic::SchedulerKind::kRoundRobin);
  ASSERT_EQ(dl.datagrams_sent, 250u);
  EXPECT_EQ(dl.datagrams_on_time, dl.datagrams_sent);
  EXPECT_LT(dl.datagram_worst_latency, std::chrono::milliseconds(100));
  ASSERT_EQ(dl.paths.size(), 2u);
  EXPECT_EQ(dl.paths[1].datagrams, 0u);  // nothing real-time on the satellite
  EXPECT_EQ(dl.datagrams_expired, 0u);
  for (const MpResult* r : {&minrtt, &rr}) {
    EXPECT_EQ(r->datagrams_received, r->datagrams_sent);
    EXPECT_LT(r->datagrams_on_time, r->datagrams_sent * 95 / 100);
    EXPECT_GT(r->datagram_worst_latency, std::chrono::milliseconds(300));
  }
  // Holding deadline data for LTE costs the bulk transfer nothing measurable.
  EXPECT_GE(dl.goodput_bps, 0.97 * minrtt.goodput_bps);
  EXPECT_GT(dl.paths[1].stream_bytes, dl.paths[0].stream_bytes);  // the satellite still works
}

// The same flow with one stream per item and a stream deadline: stream data cannot be
// dropped, so the only lever is the path; the deadline scheduler still meets every deadline.
TEST(DeadlineScenario, StreamDeadlinesAreMetToo) {
  MpResult dl = run("deadline-streams", quic::SchedulerKind::kDeadline);
  MpResult minrtt = run("deadline-streams", quic::SchedulerKind::kMinRtt);
  ASSERT_EQ(dl.datagrams_sent, 250u);
  EXPECT_EQ(dl.datagrams_received, dl.datagrams_sent);
  EXPECT_EQ(dl.datagrams_on_time, dl.datagrams_sent);
  EXPECT_LT(dl.datagram_worst_latency, std::chrono::milliseconds(150));
  EXPECT_EQ(minrtt.datagrams_received, minrtt.datagrams_sent);
  EXPECT_LT(minrtt.datagrams_on_time, minrtt.datagrams_sent * 95 / 100);
  EXPECT_GE(dl.goodput_bps, 0.97 * minrtt.goodput_bps);
}

// With the faster link blackholed mid-flow, datagrams already sent on it are gone, except
// under the redundant scheduler, which sent a copy of each on the other path. Copies are
// counted per path and the receiver sees them as duplicates (RFC 9221 gives no identifier).
TEST(DeadlineScenario, RedundantDeliversEveryDatagramThroughABlackhole) {
  MpResult red = run("datagrams-redundant", quic::SchedulerKind::kRedundant);
  MpResult minrtt = run("datagrams-redundant", quic::SchedulerKind::kMinRtt);
  ASSERT_EQ(red.datagrams_sent, 2000u);
  EXPECT_EQ(red.datagrams_received, red.datagrams_sent);
  EXPECT_GT(red.datagram_copies_sent, 500u);
  EXPECT_GT(red.datagram_duplicates, 500u);
  EXPECT_LE(red.datagram_duplicates, red.datagram_copies_sent);
  EXPECT_EQ(datagrams_on_paths(red), red.datagrams_sent + red.datagram_copies_sent);
  EXPECT_LT(minrtt.datagrams_received, minrtt.datagrams_sent);
  EXPECT_EQ(minrtt.datagram_copies_sent, 0u);
  EXPECT_EQ(minrtt.datagram_duplicates, 0u);
  EXPECT_EQ(datagrams_on_paths(minrtt), minrtt.datagrams_sent);
}

// The deadline scheduler delivers every byte in every multipath scenario (the others are
// checked in multipath_scenarios_test.cc).
// Under AddressSanitizer (ten to twenty times slower) each transfer is cut to 4 MiB, as
// EveryScheduler does in multipath_scenarios_test.cc.
#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kEveryScenarioBytes = 4u << 20;
#else
constexpr uint64_t kEveryScenarioBytes = 24u << 20;
#endif

TEST(DeadlineScenario, DeadlineSchedulerDeliversEveryByteInEveryScenario) {
  for (const auto& name : mp_scenario_names()) {
    const uint64_t bytes = named_mp_scenario(name)->bytes;
    run(name.c_str(), quic::SchedulerKind::kDeadline, std::min(bytes, kEveryScenarioBytes));
  }
}

}  // namespace
}  // namespace harness

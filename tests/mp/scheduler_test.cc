#include "mp/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace quic {
namespace {

using namespace std::chrono_literals;

PathCandidate cand(uint64_t id, Duration srtt, uint64_t cwnd, bool can_send, double w = 1) {
  PathCandidate c;
  c.id = id;
  c.srtt = srtt;
  c.cwnd = cwnd;
  c.can_send = can_send;
  c.weight = w;
  return c;
}

TEST(MinRttScheduler, PicksLowestRttWithRoomAndSpillsOver) {
  auto s = make_scheduler(SchedulerKind::kMinRtt);
  std::vector<PathCandidate> p{cand(0, 60ms, 1e5, true), cand(1, 20ms, 1e5, true)};
  EXPECT_EQ(s->select(p, 0), 1u);
  p[1].can_send = false;  // the fast path's window is full: spill over to the slow one
  EXPECT_EQ(s->select(p, 0), 0u);
  p[0].can_send = false;
  EXPECT_FALSE(s->select(p, 0).has_value());
}

TEST(RoundRobinScheduler, CyclesThroughPathsWithRoom) {
  auto s = make_scheduler(SchedulerKind::kRoundRobin);
  std::vector<PathCandidate> p{cand(0, 10ms, 1e5, true), cand(1, 10ms, 1e5, true),
                               cand(2, 10ms, 1e5, true)};
  std::vector<uint64_t> order;
  for (int i = 0; i < 6; ++i) order.push_back(p[*s->select(p, 0)].id);
  EXPECT_EQ(order, (std::vector<uint64_t>{0, 1, 2, 0, 1, 2}));
  p[1].can_send = false;
  EXPECT_EQ(p[*s->select(p, 0)].id, 0u);
  EXPECT_EQ(p[*s->select(p, 0)].id, 2u);
}

TEST(WeightedScheduler, SplitsBytesByRateTimesWeight) {
  auto s = make_scheduler(SchedulerKind::kWeighted);
  // Equal RTTs, cwnd 3:1, so rates 3:1; path 1 also has user weight 1 (path 0 too).
  std::vector<PathCandidate> p{cand(0, 20ms, 300000, true), cand(1, 20ms, 100000, true)};
  std::map<uint64_t, uint64_t> bytes;
  for (int i = 0; i < 4000; ++i) {
    auto pick = s->select(p, 0);
    ASSERT_TRUE(pick);
    bytes[p[*pick].id] += 1200;
    s->on_sent(p[*pick].id, 1200);
  }
  double share0 = static_cast<double>(bytes[0]) / static_cast<double>(bytes[0] + bytes[1]);
  EXPECT_NEAR(share0, 0.05 + 0.90 * 0.75, 0.01);  // 5% floor each, the rest 3:1
}

TEST(WeightedScheduler, EveryPathGetsAtLeastFivePercent) {
  auto s = make_scheduler(SchedulerKind::kWeighted);
  std::vector<PathCandidate> p{cand(0, 10ms, 1000000, true), cand(1, 500ms, 12000, true)};
  std::map<uint64_t, uint64_t> bytes;
  for (int i = 0; i < 4000; ++i) {
    auto pick = *s->select(p, 0);
    bytes[p[pick].id] += 1200;
    s->on_sent(p[pick].id, 1200);
  }
  EXPECT_GE(static_cast<double>(bytes[1]) / static_cast<double>(bytes[0] + bytes[1]), 0.045);
}

TEST(EcfScheduler, WaitsForTheFastPathWhenItFinishesSooner) {
  auto s = make_scheduler(SchedulerKind::kEcf);
  std::vector<PathCandidate> p{cand(0, 10ms, 100000, false), cand(1, 600ms, 100000, true)};
  // 50 kB left: the fast path finishes it in (1 + 0.5) x 10 ms, long before one slow RTT.
  EXPECT_FALSE(s->select(p, 50000).has_value());
  // 100 MB left: waiting for the fast path takes longer than using both.
  EXPECT_EQ(s->select(p, 100000000), 1u);
  p[0].can_send = true;
  EXPECT_EQ(s->select(p, 50000), 0u);
}

TEST(BlestScheduler, SkipsSlowPathWhoseDataWouldBlockTheFastOne) {
  auto s = make_scheduler(SchedulerKind::kBlest);
  std::vector<PathCandidate> p{cand(0, 10ms, 100000, false), cand(1, 100ms, 100000, true)};
  // In one slow RTT the fast path sends ~9 x its window: a smaller backlog waits for it.
  EXPECT_FALSE(s->select(p, 500000).has_value());
  EXPECT_EQ(s->select(p, 5000000), 1u);
}

TEST(SchedulerNames, RoundTrip) {
  for (auto k : {SchedulerKind::kMinRtt, SchedulerKind::kRoundRobin, SchedulerKind::kWeighted,
                 SchedulerKind::kEcf, SchedulerKind::kBlest, SchedulerKind::kRedundant}) {
    EXPECT_EQ(parse_scheduler(scheduler_name(k)), k);
    EXPECT_EQ(make_scheduler(k)->kind(), k);
  }
  EXPECT_FALSE(parse_scheduler("fastest").has_value());
}

}  // namespace
}  // namespace quic

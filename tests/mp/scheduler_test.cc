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
  // The turn passes with a packet sent (on_sent), not with a question (select).
  auto next = [&] {
    uint64_t id = p[*s->select(p, 0)].id;
    s->on_sent(id, 1200);
    return id;
  };
  std::vector<uint64_t> order;
  for (int i = 0; i < 6; ++i) order.push_back(next());
  EXPECT_EQ(order, (std::vector<uint64_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(p[*s->select(p, 0)].id, 0u);
  EXPECT_EQ(p[*s->select(p, 0)].id, 0u);  // asking twice without sending: the same answer
  p[1].can_send = false;
  EXPECT_EQ(next(), 0u);
  EXPECT_EQ(next(), 2u);
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

// LTE-like and satellite-like paths (kDeadline inputs).
PathCandidate rt_path(uint64_t id, Duration srtt, Duration min_rtt, uint64_t cwnd,
                      uint64_t in_flight) {
  PathCandidate c = cand(id, srtt, cwnd, in_flight + 1200 <= cwnd);
  c.min_rtt = min_rtt;
  c.in_flight = in_flight;
  return c;
}

TEST(EstimatedArrival, OneWayDelayPlusWindowWaitPlusSerialisation) {
  // Empty window: one-way delay = srtt - min_rtt/2 (the queue is on the data direction) plus
  // 1000 bytes at cwnd/srtt = 100 kB / 100 ms = 1 MB/s: 1 ms.
  PathCandidate p = rt_path(0, 100ms, 40ms, 100000, 0);
  EXPECT_EQ(estimated_arrival(p, 1000), 80ms + 1ms);
  // Full window: the 1000 bytes past cwnd drain at 1 MB/s first.
  p.in_flight = 100000;
  EXPECT_EQ(estimated_arrival(p, 1000), 80ms + 1ms + 1ms);
  // No min_rtt sample: half of srtt.
  p = rt_path(0, 100ms, 0ms, 100000, 0);
  EXPECT_EQ(estimated_arrival(p, 1000), 50ms + 1ms);
}

TEST(DeadlineScheduler, WaitsForTheOnlyPathThatMeetsTheDeadline) {
  auto s = make_scheduler(SchedulerKind::kDeadline);
  EXPECT_TRUE(s->deadline_aware());
  EXPECT_FALSE(s->duplicates());
  // LTE 40 ms (window full), satellite 600 ms (room): a 150 ms deadline waits for LTE.
  std::vector<PathCandidate> p{rt_path(0, 60ms, 40ms, 100000, 100000),
                               rt_path(1, 620ms, 600ms, 4000000, 0)};
  ASSERT_FALSE(p[0].can_send);
  ASSERT_TRUE(p[1].can_send);
  EXPECT_EQ(s->select_deadline(p, {150ms, 1000}), 0u);
  // Without a deadline the data goes like minRTT: the satellite is the path with room.
  EXPECT_EQ(s->select(p, 0), 1u);
  // A one-second deadline is met by both: the one that can send now wins.
  EXPECT_EQ(s->select_deadline(p, {1s, 1000}), 1u);
}

TEST(DeadlineScheduler, AmongPathsMeetingItPrefersMostSpareWindow) {
  auto s = make_scheduler(SchedulerKind::kDeadline);
  // Both meet 150 ms and can send; path 1 is slower but has more room left.
  std::vector<PathCandidate> p{rt_path(0, 30ms, 20ms, 100000, 90000),
                               rt_path(1, 60ms, 50ms, 200000, 10000)};
  EXPECT_EQ(s->select_deadline(p, {150ms, 1000}), 1u);
  // One-way 20 ms vs 35 ms: a 30 ms deadline only the fast path meets.
  EXPECT_EQ(s->select_deadline(p, {30ms, 1000}), 0u);
}

TEST(DeadlineScheduler, WhenNoPathMeetsItTheEarliestArrivalWins) {
  auto s = make_scheduler(SchedulerKind::kDeadline);
  std::vector<PathCandidate> p{rt_path(0, 620ms, 600ms, 4000000, 0),
                               rt_path(1, 60ms, 40ms, 100000, 100000)};
  EXPECT_EQ(s->select_deadline(p, {20ms, 1000}), 1u);
  EXPECT_EQ(s->select_deadline(p, {-5ms, 1000}), 1u);  // already late: least lateness
  // The rttvar margin counts: 40 ms one-way + 1 ms meets 45 ms, not with 10 ms of variance.
  std::vector<PathCandidate> q{rt_path(0, 60ms, 40ms, 100000, 0),
                               rt_path(1, 620ms, 600ms, 4000000, 0)};
  EXPECT_EQ(s->select_deadline(q, {45ms, 1000}), 0u);
  q[0].rttvar = 10ms;
  q[1].srtt = 30ms;  // now the only path meeting 45 ms
  q[1].min_rtt = 30ms;
  EXPECT_EQ(s->select_deadline(q, {45ms, 1000}), 1u);
}

TEST(DeadlineScheduler, OtherSchedulersHaveNoDeadlineOpinion) {
  std::vector<PathCandidate> p{rt_path(0, 60ms, 40ms, 100000, 0)};
  for (auto k : {SchedulerKind::kMinRtt, SchedulerKind::kRedundant, SchedulerKind::kEcf}) {
    auto s = make_scheduler(k);
    EXPECT_FALSE(s->deadline_aware());
    EXPECT_FALSE(s->select_deadline(p, {150ms, 1000}).has_value());
  }
}

TEST(SchedulerNames, RoundTrip) {
  for (auto k : {SchedulerKind::kMinRtt, SchedulerKind::kRoundRobin, SchedulerKind::kWeighted,
                 SchedulerKind::kEcf, SchedulerKind::kBlest, SchedulerKind::kRedundant,
                 SchedulerKind::kDeadline}) {
    EXPECT_EQ(parse_scheduler(scheduler_name(k)), k);
    EXPECT_EQ(make_scheduler(k)->kind(), k);
  }
  EXPECT_FALSE(parse_scheduler("fastest").has_value());
}

}  // namespace
}  // namespace quic

// The failover figure users feel (harness/gap_meter.h) and the seed summary (harness/spread.h).
#include <gtest/gtest.h>

#include "harness/gap_meter.h"
#include "harness/spread.h"

namespace harness {
namespace {

using namespace std::chrono_literals;

Instant at(Duration d) { return Instant{} + d; }

TEST(GapMeter, CountsOnlyGapsEndingAfterTheFailure) {
  GapMeter m;
  m.set_from(at(1000ms));
  m.on_delivery(at(0ms));
  m.on_delivery(at(500ms));   // a 500 ms gap before the failure: not counted
  m.on_delivery(at(1010ms));  // spans the failure: counted (510 ms)
  m.on_delivery(at(1100ms));
  EXPECT_EQ(m.longest(), 510ms);
}

TEST(GapMeter, NothingCountedWithoutAFailure) {
  GapMeter m;
  m.on_delivery(at(0ms));
  m.on_delivery(at(900ms));
  EXPECT_EQ(m.longest(), 0ms);
}

TEST(GapMeter, AGapIsCutAtAWindowWithEveryLinkDown) {
  GapMeter m;
  m.set_from(at(1000ms));
  m.set_dead_windows({{at(2000ms), at(4000ms)}});
  m.on_delivery(at(1000ms));
  m.on_delivery(at(1960ms));  // 960 ms, all of it while a link was up
  m.on_delivery(at(4150ms));  // 40 ms before the window, 150 ms after: the longest piece
  EXPECT_EQ(m.longest(), 960ms);
  GapMeter n;
  n.set_from(at(1000ms));
  n.set_dead_windows({{at(2000ms), at(4000ms)}, {at(5000ms), quic::kNever}});
  n.on_delivery(at(1960ms));
  n.on_delivery(at(4150ms));
  n.on_delivery(at(4990ms));  // 840 ms
  EXPECT_EQ(n.longest(), 840ms);
}

TEST(Spread, MinMedianMax) {
  Spread s = spread_of({3, 1, 2});
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.median, 2);
  EXPECT_EQ(s.max, 3);
  s = spread_of({4, 1, 3, 2});  // even count: the mean of the middle two
  EXPECT_EQ(s.median, 2.5);
  s = spread_of({});
  EXPECT_EQ(s.max, 0);
}

}  // namespace
}  // namespace harness

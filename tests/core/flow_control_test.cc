#include "core/flow_control.h"

#include <gtest/gtest.h>

namespace quic {
namespace {

constexpr Instant t0 = instant_from_ns(1'000'000'000);

TEST(SendCredit, RaiseIgnoresSmallerLimits) {
  SendCredit c(100);
  EXPECT_FALSE(c.raise(50));
  EXPECT_FALSE(c.raise(100));
  EXPECT_EQ(c.limit(), 100u);
  EXPECT_TRUE(c.raise(200));
  EXPECT_EQ(c.available(), 200u);
}

TEST(SendCredit, BlockedIsReportedOncePerLimit) {
  SendCredit c(100);
  EXPECT_FALSE(c.on_blocked());  // credit left: not blocked
  c.consume(100);
  EXPECT_EQ(c.on_blocked(), 100u);
  EXPECT_FALSE(c.on_blocked());  // already reported at 100
  EXPECT_TRUE(c.blocked_at(100));
  c.raise(150);
  EXPECT_FALSE(c.blocked_at(100));
  c.consume(50);
  EXPECT_EQ(c.on_blocked(), 150u);
}

TEST(ReceiveWindow, UpdatesAfterHalfTheWindowIsConsumed) {
  ReceiveWindow w(1000, 1000);
  w.on_consumed(499);
  EXPECT_FALSE(w.should_update());
  EXPECT_FALSE(w.poll_update(t0, 10ms));
  w.on_consumed(501);
  EXPECT_TRUE(w.should_update());
  EXPECT_EQ(w.poll_update(t0, 10ms), 1501u);
  EXPECT_FALSE(w.should_update());
  EXPECT_EQ(w.window(), 1000u);  // capped at max: no growth
}

TEST(ReceiveWindow, AutoTuningDoublesWhenConsumedWithinTwoRtts) {
  ReceiveWindow w(1000, 4000);
  w.on_consumed(600);
  ASSERT_EQ(w.poll_update(t0, 10ms), 1600u);  // first update: no previous time to compare
  w.on_consumed(1200);
  // The previous advertisement was used up 15 ms later, within 2 RTTs (20 ms).
  EXPECT_EQ(w.poll_update(t0 + 15ms, 10ms), 1200u + 2000u);
  EXPECT_EQ(w.window(), 2000u);
  w.on_consumed(2300);
  EXPECT_EQ(w.poll_update(t0 + 25ms, 10ms), 2300u + 4000u);
  w.on_consumed(4400);
  EXPECT_EQ(w.poll_update(t0 + 30ms, 10ms), 4400u + 4000u);  // capped at max_window
  EXPECT_EQ(w.window(), 4000u);
}

TEST(ReceiveWindow, AutoTuningDoesNotGrowWhenConsumedSlowly) {
  ReceiveWindow w(1000, 16000);
  w.on_consumed(600);
  ASSERT_TRUE(w.poll_update(t0, 10ms));
  w.on_consumed(1200);
  EXPECT_EQ(w.poll_update(t0 + 500ms, 10ms), 2200u);
  EXPECT_EQ(w.window(), 1000u);
}

TEST(ReceiveWindow, ConsumedNeverShrinks) {
  ReceiveWindow w(1000, 1000);
  w.on_consumed(700);
  w.on_consumed(100);
  EXPECT_EQ(w.consumed(), 700u);
}

}  // namespace
}  // namespace quic

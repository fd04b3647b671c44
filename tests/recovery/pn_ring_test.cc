#include "recovery/pn_ring.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>

namespace quic {
namespace {

std::vector<uint64_t> live(PnRing<uint64_t>& r) {
  std::vector<uint64_t> out;
  r.for_each([&](uint64_t pn, uint64_t& v) {
    EXPECT_EQ(v, pn * 3);
    out.push_back(pn);
    return true;
  });
  return out;
}

TEST(PnRing, FindsTakesAndSkipsHolesInOrder) {
  PnRing<uint64_t> r;
  for (uint64_t pn : {5, 6, 8, 9}) r.push(pn, pn * 3);  // 7 skipped
  EXPECT_EQ(r.size(), 4u);
  EXPECT_EQ(r.first(), 5u);
  EXPECT_EQ(r.end(), 10u);
  EXPECT_EQ(r.find(7), nullptr);
  EXPECT_EQ(r.find(4), nullptr);
  EXPECT_EQ(r.find(10), nullptr);
  ASSERT_NE(r.find(8), nullptr);
  EXPECT_EQ(r.take(8), 24u);
  EXPECT_EQ(r.find(8), nullptr);
  EXPECT_EQ(r.first(), 5u);  // a hole in the middle leaves the front alone
  EXPECT_EQ(r.take(5), 15u);
  EXPECT_EQ(r.first(), 6u);
  EXPECT_EQ(r.take(6), 18u);
  EXPECT_EQ(r.first(), 9u);  // past the skipped 7 and the taken 8
  EXPECT_EQ(live(r), (std::vector<uint64_t>{9}));
}

TEST(PnRing, AStartAfterEmptyingCostsNoSlotsForTheGap) {
  PnRing<uint64_t> r;
  r.push(1, 3);
  (void)r.take(1);
  r.push(1'000'000, 3'000'000);
  EXPECT_EQ(r.first(), 1'000'000u);
  EXPECT_LE(r.capacity(), 8u);
}

TEST(PnRing, ForEachStopsWhenAsked) {
  PnRing<uint64_t> r;
  for (uint64_t pn = 0; pn < 10; ++pn) r.push(pn, pn * 3);
  int calls = 0;
  r.for_each([&](uint64_t, uint64_t&) { return ++calls < 3; });
  EXPECT_EQ(calls, 3);
}

// Property: against a reference (a deque of pns), random pushes with skips and takes in any
// order wrap around the ring and grow it without losing or inventing a record; the capacity
// stays within twice the widest window.
TEST(PnRing, MatchesAReferenceUnderRandomUse) {
  std::mt19937_64 rng(11);
  PnRing<uint64_t> r;
  std::deque<uint64_t> ref;  // ascending live pns
  uint64_t next = 0, widest = 1;
  for (int step = 0; step < 20000; ++step) {
    if (ref.size() < 200 && rng() % 3 != 0) {
      next += 1 + (rng() % 8 == 0);  // sometimes skip one
      r.push(next, next * 3);
      ref.push_back(next);
    } else if (!ref.empty()) {
      // Mostly the oldest (acked in order), sometimes one from the middle (reordering).
      size_t i = rng() % 4 == 0 ? rng() % ref.size() : 0;
      ASSERT_NE(r.find(ref[i]), nullptr);
      ASSERT_EQ(r.take(ref[i]), ref[i] * 3);
      ref.erase(ref.begin() + static_cast<std::ptrdiff_t>(i));
    }
    ASSERT_EQ(r.size(), ref.size());
    if (!ref.empty()) {
      ASSERT_EQ(r.first(), ref.front());
      widest = std::max<uint64_t>(widest, ref.back() - ref.front() + 1);
    }
  }
  EXPECT_EQ(live(r), std::vector<uint64_t>(ref.begin(), ref.end()));
  EXPECT_LE(r.capacity(), 2 * widest + 8);
  r.clear();
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.capacity(), 0u);
}

}  // namespace
}  // namespace quic

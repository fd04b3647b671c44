#include "common/small_vec.h"

#include <gtest/gtest.h>

#include <numeric>

namespace quic {
namespace {

using Vec = SmallVec<uint32_t, 2>;

std::vector<uint32_t> items(const Vec& v) { return {v.begin(), v.end()}; }

TEST(SmallVec, KeepsTheFirstInPlaceAndSpillsBeyondContiguously) {
  Vec v;
  EXPECT_TRUE(v.empty());
  v.push_back(1);
  v.push_back(2);
  const uint32_t* in_place = v.data();
  EXPECT_EQ(items(v), (std::vector<uint32_t>{1, 2}));
  v.push_back(3);
  v.push_back(4);
  EXPECT_NE(v.data(), in_place);  // spilled: all four in one heap block
  EXPECT_EQ(items(v), (std::vector<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(std::accumulate(v.span().begin(), v.span().end(), 0u), 10u);
  v.back() = 40;
  EXPECT_EQ(v[3], 40u);
}

TEST(SmallVec, MoveLeavesTheSourceEmptyAndCopyIsDeep) {
  for (uint32_t n : {1u, 2u, 5u}) {
    Vec a;
    for (uint32_t i = 0; i < n; ++i) a.push_back(i);
    Vec copy = a;
    Vec moved = std::move(a);
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
    EXPECT_EQ(items(moved), items(copy));
    EXPECT_EQ(moved.size(), n);
    copy.push_back(99);
    EXPECT_EQ(moved.size(), n);
    Vec assigned;
    assigned.push_back(7);
    assigned = std::move(copy);
    EXPECT_EQ(assigned.size(), n + 1);
    EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move)
    assigned.clear();
    EXPECT_TRUE(assigned.empty());
    assigned.push_back(5);
    EXPECT_EQ(items(assigned), (std::vector<uint32_t>{5}));
  }
}

}  // namespace
}  // namespace quic

#include "common/range_set.h"

#include "common/address.h"

#include <gtest/gtest.h>

namespace quic {
namespace {

std::vector<Range> R(std::initializer_list<Range> r) { return r; }

TEST(RangeSet, InsertMergesOverlappingAndAdjacent) {
  RangeSet s;
  s.insert(10, 12);
  s.insert(20, 22);
  s.insert(14, 15);
  EXPECT_EQ(s.ranges(), R({{10, 12}, {14, 15}, {20, 22}}));
  s.insert(13);  // bridges the first two
  EXPECT_EQ(s.ranges(), R({{10, 15}, {20, 22}}));
  s.insert(5, 30);
  EXPECT_EQ(s.ranges(), R({{5, 30}}));
  s.insert(0);
  s.insert(31, UINT64_MAX);
  EXPECT_EQ(s.ranges(), R({{0, 0}, {5, UINT64_MAX}}));
}

TEST(RangeSet, EraseSplitsAndTrims) {
  RangeSet s;
  s.insert(0, 100);
  s.erase(10, 19);
  EXPECT_EQ(s.ranges(), R({{0, 9}, {20, 100}}));
  s.erase(5, 25);
  EXPECT_EQ(s.ranges(), R({{0, 4}, {26, 100}}));
  s.erase_below(30);
  EXPECT_EQ(s.ranges(), R({{30, 100}}));
  s.erase(0, 1000);
  EXPECT_TRUE(s.empty());
}

TEST(RangeSet, ContainsAndFind) {
  RangeSet s;
  s.insert(3, 7);
  s.insert(10);
  EXPECT_TRUE(s.contains(3));
  EXPECT_TRUE(s.contains(4, 7));
  EXPECT_FALSE(s.contains(6, 8));
  EXPECT_FALSE(s.contains(8));
  EXPECT_TRUE(s.contains(10));
  ASSERT_NE(s.find(5), nullptr);
  EXPECT_EQ(s.find(5)->lo, 3u);
  EXPECT_EQ(s.min(), 3u);
  EXPECT_EQ(s.max(), 10u);
}

TEST(SocketAddress, ParsesAndPrintsV4AndV6) {
  auto a = SocketAddress::parse("127.0.0.1:4433");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->to_string(), "127.0.0.1:4433");
  EXPECT_EQ(*a, SocketAddress::v4(127, 0, 0, 1, 4433));
  auto b = SocketAddress::parse("[::1]:443");
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->v6);
  EXPECT_EQ(b->to_string(), "[::1]:443");
  EXPECT_FALSE(SocketAddress::parse("1.2.3.4").has_value());
  EXPECT_FALSE(SocketAddress::parse("1.2.3.4:99999").has_value());
  EXPECT_FALSE(SocketAddress::parse("[::1:5").has_value());
  EXPECT_FALSE(SocketAddress::parse("nonsense:1").has_value());
}

}  // namespace
}  // namespace quic

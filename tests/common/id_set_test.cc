#include "common/id_set.h"

#include <gtest/gtest.h>

#include <vector>

namespace quic {
namespace {

std::vector<uint64_t> items(const IdSet& s) { return {s.begin(), s.end()}; }

TEST(IdSet, KeepsAscendingOrderAndRefusesDuplicates) {
  IdSet s;
  EXPECT_TRUE(s.insert(8));
  EXPECT_TRUE(s.insert(0));
  EXPECT_TRUE(s.insert(4));
  EXPECT_FALSE(s.insert(4));
  EXPECT_EQ(items(s), (std::vector<uint64_t>{0, 4, 8}));
  EXPECT_TRUE(s.contains(4));
  EXPECT_FALSE(s.contains(5));
  EXPECT_EQ(s.size(), 3u);
}

TEST(IdSet, EraseRemovesOnlyWhatIsThere) {
  IdSet s;
  for (uint64_t id : {12, 0, 4}) s.insert(id);
  EXPECT_TRUE(s.erase(4));
  EXPECT_FALSE(s.erase(4));
  EXPECT_FALSE(s.erase(100));
  EXPECT_EQ(items(s), (std::vector<uint64_t>{0, 12}));
  s.clear();
  EXPECT_TRUE(s.empty());
}

TEST(IdSet, SwapExchangesContents) {
  IdSet a, b;
  a.insert(1);
  b.insert(2);
  b.insert(3);
  a.swap(b);
  EXPECT_EQ(items(a), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(items(b), (std::vector<uint64_t>{1}));
}

}  // namespace
}  // namespace quic

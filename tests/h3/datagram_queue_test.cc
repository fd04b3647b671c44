// The byte-bounded queue of received HTTP datagrams: wrap-around, growth, oldest-first drops,
// truncation into a small buffer.
#include "h3/datagram_queue.h"

#include <gtest/gtest.h>

#include <vector>

namespace h3 {
namespace {

std::vector<uint8_t> datagram(size_t n, uint8_t seed) {
  std::vector<uint8_t> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<uint8_t>(seed + i);
  return d;
}

TEST(H3DatagramQueue, FifoAcrossWrapAroundAndGrowth) {
  DatagramQueue q(64 * 1024);
  std::vector<uint8_t> out(4096);
  uint8_t next_in = 0, next_out = 0;
  // Keep ~5 datagrams of odd sizes queued so the ring wraps many times and grows once.
  for (int round = 0; round < 500; ++round) {
    size_t n = 1 + (round * 37) % 1500;
    auto r = q.push(next_in, datagram(n, next_in));
    ASSERT_TRUE(r.queued);
    ASSERT_EQ(r.dropped_oldest, 0u);
    ++next_in;
    if (q.size() < 5) continue;
    auto d = q.pop(out);
    ASSERT_TRUE(d);
    ASSERT_EQ(d->stream_id, next_out);
    ASSERT_EQ(d->copied, d->length);
    ASSERT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + d->copied),
              datagram(d->length, next_out));
    ++next_out;
  }
  while (auto d = q.pop(out)) EXPECT_EQ(d->stream_id, next_out++);
  EXPECT_EQ(next_out, next_in);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.charged_bytes(), 0u);
}

TEST(H3DatagramQueue, TheBoundIsInBytesAndDropsTheOldest) {
  const size_t per = 100 + kDatagramRecordCost;
  DatagramQueue q(3 * per);
  for (uint8_t i = 0; i < 3; ++i) EXPECT_EQ(q.push(i * 4, datagram(100, i)).dropped_oldest, 0u);
  EXPECT_EQ(q.charged_bytes(), 3 * per);
  auto r = q.push(12, datagram(100, 3));  // one more: the oldest goes
  EXPECT_TRUE(r.queued);
  EXPECT_EQ(r.dropped_oldest, 1u);
  r = q.push(16, datagram(250, 4));  // needs room for two and a half
  EXPECT_EQ(r.dropped_oldest, 3u);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_FALSE(q.push(20, datagram(3 * per, 5)).queued);  // larger than the whole bound
  EXPECT_EQ(q.size(), 1u);
  // Zero-length datagrams cost their record.
  EXPECT_TRUE(q.push(24, {}).queued);
  std::vector<uint8_t> out(10);
  auto d = q.pop(out);  // too small a buffer: truncated, the datagram is consumed
  ASSERT_TRUE(d);
  EXPECT_EQ(d->stream_id, 16u);
  EXPECT_EQ(d->length, 250u);
  EXPECT_EQ(d->copied, 10u);
  EXPECT_EQ(out, datagram(10, 4));
  d = q.pop(out);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->length, 0u);
  EXPECT_FALSE(q.pop(out));
}

}  // namespace
}  // namespace h3

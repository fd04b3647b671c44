// DatagramQueue (src/core/datagram_queue.h): the byte ring behind the connection's DATAGRAM
// queues. Checked against a simple model under random pushes, removals and evictions; bounds;
// and, with the global operator new counted (hostile_fixture.cc replaces it in this binary), no
// allocation once warmed up.
#include "core/datagram_queue.h"

#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <random>

#include "hostile_fixture.h"

namespace quic {
namespace {

std::vector<uint8_t> payload(uint64_t id, size_t len) {
  std::vector<uint8_t> v(len);
  for (size_t i = 0; i < len; ++i) v[i] = static_cast<uint8_t>(id * 131 + i);
  return v;
}

TEST(DatagramQueue, BoundInBytesAndEntries) {
  DatagramQueue q(10'000, 1000);
  std::vector<uint8_t> d(1000, 7);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.push(d)) << i;
  EXPECT_FALSE(q.fits(1));
  EXPECT_FALSE(q.push(std::vector<uint8_t>(1, 1)));  // one byte past the bound
  EXPECT_EQ(q.bytes(), 10'000u);
  EXPECT_EQ(q.size(), 10u);
  DatagramQueue few(1 << 20, 3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(few.push(d));
  EXPECT_FALSE(few.push(d));  // the entry cap
  // Zero-length datagrams are datagrams (RFC 9221 §4) and count as entries.
  DatagramQueue empty(10, 2);
  ASSERT_TRUE(empty.push(Bytes()));
  ASSERT_TRUE(empty.push(Bytes()));
  EXPECT_FALSE(empty.push(Bytes()));
  EXPECT_FALSE(q.push(std::vector<uint8_t>(DatagramQueue::kMaxEntryBytes + 1)));
}

// A header and a payload pushed as parts make one entry, joined, bounded by their sum.
TEST(DatagramQueue, PartsJoinIntoOneEntry) {
  DatagramQueue q(1000, 10);
  const std::vector<uint8_t> head = {0x40, 0x25, 0x00}, body = payload(9, 600);
  const std::array<Bytes, 3> parts = {Bytes(head), Bytes(), Bytes(body)};
  auto seq = q.push(parts);
  ASSERT_TRUE(seq);
  std::vector<uint8_t> want = head;
  want.insert(want.end(), body.begin(), body.end());
  Bytes got = q.data(*q.find(*seq));
  EXPECT_EQ(std::vector<uint8_t>(got.begin(), got.end()), want);
  EXPECT_EQ(q.bytes(), 603u);
  EXPECT_FALSE(q.push(parts));  // 1,206 bytes: the sum is checked against the bound
  EXPECT_EQ(q.size(), 1u);
  ASSERT_TRUE(q.push(std::span<const Bytes>()));  // no parts: an empty datagram
  EXPECT_EQ(q.data(*q.find(*seq + 1)).size(), 0u);
}

TEST(DatagramQueue, RemovedEntriesHoldTheirBytesUntilTheOlderOnesGo) {
  DatagramQueue q(3000, 100);
  auto a = q.push(std::vector<uint8_t>(1000, 1));
  auto b = q.push(std::vector<uint8_t>(1000, 2));
  auto c = q.push(std::vector<uint8_t>(1000, 3));
  ASSERT_TRUE(a && b && c);
  q.remove(*b);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.bytes(), 3000u);  // b is behind a: not reclaimed yet
  EXPECT_EQ(q.find(*b), nullptr);
  q.remove(*a);
  EXPECT_EQ(q.bytes(), 1000u);  // a and b reclaimed together
  EXPECT_EQ(q.front_seq(), c);
  EXPECT_EQ(q.data(*q.find(*c))[0], 3);
  q.evict_oldest();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(DatagramQueue, PushEvictingMakesRoomFromTheOldest) {
  DatagramQueue q(2500, 100);
  auto a = q.push(std::vector<uint8_t>(1000, 1));
  auto b = q.push(std::vector<uint8_t>(1000, 2));
  auto c = q.push_evicting(std::vector<uint8_t>(1000, 3));
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(q.find(*a), nullptr);
  EXPECT_NE(q.find(*b), nullptr);
  EXPECT_FALSE(q.push_evicting(std::vector<uint8_t>(2501, 4)));  // never fits
}

// Random pushes (sizes up to the largest entry), in-order pops, out-of-order removals and
// evictions against a model: contents, order, sequence numbers and bounds always agree, and a
// push succeeds exactly when fits() says so (the ring always has a place for it).
TEST(DatagramQueue, MatchesAModelUnderRandomUse) {
  std::mt19937_64 rng(42);
  for (size_t max_bytes : {size_t{4096}, size_t{100'000}, size_t{1} << 20}) {
    DatagramQueue q(max_bytes, 512);
    struct Item {
      uint64_t seq, id;
      size_t len;
      bool live;
    };
    std::deque<Item> model;
    uint64_t next_id = 0;
    auto check_item = [&](const Item& it) {
      const DatagramQueue::Entry* e = q.find(it.seq);
      ASSERT_EQ(e != nullptr, it.live);
      if (!e) return;
      auto want = payload(it.id, it.len);
      Bytes got = q.data(*e);
      ASSERT_TRUE(std::equal(got.begin(), got.end(), want.begin(), want.end()));
    };
    for (int step = 0; step < 20000; ++step) {
      int op = static_cast<int>(rng() % 10);
      if (op < 5) {
        size_t len = rng() % 4 == 0 ? rng() % DatagramQueue::kMaxEntryBytes : rng() % 1500;
        len = std::min(len, max_bytes);
        bool fits = q.fits(len);
        auto seq = q.push(payload(next_id, len));
        ASSERT_EQ(seq.has_value(), fits) << step;
        if (seq) model.push_back({*seq, next_id++, len, true});
      } else if (op < 8) {
        auto front = q.front_seq();
        while (!model.empty() && !model.front().live) model.pop_front();
        ASSERT_EQ(front.has_value(), !model.empty());
        if (front) {
          ASSERT_EQ(*front, model.front().seq);
          check_item(model.front());
          q.remove(*front);
          model.pop_front();
        }
      } else if (op < 9 && !model.empty()) {
        Item& it = model[rng() % model.size()];
        q.remove(it.seq);
        it.live = false;
      } else if (!model.empty()) {
        q.evict_oldest();
        model.pop_front();
      }
      while (!model.empty() && !model.front().live) model.pop_front();
      size_t live = 0, held = 0;
      for (const Item& it : model) {
        live += it.live;
        held += it.len;
      }
      ASSERT_EQ(q.size(), live);
      ASSERT_LE(q.bytes(), max_bytes);
      ASSERT_LE(q.ring_capacity(), max_bytes + DatagramQueue::kMaxEntryBytes);
      ASSERT_LE(q.bytes(), held);  // removed entries behind a live one may be held or compacted
      if (step % 97 == 0) {
        for (const Item& it : model) check_item(it);
      }
    }
  }
}

TEST(DatagramQueue, NoAllocationOnceWarmedUp) {
  DatagramQueue q(256 * 1024, 4096);
  std::vector<uint8_t> d(1300, 9);  // the largest pushed below is 200 + 149 * 7 = 1243
  auto cycle = [&] {
    for (int i = 0; i < 150; ++i) ASSERT_TRUE(q.push(Bytes(d.data(), 200 + i * 7)));
    while (auto s = q.front_seq()) q.remove(*s);
  };
  cycle();  // grows the ring and the index once
  const uint64_t before = hostile::heap_allocations();
  for (int round = 0; round < 200; ++round) cycle();  // 30,000 datagrams through the ring
  EXPECT_EQ(hostile::heap_allocations(), before);
  EXPECT_LE(q.ring_capacity(), 256u * 1024 + DatagramQueue::kMaxEntryBytes);
}

TEST(DatagramQueue, AnUnusedQueueAllocatesNothing) {
  const uint64_t before = hostile::heap_allocations();
  DatagramQueue q(4 << 20, 32768);
  EXPECT_EQ(q.ring_capacity(), 0u);
  EXPECT_FALSE(q.front_seq());
  EXPECT_EQ(hostile::heap_allocations(), before);
}

}  // namespace
}  // namespace quic

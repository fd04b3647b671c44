// The reorder buffer: patterns, duplicates, gap timeouts, bounds, sequence wraparound, hold
// time from path delays, pass-through flows, two striped paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "tquicd/reorder.h"
#include "tquicd_test_util.h"

namespace bond {
namespace {

using namespace std::chrono_literals;
using quic::Instant;

// Feeds packets whose payload is their sequence number; collects what gets delivered.
class Harness {
 public:
  explicit Harness(ReorderLimits limits = {}) : buf(limits) {}
  ReorderBuffer::Verdict send(Instant now, uint64_t seq, bool ordered = true, size_t size = 8) {
    std::vector<uint8_t> p(std::max<size_t>(size, 8), 0);
    for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(seq >> (8 * i));
    auto v = buf.on_packet(now, static_cast<uint32_t>(seq % kSeqModulus), ordered, p);
    if (v == ReorderBuffer::Verdict::kDeliverNow) delivered.push_back(seq);
    drain();
    return v;
  }
  void tick(Instant now) {
    buf.on_timeout(now);
    drain();
  }
  void drain() {
    while (auto p = buf.pop_ready()) {
      uint64_t seq = 0;
      for (int i = 0; i < 8; ++i) seq |= uint64_t{(*p)[i]} << (8 * i);
      delivered.push_back(seq);
    }
  }
  ReorderBuffer buf;
  std::vector<uint64_t> delivered;
};

using testutil::at;

TEST(ReorderBuffer, InOrderPacketsPassWithoutCopies) {
  Harness h;
  for (uint64_t s = 0; s < 10; ++s) EXPECT_EQ(h.send(at(0ms), s), ReorderBuffer::Verdict::kDeliverNow);
  EXPECT_EQ(h.buf.stats().in_order, 10u);
  EXPECT_EQ(h.buf.held_packets(), 0u);
  EXPECT_EQ(h.buf.next_timeout(), quic::kNever);
}

TEST(ReorderBuffer, ReleasesInSequenceOrder) {
  Harness h;
  const uint64_t order[] = {0, 2, 4, 1, 3, 7, 6, 5, 8};
  for (uint64_t s : order) h.send(at(1ms), s);
  EXPECT_EQ(h.delivered, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(h.buf.held_packets(), 0u);
  EXPECT_EQ(h.buf.held_bytes(), 0u);
  EXPECT_EQ(h.buf.stats().lost, 0u);
}

TEST(ReorderBuffer, DropsDuplicatesBySequenceNumber) {
  Harness h;
  h.send(at(0ms), 0);
  h.send(at(0ms), 2);  // held
  EXPECT_EQ(h.send(at(0ms), 2), ReorderBuffer::Verdict::kDuplicate);  // a held one
  h.send(at(0ms), 1);
  EXPECT_EQ(h.send(at(0ms), 0), ReorderBuffer::Verdict::kDuplicate);  // a released one
  EXPECT_EQ(h.send(at(0ms), 1), ReorderBuffer::Verdict::kDuplicate);
  EXPECT_EQ(h.delivered, (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(h.buf.stats().duplicates, 3u);
}

TEST(ReorderBuffer, GivesUpAGapAtItsDeadlineAndDeliversLatecomersOnce) {
  Harness h;
  h.buf.set_path_delays(std::vector<PathDelay>{{10ms, 0ms}, {30ms, 0ms}});
  h.send(at(0ms), 0);
  h.send(at(10ms), 2);
  h.send(at(12ms), 3);
  quic::Duration hold = h.buf.hold_time();
  EXPECT_EQ(h.buf.next_timeout(), at(10ms) + hold);
  h.tick(at(10ms) + hold - 1ns);
  EXPECT_EQ(h.delivered, (std::vector<uint64_t>{0}));
  h.tick(at(10ms) + hold);
  EXPECT_EQ(h.delivered, (std::vector<uint64_t>{0, 2, 3}));
  EXPECT_EQ(h.buf.stats().lost, 1u);
  EXPECT_EQ(h.buf.stats().gap_timeouts, 1u);
  EXPECT_EQ(h.send(at(20ms), 1), ReorderBuffer::Verdict::kDeliverNow);  // late: at once
  EXPECT_EQ(h.buf.stats().late, 1u);
  EXPECT_EQ(h.send(at(21ms), 1), ReorderBuffer::Verdict::kDuplicate);
  EXPECT_EQ(h.send(at(21ms), 4), ReorderBuffer::Verdict::kDeliverNow);
}

TEST(ReorderBuffer, TimeoutReleasesLowerSequencesThatArrivedLater) {
  Harness h;
  h.buf.set_path_delays(std::vector<PathDelay>{{0ms, 0ms}, {50ms, 0ms}});
  h.send(at(0ms), 0);
  h.send(at(0ms), 5);   // deadline 52 ms
  h.send(at(30ms), 3);  // deadline 82 ms, but below 5: released with it
  h.tick(at(52ms));
  EXPECT_EQ(h.delivered, (std::vector<uint64_t>{0, 3, 5}));
  EXPECT_EQ(h.buf.stats().lost, 3u);  // 1, 2 and 4
  EXPECT_EQ(h.buf.next_timeout(), quic::kNever);
}

// Only even sequence numbers arrive, so every held packet sits behind its own gap.
TEST(ReorderBuffer, BoundedInPackets) {
  Harness h({300ms, 16, 4 << 20});
  h.send(at(0ms), 0);
  for (uint64_t s = 2; s <= 80; s += 2) {
    h.send(at(0ms), s);
    EXPECT_LE(h.buf.held_packets(), 16u);
  }
  EXPECT_EQ(h.buf.held_packets(), 16u);
  EXPECT_EQ(h.buf.stats().overflows, 24u);  // one per packet beyond the 16th
  EXPECT_EQ(h.buf.stats().lost, 24u);       // the odd number before each released one
  EXPECT_TRUE(std::is_sorted(h.delivered.begin(), h.delivered.end()));
  EXPECT_EQ(h.delivered.size(), 25u);
  // Contiguous held packets leave together when the gap in front of them is given up.
  Harness c({300ms, 16, 4 << 20});
  c.send(at(0ms), 0);
  for (uint64_t s = 2; s < 20; ++s) c.send(at(0ms), s);
  EXPECT_EQ(c.buf.stats().overflows, 1u);
  EXPECT_EQ(c.delivered.size(), 19u);
  EXPECT_EQ(c.buf.held_packets(), 0u);
}

TEST(ReorderBuffer, BoundedInBytes) {
  Harness h({300ms, 4096, 64 << 10});
  h.send(at(0ms), 0);
  for (uint64_t s = 2; s < 400; s += 2) {
    h.send(at(0ms), s, true, 1500);
    EXPECT_LE(h.buf.held_bytes(), size_t{64} << 10);
  }
  EXPECT_EQ(h.buf.held_packets(), (size_t{64} << 10) / 1500);
  EXPECT_GT(h.buf.stats().overflows, 0u);
  EXPECT_TRUE(std::is_sorted(h.delivered.begin(), h.delivered.end()));
  // A packet larger than the whole byte bound is delivered (after everything before it).
  Harness tiny({300ms, 4096, 1000});
  tiny.send(at(0ms), 0);
  tiny.send(at(0ms), 2, true, 900);
  tiny.send(at(0ms), 3, true, 2000);
  EXPECT_EQ(tiny.delivered, (std::vector<uint64_t>{0, 2, 3}));
}

TEST(ReorderBuffer, SequenceNumbersWrap) {
  Harness h;
  uint64_t start = kSeqModulus - 5;
  // Resyncs (each a quarter of the sequence space ahead) move the window up to the wrap.
  for (uint64_t s : {kSeqModulus / 4, kSeqModulus / 2, 3 * kSeqModulus / 4, start - 1}) {
    h.send(at(0ms), s);
    h.tick(at(1s));
  }
  ASSERT_EQ(h.delivered.size(), 4u);
  EXPECT_EQ(h.buf.stats().resyncs, 4u);
  h.delivered.clear();
  uint64_t lost_before = h.buf.stats().lost;
  std::vector<uint64_t> sent;
  for (uint64_t i = 0; i < 10; ++i) sent.push_back(start + i);
  std::swap(sent[3], sent[6]);  // reorder across the wrap (2^30 - 2 and 2^30 + 1)
  for (uint64_t s : sent) h.send(at(0ms), s);
  ASSERT_EQ(h.delivered.size(), 10u);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(h.delivered[i] % kSeqModulus, (start + i) % kSeqModulus);
  EXPECT_EQ(h.send(at(0ms), start + 2), ReorderBuffer::Verdict::kDuplicate);  // behind the wrap
  EXPECT_EQ(h.buf.stats().lost, lost_before);
}

TEST(ReorderBuffer, HoldTimeFollowsPathDelaySpreadAndIsCapped) {
  ReorderBuffer b({300ms, 4096, 4 << 20});
  EXPECT_EQ(b.hold_time(), 300ms);  // before any estimate: the cap
  b.set_path_delays(std::vector<PathDelay>{{20ms, 1ms}, {50ms, 2ms}});
  EXPECT_EQ(b.hold_time(), 50ms + 4ms - 20ms + kReorderHoldMargin);
  b.set_path_delays(std::vector<PathDelay>{{20ms, 0ms}, {620ms, 0ms}});
  EXPECT_EQ(b.hold_time(), 300ms);
  b.set_path_delays(std::vector<PathDelay>{{20ms, 0ms}});
  EXPECT_EQ(b.hold_time(), kReorderHoldMargin);
  b.set_limits({1ms, 4096, 4 << 20});
  EXPECT_EQ(b.hold_time(), 1ms);
}

TEST(ReorderBuffer, PathDelayChangeMovesHeldDeadlines) {
  Harness h;
  h.buf.set_path_delays(std::vector<PathDelay>{{10ms, 0ms}, {200ms, 0ms}});
  h.send(at(0ms), 0);
  h.send(at(0ms), 2);
  EXPECT_EQ(h.buf.next_timeout(), at(192ms));
  // The slow path recovers: the spread shrinks and the held packet's deadline with it.
  h.buf.set_path_delays(std::vector<PathDelay>{{10ms, 0ms}, {30ms, 0ms}});
  EXPECT_EQ(h.buf.next_timeout(), at(22ms));
  h.tick(at(22ms));
  EXPECT_EQ(h.delivered, (std::vector<uint64_t>{0, 2}));
}

TEST(ReorderBuffer, UnorderedFlowsPassStraightThrough) {
  Harness h;
  h.send(at(0ms), 0);
  EXPECT_EQ(h.send(at(0ms), 2, false), ReorderBuffer::Verdict::kDeliverNow);  // ahead of a gap
  EXPECT_EQ(h.send(at(0ms), 3), ReorderBuffer::Verdict::kQueued);
  EXPECT_EQ(h.send(at(0ms), 2, false), ReorderBuffer::Verdict::kDuplicate);
  h.send(at(1ms), 1);  // fills the gap; 2 was delivered already, 3 follows
  EXPECT_EQ(h.delivered, (std::vector<uint64_t>{0, 2, 1, 3}));
  EXPECT_EQ(h.buf.stats().passthrough, 1u);
  EXPECT_EQ(h.send(at(1ms), 4), ReorderBuffer::Verdict::kDeliverNow);
}

TEST(ReorderBuffer, TooOldAndFarAheadAreBounded) {
  Harness h({5ms, 4096, 4 << 20});
  for (uint64_t s = 0; s <= 1000; ++s) h.send(at(0ms), s);
  h.delivered.clear();
  h.send(at(0ms), 1002);
  // Far beyond the window: what is held is released, the gap given up, the window moves.
  uint64_t far = 1000 + kReorderSeqWindow * 100;
  h.send(at(0ms), far);
  EXPECT_EQ(h.buf.stats().resyncs, 1u);
  EXPECT_EQ(h.delivered.front(), 1002u);
  EXPECT_EQ(h.buf.held_packets(), 1u);  // far waits for the window below it
  EXPECT_EQ(h.send(at(0ms), 1003), ReorderBuffer::Verdict::kTooOld);
  h.tick(at(1s));
  EXPECT_EQ(h.delivered.back(), far);
  EXPECT_EQ(h.send(at(1s), far + 1), ReorderBuffer::Verdict::kDeliverNow);
}

// A peer that jumps beyond the window with every packet: each resync costs a walk over the
// window's words, not over its sequence numbers, and the accounting stays exact.
TEST(ReorderBuffer, RepeatedResyncsStayCheapAndExact) {
  Harness h({5ms, 4096, 4 << 20});
  const uint64_t jump = kReorderSeqWindow + 10;
  const uint64_t n = 5000;
  for (uint64_t k = 1; k <= n; ++k) h.send(at(std::chrono::milliseconds(k)), k * jump);
  h.tick(at(1h));
  EXPECT_EQ(h.buf.stats().resyncs, n);
  EXPECT_EQ(h.delivered.size(), n);
  EXPECT_TRUE(std::is_sorted(h.delivered.begin(), h.delivered.end()));
  EXPECT_EQ(h.buf.stats().lost, n * jump + 1 - n);  // every sequence number up to the last, but n
  EXPECT_EQ(h.send(at(1h), n * jump + 1), ReorderBuffer::Verdict::kDeliverNow);
}

// Two paths (10 ms and 60 ms one way) striped alternately at 1 packet/ms with random loss and
// duplicates: with the hold adapted from the paths' delays, every surviving packet comes out
// exactly once and in order.
TEST(ReorderBuffer, StripedPathsComeOutInOrder) {
  Harness h;
  // The paths' delays as the receiver measures them (reorder_sink.cc), jitter included.
  h.buf.set_path_delays(std::vector<PathDelay>{{10ms, 125us}, {60ms, 125us}});
  std::mt19937 rng(7);
  struct Arrival { Instant at; uint64_t seq; };
  std::vector<Arrival> arrivals;
  std::set<uint64_t> lost;
  for (uint64_t s = 0; s < 3000; ++s) {
    size_t path = s % 3 == 0 ? 1 : 0;  // 2:1 weights
    if (rng() % 100 == 0) { lost.insert(s); continue; }
    Instant send = at(std::chrono::milliseconds(s));
    Instant arrive = send + (path == 0 ? 10ms : 60ms) + std::chrono::microseconds(rng() % 500);
    arrivals.push_back({arrive, s});
    if (rng() % 50 == 0) arrivals.push_back({arrive + 1ms, s});
  }
  std::stable_sort(arrivals.begin(), arrivals.end(), [](auto& a, auto& b) { return a.at < b.at; });
  for (const Arrival& a : arrivals) {
    while (h.buf.next_timeout() <= a.at) h.tick(h.buf.next_timeout());
    h.send(a.at, a.seq);
  }
  h.tick(at(10s));
  auto unsorted = std::is_sorted_until(h.delivered.begin(), h.delivered.end());
  EXPECT_EQ(unsorted, h.delivered.end()) << "at " << (unsorted - h.delivered.begin()) << " seq " << *unsorted
                                         << " late " << h.buf.stats().late;
  EXPECT_EQ(std::set<uint64_t>(h.delivered.begin(), h.delivered.end()).size(), h.delivered.size());
  EXPECT_EQ(h.delivered.size(), 3000 - lost.size());
  EXPECT_EQ(h.buf.stats().lost, lost.size());
  EXPECT_EQ(h.buf.hold_time(), 50ms + 250us + kReorderHoldMargin);
}

}  // namespace
}  // namespace bond

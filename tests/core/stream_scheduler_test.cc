// The RFC 9218 stream scheduler alone, then through StreamMap (flow-control blocking,
// reprioritisation while sending, retransmissions ahead of priorities).
#include "core/stream_scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "core/stream_map.h"

namespace quic {
namespace {

constexpr StreamPriority seq(uint8_t u) {
  return {u, false};
}
constexpr StreamPriority inc(uint8_t u) {
  return {u, true};
}

// Pops n times, reinserting each popped stream with its priority (a stream that always has
// data): the order in which a busy link would serve them.
std::vector<uint64_t> serve(StreamScheduler& s, const std::map<uint64_t, StreamPriority>& prio,
                            int n) {
  std::vector<uint64_t> out;
  for (int i = 0; i < n; ++i) {
    auto id = s.pop();
    if (!id) break;
    out.push_back(*id);
    s.insert(*id, prio.at(*id));
  }
  return out;
}

TEST(StreamScheduler, EmptyPopsNothing) {
  StreamScheduler s;
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.pop());
}

TEST(StreamScheduler, LowerUrgencyAlwaysGoesFirst) {
  StreamScheduler s;
  std::map<uint64_t, StreamPriority> p{{0, inc(7)}, {4, inc(3)}, {8, inc(0)}};
  for (auto [id, pr] : p) s.insert(id, pr);
  EXPECT_EQ(serve(s, p, 3), (std::vector<uint64_t>{8, 8, 8}));
  s.erase(8);
  p.erase(8);
  EXPECT_EQ(serve(s, p, 2), (std::vector<uint64_t>{4, 4}));
  s.erase(4);
  EXPECT_EQ(s.pop(), 0u);
  EXPECT_TRUE(s.empty());
}

TEST(StreamScheduler, NonIncrementalStreamsGoOneAtATimeInStreamIdOrder) {
  StreamScheduler s;
  // Inserted out of order: ID order decides, not arrival.
  std::map<uint64_t, StreamPriority> p{{8, seq(3)}, {0, seq(3)}, {4, seq(3)}};
  for (uint64_t id : {8, 0, 4}) s.insert(id, p[id]);
  EXPECT_EQ(serve(s, p, 3), (std::vector<uint64_t>{0, 0, 0}));
  s.erase(0);  // done
  EXPECT_EQ(serve(s, p, 2), (std::vector<uint64_t>{4, 4}));
  // A lower ID that becomes ready again takes over at once.
  s.insert(0, p[0]);
  EXPECT_EQ(serve(s, p, 1), (std::vector<uint64_t>{0}));
}

TEST(StreamScheduler, IncrementalStreamsShareRoundRobinFairly) {
  StreamScheduler s;
  std::map<uint64_t, StreamPriority> p;
  for (uint64_t id = 0; id < 40; id += 4) {
    p[id] = inc(2);
    s.insert(id, p[id]);
  }
  std::map<uint64_t, int> served;
  auto order = serve(s, p, 1000);
  for (uint64_t id : order) ++served[id];
  for (auto [id, n] : served) EXPECT_EQ(n, 100) << id;
  // Strict rotation: the same stream never twice within one round.
  for (size_t i = 10; i < order.size(); ++i) EXPECT_EQ(order[i], order[i - 10]);
}

TEST(StreamScheduler, NonIncrementalBeforeIncrementalAtTheSameUrgency) {
  StreamScheduler s;
  std::map<uint64_t, StreamPriority> p{{0, inc(3)}, {4, seq(3)}, {8, inc(3)}, {12, seq(4)}};
  for (auto [id, pr] : p) s.insert(id, pr);
  EXPECT_EQ(serve(s, p, 2), (std::vector<uint64_t>{4, 4}));
  s.erase(4);
  p.erase(4);
  EXPECT_EQ(serve(s, p, 4), (std::vector<uint64_t>{0, 8, 0, 8}));
  s.erase(0);
  s.erase(8);
  EXPECT_EQ(s.pop(), 12u);
}

TEST(StreamScheduler, ReprioritisingAReadyStreamMovesIt) {
  StreamScheduler s;
  std::map<uint64_t, StreamPriority> p{{0, seq(3)}, {4, seq(3)}, {8, inc(5)}};
  for (auto [id, pr] : p) s.insert(id, pr);
  EXPECT_EQ(serve(s, p, 1), (std::vector<uint64_t>{0}));
  p[8] = seq(1);
  s.insert(8, p[8]);
  EXPECT_EQ(serve(s, p, 2), (std::vector<uint64_t>{8, 8}));
  p[8] = inc(6);
  s.insert(8, p[8]);
  EXPECT_EQ(serve(s, p, 1), (std::vector<uint64_t>{0}));
  EXPECT_EQ(s.size(), 3u);
  // Reinserting with the same priority keeps the place (and does not duplicate).
  s.insert(4, p[4]);
  EXPECT_EQ(s.size(), 3u);
}

TEST(StreamScheduler, ManyStreamsKeepTheirOrder) {
  // 20000 streams over all urgencies: the whole drain is in (urgency, ID) order for the
  // non-incremental ones; cost per operation is logarithmic (a long run would show it).
  StreamScheduler s;
  for (uint64_t i = 0; i < 20000; ++i) s.insert(i * 4, seq(static_cast<uint8_t>((i * 7) % 8)));
  uint64_t last_u = 0, last_id = 0;
  size_t n = 0;
  while (auto id = s.pop()) {
    uint64_t u = ((*id / 4) * 7) % 8;
    ASSERT_TRUE(u > last_u || (u == last_u && (n == 0 || *id > last_id)));
    last_u = u;
    last_id = *id;
    ++n;
  }
  EXPECT_EQ(n, 20000u);
}

// --- through StreamMap

StreamMapConfig map_config() {
  StreamMapConfig c;
  c.connection_window = 1 << 20;
  return c;
}

PeerStreamParams scheduler_peer(uint64_t stream_window = 100000) {
  return PeerStreamParams{1 << 20, stream_window, stream_window, stream_window, 100, 100};
}

std::vector<uint64_t> drain(StreamMap& m, uint64_t chunk, size_t max = 1000) {
  std::vector<uint64_t> out;
  while (out.size() < max) {
    auto c = m.next_stream_chunk(chunk);
    if (!c) break;
    out.push_back(c->stream_id);
  }
  return out;
}

TEST(StreamMapPriority, DefaultIsRoundRobinAndUrgencyOverridesIt) {
  StreamMap m(map_config(), scheduler_peer());
  std::vector<uint8_t> d(200);
  for (int i = 0; i < 3; ++i) m.write(*m.open(true), d);
  EXPECT_EQ(m.priority(0), (StreamPriority{3, true}));
  ASSERT_TRUE(m.set_priority(8, {1, false}));
  EXPECT_EQ(drain(m, 100), (std::vector<uint64_t>{8, 8, 0, 4, 0, 4}));
}

TEST(StreamMapPriority, SetPriorityFailsForUnknownAndReceiveOnlyStreams) {
  StreamMap m(map_config(), scheduler_peer());
  EXPECT_FALSE(m.set_priority(0, {}));              // not opened
  ASSERT_TRUE(m.on_stream_frame(3, 0, {}, false));  // the peer's unidirectional stream
  EXPECT_FALSE(m.set_priority(3, {}));
  auto id = *m.open(false);
  EXPECT_TRUE(m.set_priority(id, {0, false}));
  EXPECT_EQ(m.priority(id), (StreamPriority{0, false}));
}

TEST(StreamMapPriority, BlockedNonIncrementalStreamDoesNotStarveTheNext) {
  StreamMap m(map_config(), scheduler_peer(300));  // each stream may send 300 bytes for now
  std::vector<uint8_t> d(500);
  for (int i = 0; i < 2; ++i) {
    auto id = *m.open(true);
    m.write(id, d);
    ASSERT_TRUE(m.set_priority(id, {3, false}));
  }
  // Stream 0 goes first until its flow-control limit, then stream 4 gets the link.
  EXPECT_EQ(drain(m, 100), (std::vector<uint64_t>{0, 0, 0, 4, 4, 4}));
  // Credit for stream 0 again: it is the lower ID, so it takes over.
  ASSERT_TRUE(m.on_max_stream_data(4, 400));
  ASSERT_TRUE(m.on_max_stream_data(0, 500));
  EXPECT_EQ(drain(m, 100), (std::vector<uint64_t>{0, 0, 4}));
}

TEST(StreamMapPriority, ReprioritisationMidStreamTakesEffectAtTheNextChunk) {
  StreamMap m(map_config(), scheduler_peer());
  std::vector<uint8_t> d(300);
  for (int i = 0; i < 3; ++i) {
    auto id = *m.open(true);
    m.write(id, d);
    ASSERT_TRUE(m.set_priority(id, {3, false}));
  }
  auto first = drain(m, 100, 1);
  EXPECT_EQ(first, (std::vector<uint64_t>{0}));
  ASSERT_TRUE(m.set_priority(8, {2, false}));  // PRIORITY_UPDATE raises stream 8
  ASSERT_TRUE(m.set_priority(0, {3, true}));   // and stream 0 becomes incremental
  EXPECT_EQ(drain(m, 100), (std::vector<uint64_t>{8, 8, 8, 4, 4, 4, 0, 0}));
}

TEST(StreamMapPriority, LostDataGoesBeforeMoreUrgentNewData) {
  StreamMap m(map_config(), scheduler_peer());
  std::vector<uint8_t> d(300);
  auto low = *m.open(true);
  auto high = *m.open(true);
  m.write(low, d);
  ASSERT_TRUE(m.set_priority(low, {7, true}));
  ASSERT_TRUE(m.set_priority(high, {0, false}));
  auto c = m.next_stream_chunk(100);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->stream_id, low);
  m.write(high, d);
  m.on_stream_chunk_lost(low, c->chunk.offset, c->chunk.length, c->chunk.fin);
  auto r = m.next_stream_chunk(60);  // the lost 100 bytes go first, in two pieces
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream_id, low);
  EXPECT_TRUE(r->chunk.retransmission);
  r = m.next_stream_chunk(60);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream_id, low);
  EXPECT_TRUE(r->chunk.retransmission);
  EXPECT_EQ(r->chunk.offset + r->chunk.length, 100u);
  // Then priorities again: the urgent stream's new data before the rest of `low`.
  EXPECT_EQ(drain(m, 100), (std::vector<uint64_t>{high, high, high, low, low}));
  EXPECT_FALSE(m.has_stream_data());
}

TEST(StreamMapPriority, ResetStreamLeavesTheScheduler) {
  StreamMap m(map_config(), scheduler_peer());
  std::vector<uint8_t> d(300);
  auto a = *m.open(true);
  auto b = *m.open(true);
  m.write(a, d);
  m.write(b, d);
  ASSERT_TRUE(m.set_priority(a, {0, false}));
  ASSERT_TRUE(m.reset(a, 7));
  EXPECT_EQ(drain(m, 100), (std::vector<uint64_t>{b, b, b}));
}

}  // namespace
}  // namespace quic

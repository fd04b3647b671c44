// mp::SchedulerState: the redundant scheduler's owed STREAM copies (bounded, per-path served
// bits) and the per-stream deadlines (bounded, freed streams pruned when full).
#include "mp/scheduler_state.h"

#include <gtest/gtest.h>

#include <set>

namespace quic::mp {
namespace {

using namespace std::chrono_literals;

TEST(SchedulerState, CopiesAreOwedOnlyWhileDuplicatingAndToOtherPaths) {
  SchedulerState s;
  s.note_sent(0, 0, 100, false);  // no begin_copies: nothing owed
  EXPECT_FALSE(s.chunks_queued());
  s.begin_copies(1);
  s.note_sent(0, 0, 100, true);
  s.end_copies();
  s.note_sent(0, 100, 100, false);  // after end_copies: not owed
  ASSERT_EQ(s.chunks().size(), 1u);
  EXPECT_EQ(s.chunks().front().served, path_bit(1));
  EXPECT_TRUE(s.chunks().front().fin);
  EXPECT_FALSE(s.chunk_owed_to(1));  // the origin carried it
  EXPECT_TRUE(s.chunk_owed_to(2));
  EXPECT_FALSE(s.chunk_owed_to(65));  // shares path 1's bit: may miss a copy, never gets two
}

TEST(SchedulerState, OwedCopiesAreBoundedOldestFirst) {
  SchedulerState s;
  s.begin_copies(0);
  for (uint64_t i = 0; i < kMaxDuplicateChunks + 10; ++i) s.note_sent(4, i * 1000, 1000, false);
  ASSERT_EQ(s.chunks().size(), kMaxDuplicateChunks);
  EXPECT_EQ(s.chunks().front().offset, 10 * 1000u);  // the 10 oldest went
  EXPECT_EQ(s.chunks().back().offset, (kMaxDuplicateChunks + 9) * 1000u);
}

TEST(SchedulerState, DeadlinesAreBoundedAndFreedStreamsPruned) {
  SchedulerState s;
  const Instant at = Instant{} + 5s;
  std::set<uint64_t> gone;
  auto is_gone = [&](uint64_t id) { return gone.contains(id); };
  for (uint64_t id = 0; id < kMaxDeadlineStreams; ++id) {
    ASSERT_TRUE(s.set_deadline(id * 4, at, is_gone));
  }
  EXPECT_FALSE(s.set_deadline(kMaxDeadlineStreams * 4, at, is_gone));  // full
  EXPECT_TRUE(s.set_deadline(0, at + 1s, is_gone));  // an existing one may change
  EXPECT_EQ(s.deadline(0), at + 1s);
  gone.insert(8);
  EXPECT_TRUE(s.set_deadline(kMaxDeadlineStreams * 4, at, is_gone));  // 8 pruned for it
  EXPECT_FALSE(s.has_deadline(8));
  EXPECT_EQ(s.deadlines().size(), kMaxDeadlineStreams);
  EXPECT_TRUE(s.set_deadline(0, std::nullopt, is_gone));  // cleared
  EXPECT_FALSE(s.deadline(0).has_value());
  EXPECT_EQ(s.lane, DeadlineLane::kAny);
}

}  // namespace
}  // namespace quic::mp

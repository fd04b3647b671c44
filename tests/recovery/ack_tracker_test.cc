#include "recovery/ack_tracker.h"

#include <gtest/gtest.h>

#include "recovery_test_util.h"

namespace quic {
namespace {

using test::t0;

std::vector<Range> R(std::initializer_list<Range> r) {
  return r;
}

TEST(AckTracker, RangesDescendingAfterOutOfOrderArrival) {
  AckTracker a;
  for (uint64_t pn : {0, 1, 2, 5, 6, 9, 4, 12}) EXPECT_TRUE(a.on_packet_received(pn, true, t0, 0));
  EXPECT_EQ(a.ranges(), R({{12, 12}, {9, 9}, {4, 6}, {0, 2}}));
  EXPECT_EQ(a.largest_received(), 12u);
  a.on_packet_received(3, true, t0, 0);
  a.on_packet_received(10, true, t0, 0);
  a.on_packet_received(11, true, t0, 0);
  EXPECT_EQ(a.ranges(), R({{9, 12}, {0, 6}}));
}

TEST(AckTracker, DuplicatesAreRejected) {
  AckTracker a;
  EXPECT_TRUE(a.on_packet_received(7, true, t0, 0));
  EXPECT_TRUE(a.is_duplicate(7));
  EXPECT_FALSE(a.is_duplicate(6));
  EXPECT_FALSE(a.on_packet_received(7, true, t0, 0));
  EXPECT_TRUE(a.on_packet_received(6, true, t0, 0));
}

// has_news: whether an ACK riding along would tell the peer anything; a duplicate is no news,
// a non-ack-eliciting packet is (it is newly acknowledged), and sending an ACK clears it.
TEST(AckTracker, NewsUntilAnAckIsSent) {
  AckTracker a;
  EXPECT_FALSE(a.has_news());
  EXPECT_TRUE(a.on_packet_received(3, false, t0, 0));
  EXPECT_TRUE(a.has_news());
  a.on_ack_sent(t0);
  EXPECT_FALSE(a.has_news());
  EXPECT_FALSE(a.on_packet_received(3, true, t0, 0));
  EXPECT_FALSE(a.has_news());
  EXPECT_TRUE(a.on_packet_received(1, true, t0, 0));
  EXPECT_TRUE(a.has_news());
}

TEST(AckTracker, SecondAckElicitingPacketTriggersImmediateAck) {
  AckTracker a;
  a.on_packet_received(0, true, t0, 0);
  EXPECT_FALSE(a.ack_needed(t0));
  EXPECT_EQ(a.ack_deadline(), t0 + kDefaultMaxAckDelay);
  a.on_packet_received(1, true, t0 + 1ms, 0);
  EXPECT_TRUE(a.ack_needed(t0 + 1ms));
  a.on_ack_sent(t0 + 1ms);
  EXPECT_FALSE(a.ack_needed(t0 + 1ms));
  EXPECT_EQ(a.ack_deadline(), kNever);
}

TEST(AckTracker, AckElicitingThresholdIsConfigurable) {
  AckTracker a;
  a.set_ack_eliciting_threshold(3);
  for (uint64_t pn = 0; pn < 3; ++pn) a.on_packet_received(pn, true, t0, 0);
  EXPECT_FALSE(a.ack_needed(t0));
  a.on_packet_received(3, true, t0, 0);
  EXPECT_TRUE(a.ack_needed(t0));
}

TEST(AckTracker, GapTriggersImmediateAck) {
  AckTracker a;
  a.on_packet_received(0, true, t0, 0);
  a.on_ack_sent(t0);
  a.on_packet_received(2, true, t0, 0);  // 1 is missing
  EXPECT_TRUE(a.ack_needed(t0));
}

TEST(AckTracker, ReorderedPacketTriggersImmediateAck) {
  AckTracker a;
  a.on_packet_received(0, true, t0, 0);
  a.on_packet_received(2, true, t0, 0);
  a.on_ack_sent(t0);
  a.on_packet_received(1, true, t0, 0);  // below the largest ack-eliciting
  EXPECT_TRUE(a.ack_needed(t0));
}

TEST(AckTracker, InOrderPacketWaitsForDelayTimer) {
  AckTracker a;
  a.set_max_ack_delay(10ms);
  a.on_packet_received(0, true, t0, 0);
  a.on_ack_sent(t0);
  a.on_packet_received(1, true, t0 + 2ms, 0);
  EXPECT_FALSE(a.ack_needed(t0 + 2ms));
  EXPECT_EQ(a.ack_deadline(), t0 + 12ms);
  EXPECT_FALSE(a.ack_needed(t0 + 12ms - Duration(1)));
  EXPECT_TRUE(a.ack_needed(t0 + 12ms));
}

TEST(AckTracker, NonAckElicitingPacketsNeverTriggerAnAck) {
  AckTracker a;
  for (uint64_t pn = 0; pn < 10; pn += 2) a.on_packet_received(pn, false, t0, 0);
  EXPECT_FALSE(a.ack_needed(t0 + 1s));
  EXPECT_EQ(a.ack_deadline(), kNever);
  EXPECT_FALSE(a.ranges().empty());  // still acknowledged when an ACK goes out anyway
}

TEST(AckTracker, CeMarkTriggersImmediateAckAndEcnCounts) {
  AckTracker a;
  a.on_packet_received(0, true, t0, kEcnEct0);
  EXPECT_FALSE(a.ack_needed(t0));
  a.on_ack_sent(t0);
  a.on_packet_received(1, true, t0, kEcnCe);
  EXPECT_TRUE(a.ack_needed(t0));
  a.on_packet_received(2, false, t0, kEcnEct1);
  a.on_packet_received(2, false, t0, kEcnEct1);  // duplicate: not counted
  EXPECT_EQ(a.ecn(), (EcnCounters{1, 1, 1}));
}

TEST(AckTracker, AckDelayMeasuredFromLargestReceived) {
  AckTracker a;
  a.on_packet_received(5, true, t0, 0);
  a.on_packet_received(3, true, t0 + 4ms, 0);  // older pn, later: not the reference
  EXPECT_EQ(a.ack_delay(t0 + 7ms), 7ms);
}

TEST(AckTracker, AckOfAckTrimsReportedRanges) {
  AckTracker a;
  for (uint64_t pn : {0, 1, 3, 4, 6, 8}) a.on_packet_received(pn, true, t0, 0);
  a.on_ack_of_ack(4);
  EXPECT_EQ(a.ranges(), R({{8, 8}, {6, 6}}));
  // Anything at or below the acknowledged largest is now treated as already seen.
  EXPECT_TRUE(a.is_duplicate(2));
  EXPECT_FALSE(a.on_packet_received(5 - 3, true, t0, 0));
  EXPECT_TRUE(a.on_packet_received(7, true, t0, 0));
  EXPECT_EQ(a.ranges(), R({{6, 8}}));
}

TEST(AckTracker, SentRangesCappedNewestFirst) {
  AckTracker a;
  for (uint64_t pn = 0; pn < 200; pn += 2) a.on_packet_received(pn, true, t0, 0);
  auto r = a.ranges();
  ASSERT_EQ(r.size(), kMaxAckRangesSent);
  EXPECT_EQ(r.front(), (Range{198, 198}));
  EXPECT_EQ(r.back(),
            (Range{198 - 2 * (kMaxAckRangesSent - 1), 198 - 2 * (kMaxAckRangesSent - 1)}));
}

TEST(AckTracker, HostileEveryOtherPacketKeepsMemoryBounded) {
  AckTracker a;
  constexpr uint64_t kPackets = 100'000;
  for (uint64_t i = 0; i < kPackets; ++i) {
    a.on_packet_received(2 * i, true, t0, 0);
    ASSERT_LE(a.tracked_range_count(), kMaxTrackedRanges);
  }
  EXPECT_EQ(a.tracked_range_count(), kMaxTrackedRanges);
  // The forgotten low packet numbers are refused as duplicates rather than re-tracked.
  EXPECT_TRUE(a.is_duplicate(1));
  EXPECT_FALSE(a.on_packet_received(1, true, t0, 0));
  // The newest are still exact.
  EXPECT_FALSE(a.is_duplicate(2 * kPackets - 1));
  EXPECT_TRUE(a.is_duplicate(2 * kPackets - 2));
  EXPECT_EQ(a.ranges().front(), (Range{2 * kPackets - 2, 2 * kPackets - 2}));
}


// draft-ietf-quic-ack-frequency §6.2.1: the two example tables, row by row. ACKs are sent only
// for reordering (a huge ack-eliciting threshold and delay keep the others out).
void expect_reordering_table(uint64_t threshold,
                             std::initializer_list<std::pair<uint64_t, bool>> rows) {
  AckTracker a;
  a.apply_ack_frequency(1000, 10s, threshold);
  for (auto [pn, ack] : rows) {
    a.on_packet_received(pn, true, t0, 0);
    EXPECT_EQ(a.ack_needed(t0), ack) << "threshold " << threshold << ", packet " << pn;
    if (a.ack_needed(t0)) a.on_ack_sent(t0);
  }
}

TEST(AckTracker, ReorderingThresholdThreeFollowsTheDraftExample) {
  expect_reordering_table(3, {{0, false}, {1, false}, {3, false}, {4, false}, {5, true},
                              {8, false}, {9, true}, {10, true}});
}

TEST(AckTracker, ReorderingThresholdFiveFollowsTheDraftExample) {
  expect_reordering_table(5, {{0, false}, {1, false}, {3, false}, {5, false}, {6, false},
                              {7, true}, {8, false}, {9, true}});
}

TEST(AckTracker, LatePacketBehindTheReorderingWindowIsAcknowledgedAtOnce) {
  AckTracker a;
  a.apply_ack_frequency(1000, 10s, 3);
  for (uint64_t pn : {0, 1, 3, 4, 5}) a.on_packet_received(pn, true, t0, 0);
  ASSERT_TRUE(a.ack_needed(t0));
  a.on_ack_sent(t0);  // Largest Acked 5: the sender may declare 2 lost
  a.on_packet_received(2, true, t0, 0);
  EXPECT_TRUE(a.ack_needed(t0));  // 2 <= 5 - 3: report the spurious loss
}

TEST(AckTracker, ReorderingThresholdZeroNeverAcksForGaps) {
  AckTracker a;
  a.apply_ack_frequency(10, 20ms, 0);
  for (uint64_t pn : {0, 5, 2, 9, 1}) a.on_packet_received(pn, true, t0, 0);
  EXPECT_FALSE(a.ack_needed(t0));
  EXPECT_EQ(a.ack_deadline(), t0 + 20ms);  // the requested max_ack_delay
  EXPECT_TRUE(a.ack_needed(t0 + 20ms));
}

TEST(AckTracker, AckFrequencyThresholdCountsAckElicitingPacketsOnly) {
  AckTracker a;
  a.apply_ack_frequency(4, 25ms, 1);
  for (uint64_t pn = 0; pn < 4; ++pn) a.on_packet_received(pn, true, t0, 0);
  a.on_packet_received(4, false, t0, 0);
  EXPECT_FALSE(a.ack_needed(t0));
  a.on_packet_received(5, true, t0, 0);  // the fifth ack-eliciting one: more than 4
  EXPECT_TRUE(a.ack_needed(t0));
}

TEST(AckTracker, LoweringTheThresholdBelowWhatWaitsAcksAtOnce) {
  AckTracker a;
  a.apply_ack_frequency(10, 25ms, 1);
  for (uint64_t pn = 0; pn < 5; ++pn) a.on_packet_received(pn, true, t0, 0);
  EXPECT_FALSE(a.ack_needed(t0));
  a.apply_ack_frequency(2, 25ms, 1);
  EXPECT_TRUE(a.ack_needed(t0));
}

TEST(AckTracker, ImmediateAckRequestSkipsTheDelay) {
  AckTracker a;
  a.apply_ack_frequency(10, 25ms, 1);
  a.request_immediate_ack();  // nothing to acknowledge yet: no effect
  EXPECT_FALSE(a.ack_needed(t0));
  a.on_packet_received(0, true, t0, 0);
  EXPECT_FALSE(a.ack_needed(t0));
  a.request_immediate_ack();
  EXPECT_TRUE(a.ack_needed(t0));
}

TEST(AckTracker, AboveThresholdOneOnlyTheFirstCeMarkOfARunIsUrgent) {
  AckTracker a;
  a.apply_ack_frequency(10, 25ms, 1);
  a.on_packet_received(0, true, t0, kEcnEct0);
  a.on_packet_received(1, true, t0, kEcnCe);  // non-CE -> CE: at once
  EXPECT_TRUE(a.ack_needed(t0));
  a.on_ack_sent(t0);
  a.on_packet_received(2, true, t0, kEcnCe);  // still CE: waits for the threshold
  EXPECT_FALSE(a.ack_needed(t0));
  a.on_packet_received(3, true, t0, kEcnEct0);
  a.on_packet_received(4, true, t0, kEcnCe);  // a new run
  EXPECT_TRUE(a.ack_needed(t0));
}

}  // namespace
}  // namespace quic

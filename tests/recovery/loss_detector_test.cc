#include "recovery/loss_detector.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "recovery/pto.h"
#include "recovery_test_util.h"

namespace quic {
namespace {

using test::t0;

// The detector's frames are the caller's; here each packet "carries" pn * 10, to check that
// what comes back belongs to the packet it comes back with.
using Detector = LossDetector<uint64_t>;

SentPacket packet(uint64_t pn, Instant t, bool ack_eliciting = true, uint32_t bytes = 1200) {
  return SentPacket{pn, t, bytes, ack_eliciting, ack_eliciting, false};
}

void send(Detector& ld, const SentPacket& p) { ld.on_packet_sent(p, p.pn * 10); }

std::vector<uint64_t> pns(const std::vector<SentPacket>& v) {
  std::vector<uint64_t> out;
  for (const auto& p : v) out.push_back(p.pn);
  return out;
}
std::vector<uint64_t> pns(const LostPackets<uint64_t>& v) { return pns(v.packets); }
std::vector<uint64_t> pns(const std::vector<Detector::Record>& v) {
  std::vector<uint64_t> out;
  for (const auto& r : v) out.push_back(r.packet.pn);
  return out;
}

AckResult ack(Detector& ld, std::vector<Range> ranges, Instant now, RttEstimator& rtt,
              Duration ack_delay = 0ms, Duration max_ack_delay = 25ms) {
  AckResult r = ld.on_ack_received(ranges, ack_delay, now, rtt, max_ack_delay);
  if (r.rtt_sample) rtt.update(*r.rtt_sample, ack_delay, true, max_ack_delay, now);
  return r;
}

TEST(LossDetector, PacketThresholdDeclaresThreeBehindLost) {
  Detector ld;
  RttEstimator rtt;
  for (uint64_t pn = 0; pn < 6; ++pn) send(ld, packet(pn, t0));
  EXPECT_EQ(ld.bytes_in_flight(), 6u * 1200);
  AckResult r = ack(ld, {{4, 4}}, t0 + 10ms, rtt);
  EXPECT_FALSE(r.acked_unsent);
  EXPECT_EQ(pns(r.acked), (std::vector<uint64_t>{4}));
  EXPECT_EQ(pns(r.lost), (std::vector<uint64_t>{0, 1}));  // 4 >= pn + 3
  ASSERT_TRUE(r.rtt_sample.has_value());
  EXPECT_EQ(*r.rtt_sample, 10ms);
  // 2 and 3 wait for the time threshold: 9/8 * 10 ms after they were sent.
  EXPECT_EQ(ld.loss_time(), t0 + Duration(11'250'000));
  EXPECT_EQ(ld.bytes_in_flight(), 3u * 1200);
  EXPECT_TRUE(ld.detect_lost(t0 + 11ms, rtt).packets.empty());
  EXPECT_EQ(pns(ld.detect_lost(t0 + Duration(11'250'000), rtt)), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(ld.loss_time(), kNever);
  EXPECT_EQ(ld.bytes_in_flight(), 1200u);  // only 5 remains
}

TEST(LossDetector, TimeThresholdIsNineEighthsRtt) {
  Detector ld;
  RttEstimator rtt;
  send(ld, packet(0, t0));
  send(ld, packet(1, t0 + 10ms));
  // Sample 100 ms: loss delay 112.5 ms; packet 0 is lost once now - 112.5 ms >= t0.
  AckResult r = ack(ld, {{1, 1}}, t0 + 110ms, rtt);
  EXPECT_TRUE(r.lost.empty());
  EXPECT_EQ(ld.loss_time(), t0 + Duration(112'500'000));

  Detector ld2;
  RttEstimator rtt2;
  ld2.on_packet_sent(packet(0, t0));
  ld2.on_packet_sent(packet(1, t0 + 20ms));
  r = ack(ld2, {{1, 1}}, t0 + 120ms, rtt2);  // sample 100 ms, now - 112.5 = t0 + 7.5 ms
  EXPECT_EQ(pns(r.lost), (std::vector<uint64_t>{0}));
}

TEST(LossDetector, TimeThresholdUsesLargerOfLatestAndSmoothed) {
  Detector ld;
  RttEstimator rtt;
  rtt.update(200ms, 0ms, true, 25ms, t0 - 10s);  // smoothed 200 ms
  send(ld, packet(0, t0));
  send(ld, packet(1, t0 + 10ms));
  AckResult r = ack(ld, {{1, 1}}, t0 + 60ms, rtt);  // latest 50 ms, smoothed ~181 ms
  EXPECT_TRUE(r.lost.empty());
  EXPECT_GT(ld.loss_time(), t0 + 200ms);
}

TEST(LossDetector, RttSampleOnlyWhenLargestNewlyAckedAndAckEliciting) {
  Detector ld;
  RttEstimator rtt;
  send(ld, packet(0, t0));
  send(ld, packet(1, t0, /*ack_eliciting=*/false));
  AckResult r = ack(ld, {{1, 1}}, t0 + 5ms, rtt);
  EXPECT_FALSE(r.rtt_sample.has_value());  // only a non-ack-eliciting packet newly acked
  EXPECT_FALSE(r.largest_newly_acked_ack_eliciting);
  r = ack(ld, {{0, 1}}, t0 + 6ms, rtt);
  EXPECT_FALSE(r.rtt_sample.has_value());  // largest (1) was not newly acked
  EXPECT_EQ(pns(r.acked), (std::vector<uint64_t>{0}));
  send(ld, packet(2, t0 + 10ms));
  r = ack(ld, {{2, 2}, {0, 0}}, t0 + 17ms, rtt);
  ASSERT_TRUE(r.rtt_sample.has_value());
  EXPECT_EQ(*r.rtt_sample, 7ms);
  EXPECT_EQ(r.largest_acked_time_sent, t0 + 10ms);
}

TEST(LossDetector, AckedListIsAscendingAcrossRanges) {
  Detector ld;
  RttEstimator rtt;
  for (uint64_t pn = 0; pn < 10; ++pn) send(ld, packet(pn, t0));
  AckResult r = ack(ld, {{8, 9}, {5, 6}, {1, 2}}, t0 + 1ms, rtt);
  EXPECT_EQ(pns(r.acked), (std::vector<uint64_t>{1, 2, 5, 6, 8, 9}));
  EXPECT_EQ(pns(r.lost), (std::vector<uint64_t>{0, 3, 4}));
}

TEST(LossDetector, HugeAckRangeCostsOnlyThePacketsTracked) {
  // A peer's range may reach far below what is still tracked (down to 0 on a loss-free
  // connection): it is clamped to the tracked packets, and a repeated range walks nothing.
  Detector ld;
  RttEstimator rtt;
  for (uint64_t pn = 0; pn < 1000; ++pn) send(ld, packet(pn, t0));
  AckResult r = ack(ld, {{0, 999}}, t0 + 20ms, rtt);
  EXPECT_FALSE(r.acked_unsent);
  EXPECT_EQ(r.acked.size(), 1000u);
  EXPECT_EQ(ld.tracked_packets(), 0u);
  EXPECT_EQ(ld.bytes_in_flight(), 0u);
  for (uint64_t pn = 1000; pn < 1010; ++pn) send(ld, packet(pn, t0 + 20ms));
  r = ack(ld, {{0, 1004}}, t0 + 40ms, rtt);
  EXPECT_EQ(pns(r.acked), (std::vector<uint64_t>{1000, 1001, 1002, 1003, 1004}));
  r = ack(ld, {{0, 1004}}, t0 + 41ms, rtt);  // the same range again: nothing newly acked
  EXPECT_TRUE(r.acked.empty());
  EXPECT_EQ(ld.tracked_packets(), 5u);
}

TEST(LossDetector, AckOfNeverSentPacketIsFlagged) {
  Detector ld;
  RttEstimator rtt;
  EXPECT_TRUE(ack(ld, {{0, 0}}, t0, rtt).acked_unsent);  // nothing sent at all
  for (uint64_t pn = 0; pn < 3; ++pn) send(ld, packet(pn, t0));
  AckResult r = ack(ld, {{0, 3}}, t0 + 1ms, rtt);
  EXPECT_TRUE(r.acked_unsent);
  EXPECT_TRUE(r.acked.empty());
  EXPECT_EQ(ld.bytes_in_flight(), 3u * 1200);  // nothing was processed
  EXPECT_FALSE(ld.has_largest_acked());
}

TEST(LossDetector, AckCoveringSkippedPacketNumberIsFlagged) {
  Detector ld;
  RttEstimator rtt;
  send(ld, packet(0, t0));
  ld.skip_packet_number(1);
  send(ld, packet(2, t0));
  send(ld, packet(3, t0));
  EXPECT_TRUE(ack(ld, {{0, 3}}, t0 + 1ms, rtt).acked_unsent);  // an optimistic ACK
  EXPECT_TRUE(ack(ld, {{3, 3}, {1, 1}}, t0 + 1ms, rtt).acked_unsent);
  AckResult r = ack(ld, {{2, 3}, {0, 0}}, t0 + 1ms, rtt);  // honest
  EXPECT_FALSE(r.acked_unsent);
  EXPECT_EQ(r.acked.size(), 3u);
}

// RFC 9002 §6.1.1 counts packets sent after the lost one; a number skipped against optimistic
// ACKs (RFC 9000 §21.4) was never sent and must not bring a loss verdict forward.
TEST(LossDetector, SkippedPacketNumbersDoNotCountTowardThePacketThreshold) {
  Detector ld;
  RttEstimator rtt;
  send(ld, packet(0, t0));
  ld.skip_packet_number(1);
  ld.skip_packet_number(3);
  for (uint64_t pn : {2, 4, 5, 6}) send(ld, packet(pn, t0));
  // 4 is three numbers above 0 but only two packets (2, 4) were sent after it.
  AckResult r = ack(ld, {{4, 4}, {2, 2}}, t0 + 10ms, rtt);
  ASSERT_FALSE(r.acked_unsent);
  EXPECT_TRUE(r.lost.empty());
  EXPECT_NE(ld.loss_time(), kNever);  // 0 waits for the time threshold instead
  // 5 is the third packet sent after 0.
  r = ack(ld, {{5, 5}}, t0 + 10ms, rtt);
  EXPECT_EQ(pns(r.lost), (std::vector<uint64_t>{0}));
  // With no skip in between the threshold is the RFC's three: 10 is the fourth packet after 6
  // and the third after 7, only the second after 8.
  for (uint64_t pn = 7; pn <= 10; ++pn) send(ld, packet(pn, t0));
  r = ack(ld, {{10, 10}}, t0 + 10ms, rtt);
  EXPECT_EQ(pns(r.lost), (std::vector<uint64_t>{6, 7}));
}

TEST(LossDetector, MisorderedRangesAreIgnoredNotTrusted) {
  Detector ld;
  RttEstimator rtt;
  for (uint64_t pn = 0; pn < 10; ++pn) send(ld, packet(pn, t0));
  AckResult r = ack(ld, {{5, 5}, {7, 8}, {3, 1}, {0, 0}}, t0 + 1ms, rtt);
  EXPECT_EQ(pns(r.acked), (std::vector<uint64_t>{0, 5}));
}

// Sets up the RFC 9002 §7.6.3 example with a time unit of 100 ms: an estimator whose
// smoothed + max(4*rttvar, kGranularity) + max_ack_delay is 2 units (20 + 1 + 179 ms).
struct PcExample {
  static constexpr Duration kMaxAckDelay = 179ms;
  Detector ld;
  RttEstimator rtt;
  PcExample() {
    for (int i = 0; i < 30; ++i) rtt.update(20ms, 0ms, true, kMaxAckDelay, t0 - 10s);
    EXPECT_EQ(rtt.pto_base() + kMaxAckDelay, 200ms);
    send(ld, packet(1, t0));
    send(ld, packet(2, t0 + 100ms));
    // Ack of #1 at t=1.2 (its 100 ms of ack delay keeps the adjusted sample at 20 ms).
    AckResult r = ack(ld, {{1, 1}}, t0 + 120ms, rtt, 100ms, kMaxAckDelay);
    EXPECT_TRUE(r.lost.empty());
    for (uint64_t pn = 3; pn <= 7; ++pn) send(ld, packet(pn, t0 + (pn - 1) * 100ms));
    send(ld, packet(8, t0 + 800ms));   // PTO 1
    send(ld, packet(9, t0 + 1200ms));  // PTO 2
  }
};

TEST(LossDetector, PersistentCongestionExample_Rfc9002_7_6_3) {
  PcExample ex;
  AckResult r = ack(ex.ld, {{9, 9}}, t0 + 1220ms, ex.rtt, 0ms, PcExample::kMaxAckDelay);
  EXPECT_EQ(pns(r.lost), (std::vector<uint64_t>{2, 3, 4, 5, 6, 7, 8}));
  // Lost from t=1 to t=8: 7 units > 3 * 2 units.
  EXPECT_TRUE(r.persistent_congestion);
}

TEST(LossDetector, NoPersistentCongestionWhenAPacketBetweenWasAcked) {
  PcExample ex;
  AckResult r = ack(ex.ld, {{9, 9}, {5, 5}}, t0 + 1220ms, ex.rtt, 0ms, PcExample::kMaxAckDelay);
  EXPECT_EQ(pns(r.lost), (std::vector<uint64_t>{2, 3, 4, 6, 7, 8}));
  EXPECT_FALSE(r.persistent_congestion);
}

TEST(LossDetector, NoPersistentCongestionWhenSpanShorterThanDuration) {
  PcExample ex;
  // max_ack_delay 250 ms: duration (21 + 250) * 3 = 813 ms > the 700 ms span.
  AckResult r = ack(ex.ld, {{9, 9}}, t0 + 1220ms, ex.rtt, 0ms, 250ms);
  EXPECT_EQ(r.lost.size(), 7u);
  EXPECT_FALSE(r.persistent_congestion);
}

TEST(LossDetector, NoPersistentCongestionForPacketsSentBeforeFirstRttSample) {
  Detector ld;
  RttEstimator rtt(Duration(1ms));  // tiny initial RTT, but no sample yet
  for (uint64_t pn = 0; pn < 10; ++pn) send(ld, packet(pn, t0 + pn * 1s));
  AckResult r = ack(ld, {{9, 9}}, t0 + 9s + 1ms, rtt);
  EXPECT_EQ(r.lost.size(), 9u);
  EXPECT_FALSE(r.persistent_congestion);
}

TEST(LossDetector, PtoTimeFollowsLastAckElicitingPacketAndBacksOff) {
  Detector ld;
  RttEstimator rtt;
  rtt.update(100ms, 0ms, true, 25ms, t0);  // pto_base 300 ms
  EXPECT_EQ(ld.pto_time(rtt, 25ms, true, 0), kNever);
  send(ld, packet(0, t0));
  send(ld, packet(1, t0 + 50ms, /*ack_eliciting=*/false));
  EXPECT_EQ(ld.time_of_last_ack_eliciting(), t0);
  EXPECT_EQ(ld.pto_time(rtt, 25ms, true, 0), t0 + 325ms);
  EXPECT_EQ(ld.pto_time(rtt, 25ms, false, 0), t0 + 300ms);  // Initial/Handshake
  EXPECT_EQ(ld.pto_time(rtt, 25ms, true, 2), t0 + 1300ms);
  send(ld, packet(2, t0 + 100ms));
  EXPECT_EQ(ld.pto_time(rtt, 25ms, true, 0), t0 + 425ms);
  ack(ld, {{0, 2}}, t0 + 200ms, rtt);
  EXPECT_FALSE(ld.has_ack_eliciting_in_flight());
  EXPECT_EQ(ld.pto_time(rtt, 25ms, true, 0), kNever);
}

TEST(LossDetector, DiscardAllReturnsEverythingAndClearsFlight) {
  Detector ld;
  for (uint64_t pn = 0; pn < 4; ++pn) send(ld, packet(pn, t0, pn != 2));
  EXPECT_EQ(ld.bytes_in_flight(), 3u * 1200);
  auto all = ld.discard_all();
  EXPECT_EQ(pns(all), (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(all[1].frames, 10u);
  EXPECT_EQ(ld.tracked_packets(), 0u);
  EXPECT_EQ(ld.bytes_in_flight(), 0u);
  EXPECT_FALSE(ld.has_ack_eliciting_in_flight());
  EXPECT_EQ(ld.loss_time(), kNever);
  EXPECT_EQ(ld.time_of_last_ack_eliciting(), kNever);
}

TEST(LossDetector, OldestUnackedAckElicitingForProbes) {
  Detector ld;
  RttEstimator rtt;
  for (uint64_t pn = 0; pn < 6; ++pn) send(ld, packet(pn, t0, pn != 1));
  ack(ld, {{0, 0}}, t0 + 1ms, rtt);
  std::vector<uint64_t> probed;
  ld.for_each_unacked_ack_eliciting(2, [&](Detector::Record& r) {
    EXPECT_EQ(r.frames, r.packet.pn * 10);
    probed.push_back(r.packet.pn);
  });
  EXPECT_EQ(probed, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(ld.tracked_packets(), 5u);  // probing leaves them tracked
}

TEST(LossDetector, RandomAcksKeepFlightAccountingExact) {
  // Property: every sent packet is reported acked or lost at most once, and bytes_in_flight
  // always equals the in-flight bytes of the packets not yet reported.
  std::mt19937_64 rng(7);
  Detector ld;
  RttEstimator rtt;
  std::map<uint64_t, SentPacket> outstanding;
  Instant now = t0;
  uint64_t pn = 0;
  for (int step = 0; step < 2000; ++step) {
    now += Duration(rng() % 5'000'000);
    for (int i = 0, n = static_cast<int>(rng() % 4); i < n; ++i) {
      if (rng() % 16 == 0) ld.skip_packet_number(pn++);
      SentPacket p = packet(pn++, now, rng() % 4 != 0, 100 + rng() % 1300);
      send(ld, p);
      outstanding[p.pn] = p;
    }
    if (rng() % 2 == 0 || pn == 0) continue;
    // Descending ranges from the top, mostly honest.
    std::vector<Range> ranges;
    uint64_t hi = pn - 1 - std::min<uint64_t>(pn - 1, rng() % 3);
    for (int i = 0; i < 4; ++i) {
      uint64_t lo = hi - std::min<uint64_t>(hi, rng() % 6);
      ranges.push_back({lo, hi});
      if (lo < 3) break;
      hi = lo - 2 - rng() % 2;
    }
    auto r = ld.on_ack_received(ranges, 0ms, now, rtt, 25ms);
    if (r.acked_unsent) continue;
    if (r.rtt_sample) rtt.update(*r.rtt_sample, 0ms, true, 25ms, now);
    ASSERT_EQ(r.acked.size(), r.acked_frames.size());
    ASSERT_EQ(r.lost.size(), r.lost_frames.size());
    for (size_t i = 0; i < r.acked.size(); ++i) {
      ASSERT_EQ(r.acked_frames[i], r.acked[i].pn * 10);
      if (i > 0) {
        ASSERT_LT(r.acked[i - 1].pn, r.acked[i].pn);  // ascending
      }
    }
    for (size_t i = 0; i < r.lost.size(); ++i) ASSERT_EQ(r.lost_frames[i], r.lost[i].pn * 10);
    for (const auto* list : {&r.acked, &r.lost}) {
      for (const SentPacket& p : *list) ASSERT_EQ(outstanding.erase(p.pn), 1u) << p.pn;
    }
    auto timed = ld.detect_lost(now, rtt);
    ASSERT_EQ(timed.packets.size(), timed.frames.size());
    for (const SentPacket& p : timed.packets) ASSERT_EQ(outstanding.erase(p.pn), 1u);
    uint64_t expected = 0;
    for (const auto& [n, p] : outstanding) expected += p.in_flight ? p.bytes : 0;
    ASSERT_EQ(ld.bytes_in_flight(), expected);
    ASSERT_EQ(ld.tracked_packets(), outstanding.size());
  }
}

// A peer that acknowledges its whole history in every ACK (one range from 0, as a loss-free
// peer does) while one old packet waits for its verdict: every packet is reported once, and
// the repeated range costs no re-walk of what was acknowledged before (checked by counting
// nothing here; the walk's bound is for_each_unacked_gap's, tested through correctness).
TEST(LossDetector, RepeatedWholeHistoryAcksReportEachPacketOnce) {
  Detector ld;
  RttEstimator rtt;
  Instant now = t0;
  send(ld, packet(0, now));
  uint64_t acked = 0;
  for (uint64_t pn = 1; pn < 3000; ++pn) {
    now += 10us;
    send(ld, packet(pn, now));
    // Acks 1..pn-1 (0 is "in flight" until three later packets are acked).
    if (pn < 2) continue;
    std::vector<Range> ranges{{1, pn - 1}};
    auto r = ld.on_ack_received(ranges, 0ms, now, rtt, 25ms);
    ASSERT_FALSE(r.acked_unsent);
    acked += r.acked.size();
    if (r.rtt_sample) rtt.update(*r.rtt_sample, 0ms, true, 25ms, now);
  }
  EXPECT_EQ(acked, 2998u);  // 1..2998
  EXPECT_EQ(ld.tracked_packets(), 1u);  // 2999; 0 was declared lost by the packet threshold
}

}  // namespace
}  // namespace quic

// The delay bound (cc/delay_bound.h) over CUBIC, in virtual time: on the bottleneck model of
// bottleneck_link.h (a deep drop-tail buffer, as a modem's) and with the flat-RTT driver of
// cc_driver.h.
#include "cc/delay_bound.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "bottleneck_link.h"
#include "cc/cubic.h"
#include "cc_driver.h"

namespace quic {
namespace {

constexpr double kRateBps = 2.5e6;  // 20 Mbit/s
constexpr Duration kRtt = 40ms;     // target max(5 ms, 40/4) = 10 ms
// A second of buffer, as a modem's: CUBIC alone fills it before it sees a loss.
constexpr size_t kDeepQueuePackets = 2083;

// The base the rule sees: the propagation RTT and one packet's serialisation (0.48 ms).
void expect_base_near(const DelayBound& rule, Duration rtt) {
  EXPECT_GE(rule.base_rtt(), rtt);
  EXPECT_LE(rule.base_rtt(), rtt + 1ms);
}

DelayBoundedController bounded_cubic() {
  return DelayBoundedController(std::make_unique<Cubic>(kMds), kMds);
}

// What a stretch of a run did: the share of the link rate delivered and the queueing delay
// percentile of the packets sent during it.
struct Stretch {
  double share = 0;
  Duration queue_p99{0};
  Duration queue_max{0};
};

Stretch run_stretch(BottleneckLink& link, Duration d) {
  uint64_t acked0 = link.acked_bytes;
  size_t q0 = link.queueing.size();
  link.run_for(d);
  Stretch s;
  s.share = static_cast<double>(link.acked_bytes - acked0) /
            (link.rate_Bps * std::chrono::duration<double>(d).count());
  std::vector<Duration> q(link.queueing.begin() + static_cast<std::ptrdiff_t>(q0),
                          link.queueing.end());
  if (!q.empty()) {
    std::sort(q.begin(), q.end());
    s.queue_p99 = q[q.size() * 99 / 100];
    s.queue_max = q.back();
  }
  return s;
}

// The link full (95 % of its rate) and the queue short over a stretch.
void expect_full_and_short(const Stretch& s, Duration max_queue_p99) {
  EXPECT_GE(s.share, 0.95);
  EXPECT_LE(s.queue_p99, max_queue_p99);
}

// A bounded CUBIC on the deep-buffer link; settle() runs it past slow start.
class DelayBoundOnLink : public ::testing::Test {
 protected:
  void settle() { link.run_for(6s); }

  DelayBoundedController cc = bounded_cubic();
  BottleneckLink link{cc, kRateBps, kRtt, kDeepQueuePackets};
};

TEST(DelayBound, FactoryWrapsAnyAlgorithm) {
  for (CcAlgorithm a : {CcAlgorithm::kCubic, CcAlgorithm::kNewReno, CcAlgorithm::kBbr}) {
    auto plain = make_congestion_controller(a, kMds);
    auto cc = make_congestion_controller(a, kMds, nullptr, true);
    ASSERT_NE(dynamic_cast<DelayBoundedController*>(cc.get()), nullptr);
    EXPECT_EQ(dynamic_cast<DelayBoundedController*>(plain.get()), nullptr);
    EXPECT_STREQ(cc->name(), plain->name());
    EXPECT_EQ(cc->cwnd(), plain->cwnd());
    EXPECT_EQ(cc->in_slow_start(), plain->in_slow_start());
  }
}

// A flat RTT is no queue: the bound never engages and the window follows CUBIC's to the byte,
// through slow start, a loss and congestion avoidance.
TEST(DelayBound, FlatRttLeavesCubicUnchanged) {
  Cubic plain(kMds);
  DelayBoundedController cc = bounded_cubic();
  Driver a{plain};
  Driver b{cc};
  for (int i = 0; i < 60; ++i) {
    if (i == 8) {
      a.round_trip_with_loss();
      b.round_trip_with_loss();
    } else {
      a.round_trip();
      b.round_trip();
    }
    ASSERT_EQ(cc.cwnd(), plain.cwnd()) << "round " << i;
  }
  EXPECT_GT(plain.cwnd(), 30u * kMds);
  EXPECT_FALSE(cc.rule().engaged());
  EXPECT_EQ(cc.rule().cuts(), 0u);
  RttEstimator rtt{100ms};
  rtt.update(100ms, 0ms, true, 25ms, b.now);
  EXPECT_EQ(cc.pacing_rate_bps(rtt), plain.pacing_rate_bps(rtt));
}

// Behind a buffer of a second (a modem's), CUBIC alone queues hundreds of milliseconds; with the
// bound the queue stays near the 10 ms target while the link stays full.
TEST_F(DelayBoundOnLink, DeepBufferQueueStaysNearTarget) {
  Cubic plain(kMds);
  BottleneckLink ref{plain, kRateBps, kRtt, kDeepQueuePackets};
  ref.run_for(4s);
  Stretch unbounded = run_stretch(ref, 12s);
  EXPECT_GT(unbounded.queue_p99, 200ms);

  settle();
  const uint64_t inner_before = cc.inner().cwnd();
  Stretch s = run_stretch(link, 12s);
  EXPECT_TRUE(cc.rule().engaged() || cc.rule().cuts() > 0);
  expect_base_near(cc.rule(), kRtt);
  EXPECT_EQ(cc.rule().target(), cc.rule().base_rtt() / 4);
  expect_full_and_short(s, 15ms);  // the target and one step up
  EXPECT_EQ(link.lost_packets, 0u);
  // The window sits between the path's BDP and BDP plus the target's worth of queue (and the
  // last step up).
  EXPECT_GE(static_cast<double>(cc.cwnd()), 0.9 * link.bdp_bytes());
  EXPECT_LE(static_cast<double>(cc.cwnd()), 1.35 * link.bdp_bytes());
  // CUBIC behind the bound does not grow: the window it is not filling is not evidence.
  EXPECT_EQ(cc.inner().cwnd(), inner_before);
}

// The base RTT has a bounded memory: a standing queue never lets it creep up (a drain every
// kDelayBoundBaseRefresh re-measures it), and each drain costs little.
TEST_F(DelayBoundOnLink, DrainsKeepTheBaseExact) {
  settle();
  Stretch s = run_stretch(link, 30s);
  EXPECT_GE(cc.rule().drains(), 30u / 5u - 1u);
  EXPECT_LE(cc.rule().drains(), 36u / 5u + 1u);
  expect_base_near(cc.rule(), kRtt);
  expect_full_and_short(s, 15ms);
}

// A route change that lengthens the RTT by more than the target looks like a queue the sender
// cannot drain: within a few round trips the base is re-learned and the link is full again.
TEST_F(DelayBoundOnLink, LongerRouteIsRelearnedQuickly) {
  settle();
  link.rtt = 80ms;
  run_stretch(link, 1s);
  EXPECT_GE(cc.rule().base_rtt(), 80ms);
  EXPECT_LE(cc.rule().base_rtt(), 82ms);
  expect_full_and_short(run_stretch(link, 6s), 80ms / 4 + 5ms);
  // And back: the window then holds 40 ms of standing queue that looks like the path's RTT;
  // the drains find the shorter route (each empties up to a quarter of the window).
  link.rtt = kRtt;
  run_stretch(link, 2 * kDelayBoundBaseRefresh + 1s);
  expect_base_near(cc.rule(), kRtt);
  expect_full_and_short(run_stretch(link, 4s), 15ms);
}

// A smaller increase (8 ms, inside the target) does not look like a queue: the window creeps
// up to fill the link again and the periodic drain re-learns the base within
// kDelayBoundBaseRefresh and a few round trips.
TEST_F(DelayBoundOnLink, SlightlyLongerRouteIsRelearnedByTheDrain) {
  settle();
  link.rtt = 48ms;
  Stretch s = run_stretch(link, kDelayBoundBaseRefresh + 1s);
  EXPECT_GE(cc.rule().base_rtt(), 47ms);
  EXPECT_GE(s.share, 0.95);
}

// Somebody else's queue (a loss-based flow filling a shared buffer, modelled as 30 ms of
// standing queue ahead of every packet) does not respond to the cuts: they are undone and the
// base taken from the RTT as it is, so the path keeps its rate instead of starving.
TEST_F(DelayBoundOnLink, ForeignQueueDoesNotStarveThePath) {
  settle();
  const uint64_t before = cc.cwnd();
  link.standing_queue = 30ms;
  run_stretch(link, 1s);
  EXPECT_GE(cc.rule().rebases(), 1u);
  EXPECT_GE(cc.rule().base_rtt(), kRtt + 29ms);
  Stretch s = run_stretch(link, 4s);
  EXPECT_GE(s.share, 0.95);
  EXPECT_GE(cc.cwnd(), before);
}

// A round that did not use the window says nothing about a queue of ours: an application
// sending a packet now and then over a long RTT is never cut.
TEST(DelayBound, AppLimitedRoundsAreNotCut) {
  DelayBound rule;
  Instant now = t0;
  const uint64_t window = 100 * kMds;
  rule.on_packet_sent(kMds, 2 * kMds);
  rule.on_ack(now, 40ms, now - 40ms, window, false, kMds);
  for (int i = 0; i < 50; ++i) {
    Instant sent = now;
    rule.on_packet_sent(kMds, 2 * kMds);
    now += 90ms;  // 50 ms above the base: far past the target
    rule.on_ack(now, 90ms, sent, window, false, kMds);
  }
  EXPECT_FALSE(rule.engaged());
  EXPECT_EQ(rule.cuts(), 0u);
  EXPECT_EQ(rule.base_rtt(), 40ms);
}

// A path that receives far more than it sends (a tunnel server's replies beside a client's
// upload) sees the upload's queue in its RTT: its ACK-eliciting packets are acknowledged from
// behind the upload's data. Such rounds are not cut, and a bound engaged before lets go; the
// same rounds with the peer sending less than kDelayBoundReverseRatio times as much are cut.
TEST(DelayBound, PeerLoadedRoundsAreNotCut) {
  const uint64_t window = 10 * kMds;  // a small flight, fully used
  auto run = [&](DelayBound& rule, uint64_t received_per_round, int rounds) {
    Instant now = t0;
    rule.on_packet_sent(kMds, window);
    rule.on_ack(now, 40ms, now - 40ms, window, false, kMds);  // base 40 ms
    for (int i = 0; i < rounds; ++i) {
      Instant sent = now;
      for (uint64_t b = 0; b < window; b += kMds) rule.on_packet_sent(kMds, window);
      rule.on_datagram_received(received_per_round);
      now += 80ms;  // the peer's queue: 40 ms above the base
      rule.on_ack(now, 80ms, sent, std::min(window, rule.bound()), false, kMds);
    }
  };
  DelayBound reverse;
  run(reverse, kDelayBoundReverseRatio * window + 1, 20);
  EXPECT_EQ(reverse.cuts(), 0u);
  EXPECT_FALSE(reverse.engaged());
  EXPECT_GE(reverse.reverse_rounds(), 19u);

  DelayBound both_ways;  // the peer sends as much as we do: the queue may be ours
  run(both_ways, window, 20);
  EXPECT_GE(both_ways.cuts(), 1u);
  EXPECT_EQ(both_ways.reverse_rounds(), 0u);

  // A few ACKs of the peer's are no load, whatever the ratio.
  DelayBound few;
  run(few, kDelayBoundReverseMinPackets * kMds - 1, 20);
  EXPECT_EQ(few.reverse_rounds(), 0u);
}

// Through the controller: the connection reports each received datagram
// (CongestionController::on_datagram_received); a bound engaged by our own queue lets go once
// the path's rounds carry the peer's load instead.
TEST(DelayBound, ReverseLoadReleasesAnEngagedBound) {
  DelayBoundedController cc = bounded_cubic();
  RttEstimator rtt;
  Instant now = t0;
  uint64_t pn = 0;
  auto round = [&](Duration sample, uint64_t received) {
    std::vector<SentPacket> sent;
    for (uint64_t b = 0; b + kMds <= cc.cwnd(); b += kMds) {
      sent.push_back(SentPacket{pn++, now, kMds, true, true});
      cc.on_packet_sent(now, sent.back().pn, kMds, b + kMds);
    }
    cc.on_datagram_received(received);
    now += sample;
    rtt.update(sample, 0ms, true, 0ms, now);
    cc.on_packets_acked(now, sent, rtt, 0);
  };
  round(40ms, 0);
  for (int i = 0; i < 3 && !cc.rule().engaged(); ++i) round(100ms, 0);
  ASSERT_TRUE(cc.rule().engaged());
  const uint64_t bounded = cc.cwnd();
  for (int i = 0; i < 3; ++i) round(100ms, 100 * cc.cwnd());
  EXPECT_FALSE(cc.rule().engaged());
  EXPECT_GT(cc.cwnd(), bounded);
  EXPECT_GE(cc.rule().reverse_rounds(), 1u);
}

// Hand-computed cuts: base 40 ms (target 10 ms). A round at 85 ms (a queue above the base RTT)
// keeps (40 + 5) / 85 of the flight; one at 200 ms keeps kDelayBoundMinKeep only; one at 56 ms
// (a queue below the base RTT) keeps 45/56 = 0.80; one at 70 ms (45/70 = 0.64) keeps
// kDelayBoundMinKeepEngaged. A round of samples from before a cut is skipped.
TEST(DelayBound, CutAimsAtHalfTheTarget) {
  DelayBound rule;
  Instant now = t0;
  auto round = [&](Duration rtt, uint64_t w) {
    Instant start = now;
    rule.on_packet_sent(kMds, w);
    now += rtt;
    rule.on_ack(now, rtt, start, w, false, kMds);
  };
  auto kept = [](uint64_t w, double share) {
    return static_cast<uint64_t>(static_cast<double>(w) * share);
  };
  const uint64_t window = 200 * kMds;
  rule.on_packet_sent(kMds, window);
  rule.on_ack(now, 40ms, now - 40ms, window, false, kMds);  // opens the first round
  round(85ms, window);
  ASSERT_TRUE(rule.engaged());
  uint64_t w = rule.bound();
  EXPECT_EQ(w, kept(window, 45e6 / 85e6));
  round(85ms, w);  // settling: samples of packets sent before the cut
  EXPECT_EQ(rule.bound(), w);
  round(200ms, w);
  EXPECT_EQ(rule.bound(), kept(w, kDelayBoundMinKeep));
  w = rule.bound();
  round(200ms, w);  // settling
  round(56ms, w);
  EXPECT_EQ(rule.bound(), kept(w, 45e6 / 56e6));
  w = rule.bound();
  round(56ms, w);  // settling
  round(70ms, w);
  EXPECT_EQ(rule.bound(), kept(w, kDelayBoundMinKeepEngaged));
  EXPECT_EQ(rule.cuts(), 4u);
}

// Slow start: a round's first samples come from before the queue, its later ones show the queue
// growing. Eight samples in a row past the target end the round at once and their minimum is
// its RTT; seven do not, nor does a queue that comes and goes within the round.
TEST(DelayBound, SamplesInARowPastTheTargetEndTheRoundEarly) {
  const uint64_t window = 100 * kMds;
  auto run = [&](DelayBound& rule, const std::vector<Duration>& samples) {
    Instant now = t0;
    rule.on_packet_sent(kMds, window);
    rule.on_ack(now, 40ms, now - 40ms, window, false, kMds);  // base 40 ms, the round opens
    const Instant round_start = now;
    for (uint64_t b = 0; b < window; b += kMds) rule.on_packet_sent(kMds, window);
    for (Duration d : samples) {
      now += 1ms;
      rule.on_ack(now, d, round_start - 1ms, window, false, kMds);  // all sent before the round
    }
  };
  std::vector<Duration> early(4, 41ms);
  for (int i = 0; i < 8; ++i) early.push_back(55ms + std::chrono::milliseconds(i));
  DelayBound rule;
  run(rule, early);
  EXPECT_EQ(rule.cuts(), 1u);
  EXPECT_EQ(rule.bound(), static_cast<uint64_t>(static_cast<double>(window) * 45e6 / 55e6));

  DelayBound seven;
  run(seven, std::vector<Duration>(early.begin(), early.end() - 1));
  EXPECT_FALSE(seven.engaged());

  std::vector<Duration> broken = early;
  broken[8] = 45ms;  // the queue went below the target in between
  DelayBound interrupted;
  run(interrupted, broken);
  EXPECT_FALSE(interrupted.engaged());
}

// After persistent congestion CUBIC is far below the bound: the bound lets go and slow start
// refills the link as it would without it.
TEST_F(DelayBoundOnLink, CollapsedInnerWindowRefillsTheLink) {
  settle();
  SentPacket lost{link.next_pn + 1'000'000, link.now, kMds, true, true};
  cc.on_packets_lost(link.now, std::vector<SentPacket>{lost}, true, link.in_flight);
  EXPECT_EQ(cc.inner().cwnd(), minimum_window(kMds));
  EXPECT_EQ(cc.cwnd(), minimum_window(kMds));
  link.run_for(1s);
  EXPECT_GE(static_cast<double>(cc.cwnd()), 0.9 * link.bdp_bytes());
  expect_full_and_short(run_stretch(link, 3s), 15ms);
}

TEST_F(DelayBoundOnLink, ResetForgetsEverything) {
  settle();
  ASSERT_LT(cc.rule().base_rtt(), Duration::max());
  cc.reset();
  EXPECT_FALSE(cc.rule().engaged());
  EXPECT_EQ(cc.rule().base_rtt(), Duration::max());
  EXPECT_EQ(cc.cwnd(), initial_window(kMds));
}

}  // namespace
}  // namespace quic

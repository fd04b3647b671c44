// The per-direction link model: serialisation, queueing and each random impairment.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "sim/network.h"
#include "toy_nodes.h"

namespace sim::test {
namespace {

using namespace std::chrono_literals;

struct Pair {
  Network net;
  CbrSender sender;
  Sink sink;
  int link;
  Pair(uint64_t seed, LinkConfig cfg, size_t size, Duration interval, uint64_t count,
       bool keep_payload = false, uint8_t ecn = kNotEct)
      : net(seed),
        sender(addr(1), addr(2), size, interval, Instant{}, count, ecn),
        sink(keep_payload) {
    net.add_node(&sender, {addr(1)});
    net.add_node(&sink, {addr(2)});
    link = net.add_link(addr(1), addr(2), std::move(cfg), LinkConfig{});
  }
  Network::DirStats stats() const { return net.stats(link, true); }
};

TEST(LinkModel, SinglePacketArrivesAfterDelayPlusSerialisationExactly) {
  LinkConfig cfg;  // 10 Mbit/s, 15 ms
  Pair p(1, cfg, 1200, 1s, 1);
  p.net.run(quic::kNever);
  ASSERT_EQ(p.sink.arrivals.size(), 1u);
  // 1200 bytes * 8 / 10 Mbit/s = 960 us.
  EXPECT_EQ(p.sink.arrivals[0].at, Instant{} + 15ms + 960us);
  EXPECT_EQ(p.sink.arrivals[0].d.src, addr(1));
  EXPECT_EQ(p.sink.arrivals[0].d.dst, addr(2));
  EXPECT_EQ(p.stats().delivered_packets, 1u);
  EXPECT_EQ(p.stats().delivered_bytes, 1200u);
}

TEST(LinkModel, HeaderBytesCountTowardsSerialisation) {
  LinkConfig cfg;
  cfg.header_bytes = 28;
  Pair p(1, cfg, 1222, 1s, 1);
  p.net.run(quic::kNever);
  ASSERT_EQ(p.sink.arrivals.size(), 1u);
  EXPECT_EQ(p.sink.arrivals[0].at, Instant{} + 15ms + 1000us);  // 1250 bytes on the wire
}

TEST(LinkModel, SaturatingSenderGetsExactlyTheLinkRateAndQueueDrops) {
  LinkConfig cfg;                      // 1250-byte packets take exactly 1 ms at 10 Mbit/s
  Pair p(1, cfg, 1250, 500us, 20000);  // offered load: 2x the rate for 10 s
  p.net.run(quic::kNever);
  const auto s = p.stats();
  EXPECT_EQ(s.sent_packets, 20000u);
  EXPECT_GT(s.dropped_queue, 9000u);
  EXPECT_EQ(s.delivered_packets + s.dropped_queue, s.sent_packets);

  uint64_t bytes_in_window = 0;
  for (const auto& a : p.sink.arrivals) {
    if (a.at >= at_ms(1000) && a.at < at_ms(9000)) bytes_in_window += 1250;
  }
  const uint64_t expected = static_cast<uint64_t>(10e6 / 8 * 8);  // 8 s at 10 Mbit/s
  EXPECT_LE(bytes_in_window, expected + 1250);
  EXPECT_GE(bytes_in_window + 1250, expected);
  // Back to back: arrivals after the first are exactly one serialisation time apart.
  for (size_t i = 1; i < 5000; ++i) {
    ASSERT_EQ(p.sink.arrivals[i].at - p.sink.arrivals[i - 1].at, 1ms) << i;
  }
  // The queue never holds more than queue_bytes (30 packets) behind the packet in service: the
  // last packet accepted (sent at 9999 ms) waits for the one in service and 29 ahead of it.
  const auto& last = p.sink.arrivals.back();
  EXPECT_EQ(last.seq, 19998u);
  EXPECT_EQ(last.at, at_ms(9999 + 1 + 29 + 1 + 15));
}

TEST(LinkModel, UnderloadedLinkDropsNothingAndAddsNoQueueingDelay) {
  LinkConfig cfg;
  Pair p(1, cfg, 1250, 2ms, 5000);
  p.net.run(quic::kNever);
  EXPECT_EQ(p.stats().dropped_queue, 0u);
  ASSERT_EQ(p.sink.arrivals.size(), 5000u);
  for (const auto& a : p.sink.arrivals) {
    ASSERT_EQ(a.at, Instant{} + a.seq * 2ms + 16ms);
  }
}

std::vector<uint64_t> delivered_seqs(const Sink& s) {
  std::vector<uint64_t> out;
  for (const auto& a : s.arrivals) out.push_back(a.seq);
  return out;
}

TEST(LinkModel, RandomLossFractionMatchesAndIsReproducible) {
  LinkConfig cfg;
  cfg.loss = 0.1;
  Pair a(42, cfg, 100, 1ms, 20000);
  Pair b(42, cfg, 100, 1ms, 20000);
  a.net.run(quic::kNever);
  b.net.run(quic::kNever);
  const double fraction = static_cast<double>(a.stats().dropped_loss) / 20000;
  EXPECT_NEAR(fraction, 0.1, 0.012);
  EXPECT_EQ(a.stats().dropped_loss + a.stats().delivered_packets, 20000u);
  EXPECT_EQ(a.stats().dropped_loss, b.stats().dropped_loss);
  EXPECT_EQ(delivered_seqs(a.sink), delivered_seqs(b.sink));
  EXPECT_EQ(a.net.trace_hash(), b.net.trace_hash());
}

TEST(LinkModel, BurstLossLengthsStayWithinMaxBurstAndCoverTheRange) {
  LinkConfig cfg;
  cfg.burst_loss = 0.05;
  cfg.max_burst = 4;
  Pair p(7, cfg, 100, 1ms, 20000);
  p.net.run(quic::kNever);
  std::map<uint64_t, int> gap_lengths;
  uint64_t expect = 0;
  for (const auto& a : p.sink.arrivals) {
    if (a.seq != expect) ++gap_lengths[a.seq - expect];
    expect = a.seq + 1;
  }
  ASSERT_FALSE(gap_lengths.empty());
  EXPECT_LE(gap_lengths.rbegin()->first, 4u);
  for (uint64_t len = 1; len <= 4; ++len) EXPECT_GT(gap_lengths[len], 50) << len;
  EXPECT_GT(p.stats().dropped_loss, 0u);
}

TEST(LinkModel, CorruptionFlipsExactlyOneByteWithinTheFirst50) {
  LinkConfig cfg;
  cfg.corrupt = 1.0;
  Pair p(3, cfg, 1200, 1ms, 2000, /*keep_payload=*/true);
  p.net.run(quic::kNever);
  ASSERT_EQ(p.sink.arrivals.size(), 2000u);
  EXPECT_EQ(p.stats().corrupted, 2000u);
  std::vector<int> hits(50);
  for (size_t i = 0; i < p.sink.arrivals.size(); ++i) {
    const auto sent = payload_for(i, 1200);  // no loss or reordering: arrival i is packet i
    const auto& got = p.sink.arrivals[i].d.payload;
    ASSERT_EQ(got.size(), sent.size());
    int diffs = 0;
    for (size_t j = 0; j < got.size(); ++j) {
      if (got[j] != sent[j]) {
        ++diffs;
        ASSERT_LT(j, 50u);
        ++hits[j];
      }
    }
    ASSERT_EQ(diffs, 1) << i;
  }
  EXPECT_GT(*std::min_element(hits.begin(), hits.end()), 10);  // spread over the whole window
}

TEST(LinkModel, CorruptionOfShortPayloadStaysInsideIt) {
  LinkConfig cfg;
  cfg.corrupt = 0.5;
  Pair p(3, cfg, 10, 1ms, 2000, /*keep_payload=*/true);
  p.net.run(quic::kNever);
  ASSERT_EQ(p.sink.arrivals.size(), 2000u);
  EXPECT_NEAR(static_cast<double>(p.stats().corrupted) / 2000, 0.5, 0.05);
  uint64_t changed = 0;
  for (size_t i = 0; i < 2000; ++i) {
    const auto& got = p.sink.arrivals[i].d.payload;
    ASSERT_EQ(got.size(), 10u);
    changed += got != payload_for(i, 10);
  }
  EXPECT_EQ(changed, p.stats().corrupted);
}

TEST(LinkModel, ReorderingHappensAtTheConfiguredRate) {
  LinkConfig cfg;
  cfg.reorder = 0.1;
  cfg.reorder_delay = 5ms;
  Pair p(11, cfg, 100, 1ms, 10000);
  p.net.run(quic::kNever);
  const auto s = p.stats();
  EXPECT_EQ(s.delivered_packets, 10000u);
  EXPECT_NEAR(static_cast<double>(s.reordered) / 10000, 0.1, 0.015);
  uint64_t late = 0, max_seen = 0;
  for (size_t i = 0; i < p.sink.arrivals.size(); ++i) {
    const uint64_t seq = p.sink.arrivals[i].seq;
    if (i > 0 && seq < max_seen) ++late;
    max_seen = std::max(max_seen, seq);
  }
  // Every held-back packet is overtaken by its successor (1 ms behind, 5 ms held), except when
  // the packets behind it are all held back too or it is the last one.
  EXPECT_LE(late, s.reordered);
  EXPECT_GE(late + 3, s.reordered);
  EXPECT_GT(late, 800u);
}

TEST(LinkModel, JitterStaysInRangeAndKeepsFifoOrder) {
  LinkConfig cfg;
  cfg.jitter = 10ms;
  Pair p(5, cfg, 125, 1ms, 5000);  // 100 us serialisation
  p.net.run(quic::kNever);
  ASSERT_EQ(p.sink.arrivals.size(), 5000u);
  Duration lo = Duration::max(), hi = Duration::min();
  for (size_t i = 0; i < p.sink.arrivals.size(); ++i) {
    const auto& a = p.sink.arrivals[i];
    ASSERT_EQ(a.seq, i);
    const Duration latency = a.at - (Instant{} + a.seq * 1ms);
    ASSERT_GE(latency, 15ms + 100us);
    ASSERT_LE(latency, 15ms + 100us + 10ms);
    lo = std::min(lo, latency);
    hi = std::max(hi, latency);
  }
  EXPECT_GT(hi - lo, 8ms);
}

TEST(LinkModel, CeMarkingOnlyTouchesEctPackets) {
  LinkConfig cfg;
  cfg.ce_mark = 1.0;
  Pair ect(1, cfg, 100, 1ms, 100, false, kEct0);
  Pair not_ect(1, cfg, 100, 1ms, 100, false, kNotEct);
  ect.net.run(quic::kNever);
  not_ect.net.run(quic::kNever);
  for (const auto& a : ect.sink.arrivals) ASSERT_EQ(a.d.ecn, kCe);
  for (const auto& a : not_ect.sink.arrivals) ASSERT_EQ(a.d.ecn, kNotEct);
  EXPECT_EQ(ect.stats().ce_marked, 100u);
  EXPECT_EQ(not_ect.stats().ce_marked, 0u);
}

TEST(LinkModel, EcnBleachingPathClearsTheCodepoint) {
  LinkConfig cfg;
  cfg.ecn_capable = false;
  Pair p(1, cfg, 100, 1ms, 50, false, kEct1);
  p.net.run(quic::kNever);
  ASSERT_EQ(p.sink.arrivals.size(), 50u);
  for (const auto& a : p.sink.arrivals) ASSERT_EQ(a.d.ecn, kNotEct);
}

TEST(LinkModel, CeMarkingByQueueThreshold) {
  LinkConfig cfg;
  cfg.ce_threshold_bytes = 10 * 1250;
  Pair p(1, cfg, 1250, 500us, 200, false, kEct0);  // 2x overload: the queue grows 1 per ms
  p.net.run(quic::kNever);
  uint64_t ce = 0;
  for (const auto& a : p.sink.arrivals) {
    if (a.d.ecn == kCe) {
      ++ce;
      EXPECT_GT(a.seq, 20u);  // the queue exceeds 10 packets only after ~20 sends
    } else {
      EXPECT_EQ(a.d.ecn, kEct0);
    }
  }
  EXPECT_GT(ce, 0u);
  EXPECT_EQ(ce, p.stats().ce_marked);
}

TEST(LinkModel, DropFilterSeesEveryPacketIndex) {
  LinkConfig cfg;
  std::vector<uint64_t> seen;
  cfg.drop_filter = [&seen](const Datagram& d, uint64_t index) {
    seen.push_back(index);
    EXPECT_EQ(seq_of(d.payload), index);
    return index == 2 || index == 5;
  };
  Pair p(1, cfg, 100, 1ms, 8);
  p.net.run(quic::kNever);
  EXPECT_EQ(delivered_seqs(p.sink), (std::vector<uint64_t>{0, 1, 3, 4, 6, 7}));
  EXPECT_EQ(seen, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(p.stats().dropped_loss, 2u);
}

TEST(LinkModel, ZeroRateMeansNoSerialisationDelay) {
  LinkConfig cfg;
  cfg.rate_bps = 0;
  Pair p(1, cfg, 1200, 1ms, 3);
  p.net.run(quic::kNever);
  ASSERT_EQ(p.sink.arrivals.size(), 3u);
  EXPECT_EQ(p.sink.arrivals[2].at, at_ms(17));
}

}  // namespace
}  // namespace sim::test

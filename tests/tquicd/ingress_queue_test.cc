// The ingress queue: bounds, CE marking (IPv4 checksum kept valid, IPv6 traffic class), and
// CoDel holding a responsive sender's queue near the target where a plain FIFO would fill.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "ip_test_packets.h"
#include "tquicd/ingress_queue.h"
#include "tquicd/ip_header.h"
#include "tquicd_test_util.h"

namespace bond {
namespace {

using namespace std::chrono_literals;
using quic::Instant;

using testutil::at;

TEST(IpEcn, SetsCeWithValidIpv4Checksum) {
  for (uint8_t tos : {0x01, 0x02, 0xb9, 0xba}) {  // ECT(1), ECT(0), with DSCP EF
    auto p = test::ipv4(ipproto::kUdp, 1, 2, 100, tos);
    ASSERT_TRUE(set_ce(p));
    EXPECT_EQ(packet_ecn(p), Ecn::kCe);
    EXPECT_EQ(p[1] >> 2, tos >> 2);  // DSCP untouched
    EXPECT_EQ((uint16_t{p[10]} << 8 | p[11]), test::ipv4_checksum(p)) << int(tos);
  }
  for (uint8_t tos : {0x00, 0x03, 0xb8}) {  // not ECT, already CE
    auto p = test::ipv4(ipproto::kUdp, 1, 2, 100, tos);
    auto before = p;
    EXPECT_FALSE(set_ce(p));
    EXPECT_EQ(p, before);
  }
  auto v6 = test::ipv6(ipproto::kTcp, 1, 2, 100, 0xba);  // EF + ECT(0)
  ASSERT_TRUE(set_ce(v6));
  auto info = parse_ip_packet(v6).info;
  ASSERT_TRUE(info);
  EXPECT_EQ(info->ecn, Ecn::kCe);
  EXPECT_EQ(info->dscp, 46);
  std::vector<uint8_t> junk{0x45, 0x02};
  EXPECT_FALSE(set_ce(junk));
}

TEST(IngressQueue, BoundedInBytesAndFifo) {
  IngressQueue q({5ms, 100ms, 64 << 10});
  size_t accepted = 0;
  for (int i = 0; i < 100; ++i) accepted += q.enqueue(at(0ms), test::ipv4(ipproto::kUdp, 1, uint16_t(i), 1500));
  EXPECT_EQ(accepted, (size_t{64} << 10) / 1500);
  EXPECT_EQ(q.stats().tail_drops, 100 - accepted);
  EXPECT_LE(q.bytes(), size_t{64} << 10);
  auto first = q.dequeue(at(1ms));  // 1 ms sojourn: below target, no drop
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)[23], 0);
  EXPECT_EQ(q.head_sojourn(at(3ms)), 3ms);
  while (q.dequeue(at(1ms))) {
  }
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.stats().dequeued, accepted);
  EXPECT_FALSE(q.dequeue(at(2ms)));
}

TEST(IngressQueue, BoundedInPacketsWhateverTheirSize) {
  IngressQueue q({5ms, 100ms, 256 << 20});
  std::vector<uint8_t> tiny(20, 0);
  size_t accepted = 0;
  for (size_t i = 0; i < kIngressMaxPackets + 10; ++i) accepted += q.enqueue(at(0ms), tiny);
  EXPECT_EQ(accepted, kIngressMaxPackets);
  EXPECT_EQ(q.stats().tail_drops, 10u);
}

// Without a tunnel the queue only ages: each turn drops what waited past the outage bound
// (interactive packets too: they wait in the same queue while there is no tunnel), and the
// turn the tunnel is back sweeps once more before anything is dequeued.
TEST(IngressQueue, OutageDropsPacketsPastTheBound) {
  IngressQueue q({5ms, 100ms, 2 << 20});
  // 3 s of outage, one packet every 100 ms (the first one ICMP: "interactive").
  q.enqueue(at(0ms), test::ipv4(ipproto::kIcmp, 0, 0, 84));
  for (int i = 1; i < 30; ++i) {
    q.enqueue(at(i * 100ms), test::ipv4(ipproto::kUdp, 1, uint16_t(i), 1000));
    q.note_tunnel(at(i * 100ms), false);
  }
  // At 2.9 s, packets enqueued at or after 1.9 s are within the bound: 11 left.
  EXPECT_EQ(q.packets(), 11u);
  EXPECT_EQ(q.stats().outage_drops, 19u);
  EXPECT_LE(q.head_sojourn(at(2900ms)), kIngressOutageMaxSojourn);
  // The loop's next turn is 600 ms later and has the tunnel: it sweeps first.
  q.note_tunnel(at(3500ms), true);
  EXPECT_EQ(q.stats().outage_drops, 25u);
  EXPECT_EQ(q.packets(), 5u);
  EXPECT_LE(q.head_sojourn(at(3500ms)), kIngressOutageMaxSojourn);
  // With the tunnel up, the queue is CoDel's alone: no more outage drops, however old.
  q.note_tunnel(at(9s), true);
  EXPECT_EQ(q.packets(), 5u);
  EXPECT_EQ(q.stats().outage_drops, 25u);
  EXPECT_EQ(q.stats().tail_drops + q.stats().codel_drops, 0u);
  // The bytes are accounted for: 5 packets of 1000 bytes.
  EXPECT_EQ(q.bytes(), 5000u);
}

TEST(IngressQueue, ShortOutageKeepsItsPackets) {
  IngressQueue q({5ms, 100ms, 2 << 20});
  q.note_tunnel(at(0ms), true);
  q.note_tunnel(at(10ms), false);  // the connection is lost
  for (int i = 0; i < 8; ++i)
    q.enqueue(at(10ms + i * 100ms), test::ipv4(ipproto::kTcp, 1, 2, 1500));
  q.note_tunnel(at(1010ms), true);  // back after 1 s: the oldest waited exactly the bound
  EXPECT_EQ(q.packets(), 8u);
  EXPECT_EQ(q.stats().outage_drops, 0u);
  EXPECT_EQ(q.expire(at(1020ms), kIngressOutageMaxSojourn), 1u);  // one past it now
  EXPECT_EQ(q.expire(at(9s), kIngressOutageMaxSojourn), 7u);
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.expire(at(10s), kIngressOutageMaxSojourn), 0u);  // empty: nothing to do
}

// A queue CoDel was dropping from when the tunnel went away starts afresh when it is back: no
// burst of drops catching up on the drop times the outage skipped.
TEST(IngressQueue, CodelStartsAfreshAfterAnOutage) {
  IngressQueue q({5ms, 100ms, 2 << 20});
  q.note_tunnel(at(0ms), true);
  // 1 s at twice the drain rate: a standing queue, CoDel dropping.
  for (int ms = 0; ms < 1000; ++ms) {
    for (int k = 0; k < 2; ++k) q.enqueue(at(ms * 1ms), test::ipv4(ipproto::kUdp, 1, 2, 1500));
    q.dequeue(at(ms * 1ms));
  }
  ASSERT_TRUE(q.dropping());
  ASSERT_GT(q.stats().codel_drops, 0u);
  // 3 s without a tunnel, a packet every 10 ms; then the tunnel takes all that is left at once.
  for (int ms = 1000; ms < 4000; ms += 10) {
    q.enqueue(at(ms * 1ms), test::ipv4(ipproto::kUdp, 1, 2, 1500));
    q.note_tunnel(at(ms * 1ms), false);
  }
  q.note_tunnel(at(4000ms), true);
  EXPECT_FALSE(q.dropping());
  const uint64_t drops = q.stats().codel_drops;
  const size_t left = q.packets();
  EXPECT_EQ(left, 100u);  // the last second's: 3.0 s (exactly 1 s old) to 3.99 s
  size_t sent = 0;
  while (q.dequeue(at(4000ms))) ++sent;
  EXPECT_EQ(sent, left);
  EXPECT_EQ(q.stats().codel_drops, drops);
}

TEST(IngressQueue, NoDropWhileSojournStaysBelowTargetOrForOnePacket) {
  IngressQueue q({5ms, 100ms, 2 << 20});
  for (int i = 0; i < 1000; ++i) {
    q.enqueue(at(i * 1ms), test::ipv4(ipproto::kUdp, 1, 2, 1500));
    ASSERT_TRUE(q.dequeue(at(i * 1ms + 4ms)));  // 4 ms sojourn each: below the 5 ms target
  }
  // One packet waiting a long time is not a standing queue.
  for (int i = 0; i < 10; ++i) {
    q.enqueue(at(2s + i * 1s), test::ipv4(ipproto::kUdp, 1, 2, 1400));
    ASSERT_TRUE(q.dequeue(at(2s + i * 1s + 500ms)));
  }
  EXPECT_EQ(q.stats().codel_drops + q.stats().ce_marks, 0u);
}

// A responsive sender (AIMD like Reno: the rate grows by one packet per round trip each 50 ms
// round trip and halves, at most once a round trip, on a drop or CE mark) into a 10 Mbit/s
// drain. Returns the median and 95th percentile
// sojourn over the last 10 s of 20.
struct SojournRun {
  quic::Duration median, p95;
  double utilisation;  // of the drain over the last 10 s
  IngressStats stats;
};

SojournRun run_responsive(uint8_t tos, quic::Duration target) {
  IngressQueue q({target, 100ms, 2 << 20});
  const quic::Duration drain_every = 1200us;  // 1500 bytes at 10 Mbit/s
  const quic::Duration step = 100us, rtt = 50ms;
  double rate_pps = 400, credit = 0;
  Instant last_cut = at(0ms), last_increase = at(0ms), next_drain = at(0ms);
  uint64_t marks = 0, acted_on = 0, sent = 0;
  std::vector<quic::Duration> sojourns;
  for (Instant now = at(0ms); now < at(20s); now += step) {
    credit += rate_pps * std::chrono::duration<double>(step).count();
    for (; credit >= 1; credit -= 1) q.enqueue(now, test::ipv4(ipproto::kTcp, 40000, 80, 1500, tos));
    if (now >= next_drain) {
      next_drain += drain_every;
      if (now >= at(10s) && q.packets() > 0) sojourns.push_back(q.head_sojourn(now));
      auto p = q.dequeue(now);
      if (p && packet_ecn(*p) == Ecn::kCe) ++marks;
      if (p && now >= at(10s)) ++sent;
    }
    uint64_t signals = marks + q.stats().codel_drops + q.stats().tail_drops;
    if (now - last_cut < rtt) {
      acted_on = signals;  // one cut per round trip: later signals of it are the same event
    } else if (signals > acted_on) {
      rate_pps = std::max(rate_pps / 2, 10.0);
      last_cut = now;
    } else if (now - last_increase >= rtt) {
      rate_pps += 20;
      last_increase = now;
    }
  }
  std::sort(sojourns.begin(), sojourns.end());
  double capacity = std::chrono::duration<double>(10s) / drain_every;
  std::printf("target %lld ms: median %.1f ms, p95 %.1f ms, utilisation %.3f, drops %llu, marks %llu\n",
              static_cast<long long>(target / 1ms), static_cast<double>(sojourns[sojourns.size() / 2] / 1us) / 1000,
              static_cast<double>(sojourns[sojourns.size() * 95 / 100] / 1us) / 1000, sent / capacity,
              static_cast<unsigned long long>(q.stats().codel_drops), static_cast<unsigned long long>(q.stats().ce_marks));
  return {sojourns[sojourns.size() / 2], sojourns[sojourns.size() * 95 / 100], sent / capacity, q.stats()};
}

// CoDel's signals (drops, or CE marks for ECN-capable packets) keep the queue near target
// without tail drops, and the drain busy.
void expect_held_near_target(const SojournRun& r, bool ecn) {
  EXPECT_GT(ecn ? r.stats.ce_marks : r.stats.codel_drops, 0u);
  EXPECT_EQ(ecn ? r.stats.codel_drops : r.stats.ce_marks, 0u);
  EXPECT_EQ(r.stats.tail_drops, 0u);
  EXPECT_LT(r.median, 20ms);
  EXPECT_LT(r.p95, 60ms);
  EXPECT_GT(r.utilisation, 0.75);  // one AIMD flow, 50 ms RTT, ~4 packets of queue
}

TEST(IngressQueue, CodelHoldsSojournNearTargetByDropping) {
  expect_held_near_target(run_responsive(0x00, 5ms), false);
  // The same sender into a queue whose target is never reached (a plain FIFO) fills it to the
  // byte bound: 2 MiB at 10 Mbit/s is 1.7 s.
  SojournRun fifo = run_responsive(0x00, 10s);
  EXPECT_GT(fifo.median, 500ms);
  EXPECT_GT(fifo.stats.tail_drops, 0u);
  EXPECT_EQ(fifo.stats.codel_drops, 0u);
}

TEST(IngressQueue, CodelMarksEcnCapablePacketsInsteadOfDropping) {
  expect_held_near_target(run_responsive(0x02, 5ms), true);   // ECT(0)
  expect_held_near_target(run_responsive(0x01, 5ms), true);   // ECT(1)
}

}  // namespace
}  // namespace bond

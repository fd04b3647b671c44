#include "cc/pacer.h"

#include <gtest/gtest.h>

#include "cc/new_reno.h"
#include "cc_driver.h"

namespace quic {
namespace {

TEST(Pacer, SpreadsAWindowOverTheRoundTrip) {
  // 100 packets of window, 100 ms RTT, gain 1.25: 12 Mbit/s, one packet per 0.8 ms after an
  // initial burst of 10.
  constexpr uint64_t kCwnd = 100 * kMds;
  constexpr uint64_t kRate = 1'250 * kCwnd * 8 * 10 / 1'000;  // 1.25 * cwnd / 0.1 s, in bit/s
  ASSERT_EQ(kRate, 12'000'000u);
  Pacer pacer;
  Instant now = t0;
  std::vector<Instant> sent;
  for (int i = 0; i < 100; ++i) {
    now = pacer.next_send_time(now, kMds, kRate, kCwnd, kMds);
    pacer.on_packet_sent(now, kMds, kRate, kCwnd, kMds);
    sent.push_back(now);
  }
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sent[i], t0) << i;  // the burst
  EXPECT_GT(sent[10], t0);
  for (int i = 11; i < 100; ++i) {
    EXPECT_NEAR(static_cast<double>((sent[i] - sent[i - 1]).count()), 800'000.0, 2.0) << i;
  }
  // The whole window leaves within ~72 ms: spread over, not beyond, the 100 ms RTT.
  EXPECT_NEAR(static_cast<double>((sent[99] - t0).count()) / 1e6, 72.0, 0.1);
}

TEST(Pacer, IdleRefillsOnlyUpToTheBurst) {
  Pacer pacer;
  constexpr uint64_t kRate = 12'000'000;
  constexpr uint64_t kCwnd = 100 * kMds;
  Instant now = t0;
  for (int i = 0; i < 20; ++i) {
    now = pacer.next_send_time(now, kMds, kRate, kCwnd, kMds);
    pacer.on_packet_sent(now, kMds, kRate, kCwnd, kMds);
  }
  now += 10s;  // long idle
  int immediate = 0;
  while (pacer.next_send_time(now, kMds, kRate, kCwnd, kMds) == now && immediate < 1000) {
    pacer.on_packet_sent(now, kMds, kRate, kCwnd, kMds);
    ++immediate;
  }
  EXPECT_EQ(immediate, static_cast<int>(kPacerBurstPackets));
}

TEST(Pacer, SmallWindowLimitsBurstAndZeroRateDisablesPacing) {
  Pacer pacer;
  constexpr uint64_t kCwnd = 3 * kMds;
  int immediate = 0;
  while (pacer.next_send_time(t0, kMds, 1'000'000, kCwnd, kMds) == t0 && immediate < 100) {
    pacer.on_packet_sent(t0, kMds, 1'000'000, kCwnd, kMds);
    ++immediate;
  }
  EXPECT_EQ(immediate, 3);
  EXPECT_EQ(pacer.next_send_time(t0, kMds, 0, kCwnd, kMds), t0);
}

TEST(Pacer, FollowsControllerRate) {
  NewReno cc(kMds);
  Driver d{cc};
  d.round_trip();
  d.lose({d.send_window()[0]});  // avoidance, cwnd 12000, srtt 100 ms
  uint64_t rate = cc.pacing_rate_bps(d.rtt);
  Pacer pacer;
  Instant now = t0;
  Instant first_paced = kNever;
  for (int i = 0; i < 20; ++i) {
    now = pacer.next_send_time(now, kMds, rate, cc.cwnd(), kMds);
    if (i == 10) first_paced = now;
    pacer.on_packet_sent(now, kMds, rate, cc.cwnd(), kMds);
  }
  // 1.25 * 12000 B per 100 ms: 1200 B every 8 ms.
  EXPECT_EQ(first_paced - t0, 8ms);
  EXPECT_EQ(now - t0, 80ms);
}

TEST(Pacer, FastPathReleasesWholeBurstsAtTheSameAverageRate) {
  // 4 Gbit/s: 1 ms of sending is 500 kB, so the bucket holds kPacerMaxBurstPackets packets and,
  // once drained, refills whole before the next release (one GSO batch, not one datagram).
  constexpr uint32_t kMtu = 1452;
  constexpr uint64_t kRate = 4'000'000'000;
  constexpr uint64_t kCwnd = 2000 * kMtu;
  Pacer pacer;
  Instant now = t0;
  std::vector<Instant> sent;
  for (uint32_t i = 0; i < 4 * kPacerMaxBurstPackets; ++i) {
    now = pacer.next_send_time(now, kMtu, kRate, kCwnd, kMtu);
    pacer.on_packet_sent(now, kMtu, kRate, kCwnd, kMtu);
    sent.push_back(now);
  }
  // One burst's worth of time at the rate: 64 * 1452 B * 8 / 4e9 = 185.856 us.
  constexpr uint32_t kBurst = kPacerMaxBurstPackets;
  const Duration burst_time(int64_t{kBurst} * kMtu * 8 * 1'000'000'000 / kRate);
  for (uint32_t b = 0; b < 4; ++b) {
    for (uint32_t i = 0; i < kBurst; ++i) {
      EXPECT_EQ(sent[b * kBurst + i], sent[b * kBurst]) << b << " " << i;
    }
    if (b > 0) {
      Duration gap = sent[b * kBurst] - sent[(b - 1) * kBurst];
      EXPECT_NEAR(static_cast<double>(gap.count()), static_cast<double>(burst_time.count()), 2.0);
    }
  }
  // A window smaller than the burst still caps it.
  Pacer small;
  int immediate = 0;
  while (small.next_send_time(t0, kMtu, kRate, 20 * kMtu, kMtu) == t0 && immediate < 1000) {
    small.on_packet_sent(t0, kMtu, kRate, 20 * kMtu, kMtu);
    ++immediate;
  }
  EXPECT_EQ(immediate, 20);
}

}  // namespace
}  // namespace quic

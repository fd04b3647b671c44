// Both directions of the tunnel assembled from the components, in virtual time: a bulk TCP
// flow striped over two paths of different delay comes out in order, interactive traffic goes
// first and is not held, and every packet refused is counted under its reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "ip_test_packets.h"
#include "tquicd/tunnel_header.h"
#include "tquicd/tunnel_pipeline.h"

namespace bond {
namespace {

using namespace std::chrono_literals;
using quic::Instant;

Instant at(quic::Duration d) { return quic::instant_from_ns(0) + d; }

IpPrefix prefix(const char* text) { return *parse_prefix(text); }

size_t drops(const DropCounters& d, DropReason r) { return d[static_cast<size_t>(r)]; }

// An IPv4 TCP packet whose payload carries `n` (its position in the flow).
std::vector<uint8_t> tcp_segment(uint32_t n, size_t size = 1400) {
  auto p = test::ipv4(ipproto::kTcp, 40000, 443, size);
  for (int i = 0; i < 4; ++i) p[40 + i] = static_cast<uint8_t>(n >> (8 * i));
  return p;
}
uint32_t segment_number(quic::Bytes p) {
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= uint32_t{p[40 + i]} << (8 * i);
  return n;
}

TEST(TunnelPipeline, PrefixContains) {
  std::array<uint8_t, 16> ip{198, 18, 0, 77};
  EXPECT_TRUE(prefix_contains(prefix("198.18.0.0/24"), ip, false));
  EXPECT_TRUE(prefix_contains(prefix("198.18.0.76/31"), ip, false));
  EXPECT_FALSE(prefix_contains(prefix("198.18.0.78/31"), ip, false));
  EXPECT_TRUE(prefix_contains(prefix("0.0.0.0/0"), ip, false));
  EXPECT_FALSE(prefix_contains(prefix("198.18.0.0/24"), ip, true));  // family differs
  std::array<uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_TRUE(prefix_contains(prefix("2001:db8::/64"), v6, true));
  EXPECT_FALSE(prefix_contains(prefix("2001:db9::/32"), v6, true));
}

TEST(TunnelPipeline, SenderRefusesByReasonAndSendsInteractiveFirst) {
  SenderSettings s;
  s.mtu = 1400;
  s.allowed_sources = {prefix("198.18.0.0/24")};
  s.ingress.max_bytes = 64 << 10;
  TunnelSender tx(s, 1);
  EXPECT_EQ(tx.on_tun_packet(at(0ms), test::ipv4(ipproto::kTcp, 1, 443, 1401)), DropReason::kTooBig);
  EXPECT_EQ(tx.on_tun_packet(at(0ms), std::vector<uint8_t>{0x45, 0}), DropReason::kMalformedIp);
  auto spoofed = test::ipv4(ipproto::kTcp, 1, 443, 100);
  spoofed[14] = 1;  // 198.18.1.1
  EXPECT_EQ(tx.on_tun_packet(at(0ms), spoofed), DropReason::kSpoofedSource);
  size_t queued = 0;
  for (uint32_t n = 0; n < 100; ++n) queued += !tx.on_tun_packet(at(0ms), tcp_segment(n)).has_value();
  EXPECT_EQ(queued, (size_t{64} << 10) / 1400);
  EXPECT_EQ(drops(tx.drops(), DropReason::kQueueFull), 100 - queued);
  EXPECT_FALSE(tx.on_tun_packet(at(0ms), test::ipv4(ipproto::kUdp, 5000, 53, 80)));  // DNS
  std::vector<uint8_t> out(1500);
  auto first = tx.next_datagram(at(1ms), out);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->flow_class, FlowClass::kInteractive);
  auto t = parse_tunnel_packet(std::span<const uint8_t>(out.data(), first->size));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->header.seq, 0u);
  EXPECT_EQ(t->ip_packet.size(), 80u);
  auto second = tx.next_datagram(at(1ms), out);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->flow_class, FlowClass::kBulk);
  EXPECT_EQ(parse_tunnel_packet(std::span<const uint8_t>(out.data(), second->size))->header.seq, 1u);
  // A room smaller than the packet: it waits for a larger one (another path) ...
  std::vector<uint8_t> small(100);
  EXPECT_FALSE(tx.next_datagram(at(1ms), small));
  auto third = tx.next_datagram(at(2ms), out);
  ASSERT_TRUE(third);
  EXPECT_EQ(parse_tunnel_packet(std::span<const uint8_t>(out.data(), third->size))->header.seq, 2u);
  EXPECT_EQ(segment_number(parse_tunnel_packet(std::span<const uint8_t>(out.data(), third->size))->ip_packet), 1u);
  // ... for up to the ingress interval, then it is dropped without using a sequence number.
  EXPECT_FALSE(tx.next_datagram(at(10ms), small));
  EXPECT_FALSE(tx.next_datagram(at(10ms) + s.ingress.interval - 1ns, small));
  size_t before = drops(tx.drops(), DropReason::kTooBig);
  EXPECT_FALSE(tx.next_datagram(at(10ms) + s.ingress.interval, small));  // every waiting packet
  EXPECT_GT(drops(tx.drops(), DropReason::kTooBig), before);
  EXPECT_TRUE(tx.on_tun_packet(at(1s), tcp_segment(500)) == std::nullopt);
  auto fourth = tx.next_datagram(at(1s), out);
  ASSERT_TRUE(fourth);
  EXPECT_EQ(parse_tunnel_packet(std::span<const uint8_t>(out.data(), fourth->size))->header.seq, 3u);
}

TEST(TunnelPipeline, ReceiverRefusesByReason) {
  ReceiverSettings s;
  s.allowed_sources = {prefix("198.18.0.0/24")};
  TunnelReceiver rx(s);
  const uint8_t bad_header[] = {0xc0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0x45};
  EXPECT_FALSE(rx.on_datagram(at(0ms), 0, bad_header));
  std::vector<uint8_t> d(2 + 3);
  encode_tunnel_header({0, 0}, d);
  d[2] = 0x45;
  EXPECT_FALSE(rx.on_datagram(at(0ms), 0, d));
  auto wrap = [](uint32_t seq, const std::vector<uint8_t>& ip) {
    std::vector<uint8_t> out(kMaxTunnelHeaderBytes + ip.size());
    size_t h = encode_tunnel_header({seq, 0}, out);
    std::copy(ip.begin(), ip.end(), out.begin() + static_cast<long>(h));
    out.resize(h + ip.size());
    return out;
  };
  auto spoofed = test::ipv4(ipproto::kTcp, 1, 2, 100);
  spoofed[12] = 10;
  EXPECT_FALSE(rx.on_datagram(at(0ms), 0, wrap(0, spoofed)));
  EXPECT_TRUE(rx.on_datagram(at(0ms), 0, wrap(0, tcp_segment(0))));
  EXPECT_FALSE(rx.on_datagram(at(0ms), 1, wrap(0, tcp_segment(0))));
  EXPECT_EQ(drops(rx.drops(), DropReason::kMalformedTunnel), 1u);
  EXPECT_EQ(drops(rx.drops(), DropReason::kMalformedIp), 1u);
  EXPECT_EQ(drops(rx.drops(), DropReason::kSpoofedSource), 1u);
  EXPECT_EQ(drops(rx.drops(), DropReason::kDuplicate), 1u);
}

// A client sends a bulk TCP flow (10 Mbit/s of room, striped 2:1 over a 10 ms and a 60 ms path)
// and a small UDP stream every 20 ms; the server's receiver writes to its TUN device.
TEST(TunnelPipeline, StripedBulkFlowArrivesInOrderAndInteractiveIsNotHeld) {
  SenderSettings ss;
  TunnelSender tx(ss, 7);
  ReceiverSettings rs;
  TunnelReceiver rx(rs);
  rx.set_active_paths(2);
  struct InFlight { Instant arrive; size_t path; std::vector<uint8_t> bytes; };
  std::multimap<Instant, InFlight> wire;
  std::vector<uint32_t> tcp_out;
  std::vector<quic::Duration> udp_delay;
  std::map<uint32_t, Instant> udp_sent;
  auto deliver = [&](quic::Bytes ip, Instant now) {
    auto info = parse_ip_packet(ip).info;
    ASSERT_TRUE(info);
    if (info->protocol == ipproto::kTcp) tcp_out.push_back(segment_number(ip));
    if (info->protocol == ipproto::kUdp) udp_delay.push_back(now - udp_sent.at(segment_number(ip)));
  };
  uint32_t tcp_n = 0, udp_n = 0, bulk_sent = 0;
  std::vector<uint8_t> out(1500);
  for (Instant now = at(0ms); now < at(3s); now += 1200us) {  // one datagram of room per 1.2 ms
    for (int i = 0; i < 2 && tcp_n < 2000; ++i) (void)tx.on_tun_packet(now, tcp_segment(tcp_n++));
    if ((now - at(0ms)) % 20ms < 1200us) {
      auto u = test::ipv4(ipproto::kUdp, 5004, 5004, 120);
      for (int i = 0; i < 4; ++i) u[40 + i] = static_cast<uint8_t>(udp_n >> (8 * i));
      udp_sent[udp_n++] = now;
      ASSERT_FALSE(tx.on_tun_packet(now, u));
    }
    if (auto d = tx.next_datagram(now, out)) {
      bool fast = d->flow_class == FlowClass::kInteractive || bulk_sent++ % 3 != 2;
      Instant arrive = now + (fast ? 10ms : 60ms);
      wire.emplace(arrive, InFlight{arrive, fast ? 0u : 1u, std::vector<uint8_t>(out.begin(), out.begin() + long(d->size))});
    }
    while (!wire.empty() && wire.begin()->first <= now) {
      InFlight f = std::move(wire.begin()->second);
      wire.erase(wire.begin());
      while (rx.next_timeout() <= f.arrive) rx.on_timeout(rx.next_timeout());
      if (auto ip = rx.on_datagram(f.arrive, f.path, f.bytes)) deliver(*ip, f.arrive);
      while (auto p = rx.pop_ready()) deliver(*p, f.arrive);
    }
  }
  rx.on_timeout(at(10s));
  while (auto p = rx.pop_ready()) deliver(*p, at(10s));
  ASSERT_GT(tcp_out.size(), 1500u);
  EXPECT_TRUE(std::is_sorted(tcp_out.begin(), tcp_out.end()));
  EXPECT_EQ(tcp_out.size(), std::set<uint32_t>(tcp_out.begin(), tcp_out.end()).size());
  EXPECT_EQ(rx.reorder().stats().lost, 0u);
  EXPECT_GT(rx.reorder().hold_time(), 50ms);  // learnt from the two paths
  ASSERT_GT(udp_delay.size(), 100u);
  // Interactive packets go first on the fast path and are not held behind bulk gaps.
  EXPECT_LT(*std::max_element(udp_delay.begin(), udp_delay.end()), 15ms);
}

}  // namespace
}  // namespace bond

// The flow classifier and the IP header reader under it: classes, ordering flags, counters,
// hostile packets (every truncation, bad lengths, IPv6 extension chains past the cap,
// fragments) and flow-table exhaustion with LRU eviction.
#include <gtest/gtest.h>

#include "ip_test_packets.h"
#include "tquicd/classifier.h"
#include "tquicd_test_util.h"

namespace bond {
namespace {

using namespace std::chrono_literals;

using testutil::at;

FlowClassifier make(size_t max_flows = 65536) {
  FlowPolicy p;
  p.max_flows = max_flows;
  return FlowClassifier(p, 0x1234);
}

TEST(IpHeader, ReadsIpv4AndIpv6Headers) {
  auto v4 = test::ipv4(ipproto::kTcp, 40000, 443, 120, 0xb9);
  auto r = parse_ip_packet(v4);
  ASSERT_TRUE(r.info);
  EXPECT_FALSE(r.info->v6);
  EXPECT_EQ(r.info->dscp, 46);
  EXPECT_EQ(r.info->ecn, Ecn::kEct1);
  EXPECT_EQ(r.info->src_port, 40000);
  EXPECT_EQ(r.info->dst_port, 443);
  EXPECT_EQ(r.info->length, 120u);
  EXPECT_EQ(r.info->src[0], 198);
  // Three destination-options headers before UDP: the walk finds the ports.
  auto v6 = test::ipv6(ipproto::kUdp, 5353, 53, 120, 0x88, 3);
  r = parse_ip_packet(v6);
  ASSERT_TRUE(r.info);
  EXPECT_TRUE(r.info->v6);
  EXPECT_EQ(r.info->protocol, ipproto::kUdp);
  EXPECT_EQ(r.info->dst_port, 53);
  EXPECT_EQ(r.info->dscp, 0x88 >> 2);
  // A TUN buffer longer than the packet: the packet's own length counts.
  v4.resize(200);
  EXPECT_EQ(parse_ip_packet(v4).info->length, 120u);
}

TEST(IpHeader, RefusesHostilePacketsByReason) {
  auto v4 = test::ipv4(ipproto::kTcp, 1, 2, 60);
  for (size_t len = 0; len < 40; ++len) {  // every truncation (IP header, then TCP header)
    std::vector<uint8_t> cut(v4.begin(), v4.begin() + static_cast<long>(len));
    EXPECT_FALSE(parse_ip_packet(cut).info) << len;
  }
  auto bad = v4;
  bad[0] = 0x44;  // IHL 4
  EXPECT_EQ(parse_ip_packet(bad).error, IpError::kBadHeaderLength);
  bad = v4;
  bad[0] = 0x4f;  // IHL 15 = 60 bytes: no room for TCP in a 60-byte packet
  EXPECT_EQ(parse_ip_packet(bad).error, IpError::kTruncatedTransport);
  bad = v4;
  test::put16(bad, 2, 61);  // total length past the buffer
  EXPECT_EQ(parse_ip_packet(bad).error, IpError::kTruncated);
  bad = v4;
  test::put16(bad, 2, 30);  // TCP header cut by the length field
  EXPECT_EQ(parse_ip_packet(bad).error, IpError::kTruncatedTransport);
  bad = v4;
  bad[0] = 0x55;
  EXPECT_EQ(parse_ip_packet(bad).error, IpError::kBadVersion);
  // IPv6: one extension header past the cap; an extension header longer than the packet.
  auto chain = test::ipv6(ipproto::kUdp, 1, 2, 200, 0, kMaxIpv6ExtensionHeaders + 1);
  EXPECT_EQ(parse_ip_packet(chain).error, IpError::kTooManyExtensions);
  EXPECT_TRUE(parse_ip_packet(test::ipv6(ipproto::kUdp, 1, 2, 200, 0, kMaxIpv6ExtensionHeaders)).info);
  auto longext = test::ipv6(ipproto::kUdp, 1, 2, 100, 0, 1);
  longext[41] = 200;  // (200 + 1) * 8 bytes
  EXPECT_EQ(parse_ip_packet(longext).error, IpError::kTruncated);
  auto v6 = test::ipv6(ipproto::kUdp, 1, 2, 100);
  test::put16(v6, 4, 100);  // payload length past the buffer
  EXPECT_EQ(parse_ip_packet(v6).error, IpError::kTruncated);
}

TEST(IpHeader, FragmentsCarryPortsOnlyInTheFirst) {
  auto first = test::ipv4(ipproto::kUdp, 7, 9, 100);
  test::put16(first, 6, 0x2000);  // MF, offset 0
  EXPECT_TRUE(parse_ip_packet(first).info->has_ports);
  auto later = test::ipv4(ipproto::kUdp, 7, 9, 24);
  test::put16(later, 6, 0x0010);  // offset 128 bytes: payload is not a UDP header
  auto r = parse_ip_packet(later);
  ASSERT_TRUE(r.info);
  EXPECT_TRUE(r.info->later_fragment);
  EXPECT_FALSE(r.info->has_ports);
  // IPv6 fragment header (44) with a non-zero offset.
  auto v6 = test::ipv6(ipproto::kUdp, 1, 2, 100);
  v6[6] = 44;
  v6[40] = ipproto::kUdp;
  test::put16(v6, 42, 0x0100);
  r = parse_ip_packet(v6);
  ASSERT_TRUE(r.info);
  EXPECT_TRUE(r.info->later_fragment);
  EXPECT_EQ(r.info->protocol, ipproto::kUdp);
}

TEST(FlowClassifier, InteractiveByPortDscpIcmpAndSmallPackets) {
  FlowClassifier c = make();
  EXPECT_EQ(c.classify(at(0ms), test::ipv4(ipproto::kTcp, 50000, 22, 1400)).flow_class, FlowClass::kInteractive);
  EXPECT_EQ(c.classify(at(0ms), test::ipv4(ipproto::kTcp, 50000, 443, 1400)).flow_class, FlowClass::kBulk);
  EXPECT_EQ(c.classify(at(0ms), test::ipv4(ipproto::kUdp, 40000, 9999, 1400, 46 << 2)).flow_class,
            FlowClass::kInteractive);  // EF
  EXPECT_EQ(c.classify(at(0ms), test::ipv4(ipproto::kUdp, 40000, 9999, 1400, 34 << 2)).flow_class,
            FlowClass::kInteractive);  // AF41
  EXPECT_EQ(c.classify(at(0ms), test::ipv4(ipproto::kIcmp, 0x0800, 0, 84)).flow_class, FlowClass::kInteractive);
  EXPECT_EQ(c.classify(at(0ms), test::ipv6(ipproto::kUdp, 5000, 5004, 200)).flow_class, FlowClass::kInteractive);
  // A flow that starts small (handshake) becomes bulk once its packets are large.
  FlowClassifier d = make();
  auto big = test::ipv4(ipproto::kTcp, 50001, 8080, 1500);
  EXPECT_EQ(d.classify(at(0ms), test::ipv4(ipproto::kTcp, 50001, 8080, 60)).flow_class, FlowClass::kInteractive);
  FlowClass last = FlowClass::kInteractive;
  int packets = 0;
  while (last == FlowClass::kInteractive && packets < 100) last = d.classify(at(1ms), big).flow_class, ++packets;
  EXPECT_EQ(last, FlowClass::kBulk);
  EXPECT_LE(packets, 2);
}

TEST(FlowClassifier, OrderFlagFollowsProtocolAndPolicy) {
  FlowClassifier c = make();
  EXPECT_TRUE(c.classify(at(0ms), test::ipv4(ipproto::kTcp, 1, 2)).ordered);
  EXPECT_FALSE(c.classify(at(0ms), test::ipv4(ipproto::kUdp, 1, 2)).ordered);
  EXPECT_FALSE(c.classify(at(0ms), test::ipv6(ipproto::kIcmpv6, 0x8000, 0)).ordered);
  EXPECT_TRUE(c.classify(at(0ms), test::ipv4(47, 0, 0)).ordered);  // GRE: no ports, kept in order
  FlowPolicy strict;
  strict.udp_unordered = false;
  c.set_policy(strict);
  EXPECT_TRUE(c.classify(at(0ms), test::ipv4(ipproto::kUdp, 1, 2)).ordered);
}

TEST(FlowClassifier, CountsPerFlow) {
  FlowClassifier c = make();
  for (int i = 0; i < 10; ++i) c.classify(at(i * 1ms), test::ipv4(ipproto::kTcp, 1000, 2000, 1000));
  c.classify(at(20ms), test::ipv4(ipproto::kTcp, 1001, 2000, 500));
  EXPECT_EQ(c.flow_count(), 2u);
  FlowKey k;
  k.src = {198, 18, 0, 1};
  k.dst = {198, 19, 0, 1};
  k.src_port = 1000, k.dst_port = 2000, k.protocol = ipproto::kTcp;
  const FlowEntry* f = c.find(k);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->packets, 10u);
  EXPECT_EQ(f->bytes, 10'000u);
  EXPECT_EQ(f->last_seen, at(9ms));
  EXPECT_EQ(c.flows().front().key.src_port, 1001);  // most recent first
  EXPECT_EQ(c.stats().packets, 11u);
}

TEST(FlowClassifier, MalformedPacketsAreCountedByReasonAndKeepNoState) {
  FlowClassifier c = make();
  std::vector<uint8_t> junk{0x45, 0, 0};
  auto r = c.classify(at(0ms), junk);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(*r.error, IpError::kTruncated);
  EXPECT_EQ(*c.classify(at(0ms), std::vector<uint8_t>(40, 0x70)).error, IpError::kBadVersion);
  EXPECT_EQ(*c.classify(at(0ms), test::ipv6(ipproto::kUdp, 1, 2, 400, 0, 20)).error, IpError::kTooManyExtensions);
  EXPECT_EQ(c.flow_count(), 0u);
  EXPECT_EQ(c.stats().malformed[static_cast<size_t>(IpError::kTruncated)], 1u);
  EXPECT_EQ(c.stats().malformed[static_cast<size_t>(IpError::kBadVersion)], 1u);
  EXPECT_EQ(c.stats().malformed[static_cast<size_t>(IpError::kTooManyExtensions)], 1u);
}

// 100,000 distinct flows (a port scan, or a peer spraying source addresses) through a
// 64-entry table: the table stays at its cap, and a flow seen regularly is never evicted.
TEST(FlowClassifier, TableExhaustionEvictsLeastRecentlyUsed) {
  FlowClassifier c = make(64);
  auto keep = test::ipv4(ipproto::kTcp, 22, 50000, 100, 0, 200);
  for (int i = 0; i < 100'000; ++i) {
    c.classify(at(i * 1us), test::ipv4(ipproto::kUdp, static_cast<uint16_t>(i), 7, 100, 0, uint8_t(i >> 16)));
    if (i % 32 == 0) c.classify(at(i * 1us), keep);
    ASSERT_LE(c.flow_count(), 64u);
  }
  EXPECT_EQ(c.flow_count(), 64u);
  EXPECT_EQ(c.stats().evictions, c.stats().flows_created - 64);
  FlowKey k;
  k.src = {198, 18, 0, 200};
  k.dst = {198, 19, 0, 1};
  k.src_port = 22, k.dst_port = 50000, k.protocol = ipproto::kTcp;
  ASSERT_NE(c.find(k), nullptr);
  EXPECT_EQ(c.find(k)->packets, 3125u);
  EXPECT_EQ(c.stats().flows_created, 100'001u);
}

}  // namespace
}  // namespace bond

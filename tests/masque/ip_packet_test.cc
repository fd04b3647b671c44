// IP packet validation, addresses and prefixes, and the ICMP errors of RFC 9484 §10.1 with
// their checksums checked against values computed independently of this code.
#include "masque/ip_packet.h"

#include <gtest/gtest.h>

#include "masque/icmp.h"
#include "masque/ip_packet_test_util.h"

namespace masque {
namespace {

using test::ip;
using test::make_packet;
using test::PacketSpec;

uint16_t be16(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}

TEST(IpPacket, AddressesAndPrefixes) {
  EXPECT_EQ(ip("198.18.0.1").to_string(), "198.18.0.1");
  EXPECT_EQ(ip("2001:db8::1").to_string(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::parse("198.18.0"));
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')));
  auto p = IpPrefix::parse("198.18.0.0/15");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->contains(ip("198.19.255.255")));
  EXPECT_FALSE(p->contains(ip("198.20.0.0")));
  EXPECT_FALSE(p->contains(ip("::1")));
  EXPECT_EQ(p->last().to_string(), "198.19.255.255");
  EXPECT_FALSE(IpPrefix::parse("198.18.0.1/15"));  // host bits set
  EXPECT_FALSE(IpPrefix::parse("198.18.0.0/33"));
  EXPECT_FALSE(IpPrefix::parse("198.18.0.0/"));
  EXPECT_FALSE(IpPrefix::parse("198.18.0.0/1x"));
  EXPECT_EQ(IpPrefix::parse("2001:db8::/32")->last().to_string(),
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(IpPrefix::parse("::1")->length, 128);
}

TEST(IpPacket, ValidPacketsParse) {
  auto v4 = make_packet({});
  // Header checksum as computed independently for this header.
  auto udp = make_packet({.payload = 1408});
  EXPECT_EQ(be16(udp, 10), 0x96fc);
  auto info = parse_ip_packet(v4);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->version, 4);
  EXPECT_EQ(info->src, ip("198.18.0.2"));
  EXPECT_EQ(info->dst, ip("198.18.1.2"));
  EXPECT_EQ(info->protocol, ipproto::kUdp);
  EXPECT_EQ(info->hop_limit, 63);
  EXPECT_TRUE(info->dont_fragment);
  EXPECT_FALSE(info->no_icmp_reply);
  auto v6 = parse_ip_packet(make_packet({.src = "2001:db8::2", .dst = "2001:db8:1::2"}));
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->version, 6);
  EXPECT_EQ(v6->transport_offset, kIpv6Header);
  EXPECT_EQ(v6->dst, ip("2001:db8:1::2"));
}

TEST(IpPacket, MalformedPacketsAreNamed) {
  EXPECT_EQ(parse_ip_packet({}).error(), PacketError::kEmpty);
  auto p = make_packet({});
  p[0] = 0x55;
  EXPECT_EQ(parse_ip_packet(p).error(), PacketError::kBadVersion);
  p = make_packet({});
  EXPECT_EQ(parse_ip_packet(quic::Bytes(p).first(19)).error(), PacketError::kTruncatedHeader);
  p = make_packet({});
  p.push_back(0);  // a byte past the total length
  EXPECT_EQ(parse_ip_packet(p).error(), PacketError::kBadTotalLength);
  p = make_packet({});
  p.pop_back();
  EXPECT_EQ(parse_ip_packet(p).error(), PacketError::kBadTotalLength);
  p = make_packet({});
  p[0] = 0x44;  // IHL 4
  EXPECT_EQ(parse_ip_packet(p).error(), PacketError::kBadHeaderLength);
  p = make_packet({.payload = 4});
  p[0] = 0x47;  // IHL 28 > total 24
  EXPECT_EQ(parse_ip_packet(p).error(), PacketError::kBadHeaderLength);
  p = make_packet({});
  p[8] ^= 1;  // TTL changed, checksum not
  EXPECT_EQ(parse_ip_packet(p).error(), PacketError::kBadChecksum);
  auto v6 = make_packet({.src = "2001:db8::2", .dst = "2001:db8::3"});
  EXPECT_EQ(parse_ip_packet(quic::Bytes(v6).first(39)).error(), PacketError::kTruncatedHeader);
  v6.push_back(0);
  EXPECT_EQ(parse_ip_packet(v6).error(), PacketError::kBadTotalLength);
}

// An IPv6 packet whose payload is `n` chained extension headers (8 bytes each), then UDP.
std::vector<uint8_t> v6_with_extensions(size_t n, uint8_t ext = ipproto::kDestOptions) {
  auto p = make_packet(
      {.src = "2001:db8::2", .dst = "2001:db8::3", .protocol = ext, .payload = n * 8 + 8});
  for (size_t i = 0; i < n; ++i) {
    size_t at = kIpv6Header + i * 8;
    p[at] = i + 1 == n ? ipproto::kUdp : ext;
    p[at + 1] = 0;  // 8 bytes
    if (ext == ipproto::kFragment) p[at + 2] = p[at + 3] = 0;
  }
  return p;
}

TEST(IpPacket, ExtensionHeaderWalkIsBounded) {
  auto ok = parse_ip_packet(v6_with_extensions(kMaxExtensionHeaders));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->protocol, ipproto::kUdp);
  EXPECT_EQ(ok->transport_offset, kIpv6Header + 8 * kMaxExtensionHeaders);
  EXPECT_EQ(parse_ip_packet(v6_with_extensions(kMaxExtensionHeaders + 1)).error(),
            PacketError::kTooManyExtensions);
  auto cut = v6_with_extensions(1);
  cut[kIpv6Header + 1] = 4;  // says 40 bytes, 16 present
  EXPECT_EQ(parse_ip_packet(cut).error(), PacketError::kTruncatedExtension);
  // A non-first fragment: protocol from its header, never answered with ICMP.
  auto frag = v6_with_extensions(1, ipproto::kFragment);
  frag[kIpv6Header + 3] = 0x08;  // offset 1
  auto f = parse_ip_packet(frag);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->non_first_fragment);
  EXPECT_TRUE(f->no_icmp_reply);
  EXPECT_EQ(f->protocol, ipproto::kUdp);
}

TEST(IpPacket, IcmpErrorsAreNeverAnswered) {
  auto echo = make_packet({.protocol = ipproto::kIcmp, .payload = 8});
  echo[20] = 8;  // echo request
  EXPECT_FALSE(parse_ip_packet(echo)->no_icmp_reply);
  for (uint8_t type : {3, 4, 5, 11, 12}) {
    auto err = echo;
    err[20] = type;
    EXPECT_TRUE(parse_ip_packet(err)->no_icmp_reply) << int(type);
  }
  auto v6 = make_packet(
      {.src = "2001:db8::2", .dst = "2001:db8::3", .protocol = ipproto::kIcmpv6, .payload = 8});
  v6[40] = 128;  // echo request
  EXPECT_FALSE(parse_ip_packet(v6)->no_icmp_reply);
  v6[40] = 2;  // packet too big
  EXPECT_TRUE(parse_ip_packet(v6)->no_icmp_reply);
  // ICMP with its type byte missing: kind unknown, no answer.
  EXPECT_TRUE(
      parse_ip_packet(make_packet({.protocol = ipproto::kIcmp, .payload = 0}))->no_icmp_reply);
  // Unspecified or multicast sources, IPv4 multicast or broadcast destinations.
  EXPECT_TRUE(parse_ip_packet(make_packet({.src = "0.0.0.0"}))->no_icmp_reply);
  EXPECT_TRUE(parse_ip_packet(make_packet({.src = "224.0.0.1"}))->no_icmp_reply);
  EXPECT_TRUE(parse_ip_packet(make_packet({.dst = "239.1.1.1"}))->no_icmp_reply);
  EXPECT_TRUE(parse_ip_packet(make_packet({.dst = "255.255.255.255"}))->no_icmp_reply);
  auto frag = make_packet({});
  frag[6] = 0x00, frag[7] = 0x10;  // offset 16 bytes
  uint16_t c = 0;
  frag[10] = frag[11] = 0;
  c = checksum_fold(checksum_add(0, quic::Bytes(frag).first(20)));
  frag[10] = static_cast<uint8_t>(c >> 8), frag[11] = static_cast<uint8_t>(c);
  EXPECT_TRUE(parse_ip_packet(frag)->no_icmp_reply);
  // And the builder refuses them.
  auto info = *parse_ip_packet(frag);
  std::vector<uint8_t> out{1, 2, 3};
  EXPECT_FALSE(
      build_icmp_error(IcmpKind::kPacketTooBig, frag, info, ip("198.18.200.1"), 1280, out));
  EXPECT_TRUE(out.empty());
}

TEST(Icmp, V4FragmentationNeededIsByteExact) {
  auto pkt = make_packet({.payload = 1408});  // 1428 bytes, DF
  auto info = *parse_ip_packet(pkt);
  std::vector<uint8_t> out;
  ASSERT_TRUE(build_icmp_error(IcmpKind::kPacketTooBig, pkt, info, ip("198.18.200.1"), 1280, out));
  ASSERT_EQ(out.size(), kIcmpv4MaxError);  // RFC 1812: as much as fits 576 bytes
  EXPECT_EQ(be16(out, 2), 576);
  EXPECT_EQ(out[8], 64);
  EXPECT_EQ(out[9], ipproto::kIcmp);
  EXPECT_EQ(be16(out, 10), 0x2495);  // header checksum, computed independently
  EXPECT_EQ(out[20], 3);             // destination unreachable
  EXPECT_EQ(out[21], 4);             // fragmentation needed and DF set
  EXPECT_EQ(be16(out, 22), 0x3f3c);  // ICMP checksum, computed independently
  EXPECT_EQ(be16(out, 24), 0);
  EXPECT_EQ(be16(out, 26), 1280);  // next-hop MTU (RFC 1191 §4)
  EXPECT_TRUE(std::equal(out.begin() + 28, out.end(), pkt.begin()));
  auto back = parse_ip_packet(out);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->src, ip("198.18.200.1"));
  EXPECT_EQ(back->dst, ip("198.18.0.2"));
  EXPECT_TRUE(back->no_icmp_reply);  // our own error is never answered in turn
}

TEST(Icmp, V6PacketTooBigIsByteExactWithPseudoHeaderChecksum) {
  auto pkt = make_packet({.src = "2001:db8::2", .dst = "2001:db8:1::2", .payload = 1408});
  auto info = *parse_ip_packet(pkt);
  std::vector<uint8_t> out;
  ASSERT_TRUE(
      build_icmp_error(IcmpKind::kPacketTooBig, pkt, info, ip("2001:db8:ffff::1"), 1280, out));
  ASSERT_EQ(out.size(), kIcmpv6MaxError);  // RFC 4443 §2.4 (c): within the minimum MTU
  EXPECT_EQ(be16(out, 4), 1240);
  EXPECT_EQ(out[6], ipproto::kIcmpv6);
  EXPECT_EQ(out[40], 2);
  EXPECT_EQ(out[41], 0);
  EXPECT_EQ(be16(out, 42), 0x6d97);  // computed independently, pseudo-header included
  EXPECT_EQ(be16(out, 44), 0);
  EXPECT_EQ(be16(out, 46), 1280);
  EXPECT_TRUE(std::equal(out.begin() + 48, out.end(), pkt.begin()));
  // A smaller tunnel MTU bounds the answer too.
  ASSERT_TRUE(
      build_icmp_error(IcmpKind::kPacketTooBig, pkt, info, ip("2001:db8:ffff::1"), 1200, out));
  EXPECT_EQ(out.size(), 1200u);
  EXPECT_EQ(be16(out, 42), 0x5a4b);
  EXPECT_EQ(be16(out, 46), 1200);
}

TEST(Icmp, NoRouteQuotesASmallPacketWhole) {
  auto pkt = make_packet({.payload = 8, .df = false, .ttl = 64, .id = 1});
  EXPECT_EQ(be16(pkt, 10), 0xeda7);
  auto info = *parse_ip_packet(pkt);
  std::vector<uint8_t> out;
  ASSERT_TRUE(build_icmp_error(IcmpKind::kNoRoute, pkt, info, ip("198.18.200.1"), 1280, out));
  ASSERT_EQ(out.size(), 20u + 8u + pkt.size());
  EXPECT_EQ(out[20], 3);
  EXPECT_EQ(out[21], 0);
  EXPECT_EQ(be16(out, 22), 0xf0ef);
  // Version mismatch between router address and packet: no answer.
  EXPECT_FALSE(build_icmp_error(IcmpKind::kNoRoute, pkt, info, ip("2001:db8::1"), 1280, out));
  // An MTU too small for even the quoted header: no answer rather than a useless one.
  EXPECT_FALSE(build_icmp_error(IcmpKind::kPacketTooBig, pkt, info, ip("198.18.200.1"), 40, out));
}

}  // namespace
}  // namespace masque

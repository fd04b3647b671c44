// TcpCoalescer: which segments are joined, what the super-packet looks like (lengths, IPv4
// checksum, the partial TCP checksum completing to a valid one), order and bounds, and
// malformed input passed through untouched.
#include "masque/tcp_coalescer.h"

#include <gtest/gtest.h>

#include <vector>

#include "masque/ip_packet.h"

namespace {

using masque::GsoInfo;
using masque::TcpCoalescer;

struct Seg {
  uint32_t seq = 1000;
  uint16_t id = 0;
  uint32_t ack = 77;
  uint8_t flags = 0x10;  // ACK
  uint8_t tos = 0;
  size_t payload = 1000;
  uint8_t fill = 0;
  uint8_t ts = 1;  // a timestamp option byte
  uint8_t proto = 6;
};

std::vector<uint8_t> make(const Seg& s) {
  size_t tcp = 32;  // 20 + 12 bytes of options (NOP NOP timestamps)
  std::vector<uint8_t> p(20 + tcp + s.payload);
  p[0] = 0x45;
  p[1] = s.tos;
  p[2] = static_cast<uint8_t>(p.size() >> 8);
  p[3] = static_cast<uint8_t>(p.size());
  p[4] = static_cast<uint8_t>(s.id >> 8);
  p[5] = static_cast<uint8_t>(s.id);
  p[6] = 0x40;  // DF
  p[8] = 64;
  p[9] = s.proto;
  uint8_t addrs[8] = {198, 18, 200, 2, 198, 18, 1, 2};
  std::copy(addrs, addrs + 8, p.begin() + 12);
  uint16_t c = masque::checksum_fold(masque::checksum_add(0, quic::Bytes(p.data(), 20)));
  p[10] = static_cast<uint8_t>(c >> 8);
  p[11] = static_cast<uint8_t>(c);
  uint8_t* t = p.data() + 20;
  t[0] = 0x9c; t[1] = 0x40; t[2] = 0x14; t[3] = 0x51;  // ports
  for (int i = 0; i < 4; ++i) t[4 + i] = static_cast<uint8_t>(s.seq >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) t[8 + i] = static_cast<uint8_t>(s.ack >> (24 - 8 * i));
  t[12] = static_cast<uint8_t>((tcp / 4) << 4);
  t[13] = s.flags;
  t[14] = 0x01;  // window
  t[20] = 1; t[21] = 1; t[22] = 8; t[23] = 10; t[24 + 3] = s.ts;
  for (size_t i = 0; i < s.payload; ++i) p[20 + tcp + i] = static_cast<uint8_t>(s.fill + i);
  uint32_t pseudo = masque::checksum_add(0, quic::Bytes(p.data() + 12, 8)) + s.proto +
                    static_cast<uint32_t>(p.size() - 20);
  uint16_t tc = masque::checksum_fold(masque::checksum_add(pseudo, quic::Bytes(p).subspan(20)));
  t[16] = static_cast<uint8_t>(tc >> 8);
  t[17] = static_cast<uint8_t>(tc);
  return p;
}

struct Out {
  std::vector<uint8_t> bytes;
  GsoInfo gso;
};

struct Rig {
  std::vector<Out> out;
  TcpCoalescer c{[this](quic::Bytes p, const GsoInfo& g) { out.push_back({{p.begin(), p.end()}, g}); }};
  void add(const std::vector<uint8_t>& p) { c.add(p); }
};

// The TCP checksum as a receiver would check it once the partial sum is completed.
bool tcp_checksum_completes(std::vector<uint8_t> p) {
  size_t at = 20 + 16;
  uint16_t full = masque::checksum_fold(masque::checksum_add(0, quic::Bytes(p).subspan(20)));
  p[at] = static_cast<uint8_t>(full >> 8);
  p[at + 1] = static_cast<uint8_t>(full);
  uint32_t pseudo = masque::checksum_add(0, quic::Bytes(p.data() + 12, 8)) + 6 +
                    static_cast<uint32_t>(p.size() - 20);
  return masque::checksum_fold(masque::checksum_add(pseudo, quic::Bytes(p).subspan(20))) == 0;
}

TEST(TcpCoalescer, JoinsInOrderSegmentsIntoOneSuperPacket) {
  Rig r;
  std::vector<uint8_t> payload;
  uint32_t seq = 1000;
  for (int i = 0; i < 10; ++i) {
    auto p = make({.seq = seq, .fill = static_cast<uint8_t>(i)});
    payload.insert(payload.end(), p.begin() + 52, p.end());
    r.add(p);
    seq += 1000;
  }
  auto last = make({.seq = seq, .flags = 0x18, .payload = 500, .fill = 9});  // PSH, short
  payload.insert(payload.end(), last.begin() + 52, last.end());
  r.add(last);
  EXPECT_TRUE(r.out.empty());  // held until the burst ends
  r.c.flush();
  ASSERT_EQ(r.out.size(), 1u);
  const Out& o = r.out[0];
  ASSERT_EQ(o.bytes.size(), 52 + 10500u);
  EXPECT_EQ(o.gso.gso_size, 1000);
  EXPECT_EQ(o.gso.header_len, 52);
  EXPECT_EQ(o.gso.csum_start, 20);
  EXPECT_EQ(o.gso.csum_offset, 16);
  EXPECT_EQ((o.bytes[2] << 8 | o.bytes[3]), static_cast<int>(o.bytes.size()));
  EXPECT_TRUE(masque::parse_ip_packet(o.bytes).has_value());  // IPv4 checksum recomputed
  EXPECT_EQ(o.bytes[33], 0x18);                               // the last segment's PSH kept
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), o.bytes.begin() + 52));
  EXPECT_TRUE(tcp_checksum_completes(o.bytes));
  EXPECT_EQ(r.c.joined(), 11u);
  EXPECT_TRUE(r.c.empty());
}

TEST(TcpCoalescer, AnythingThatDoesNotMatchIsEmittedUnchangedAndInOrder) {
  Rig r;
  std::vector<std::vector<uint8_t>> in = {
      make({.seq = 1000}),
      make({.seq = 3000}),                        // a gap: a new chain
      make({.seq = 4000, .ack = 78}),             // another ACK number
      make({.seq = 5000, .ack = 78, .tos = 1}),   // an ECN mark differs
      make({.seq = 6000, .ack = 78, .flags = 0x11, .tos = 1}),  // FIN: never joined
      make({.seq = 7000, .proto = 17}),           // not TCP
      make({.seq = 7000, .ts = 2}),               // other options
      make({.seq = 8000, .payload = 0, .ts = 2}), // a pure ACK
  };
  for (const auto& p : in) r.add(p);
  r.c.flush();
  ASSERT_EQ(r.out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(r.out[i].bytes, in[i]) << i;
    EXPECT_EQ(r.out[i].gso.gso_size, 0) << i;
  }
  EXPECT_EQ(r.c.joined(), 0u);
}

TEST(TcpCoalescer, ALongerSegmentOrOneAfterPshStartsAnotherChain) {
  Rig r;
  r.add(make({.seq = 0, .payload = 500}));
  r.add(make({.seq = 500, .payload = 1000}));  // longer than the chain's segment size
  r.add(make({.seq = 1500, .flags = 0x18}));   // joins (same size), then closes the chain
  r.add(make({.seq = 2500}));
  r.c.flush();
  ASSERT_EQ(r.out.size(), 3u);
  EXPECT_EQ(r.out[0].bytes.size(), 552u);
  EXPECT_EQ(r.out[1].gso.gso_size, 1000);
  EXPECT_EQ(r.out[1].bytes.size(), 52 + 2000u);
  EXPECT_EQ(r.out[2].bytes.size(), 1052u);
}

TEST(TcpCoalescer, SuperPacketsStayWithinSegmentAndLengthBounds) {
  Rig r;
  uint32_t seq = 0;
  for (int i = 0; i < 200; ++i, seq += 1400) r.add(make({.seq = seq, .payload = 1400}));
  for (int i = 0; i < 100; ++i, seq += 100) r.add(make({.seq = seq, .payload = 100}));
  r.c.flush();
  size_t segments = 0;
  for (const Out& o : r.out) {
    ASSERT_LE(o.bytes.size(), masque::kMaxCoalescedBytes);
    size_t n = o.gso.gso_size ? (o.bytes.size() - 52 + o.gso.gso_size - 1) / o.gso.gso_size : 1;
    ASSERT_LE(n, masque::kMaxCoalescedSegments);
    segments += n;
  }
  EXPECT_EQ(segments, 300u);
  EXPECT_GE(r.out.size(), 6u);  // 200 x 1400 B needs at least 5 packets of <= 64 KiB
}

TEST(TcpCoalescer, MalformedPacketsPassThroughWithoutJoining) {
  Rig r;
  auto good = make({.seq = 0});
  std::vector<std::vector<uint8_t>> bad;
  bad.push_back({});
  bad.push_back({0x45});
  auto p = good;
  p[3] ^= 1;  // total length disagrees with the size
  bad.push_back(p);
  p = good;
  p[32] = 0xf0;  // TCP header longer than the packet allows... 60 bytes, still fits
  p.resize(60);
  p[2] = 0;
  p[3] = 60;  // header only, no payload
  bad.push_back(p);
  p = good;
  p[7] = 1;  // a fragment offset
  bad.push_back(p);
  r.add(good);
  for (const auto& b : bad) r.add(b);
  r.c.flush();
  ASSERT_EQ(r.out.size(), bad.size() + 1);
  for (size_t i = 0; i < bad.size(); ++i) EXPECT_EQ(r.out[i + 1].bytes, bad[i]) << i;
}

TEST(SegmentTcp, SplitsASuperPacketBackIntoTheSegmentsItWasJoinedFrom) {
  Rig r;
  std::vector<std::vector<uint8_t>> in;
  for (int i = 0; i < 20; ++i) {
    in.push_back(make({.seq = static_cast<uint32_t>(5000 + 1000 * i), .id = static_cast<uint16_t>(7 + i),
                       .fill = static_cast<uint8_t>(i)}));
  }
  in.push_back(make({.seq = 25000, .id = 27, .flags = 0x18, .payload = 333}));  // PSH, short
  for (const auto& p : in) r.add(p);
  r.c.flush();
  ASSERT_EQ(r.out.size(), 1u);
  std::vector<std::vector<uint8_t>> back;
  std::vector<uint8_t> scratch;
  ASSERT_TRUE(masque::segment_tcp(r.out[0].bytes, r.out[0].gso, scratch,
                                  [&](quic::Bytes s) { back.emplace_back(s.begin(), s.end()); }));
  EXPECT_EQ(back, in);  // lengths, IDs, checksums, sequence numbers and flags all restored
  // The device's hdr_len is its linear part's length and may include payload: ignored.
  std::vector<std::vector<uint8_t>> again;
  masque::GsoInfo linear = r.out[0].gso;
  linear.header_len = 300;
  ASSERT_TRUE(masque::segment_tcp(r.out[0].bytes, linear, scratch,
                                  [&](quic::Bytes s) { again.emplace_back(s.begin(), s.end()); }));
  EXPECT_EQ(again, in);
}

TEST(SegmentTcp, RefusesWhatIsNotAnIpv4TcpSuperPacket) {
  auto p = make({.payload = 3000});
  std::vector<uint8_t> scratch;
  int calls = 0;
  auto count = [&](quic::Bytes) { ++calls; };
  EXPECT_FALSE(masque::segment_tcp(p, {52, 0, 20, 16}, scratch, count));     // no segment size
  auto bad_offset = p;
  bad_offset[32] = 0x40;  // TCP data offset 16 bytes: below the minimum
  EXPECT_FALSE(masque::segment_tcp(bad_offset, {52, 1000, 20, 16}, scratch, count));
  auto udp = make({.payload = 3000, .proto = 17});
  EXPECT_FALSE(masque::segment_tcp(udp, {52, 1000, 20, 16}, scratch, count));
  EXPECT_FALSE(masque::segment_tcp(quic::Bytes(p).first(52), {52, 1000, 20, 16}, scratch, count));
  auto big = make({.payload = 60000});
  EXPECT_FALSE(masque::segment_tcp(big, {52, 1, 20, 16}, scratch, count));  // too many segments
  EXPECT_EQ(calls, 0);
  // FIN and CWR: FIN only on the last segment, CWR only on the first.
  auto fin = make({.flags = 0x91, .payload = 2500});
  std::vector<uint8_t> flags;
  ASSERT_TRUE(masque::segment_tcp(fin, {52, 1000, 20, 16}, scratch,
                                  [&](quic::Bytes s) { flags.push_back(s[33]); }));
  EXPECT_EQ(flags, (std::vector<uint8_t>{0x90, 0x10, 0x11}));
}

// checksum_add sums in native-order words: it must agree with RFC 1071's big-endian 16-bit
// definition for every length, alignment and starting sum.
TEST(Checksum, WordAtATimeSumMatchesTheRfc1071Definition) {
  std::vector<uint8_t> data(300);
  uint32_t x = 12345;
  for (auto& b : data) b = static_cast<uint8_t>((x = x * 1103515245 + 12345) >> 16);
  for (size_t off = 0; off < 8; ++off) {
    for (size_t len = 0; off + len <= data.size(); len += 7) {
      for (uint32_t start : {0u, 1u, 0xfffeu, 0x1fffeu}) {
        uint32_t ref = start;
        for (size_t i = 0; i < len; i += 2) {
          ref += static_cast<uint32_t>(data[off + i] << 8 | (i + 1 < len ? data[off + i + 1] : 0));
        }
        quic::Bytes b(data.data() + off, len);
        ASSERT_EQ(masque::checksum_fold(masque::checksum_add(start, b)), masque::checksum_fold(ref))
            << off << " " << len << " " << start;
      }
    }
  }
}

}  // namespace

#include "wire/packet.h"

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

#include "wire/packet_number.h"
#include "wire/version.h"

#include "support/hex.h"
#include "frame_test_util.h"

namespace quic {
namespace {

using test::cid;
using test::unhex;

std::vector<uint8_t> padded(std::string_view header_hex, size_t total) {
  auto v = unhex(header_hex);
  v.resize(total, 0);
  return v;
}

std::vector<uint8_t> vec(Bytes b) { return {b.begin(), b.end()}; }

// RFC 9001 Appendix A.2: client Initial, 4-byte packet number 2, Length 1182 → 1200 bytes.
constexpr std::string_view kV1ClientInitialHeader = "c300000001088394c8f03e5157080000449e00000002";
// RFC 9369 Appendix A.2: the same packet in QUIC v2 (Initial type bits 0b01).
constexpr std::string_view kV2ClientInitialHeader = "d36b3343cf088394c8f03e5157080000449e00000002";
// RFC 9001 Appendix A.3 / RFC 9369 Appendix A.3: server Initial, 2-byte pn 1, Length 117.
constexpr std::string_view kV1ServerInitialHeader = "c1000000010008f067a5502a4262b50040750001";
constexpr std::string_view kV2ServerInitialHeader = "d16b3343cf0008f067a5502a4262b50040750001";
// RFC 9001 Appendix A.4 and RFC 9369 Appendix A.4: Retry packets.
constexpr std::string_view kV1Retry =
    "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba";
constexpr std::string_view kV2Retry =
    "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6";

// ---- packet numbers ----

TEST(PacketNumber, Rfc9000AppendixA3DecodeExample) {
  EXPECT_EQ(decode_packet_number(0xa82f30ea, 0x9b32, 2), 0xa82f9b32u);
}

TEST(PacketNumber, Rfc9000AppendixA2EncodeLengths) {
  EXPECT_EQ(packet_number_length(0xac5c02, 0xabe8b3), 2u);
  EXPECT_EQ(packet_number_length(0xace8fe, 0xabe8b3), 3u);
}

TEST(PacketNumber, LengthWithoutAckCountsFromZero) {
  EXPECT_EQ(packet_number_length(0, kNoPacketNumber), 1u);
  EXPECT_EQ(packet_number_length(127, kNoPacketNumber), 1u);
  EXPECT_EQ(packet_number_length(128, kNoPacketNumber), 2u);
  EXPECT_EQ(packet_number_length(kMaxPacketNumber, 0), 4u);  // capped
}

TEST(PacketNumber, DecodeFirstPacketAndWrapAround) {
  EXPECT_EQ(decode_packet_number(kNoPacketNumber, 0, 1), 0u);
  EXPECT_EQ(decode_packet_number(kNoPacketNumber, 5, 1), 5u);
  EXPECT_EQ(decode_packet_number(0xff, 0x01, 1), 0x101u);
  EXPECT_EQ(decode_packet_number(0, 0xff, 1), 0xffu);  // no underflow below zero
  EXPECT_EQ(decode_packet_number(0x101, 0xff, 1), 0xffu);
  // RFC 9001 Appendix A.5: pn 654360564 sent in 3 bytes as 0x00bff4.
  EXPECT_EQ(decode_packet_number(654360500, 0x00bff4, 3), 654360564u);
}

TEST(PacketNumber, DecodeNeverExceedsMaxPacketNumber) {
  uint64_t got = decode_packet_number(kMaxPacketNumber - 1, 0x00, 1);
  EXPECT_LE(got, kMaxPacketNumber);
  EXPECT_EQ(decode_packet_number(kMaxPacketNumber - 1, kMaxPacketNumber & 0xffff, 2),
            kMaxPacketNumber);
}

TEST(PacketNumber, InvalidLengthIsRejected) {
  EXPECT_EQ(decode_packet_number(10, 1, 0), kNoPacketNumber);
  EXPECT_EQ(decode_packet_number(10, 1, 5), kNoPacketNumber);
}

TEST(PacketNumber, EncodeDecodeRoundTripOverRandomGaps) {
  uint64_t s = 0x9e3779b97f4a7c15ULL;
  auto rnd = [&] { return s = s * 6364136223846793005ULL + 1442695040888963407ULL; };
  for (int i = 0; i < 20000; ++i) {
    uint64_t acked = rnd() >> 24;  // < 2^40
    uint64_t gap = 1 + (rnd() >> (34 + rnd() % 30));
    if (gap > (uint64_t{1} << 31) - 1) gap = (uint64_t{1} << 31) - 1;
    uint64_t pn = acked + gap;
    size_t len = packet_number_length(pn, acked);
    // The receiver has seen anything between the acked packet and pn - 1.
    uint64_t received = acked + rnd() % gap;
    uint64_t mask = (uint64_t{1} << (8 * len)) - 1;
    ASSERT_EQ(decode_packet_number(received, pn & mask, len), pn)
        << "acked=" << acked << " pn=" << pn << " len=" << len;
  }
}

// ---- long-type bits ----

TEST(LongType, V1AndV2WireBits) {
  EXPECT_EQ(long_type_bits(kVersion1, LongType::kInitial), 0);
  EXPECT_EQ(long_type_bits(kVersion1, LongType::kRetry), 3);
  EXPECT_EQ(long_type_bits(kVersion2, LongType::kInitial), 1);
  EXPECT_EQ(long_type_bits(kVersion2, LongType::kZeroRtt), 2);
  EXPECT_EQ(long_type_bits(kVersion2, LongType::kHandshake), 3);
  EXPECT_EQ(long_type_bits(kVersion2, LongType::kRetry), 0);
  for (uint32_t v : {kVersion1, kVersion2}) {
    for (auto t : {LongType::kInitial, LongType::kZeroRtt, LongType::kHandshake, LongType::kRetry}) {
      EXPECT_EQ(long_type_from_bits(v, long_type_bits(v, t)), t);
    }
  }
}

TEST(Version, ReservedAndSupported) {
  EXPECT_TRUE(is_supported_version(kVersion1));
  EXPECT_TRUE(is_supported_version(kVersion2));
  EXPECT_FALSE(is_supported_version(0));
  EXPECT_TRUE(is_reserved_version(0x1a2a3a4a));
  EXPECT_TRUE(is_reserved_version(0xfafafafa));
  EXPECT_FALSE(is_reserved_version(kVersion1));
  EXPECT_FALSE(is_reserved_version(0x1a2a3a4b));
}

TEST(ConnectionIdTest, EqualityAndHashCoverLengthAndBytes) {
  EXPECT_EQ(cid("0102"), cid("0102"));
  EXPECT_NE(cid("0102"), cid("010203"));
  EXPECT_NE(cid("0102"), cid("0103"));
  EXPECT_EQ(cid(""), ConnectionId{});
  std::unordered_set<ConnectionId> set{cid("0102"), cid("0103"), cid("")};
  EXPECT_EQ(set.size(), 3u);
  EXPECT_TRUE(set.contains(cid("0103")));
}

// ---- parse_header on RFC vectors ----

TEST(ParseHeader, Rfc9001AppendixA2ClientInitial) {
  auto pkt = padded(kV1ClientInitialHeader, 1200);
  auto h = parse_header(pkt, 8);
  ASSERT_TRUE(h) << h.error().reason;
  EXPECT_TRUE(h->long_header);
  EXPECT_TRUE(h->fixed_bit);
  EXPECT_EQ(h->first_byte, 0xc3);
  EXPECT_EQ(h->version, kVersion1);
  EXPECT_EQ(h->type, LongType::kInitial);
  EXPECT_EQ(h->dcid, cid("8394c8f03e515708"));
  EXPECT_EQ(h->scid.len, 0);
  EXPECT_TRUE(h->token.empty());
  EXPECT_EQ(h->length, 0x49eu);
  EXPECT_EQ(h->pn_offset, 18u);
  EXPECT_EQ(h->packet_size, 1200u);
  EXPECT_TRUE(h->has_packet_number());
}

TEST(ParseHeader, Rfc9369AppendixA2V2ClientInitial) {
  auto pkt = padded(kV2ClientInitialHeader, 1200);
  auto h = parse_header(pkt, 8);
  ASSERT_TRUE(h) << h.error().reason;
  EXPECT_EQ(h->version, kVersion2);
  EXPECT_EQ(h->type, LongType::kInitial);
  EXPECT_EQ(h->dcid, cid("8394c8f03e515708"));
  EXPECT_EQ(h->length, 0x49eu);
  EXPECT_EQ(h->pn_offset, 18u);
  EXPECT_EQ(h->packet_size, 1200u);
}

TEST(ParseHeader, Rfc9001AndRfc9369ServerInitials) {
  for (auto hdr : {kV1ServerInitialHeader, kV2ServerInitialHeader}) {
    auto pkt = padded(hdr, 18 + 117);
    auto h = parse_header(pkt, 0);
    ASSERT_TRUE(h) << h.error().reason;
    EXPECT_EQ(h->type, LongType::kInitial);
    EXPECT_EQ(h->dcid.len, 0);
    EXPECT_EQ(h->scid, cid("f067a5502a4262b5"));
    EXPECT_EQ(h->length, 117u);
    EXPECT_EQ(h->pn_offset, 18u);
    EXPECT_EQ(h->packet_size, 135u);
  }
}

TEST(ParseHeader, Rfc9001AppendixA5ShortHeader) {
  auto pkt = unhex("4200bff4" "01" "00000000000000000000000000000000");
  auto h = parse_header(pkt, 0);
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->long_header);
  EXPECT_TRUE(h->fixed_bit);
  EXPECT_EQ(h->pn_offset, 1u);
  EXPECT_EQ(h->packet_size, pkt.size());
  EXPECT_EQ(h->first_byte & 0x03, 2);  // 3-byte packet number
}

TEST(ParseHeader, ShortHeaderBitsAndDcid) {
  auto pkt = unhex("64" "0102030405060708" "aabbccdd");
  auto h = parse_header(pkt, 8);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->spin);
  EXPECT_TRUE(h->key_phase);
  EXPECT_EQ(h->dcid, cid("0102030405060708"));
  EXPECT_EQ(h->pn_offset, 9u);
}

TEST(ParseHeader, FixedBitZeroIsReportedNotRejected) {
  auto pkt = padded(kV1ClientInitialHeader, 1200);
  pkt[0] &= ~0x40;
  auto h = parse_header(pkt, 8);
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->fixed_bit);
  auto s = unhex("0001020304");
  auto hs = parse_header(s, 2);
  ASSERT_TRUE(hs);
  EXPECT_FALSE(hs->fixed_bit);
}

TEST(ParseHeader, Rfc9001AppendixA4Retry) {
  auto pkt = unhex(kV1Retry);
  auto h = parse_header(pkt, 0);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->type, LongType::kRetry);
  EXPECT_EQ(vec(h->token), unhex("746f6b656e"));
  EXPECT_FALSE(h->has_packet_number());
  EXPECT_EQ(h->packet_size, pkt.size());
}

// ---- malformed headers ----

TEST(ParseHeaderMalformed, EmptyDatagram) {
  EXPECT_FALSE(parse_header({}, 8));
}

TEST(ParseHeaderMalformed, EveryTruncationOfAnInitialFails) {
  auto pkt = padded(kV1ClientInitialHeader, 1200);
  for (size_t n = 0; n < pkt.size(); ++n) {
    auto h = parse_header(Bytes(pkt).first(n), 8);
    ASSERT_FALSE(h) << "prefix " << n;
    EXPECT_EQ(h.error().code, err::kProtocolViolation);
  }
}

TEST(ParseHeaderMalformed, CidLongerThan20InV1) {
  auto dcid21 = unhex("c300000001" "15" "000102030405060708090a0b0c0d0e0f1011121314" "00" "00" "01" "00");
  EXPECT_FALSE(parse_header(dcid21, 8));
  auto scid21 = unhex("c300000001" "00" "15" "000102030405060708090a0b0c0d0e0f1011121314" "00" "01" "00");
  EXPECT_FALSE(parse_header(scid21, 8));
  // 20 is fine.
  auto dcid20 = unhex("c300000001" "14" "000102030405060708090a0b0c0d0e0f10111213" "00" "00" "01" "00");
  EXPECT_TRUE(parse_header(dcid20, 8));
}

TEST(ParseHeaderMalformed, LengthBeyondDatagram) {
  auto pkt = padded(kV1ClientInitialHeader, 1199);
  EXPECT_FALSE(parse_header(pkt, 8));
}

TEST(ParseHeaderMalformed, InitialTokenLengthBeyondDatagram) {
  // Token length 0x4400 (2-byte varint 1024) in a small datagram.
  auto pkt = padded("c300000001" "00" "00" "4400", 200);
  auto h = parse_header(pkt, 8);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, err::kProtocolViolation);
  // Token length as 8-byte varint near 2^62 must not wrap.
  auto big = padded("c300000001" "00" "00" "ffffffffffffffff", 200);
  EXPECT_FALSE(parse_header(big, 8));
}

TEST(ParseHeaderMalformed, RetryShorterThanTag) {
  auto pkt = unhex("ff000000010008f067a5502a4262b5" "000102030405060708090a0b0c0d0e");  // 15
  EXPECT_FALSE(parse_header(pkt, 0));
}

TEST(ParseHeaderMalformed, ShortHeaderShorterThanDcid) {
  auto pkt = unhex("40010203");
  EXPECT_FALSE(parse_header(pkt, 8));
  EXPECT_TRUE(parse_header(pkt, 3));
}

TEST(ParseHeaderMalformed, LocalCidLengthAboveLimit) {
  std::vector<uint8_t> pkt(64, 0x40);
  EXPECT_FALSE(parse_header(pkt, kMaxCidLength + 1));
}

TEST(ParseHeader, UnknownVersionKeepsLongInvariantCids) {
  // RFC 8999 §5.1: other versions may use CIDs up to 255 bytes; we must still be able to send
  // Version Negotiation echoing them (RFC 9000 §17.2).
  std::vector<uint8_t> pkt = {0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 255};
  for (int i = 0; i < 255; ++i) pkt.push_back(static_cast<uint8_t>(i));
  pkt.push_back(30);
  for (int i = 0; i < 30; ++i) pkt.push_back(0xee);
  pkt.resize(pkt.size() + 900, 0);
  auto h = parse_header(pkt, 8);
  ASSERT_TRUE(h) << h.error().reason;
  EXPECT_EQ(h->version, 0x1a2a3a4au);
  EXPECT_EQ(h->dcid_raw.size(), 255u);
  EXPECT_EQ(h->scid_raw.size(), 30u);
  EXPECT_EQ(h->dcid.len, 0);
  EXPECT_EQ(h->packet_size, pkt.size());
  EXPECT_FALSE(h->has_packet_number());

  std::vector<uint8_t> out(1500);
  uint32_t versions[] = {kVersion1, kVersion2};
  size_t n = build_version_negotiation(out, h->scid_raw, h->dcid_raw, versions, 0);
  ASSERT_GT(n, 0u);
  auto vn = parse_version_negotiation(Bytes(out).first(n), 0x1a2a3a4a);
  ASSERT_TRUE(vn);
  EXPECT_EQ(vec(vn->dcid), vec(h->scid_raw));
  EXPECT_EQ(vec(vn->scid), vec(h->dcid_raw));
}

// ---- Version Negotiation ----

TEST(VersionNegotiation, BuildMatchesLayoutAndRoundTrips) {
  std::vector<uint8_t> out(100);
  uint32_t versions[] = {kVersion1, kVersion2, 0x1a2a3a4a};
  size_t n = build_version_negotiation(out, cid("c1c2"), cid("a1a2a3"), versions, 0x95);
  ASSERT_EQ(n, 1u + 4 + 1 + 2 + 1 + 3 + 12);
  EXPECT_EQ(vec(Bytes(out).first(n)),
            unhex("d5" "00000000" "02c1c2" "03a1a2a3" "00000001" "6b3343cf" "1a2a3a4a"));
  auto vn = parse_version_negotiation(Bytes(out).first(n), kVersion1);
  ASSERT_TRUE(vn);
  EXPECT_EQ(vn->versions, (std::vector<uint32_t>{kVersion1, kVersion2, 0x1a2a3a4a}));
  EXPECT_TRUE(vn->lists_original_version);
  EXPECT_EQ(vec(vn->dcid), unhex("c1c2"));
  auto other = parse_version_negotiation(Bytes(out).first(n), 0xff000020);
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->lists_original_version);

  auto h = parse_header(Bytes(out).first(n), 8);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->version, 0u);
  EXPECT_EQ(h->packet_size, n);
}

TEST(VersionNegotiation, BuildRejectsNoVersionsAndSmallBuffer) {
  std::vector<uint8_t> out(100);
  EXPECT_EQ(build_version_negotiation(out, cid("01"), cid("02"), {}, 0), 0u);
  std::vector<uint8_t> tiny(12);
  uint32_t versions[] = {kVersion1, kVersion2};
  EXPECT_EQ(build_version_negotiation(tiny, cid("01"), cid("02"), versions, 0), 0u);
}

TEST(VersionNegotiation, MalformedLists) {
  EXPECT_FALSE(parse_version_negotiation(unhex("c0000000000101" "0102"), 1));  // no versions
  EXPECT_FALSE(parse_version_negotiation(unhex("c0000000000101" "0102" "000000010203"), 1));
  EXPECT_FALSE(parse_version_negotiation(unhex("c0000000000501"), 1));  // truncated CID
  EXPECT_FALSE(parse_version_negotiation(padded(kV1ClientInitialHeader, 1200), 1));  // not VN
  EXPECT_FALSE(parse_version_negotiation(unhex("40000000000000000000"), 1));        // short
}

TEST(VersionNegotiation, KeepsAtMostMaxVersionsButScansAll) {
  std::vector<uint32_t> versions;
  for (uint32_t i = 0; i < 3 * kMaxVnVersions; ++i) versions.push_back(0x0a0a0a0a + (i << 4));
  versions.back() = kVersion2;
  std::vector<uint8_t> out(2000);
  size_t n = build_version_negotiation(out, cid("01"), cid("02"), versions, 0);
  ASSERT_GT(n, 0u);
  auto vn = parse_version_negotiation(Bytes(out).first(n), kVersion2);
  ASSERT_TRUE(vn);
  EXPECT_EQ(vn->versions.size(), kMaxVnVersions);
  EXPECT_TRUE(vn->lists_original_version);
}

// ---- Retry ----

TEST(Retry, Rfc9001AppendixA4Parse) {
  auto pkt = unhex(kV1Retry);
  auto r = parse_retry(pkt);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->version, kVersion1);
  EXPECT_EQ(r->dcid.len, 0);
  EXPECT_EQ(r->scid, cid("f067a5502a4262b5"));
  EXPECT_EQ(vec(r->token), unhex("746f6b656e"));
  EXPECT_EQ(vec(r->tag), unhex("04a265ba2eff4d829058fb3f0f2496ba"));
  EXPECT_EQ(r->without_tag.size(), pkt.size() - 16);
}

TEST(Retry, Rfc9369AppendixA4V2Parse) {
  auto pkt = unhex(kV2Retry);
  auto r = parse_retry(pkt);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->version, kVersion2);
  EXPECT_EQ(vec(r->token), unhex("746f6b656e"));
  EXPECT_EQ(vec(r->tag), unhex("c8646ce8bfe33952d955543665dcc7b6"));
}

TEST(Retry, WriteReproducesRfcPacketsWithoutTag) {
  std::vector<uint8_t> out(64);
  auto token = unhex("746f6b656e");
  size_t n = write_retry(out, kVersion1, ConnectionId{}, cid("f067a5502a4262b5"), token, 0x0f);
  auto v1 = unhex(kV1Retry);
  EXPECT_EQ(vec(Bytes(out).first(n)), vec(Bytes(v1).first(v1.size() - 16)));
  n = write_retry(out, kVersion2, ConnectionId{}, cid("f067a5502a4262b5"), token, 0x0f);
  auto v2 = unhex(kV2Retry);
  EXPECT_EQ(vec(Bytes(out).first(n)), vec(Bytes(v2).first(v2.size() - 16)));
  EXPECT_EQ(write_retry(out, kVersion1, ConnectionId{}, cid("01"), {}, 0), 0u);  // empty token
}

TEST(Retry, PseudoPacketPrefixesOdcid) {
  auto pkt = unhex(kV1Retry);
  auto r = parse_retry(pkt);
  ASSERT_TRUE(r);
  std::vector<uint8_t> out(128);
  size_t n = build_retry_pseudo_packet(out, cid("8394c8f03e515708"), r->without_tag);
  auto expect = unhex("088394c8f03e515708");
  auto body = vec(r->without_tag);
  expect.insert(expect.end(), body.begin(), body.end());
  EXPECT_EQ(vec(Bytes(out).first(n)), expect);
  std::vector<uint8_t> small(10);
  EXPECT_EQ(build_retry_pseudo_packet(small, cid("8394c8f03e515708"), r->without_tag), 0u);
}

TEST(Retry, EmptyTokenAndNonRetryRejected) {
  auto empty_token = unhex("ff000000010008f067a5502a4262b5" "04a265ba2eff4d829058fb3f0f2496ba");
  EXPECT_TRUE(parse_header(empty_token, 0));
  EXPECT_FALSE(parse_retry(empty_token));
  EXPECT_FALSE(parse_retry(padded(kV1ClientInitialHeader, 1200)));
  EXPECT_FALSE(parse_retry(unhex("4200bff401")));
}

// ---- send path ----

TEST(WriteHeader, ReproducesRfc9001AndRfc9369InitialHeaders) {
  struct Case { uint32_t version; std::string_view expect; } cases[] = {
      {kVersion1, kV1ClientInitialHeader}, {kVersion2, kV2ClientInitialHeader}};
  for (const auto& c : cases) {
    std::vector<uint8_t> buf(64);
    Writer w(buf);
    auto l = write_long_header(w, c.version, LongType::kInitial, cid("8394c8f03e515708"),
                               ConnectionId{}, {}, 4, 2);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->pn_offset, 18u);
    EXPECT_EQ(l->length_offset, 16u);
    ASSERT_TRUE(patch_length(buf, *l, 0x49e));
    EXPECT_EQ(vec(w.view()), unhex(c.expect));
  }
  std::vector<uint8_t> buf(64);
  Writer w(buf);
  auto l = write_long_header(w, kVersion1, LongType::kInitial, ConnectionId{},
                             cid("f067a5502a4262b5"), {}, 2, 1);
  ASSERT_TRUE(l);
  ASSERT_TRUE(patch_length(buf, *l, 117));
  EXPECT_EQ(vec(w.view()), unhex(kV1ServerInitialHeader));
}

TEST(WriteHeader, ShortHeaderRfc9001AppendixA5) {
  std::vector<uint8_t> buf(16);
  Writer w(buf);
  auto l = write_short_header(w, ConnectionId{}, false, false, 3, 654360564);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->pn_offset, 1u);
  EXPECT_EQ(vec(w.view()), unhex("4200bff4"));
  Writer w2(buf);
  ASSERT_TRUE(write_short_header(w2, cid("0102"), true, true, 1, 0x1ff));
  EXPECT_EQ(vec(w2.view()), unhex("640102ff"));
}

TEST(WriteHeader, TokenRoundTripAndHandshakeType) {
  std::vector<uint8_t> buf(128);
  Writer w(buf);
  auto token = unhex("aabbccddeeff");
  auto l = write_long_header(w, kVersion2, LongType::kInitial, cid("0102"), cid("0304"), token, 1,
                             7, 2);
  ASSERT_TRUE(l);
  w.zeros(30);
  ASSERT_TRUE(patch_length(buf, *l, w.written() - l->pn_offset));
  auto h = parse_header(w.view(), 2);
  ASSERT_TRUE(h);
  EXPECT_EQ(vec(h->token), token);
  EXPECT_EQ(h->pn_offset, l->pn_offset);
  EXPECT_EQ(h->packet_size, w.written());

  // Handshake may not carry a token; Retry is not written here.
  Writer w2(buf);
  EXPECT_FALSE(write_long_header(w2, kVersion1, LongType::kHandshake, cid("01"), cid("02"), token,
                                 1, 0));
  EXPECT_FALSE(write_long_header(w2, kVersion1, LongType::kRetry, cid("01"), cid("02"), {}, 1, 0));
  EXPECT_FALSE(write_long_header(w2, kVersion1, LongType::kHandshake, cid("01"), cid("02"), {}, 5,
                                 0));
  EXPECT_FALSE(write_long_header(w2, kVersion1, LongType::kHandshake, cid("01"), cid("02"), {}, 1,
                                 0, 3));
  EXPECT_FALSE(write_long_header(w2, 0x1a2a3a4a, LongType::kHandshake, cid("01"), cid("02"), {},
                                 1, 0));
}

TEST(WriteHeader, BufferTooSmallAndLengthOverflow) {
  std::vector<uint8_t> buf(10);
  Writer w(buf);
  EXPECT_FALSE(write_long_header(w, kVersion1, LongType::kHandshake, cid("0102030405060708"),
                                 cid("0102030405060708"), {}, 4, 0));
  std::vector<uint8_t> big(64);
  Writer w2(big);
  auto l = write_long_header(w2, kVersion1, LongType::kHandshake, cid("01"), cid("02"), {}, 2, 0);
  ASSERT_TRUE(l);
  EXPECT_TRUE(patch_length(big, *l, 16383));
  EXPECT_FALSE(patch_length(big, *l, 16384));  // needs 4 bytes, only 2 reserved
  EXPECT_FALSE(patch_length(MutBytes(big).first(l->length_offset + 1), *l, 1));
  std::vector<uint8_t> one(1);
  Writer w3(one);
  EXPECT_FALSE(write_short_header(w3, cid("0102"), false, false, 2, 0));
}

TEST(WriteHeader, ZeroRttV2TypeBits) {
  std::vector<uint8_t> buf(64);
  Writer w(buf);
  ASSERT_TRUE(write_long_header(w, kVersion2, LongType::kZeroRtt, cid("01"), cid("02"), {}, 1, 0,
                                1));
  EXPECT_EQ(buf[0], 0xc0 | (2 << 4));
  auto h = parse_header(w.view(), 0);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->type, LongType::kZeroRtt);
}

// ---- coalesced packets ----

struct Datagram {
  std::vector<uint8_t> buf = std::vector<uint8_t>(1500);
  Writer w{buf};
  void long_packet(uint32_t version, LongType t, const ConnectionId& dcid, size_t payload) {
    auto l = write_long_header(w, version, t, dcid, cid("5c1d"), {}, 2, 0);
    ASSERT_TRUE(l);
    w.zeros(payload);
    ASSERT_TRUE(patch_length(buf, *l, 2 + payload));
  }
  std::vector<uint8_t> bytes() const { return vec(w.view()); }
};

TEST(Coalesced, InitialHandshakeAndShortHeader) {
  Datagram d;
  d.long_packet(kVersion1, LongType::kInitial, cid("0102030405060708"), 40);
  d.long_packet(kVersion1, LongType::kHandshake, cid("0102030405060708"), 50);
  ASSERT_TRUE(write_short_header(d.w, cid("0102030405060708"), false, false, 2, 9));
  d.w.zeros(20);
  auto dg = d.bytes();
  CoalescedPackets it(dg, 8);
  std::vector<DatagramPacket> got;
  while (auto p = it.next()) got.push_back(*p);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].header.type, LongType::kInitial);
  EXPECT_EQ(got[1].header.type, LongType::kHandshake);
  EXPECT_FALSE(got[2].header.long_header);
  EXPECT_EQ(got[0].offset, 0u);
  EXPECT_EQ(got[1].offset, got[0].bytes.size());
  EXPECT_EQ(got[2].offset + got[2].bytes.size(), dg.size());
  EXPECT_EQ(it.dropped_bytes(), 0u);
  EXPECT_FALSE(it.error());
}

TEST(Coalesced, DifferentDcidStopsIteration) {
  Datagram d;
  d.long_packet(kVersion1, LongType::kInitial, cid("0102"), 40);
  d.long_packet(kVersion1, LongType::kHandshake, cid("0103"), 40);
  auto dg = d.bytes();
  CoalescedPackets it(dg, 2);
  ASSERT_TRUE(it.next());
  EXPECT_FALSE(it.next());
  EXPECT_EQ(it.count(), 1u);
  EXPECT_GT(it.dropped_bytes(), 0u);
  EXPECT_FALSE(it.error());
}

TEST(Coalesced, MalformedSecondPacketDropsTheRest) {
  Datagram d;
  d.long_packet(kVersion1, LongType::kInitial, cid("0102"), 40);
  auto dg = d.bytes();
  auto bad = unhex("e300000001" "020102" "00" "4400");  // Handshake, Length 1024 beyond end
  dg.insert(dg.end(), bad.begin(), bad.end());
  CoalescedPackets it(dg, 2);
  ASSERT_TRUE(it.next());
  EXPECT_FALSE(it.next());
  ASSERT_TRUE(it.error());
  EXPECT_EQ(it.error()->code, err::kProtocolViolation);
  EXPECT_EQ(it.dropped_bytes(), bad.size());
  EXPECT_FALSE(it.next());  // stays stopped
}

TEST(Coalesced, AtMostMaxPacketsPerDatagram) {
  Datagram d;
  for (size_t i = 0; i < kMaxCoalescedPackets + 4; ++i) {
    d.long_packet(kVersion1, LongType::kHandshake, cid("0102"), 1);
  }
  auto dg = d.bytes();
  CoalescedPackets it(dg, 2);
  size_t n = 0;
  while (it.next()) ++n;
  EXPECT_EQ(n, kMaxCoalescedPackets);
  EXPECT_GT(it.dropped_bytes(), 0u);
}

}  // namespace
}  // namespace quic

#include "h3/capsule.h"

#include <gtest/gtest.h>

namespace h3 {
namespace {

using Bytes = std::vector<uint8_t>;

// Feeds `wire` in `step`-byte pieces; returns the capsules (type, payload) or the error code.
std::pair<std::vector<std::pair<uint64_t, Bytes>>, uint64_t> parse_all(const Bytes& wire,
                                                                       size_t step,
                                                                       size_t max = 1024) {
  CapsuleReader r(max);
  std::vector<std::pair<uint64_t, Bytes>> out;
  for (size_t at = 0; at < wire.size(); at += step) {
    quic::Bytes in(wire.data() + at, std::min(step, wire.size() - at));
    for (;;) {
      auto c = r.next(in);
      if (!c) return {out, c.error().code};
      if (!*c) break;
      out.emplace_back((*c)->type, Bytes((*c)->payload.begin(), (*c)->payload.end()));
    }
  }
  if (auto s = r.finish(); !s) return {out, s.error().code};
  return {out, 0};
}

TEST(H3Capsule, DatagramCapsuleIsByteExact) {
  Bytes b;
  append_datagram_capsule(b, Bytes{0xde, 0xad});
  EXPECT_EQ(b, (Bytes{0x00, 0x02, 0xde, 0xad}));
  b.clear();
  append_capsule(b, 0x4040, Bytes{1});
  EXPECT_EQ(b, (Bytes{0x80, 0x00, 0x40, 0x40, 0x01, 0x01}));
}

TEST(H3Capsule, RoundTripAcrossAnySplitSkippingUnknownTypes) {
  Bytes wire;
  append_datagram_capsule(wire, Bytes{1, 2, 3});
  append_capsule(wire, 0x2a, Bytes(300, 7));  // unknown: skipped
  append_datagram_capsule(wire, Bytes{});
  append_datagram_capsule(wire, Bytes(200, 9));
  for (size_t step : {wire.size(), size_t{1}, size_t{5}}) {
    auto [caps, code] = parse_all(wire, step);
    ASSERT_EQ(code, 0u);
    ASSERT_EQ(caps.size(), 3u);
    EXPECT_EQ(caps[0].second, (Bytes{1, 2, 3}));
    EXPECT_TRUE(caps[1].second.empty());
    EXPECT_EQ(caps[2].second, Bytes(200, 9));
  }
}

TEST(H3Capsule, OversizedDatagramCapsuleIsRejectedUnknownHugeIsSkipped) {
  Bytes big{0x00, 0x80, 0x01, 0x00, 0x00};  // DATAGRAM capsule of 65536 bytes
  EXPECT_EQ(parse_all(big, 100, kMaxCapsulePayload).second, err::kGeneralProtocolError);
  CapsuleReader r;
  Bytes unknown{0x17, 0xc0, 0, 0, 0xe8, 0xd4, 0xa5, 0x10, 0x00};  // 10^12 bytes, skipped
  quic::Bytes in(unknown);
  auto c = r.next(in);
  ASSERT_TRUE(c);
  EXPECT_FALSE(*c);
  EXPECT_FALSE(r.finish());
}

TEST(H3Capsule, TruncatedCapsuleIsMalformed) {
  EXPECT_EQ(parse_all(Bytes{0x00, 0x05, 1, 2}, 1).second, err::kGeneralProtocolError);
  EXPECT_EQ(parse_all(Bytes{0x40}, 1).second, err::kGeneralProtocolError);
}

TEST(H3Datagram, QuarterStreamIdRoundTrip) {
  auto d = encode_http_datagram(8, Bytes{0xaa});
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (Bytes{0x02, 0xaa}));
  auto back = decode_http_datagram(*d);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stream_id, 8u);
  EXPECT_EQ(Bytes(back->payload.begin(), back->payload.end()), Bytes{0xaa});
  EXPECT_FALSE(encode_http_datagram(2, {}));  // not a client bidi stream
  EXPECT_EQ(decode_http_datagram({}).error().code, err::kDatagramError);
  // Quarter stream ID 2^60 is above the limit (RFC 9297 §2.1).
  Bytes over{0xd0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(decode_http_datagram(over).error().code, err::kDatagramError);
}

TEST(H3Datagram, ContextIdPrefix) {
  Bytes out;
  append_context_payload(out, 0, Bytes{0x45});
  EXPECT_EQ(out, (Bytes{0x00, 0x45}));
  auto p = parse_context_payload(out);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->context_id, 0u);
  EXPECT_EQ(p->payload.size(), 1u);
  EXPECT_FALSE(parse_context_payload({}));
}

}  // namespace
}  // namespace h3

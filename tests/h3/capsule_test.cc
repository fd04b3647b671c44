#include "h3/capsule.h"

#include <gtest/gtest.h>

#include <span>

namespace h3 {
namespace {

using Wire = std::vector<uint8_t>;

using Capsules = std::vector<std::pair<uint64_t, Wire>>;

// Feeds `pieces` in order; returns the capsules (type, payload) or the error code.
std::pair<Capsules, uint64_t> parse_pieces(const std::vector<quic::Bytes>& pieces,
                                           std::span<const CapsuleType> table,
                                           CapsuleReader* reader) {
  CapsuleReader local(table);
  CapsuleReader& r = reader != nullptr ? *reader : local;
  Capsules out;
  for (quic::Bytes in : pieces) {
    for (;;) {
      auto c = r.next(in);
      if (!c) return {out, c.error().code};
      if (!*c) break;
      out.emplace_back((*c)->type, Wire((*c)->payload.begin(), (*c)->payload.end()));
    }
  }
  if (auto s = r.finish(); !s) return {out, s.error().code};
  return {out, 0};
}

// Feeds `wire` in `step`-byte pieces.
std::pair<Capsules, uint64_t> parse_capsules(
    const Wire& wire, size_t step, std::span<const CapsuleType> table = known_capsule_types(),
    CapsuleReader* reader = nullptr) {
  std::vector<quic::Bytes> pieces;
  for (size_t at = 0; at < wire.size(); at += step) {
    pieces.push_back(quic::Bytes(wire).subspan(at, std::min(step, wire.size() - at)));
  }
  return parse_pieces(pieces, table, reader);
}

// Feeds `wire` as two pieces split at `cut`.
std::pair<Capsules, uint64_t> parse_split(const Wire& wire, size_t cut) {
  return parse_pieces({quic::Bytes(wire).first(cut), quic::Bytes(wire).subspan(cut)},
                      known_capsule_types(), nullptr);
}

TEST(H3Capsule, DatagramCapsuleIsByteExact) {
  Wire b;
  append_datagram_capsule(b, Wire{0xde, 0xad});
  EXPECT_EQ(b, (Wire{0x00, 0x02, 0xde, 0xad}));
  b.clear();
  append_capsule(b, 0x4040, Wire{1});
  EXPECT_EQ(b, (Wire{0x80, 0x00, 0x40, 0x40, 0x01, 0x01}));
}

TEST(H3Capsule, KnownTypesDeliveredUnknownSkippedAtEveryByteBoundary) {
  Wire wire;
  append_datagram_capsule(wire, Wire{1, 2, 3});
  append_capsule(wire, 0x29 * 3 + 0x17, Wire(300, 7));  // reserved (RFC 9297 §5.4): skipped
  append_capsule(wire, capsule::kAddressAssign, Wire(26, 4));
  append_capsule(wire, 0x2a, Wire{});  // unknown, empty
  append_capsule(wire, capsule::kAddressRequest, Wire(9, 5));
  append_capsule(wire, capsule::kRouteAdvertisement, Wire(34, 6));
  append_capsule(wire, capsule::kWtCloseSession, Wire{0, 0, 0, 9, 'b', 'y', 'e'});
  append_capsule(wire, capsule::kWtDrainSession, Wire{});
  append_datagram_capsule(wire, Wire{});
  const Capsules want = {{capsule::kDatagram, Wire{1, 2, 3}},
                         {capsule::kAddressAssign, Wire(26, 4)},
                         {capsule::kAddressRequest, Wire(9, 5)},
                         {capsule::kRouteAdvertisement, Wire(34, 6)},
                         {capsule::kWtCloseSession, Wire{0, 0, 0, 9, 'b', 'y', 'e'}},
                         {capsule::kWtDrainSession, Wire{}},
                         {capsule::kDatagram, Wire{}}};
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    auto [caps, code] = parse_split(wire, cut);
    ASSERT_EQ(code, 0u) << "cut " << cut;
    ASSERT_EQ(caps, want) << "cut " << cut;
  }
  for (size_t step : {size_t{1}, size_t{2}, size_t{7}}) {
    CapsuleReader r;
    auto [caps, code] = parse_capsules(wire, step, known_capsule_types(), &r);
    ASSERT_EQ(code, 0u);
    EXPECT_EQ(caps, want);
    EXPECT_EQ(r.skipped_unknown(), 2u);
  }
}

TEST(H3Capsule, PerTypeCapsAnswerWithTheRightError) {
  auto one = [](uint64_t type, size_t len) {
    Wire wire;
    append_capsule(wire, type, Wire(len, 1));
    append_datagram_capsule(wire, Wire{0x42});  // parsing goes on after a discarded one
    return wire;
  };
  // At the cap: delivered.
  for (const CapsuleType& t : known_capsule_types()) {
    auto [caps, code] = parse_capsules(one(t.type, t.max_length), 3);
    EXPECT_EQ(code, 0u) << t.name;
    ASSERT_EQ(caps.size(), 2u) << t.name;
    EXPECT_EQ(caps[0].second.size(), t.max_length);
  }
  // One byte above it: the table's rule.
  CapsuleReader r;
  auto [caps, code] =
      parse_capsules(one(capsule::kDatagram, kMaxCapsulePayload + 1), 5, known_capsule_types(), &r);
  EXPECT_EQ(code, 0u);  // RFC 9297 §3.5: discarded without buffering
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].second, Wire{0x42});
  EXPECT_EQ(r.discarded_oversize(), 1u);
  EXPECT_EQ(parse_capsules(one(capsule::kWtCloseSession, kMaxWtCloseSession + 1), 5).second,
            err::kMessageError);
  EXPECT_EQ(parse_capsules(one(capsule::kWtDrainSession, 1), 1).second, err::kMessageError);
  EXPECT_EQ(parse_capsules(one(capsule::kAddressAssign, kMaxAddressCapsule + 1), 9).second,
            err::kExcessiveLoad);
  EXPECT_EQ(parse_capsules(one(capsule::kRouteAdvertisement, kMaxRouteCapsule + 1), 9).second,
            err::kExcessiveLoad);
}

TEST(H3Capsule, HugeUnknownAndHugeDatagramAreSkippedWithoutBuffering) {
  for (uint8_t type : {uint8_t{0x17}, uint8_t{0x00}}) {
    CapsuleReader r;
    Wire head{type, 0xc0, 0, 0, 0xe8, 0xd4, 0xa5, 0x10, 0x00};  // 10^12 bytes announced
    quic::Bytes in(head);
    auto c = r.next(in);
    ASSERT_TRUE(c);
    EXPECT_FALSE(*c);
    Wire chunk(60000, 3);
    quic::Bytes more(chunk);
    ASSERT_TRUE(r.next(more));
    EXPECT_TRUE(more.empty());
    EXPECT_FALSE(r.finish());  // still inside it
  }
}

TEST(H3Capsule, ExtensionTableMakesATypeKnown) {
  const CapsuleType mine[] = {{0x4040, "MINE", 8, Oversize::kExcessive}};
  Wire wire;
  append_capsule(wire, 0x4040, Wire{1, 2});
  append_datagram_capsule(wire, Wire{3});  // not in this table: skipped
  auto [caps, code] = parse_capsules(wire, 1, mine);
  ASSERT_EQ(code, 0u);
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].first, 0x4040u);
  EXPECT_EQ(parse_capsules(Wire{0x80, 0x00, 0x40, 0x40, 9}, 1, mine).second, err::kExcessiveLoad);
}

TEST(H3Capsule, TruncatedCapsuleIsMalformed) {
  EXPECT_EQ(parse_capsules(Wire{0x00, 0x05, 1, 2}, 1).second, err::kMessageError);
  EXPECT_EQ(parse_capsules(Wire{0x40}, 1).second, err::kMessageError);
  EXPECT_EQ(parse_capsules(Wire{0x2a, 0x05, 1}, 1).second, err::kMessageError);  // unknown too
}

TEST(H3Datagram, QuarterStreamIdRoundTrip) {
  auto d = encode_http_datagram(8, Wire{0xaa});
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (Wire{0x02, 0xaa}));
  auto back = decode_http_datagram(*d);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stream_id, 8u);
  EXPECT_EQ(Wire(back->payload.begin(), back->payload.end()), Wire{0xaa});
  EXPECT_FALSE(encode_http_datagram(2, {}));  // not a client bidi stream
  EXPECT_EQ(decode_http_datagram({}).error().code, err::kDatagramError);
  // Quarter stream ID 2^60 is above the limit (RFC 9297 §2.1).
  Wire over{0xd0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(decode_http_datagram(over).error().code, err::kDatagramError);
}

TEST(H3Datagram, ContextIdPrefix) {
  Wire out;
  append_context_payload(out, 0, Wire{0x45});
  EXPECT_EQ(out, (Wire{0x00, 0x45}));
  auto p = parse_context_payload(out);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->context_id, 0u);
  EXPECT_EQ(p->payload.size(), 1u);
  EXPECT_FALSE(parse_context_payload({}));
}

}  // namespace
}  // namespace h3

#include "h3/frames.h"

#include <gtest/gtest.h>

#include <string>

namespace h3 {
namespace {

using Wire = std::vector<uint8_t>;

Wire hex(std::string_view h) {
  Wire out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// A flattened FrameReader item, with DATA chunks concatenated per frame.
struct Parsed {
  FrameItem::Kind kind;
  uint64_t type;
  Wire payload;
  bool operator==(const Parsed&) const = default;
};

// Feeds `wire` in pieces of `step` bytes; returns the items or the first error code.
std::pair<std::vector<Parsed>, uint64_t> parse_all(const Wire& wire, size_t step,
                                                   size_t max_payload = 1024) {
  FrameReader r(max_payload);
  std::vector<Parsed> out;
  for (size_t at = 0; at < wire.size(); at += step) {
    quic::Bytes in(wire.data() + at, std::min(step, wire.size() - at));
    for (;;) {
      auto item = r.next(in);
      if (!item) return {out, item.error().code};
      if (!*item) break;
      const FrameItem& it = **item;
      if (it.kind == FrameItem::Kind::kDataChunk) {
        out.back().payload.insert(out.back().payload.end(), it.payload.begin(), it.payload.end());
      } else {
        out.push_back({it.kind, it.type, Wire(it.payload.begin(), it.payload.end())});
      }
    }
    EXPECT_TRUE(in.empty());
  }
  if (!r.finish()) return {out, r.finish().error().code};
  return {out, 0};
}

TEST(H3Frames, EncodingsAreByteExact) {
  Wire b;
  const Wire abc{'a', 'b', 'c'};
  append_data(b, abc);
  EXPECT_EQ(b, hex("0003616263"));
  b.clear();
  append_headers(b, abc);
  EXPECT_EQ(b, hex("0103616263"));
  b.clear();
  append_cancel_push(b, 7);
  EXPECT_EQ(b, hex("030107"));
  b.clear();
  append_goaway(b, 400);  // two-byte varint
  EXPECT_EQ(b, hex("07024190"));
  b.clear();
  append_max_push_id(b, 63);
  EXPECT_EQ(b, hex("0d013f"));
  b.clear();
  append_push_promise(b, 2, abc);
  EXPECT_EQ(b, hex("050402616263"));
  b.clear();
  append_priority_update(b, frame::kPriorityUpdateRequest, 4, "u=1");
  EXPECT_EQ(b, hex("800f0700"
                   "04"
                   "04"
                   "753d31"));
  b.clear();
  Settings s;
  s.qpack_max_table_capacity = 4096;
  s.max_field_section_size = 16384;
  s.qpack_blocked_streams = 16;
  s.enable_connect_protocol = true;
  s.h3_datagram = true;
  append_settings(b, s);
  // 01=4096 (5000), 06=16384 (80004000), 07=16, 08=1, 33=1
  EXPECT_EQ(b, hex("040e"
                   "015000"
                   "0680004000"
                   "0710"
                   "0801"
                   "3301"));
}

TEST(H3Frames, EveryFrameRoundTripsWholeAndByteByByte) {
  Wire wire;
  append_data(wire, Wire{1, 2, 3, 4});
  append_headers(wire, Wire{9, 9});
  append_cancel_push(wire, 1);
  Settings s;
  s.qpack_max_table_capacity = 100;
  s.enable_connect_protocol = true;
  s.grease = std::make_pair(uint64_t{0x21}, uint64_t{5});
  append_settings(wire, s);
  append_push_promise(wire, 3, Wire{7});
  append_goaway(wire, 8);
  append_max_push_id(wire, 2);
  append_priority_update(wire, frame::kPriorityUpdatePush, 1, "u=7, i");
  append_data(wire, Wire{});
  for (size_t step : {wire.size(), size_t{1}, size_t{3}, size_t{7}}) {
    auto [items, code] = parse_all(wire, step);
    ASSERT_EQ(code, 0u) << "step " << step;
    ASSERT_EQ(items.size(), 9u);
    EXPECT_EQ(items[0], (Parsed{FrameItem::Kind::kDataBegin, 0, {1, 2, 3, 4}}));
    EXPECT_EQ(items[1], (Parsed{FrameItem::Kind::kFrame, frame::kHeaders, {9, 9}}));
    EXPECT_EQ(parse_single_varint(items[2].type, items[2].payload).value(), 1u);
    auto settings = parse_settings(items[3].payload);
    ASSERT_TRUE(settings);
    Settings expect = s;
    expect.grease.reset();  // a received reserved setting is just another unknown one
    expect.extensions = {{0x21, 5}};
    EXPECT_EQ(*settings, expect);
    auto pp = parse_push_promise(items[4].payload);
    ASSERT_TRUE(pp);
    EXPECT_EQ(pp->push_id, 3u);
    EXPECT_EQ(Wire(pp->field_section.begin(), pp->field_section.end()), Wire{7});
    EXPECT_EQ(items[5].type, frame::kGoaway);
    EXPECT_EQ(parse_single_varint(items[5].type, items[5].payload).value(), 8u);
    EXPECT_EQ(parse_single_varint(items[6].type, items[6].payload).value(), 2u);
    auto pu = parse_priority_update(items[7].type, items[7].payload);
    ASSERT_TRUE(pu);
    EXPECT_EQ(pu->element_id, 1u);
    EXPECT_EQ(pu->field_value, "u=7, i");
    EXPECT_EQ(items[8], (Parsed{FrameItem::Kind::kDataBegin, 0, {}}));
  }
}

TEST(H3Frames, DataPayloadIsStreamedNotBuffered) {
  FrameReader r(16);
  Wire hdr =
      hex("00"
          "c00000e8d4a51000");  // DATA announcing 10^12 bytes
  quic::Bytes in(hdr);
  auto begin = r.next(in);
  ASSERT_TRUE(begin && *begin);
  EXPECT_EQ((*begin)->kind, FrameItem::Kind::kDataBegin);
  EXPECT_EQ((*begin)->length, 1000000000000u);
  Wire chunk(100, 0xab);
  quic::Bytes c(chunk);
  auto part = r.next(c);
  ASSERT_TRUE(part && *part);
  EXPECT_EQ((*part)->kind, FrameItem::Kind::kDataChunk);
  EXPECT_EQ((*part)->payload.data(), chunk.data());  // a view of the input, no copy
  EXPECT_FALSE((*part)->data_end);
  EXPECT_FALSE(r.finish());  // FIN inside the DATA frame
}

TEST(H3Frames, HugeKnownFrameIsExcessiveLoadBeforeAnyAllocation) {
  auto [items, code] = parse_all(hex("01"
                                     "c00000e8d4a51000"),
                                 100, 1024);
  EXPECT_EQ(code, err::kExcessiveLoad);
  Wire big =
      hex("04"
          "5001");
  big.resize(2 + 0x1001, 0);
  EXPECT_EQ(parse_all(big, 100).second, err::kExcessiveLoad);  // SETTINGS > 4096 bytes
  Wire pu;
  append_priority_update(pu, frame::kPriorityUpdateRequest, 0, std::string(2000, 'a'));
  EXPECT_EQ(parse_all(pu, 100).second, err::kExcessiveLoad);
}

TEST(H3Frames, UnknownAndReservedFramesAreSkippedWithoutBuffering) {
  Wire wire =
      hex("21"
          "c00000e8d4a51000");  // reserved type 0x21, 10^12 bytes
  FrameReader r(16);
  quic::Bytes in(wire);
  auto item = r.next(in);
  ASSERT_TRUE(item && *item);
  EXPECT_EQ((*item)->kind, FrameItem::Kind::kUnknownFrame);
  Wire junk(5000, 0x01);
  quic::Bytes j(junk);
  auto more = r.next(j);
  ASSERT_TRUE(more);
  EXPECT_FALSE(*more);
  EXPECT_TRUE(j.empty());
  // A small unknown frame between two known ones.
  Wire w2 =
      hex("0701"
          "04"
          "4040"
          "03"
          "aabbcc"
          "0d0105");
  auto [items, code] = parse_all(w2, 1);
  ASSERT_EQ(code, 0u);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].kind, FrameItem::Kind::kUnknownFrame);
  EXPECT_EQ(items[1].type, 0x40u);
  EXPECT_EQ(items[2].type, frame::kMaxPushId);
}

TEST(H3Frames, Http2FrameTypesAreUnexpected) {
  for (const char* h : {"0200", "0600", "0800", "0900"}) {
    EXPECT_EQ(parse_all(hex(h), 1).second, err::kFrameUnexpected) << h;
  }
}

TEST(H3Frames, FixedSizeFramesWithWrongLengthsAreFrameErrors) {
  EXPECT_EQ(parse_all(hex("0700"), 1).second, err::kFrameError);  // empty GOAWAY
  EXPECT_EQ(parse_all(hex("0709"
                          "c000000000000001ff"),
                      1)
                .second,
            err::kFrameError);
  // Length 2 with a one-byte varint and a trailing byte; length 1 with a two-byte varint.
  EXPECT_FALSE(parse_single_varint(frame::kGoaway, hex("0101")));
  EXPECT_EQ(parse_single_varint(frame::kGoaway, hex("0101")).error().code, err::kFrameError);
  EXPECT_EQ(parse_single_varint(frame::kCancelPush, hex("40")).error().code, err::kFrameError);
  EXPECT_EQ(parse_push_promise({}).error().code, err::kFrameError);
  EXPECT_EQ(parse_priority_update(frame::kPriorityUpdateRequest, {}).error().code,
            err::kFrameError);
}

TEST(H3Frames, TruncatedStreamIsFrameError) {
  EXPECT_EQ(parse_all(hex("0105aabb"), 1).second, err::kFrameError);
  EXPECT_EQ(parse_all(hex("40"), 1).second, err::kFrameError);  // half a frame type
  EXPECT_EQ(parse_all(hex("0003aa"), 2).second, err::kFrameError);
  EXPECT_EQ(parse_all(hex("0003aabbcc"), 2).second, 0u);
}

TEST(H3Settings, DuplicatesAndHttp2SettingsAreSettingsErrors) {
  EXPECT_EQ(parse_settings(hex("01000100")).error().code, err::kSettingsError);
  EXPECT_EQ(parse_settings(hex("21002100")).error().code, err::kSettingsError);  // even unknown
  for (const char* h : {"0200", "0300", "0401", "0500"}) {
    EXPECT_EQ(parse_settings(hex(h)).error().code, err::kSettingsError) << h;
  }
  EXPECT_EQ(parse_settings(hex("0802")).error().code, err::kSettingsError);
  EXPECT_EQ(parse_settings(hex("3302")).error().code, err::kSettingsError);
}

TEST(H3Settings, TruncatedEntryIsFrameError) {
  EXPECT_EQ(parse_settings(hex("01")).error().code, err::kFrameError);
  EXPECT_EQ(parse_settings(hex("0140")).error().code, err::kFrameError);
}

TEST(H3Settings, UnknownIgnoredDefaultsAndEntryLimit) {
  auto s =
      parse_settings(hex("404001"
                         "0604"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->max_field_section_size, 4u);
  EXPECT_EQ(s->qpack_max_table_capacity, 0u);
  EXPECT_FALSE(s->h3_datagram);
  auto empty = parse_settings({});
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->max_field_section_size);  // unlimited by default
  Wire many;
  for (uint64_t i = 0; i <= kMaxSettingsEntries; ++i) {
    append_varint(many, 0x1000 + i);
    append_varint(many, 0);
  }
  EXPECT_EQ(parse_settings(many).error().code, err::kExcessiveLoad);
}

TEST(H3Errors, CodesMatchRfc9114Section8_1) {
  EXPECT_EQ(err::kNoError, 0x100u);
  EXPECT_EQ(err::kVersionFallback, 0x110u);
  EXPECT_STREQ(error_name(0x105), "H3_FRAME_UNEXPECTED");
  EXPECT_STREQ(error_name(0x10a), "H3_MISSING_SETTINGS");
  EXPECT_TRUE(is_reserved_codepoint(0x21));
  EXPECT_TRUE(is_reserved_codepoint(0x21 + 0x1f * 1000));
  EXPECT_FALSE(is_reserved_codepoint(0x22));
}

TEST(H3Frames, UnknownSettingsAreKeptAndReadableDuplicatesStillAnError) {
  Settings s;
  s.max_field_section_size = 1000;
  s.h3_datagram = true;
  s.extensions = {{0x2c7cf000, 1}, {0x2b64, 16}, {0x21 + 0x1f * 9, 77}};
  Wire wire;
  append_settings(wire, s);
  auto [items, code] = parse_all(wire, 1);
  ASSERT_EQ(code, 0u);
  ASSERT_EQ(items.size(), 1u);
  auto got = parse_settings(items[0].payload);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->extensions, s.extensions);  // wire order, reserved ones included
  EXPECT_EQ(got->get(0x2c7cf000), 1u);       // WT_ENABLED, say
  EXPECT_EQ(got->get(0x2b64), 16u);
  EXPECT_EQ(got->get(0x21 + 0x1f * 9), 77u);
  EXPECT_EQ(got->get(0x4242), std::nullopt);
  EXPECT_EQ(got->get(setting::kMaxFieldSectionSize), 1000u);
  EXPECT_EQ(got->get(setting::kH3Datagram), 1u);
  EXPECT_EQ(got->get(setting::kEnableConnectProtocol), 0u);
  // §7.2.4: the same identifier twice is H3_SETTINGS_ERROR, unknown ones included.
  Wire dup{0x40, 0x64, 0x01, 0x40, 0x64, 0x02};
  EXPECT_EQ(parse_settings(dup).error().code, err::kSettingsError);
  // A known id listed in `extensions` is not sent twice.
  Settings twice;
  twice.qpack_blocked_streams = 3;
  twice.extensions = {{setting::kQpackBlockedStreams, 9}, {0x4242, 1}, {0x4242, 2}};
  Wire w2;
  append_settings(w2, twice);
  auto [items2, code2] = parse_all(w2, w2.size());
  ASSERT_EQ(code2, 0u);
  auto back = parse_settings(items2[0].payload);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->qpack_blocked_streams, 3u);
  EXPECT_EQ(back->extensions, (std::vector<std::pair<uint64_t, uint64_t>>{{0x4242, 1}}));
}

}  // namespace
}  // namespace h3

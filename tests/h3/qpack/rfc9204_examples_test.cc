// RFC 9204 Appendix B, byte for byte, on both sides.
#include <gtest/gtest.h>

#include "h3/qpack/decoder.h"
#include "h3/qpack/encoder.h"
#include "test_util.h"

namespace h3::qpack {
namespace {

using test::fields;
using test::hex;

// The examples' table holds at most 220 bytes; MaxEntries = 6 makes "0381" mean RIC 2.
constexpr uint64_t kCapacity = 220;

TEST(QpackRfc9204AppendixB, DecoderFollowsAllExamples) {
  Decoder d(kCapacity, 100, 16384);
  std::vector<Field> out;

  // B.1 Literal Field Line with Name Reference.
  auto r = d.decode(0, hex("0000 510b 2f69 6e64 6578 2e68 746d 6c"), out);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(*r, Decoder::DecodeStatus::kDone);
  EXPECT_EQ(out, fields({{":path", "/index.html"}}));
  EXPECT_TRUE(d.take_decoder_stream_bytes().empty());  // RIC 0: nothing to acknowledge

  // B.2 Dynamic Table.
  ASSERT_TRUE(
      d.on_encoder_stream(hex("3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f"
                              "6d c10c 2f73 616d 706c 652f 7061 7468")));
  EXPECT_EQ(d.table().capacity(), 220u);
  EXPECT_EQ(d.table().size(), 106u);
  r = d.decode(4, hex("0381 10 11"), out);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(out, fields({{":authority", "www.example.com"}, {":path", "/sample/path"}}));
  EXPECT_EQ(d.take_decoder_stream_bytes(), hex("84"));

  // B.3 Speculative Insert.
  ASSERT_TRUE(
      d.on_encoder_stream(hex("4a63 7573 746f 6d2d 6b65 790c 6375 7374"
                              "6f6d 2d76 616c 7565")));
  EXPECT_EQ(d.table().size(), 160u);
  EXPECT_EQ(d.take_decoder_stream_bytes(), hex("01"));

  // B.4 Duplicate Instruction, Stream Cancellation: the section for stream 8 overtakes the
  // Duplicate, blocks, and the stream is cancelled before the Duplicate arrives.
  r = d.decode(8, hex("0500 80 c1 81"), out);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(*r, Decoder::DecodeStatus::kBlocked);
  EXPECT_EQ(d.blocked_streams(), 1u);
  d.cancel_stream(8);
  EXPECT_EQ(d.blocked_streams(), 0u);
  EXPECT_EQ(d.take_decoder_stream_bytes(), hex("48"));
  ASSERT_TRUE(d.on_encoder_stream(hex("02")));
  EXPECT_EQ(d.table().size(), 217u);
  EXPECT_TRUE(d.take_unblocked().empty());
  // The same section, now decodable.
  r = d.decode(12, hex("0500 80 c1 81"), out);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(
      out,
      fields({{":authority", "www.example.com"}, {":path", "/"}, {"custom-key", "custom-value"}}));
  EXPECT_EQ(d.take_decoder_stream_bytes(), hex("8c"));

  // B.5 Dynamic Table Insert, Eviction.
  ASSERT_TRUE(d.on_encoder_stream(hex("810d 6375 7374 6f6d 2d76 616c 7565 32")));
  EXPECT_EQ(d.table().size(), 215u);
  EXPECT_EQ(d.table().first_index(), 1u);
  ASSERT_NE(d.table().get(4), nullptr);
  EXPECT_EQ(d.table().get(4)->name, "custom-key");
  EXPECT_EQ(d.table().get(4)->value, "custom-value2");
  EXPECT_EQ(d.take_decoder_stream_bytes(), hex("01"));
}

TEST(QpackRfc9204AppendixB, BlockedSectionResumesWhenDuplicateArrives) {
  Decoder d(kCapacity, 100, 16384);
  ASSERT_TRUE(
      d.on_encoder_stream(hex("3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f"
                              "6d c10c 2f73 616d 706c 652f 7061 7468"
                              "4a63 7573 746f 6d2d 6b65 790c 6375 7374"
                              "6f6d 2d76 616c 7565")));
  std::vector<Field> out;
  auto r = d.decode(8, hex("0500 80 c1 81"), out);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, Decoder::DecodeStatus::kBlocked);
  ASSERT_TRUE(d.on_encoder_stream(hex("02")));
  auto unblocked = d.take_unblocked();
  ASSERT_EQ(unblocked.size(), 1u);
  EXPECT_EQ(unblocked[0].stream_id, 8u);
  ASSERT_TRUE(unblocked[0].fields);
  EXPECT_EQ(
      *unblocked[0].fields,
      fields({{":authority", "www.example.com"}, {":path", "/"}, {"custom-key", "custom-value"}}));
  EXPECT_EQ(d.take_decoder_stream_bytes(), hex("88"));  // the ack covers all 4 inserts
}

TEST(QpackRfc9204AppendixB, EncoderMatchesB1AndTracksB2ToB4Acknowledgments) {
  Encoder e;
  e.set_huffman(false);
  // B.1: without peer settings only the static table is used.
  EXPECT_EQ(e.encode(0, fields({{":path", "/index.html"}})),
            hex("0000 510b 2f69 6e64 6578 2e68 746d 6c"));
  EXPECT_TRUE(e.take_encoder_stream_bytes().empty());

  e.set_peer_settings(kCapacity, 100);
  EXPECT_EQ(e.take_encoder_stream_bytes(), hex("3fbd01"));  // Set Dynamic Table Capacity=220
  // A field seen twice is inserted (name reference to static :authority) and referenced.
  const auto authority = fields({{":authority", "www.example.com"}});
  EXPECT_EQ(e.encode(4, authority), hex("0000 500f 7777 772e 6578 616d 706c 652e 636f 6d"));
  EXPECT_EQ(e.encode(8, authority), hex("0200 80"));  // RIC 1, Base 1, relative index 0
  EXPECT_EQ(e.take_encoder_stream_bytes(), hex("c00f 7777 772e 6578 616d 706c 652e 636f 6d"));
  EXPECT_EQ(e.blocking_streams(), 1u);
  // Stream Cancellation releases the reference without acknowledging the insert...
  ASSERT_TRUE(e.on_decoder_stream(hex("48")));
  EXPECT_EQ(e.known_received_count(), 0u);
  EXPECT_EQ(e.blocking_streams(), 0u);
  // ... an Insert Count Increment acknowledges it ...
  ASSERT_TRUE(e.on_decoder_stream(hex("01")));
  EXPECT_EQ(e.known_received_count(), 1u);
  // ... and a Section Acknowledgment for a referencing section releases it.
  EXPECT_EQ(e.encode(12, authority), hex("0200 80"));
  EXPECT_EQ(e.outstanding_sections(), 1u);
  ASSERT_TRUE(e.on_decoder_stream(hex("8c")));
  EXPECT_EQ(e.outstanding_sections(), 0u);
}

}  // namespace
}  // namespace h3::qpack

// Decoder error codes, limits, blocking and incremental encoder-stream input.
#include <gtest/gtest.h>

#include "h3/qpack/decoder.h"
#include "h3/qpack/dynamic_table.h"
#include "h3/qpack/prefixed_int.h"
#include "h3/qpack/string_literal.h"
#include "test_util.h"

namespace h3::qpack {
namespace {

using test::fields;
using test::hex;

// B.2 encoder stream: capacity 220, then :authority=www.example.com and :path=/sample/path.
const std::vector<uint8_t> kB2 =
    hex("3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468");

uint64_t decode_error(Decoder& d, const std::vector<uint8_t>& section, uint64_t stream = 0) {
  std::vector<Field> out;
  auto r = d.decode(stream, section, out);
  return r ? 0 : r.error().code;
}
uint64_t encoder_stream_error(Decoder& d, const std::vector<uint8_t>& bytes) {
  auto s = d.on_encoder_stream(bytes);
  return s ? 0 : s.error().code;
}

TEST(QpackDecoder, InvalidStaticIndexIsDecompressionFailed) {
  Decoder d(220, 10, 16384);
  EXPECT_EQ(decode_error(d, hex("0000 ff24")), kDecompressionFailed);     // indexed, static 99
  EXPECT_EQ(decode_error(d, hex("0000 5f54 00")), kDecompressionFailed);  // name ref, static 99
  EXPECT_EQ(decode_error(d, hex("0000 ff23")), 0u);                       // static 98 is fine
}

TEST(QpackDecoder, MalformedSectionsAreDecompressionFailed) {
  Decoder d(220, 10, 16384);
  ASSERT_TRUE(d.on_encoder_stream(kB2));
  EXPECT_EQ(decode_error(d, hex("")), kDecompressionFailed);                // no prefix
  EXPECT_EQ(decode_error(d, hex("00")), kDecompressionFailed);              // no Base
  EXPECT_EQ(decode_error(d, hex("0000 510b 2f69")), kDecompressionFailed);  // truncated value
  EXPECT_EQ(decode_error(d, hex("0000 5181 00")), kDecompressionFailed);    // bad Huffman
  EXPECT_EQ(decode_error(d, hex("0e00")), kDecompressionFailed);     // encoded RIC > 2*MaxEntries
  EXPECT_EQ(decode_error(d, hex("0382 10")), kDecompressionFailed);  // Base = 2 - 2 - 1 < 0
  EXPECT_EQ(decode_error(d, hex("0280 81")), kDecompressionFailed);  // relative index >= Base
  EXPECT_EQ(decode_error(d, hex("0280 11")), kDecompressionFailed);  // post-base >= RIC
  EXPECT_EQ(decode_error(d, hex("0300 81")), kDecompressionFailed);  // RIC 2 but only 1 used
  EXPECT_EQ(decode_error(d, hex("0300 81 80")), 0u);
  EXPECT_EQ(decode_error(d, hex("0380 80 10")), 0u);  // Base 1: relative 0 and post-base 0
}

TEST(QpackDecoder, DynamicReferenceWithZeroCapacityIsDecompressionFailed) {
  Decoder d(0, 10, 16384);
  EXPECT_EQ(decode_error(d, hex("0100 80")), kDecompressionFailed);
  EXPECT_EQ(encoder_stream_error(d, hex("21")), kEncoderStreamError);  // capacity 1 > 0
}

TEST(QpackDecoder, ReferenceToEvictedEntryIsDecompressionFailed) {
  Decoder d(100, 10, 16384);
  // Capacity 100 holds two 34-byte entries (a=1, b=2, ...): four inserts evict two.
  ASSERT_TRUE(d.on_encoder_stream(hex("3f45 4161 0131 4162 0132 4163 0133 4164 0134")));
  EXPECT_EQ(d.table().first_index(), 2u);
  // RIC 4 (encoded 4 % 6 + 1 = 5), Base 4: relative 2 is absolute 1, evicted.
  EXPECT_EQ(decode_error(d, hex("0500 82 80")), kDecompressionFailed);
  EXPECT_EQ(decode_error(d, hex("0500 81 80")), 0u);
}

TEST(QpackDecoder, EncoderStreamErrors) {
  {
    Decoder d(220, 10, 16384);
    EXPECT_EQ(encoder_stream_error(d, hex("3fbe01")), kEncoderStreamError);  // capacity 221
  }
  {
    Decoder d(220, 10, 16384);
    EXPECT_EQ(encoder_stream_error(d, hex("3fbd01 02")), kEncoderStreamError);  // bad Duplicate
  }
  {
    Decoder d(220, 10, 16384);
    EXPECT_EQ(encoder_stream_error(d, hex("3fbd01 ff24 0161")), kEncoderStreamError);  // static 99
  }
  {
    Decoder d(220, 10, 16384);
    EXPECT_EQ(encoder_stream_error(d, hex("3fbd01 8001 61")), kEncoderStreamError);  // dynamic 0
  }
  {
    Decoder d(220, 10, 16384);  // insert before any capacity: the table holds 0 bytes
    EXPECT_EQ(encoder_stream_error(d, hex("c001 61")), kEncoderStreamError);
  }
  {
    Decoder d(220, 10, 16384);
    EXPECT_EQ(encoder_stream_error(d, hex("3fbd01 ff ffffffffffffffffff 7f")),
              kEncoderStreamError);  // integer overflow
  }
}

TEST(QpackDecoder, OversizedLiteralRejectedBeforeItsBytesArrive) {
  Decoder d(220, 10, 16384);
  ASSERT_TRUE(d.on_encoder_stream(kB2));
  // Insert With Literal Name: name "a", value claiming 188 bytes: 1 + 188 + 32 > 220.
  std::vector<uint8_t> head = hex("41 61");
  encode_prefixed_int(head, 0x00, 7, 188);
  EXPECT_EQ(encoder_stream_error(d, head), kEncoderStreamError);
  // 187 bytes would fit, so the decoder waits for them.
  Decoder ok(220, 10, 16384);
  ASSERT_TRUE(ok.on_encoder_stream(hex("3fbd01")));
  std::vector<uint8_t> fits = hex("41 61");
  encode_prefixed_int(fits, 0x00, 7, 187);
  ASSERT_TRUE(ok.on_encoder_stream(fits));
  EXPECT_EQ(ok.table().insert_count(), 0u);
  ASSERT_TRUE(ok.on_encoder_stream(std::vector<uint8_t>(187, 'x')));
  EXPECT_EQ(ok.table().insert_count(), 1u);
  EXPECT_EQ(ok.table().size(), 220u);
}

TEST(QpackDecoder, EncoderStreamFedOneByteAtATime) {
  Decoder whole(220, 10, 16384);
  Decoder bytewise(220, 10, 16384);
  const auto stream =
      hex("3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468"
          "4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565 02"
          "810d 6375 7374 6f6d 2d76 616c 7565 32");
  ASSERT_TRUE(whole.on_encoder_stream(stream));
  for (uint8_t b : stream) ASSERT_TRUE(bytewise.on_encoder_stream(quic::Bytes(&b, 1)));
  ASSERT_EQ(bytewise.table().insert_count(), 5u);
  EXPECT_EQ(bytewise.table().size(), whole.table().size());
  for (uint64_t i = 1; i < 5; ++i) {
    EXPECT_EQ(bytewise.table().get(i)->name, whole.table().get(i)->name);
    EXPECT_EQ(bytewise.table().get(i)->value, whole.table().get(i)->value);
  }
  // Uneven splits, including inside a multi-byte integer and a Huffman literal.
  Decoder split(220, 10, 16384);
  ASSERT_TRUE(split.on_encoder_stream(quic::Bytes(stream).first(2)));
  ASSERT_TRUE(split.on_encoder_stream(quic::Bytes(stream).subspan(2, 9)));
  ASSERT_TRUE(split.on_encoder_stream(quic::Bytes(stream).subspan(11)));
  EXPECT_EQ(split.table().insert_count(), 5u);
}

TEST(QpackDecoder, BlockedSectionResumesAfterByteByByteInserts) {
  Decoder d(220, 1, 16384);
  std::vector<Field> out;
  auto r = d.decode(4, hex("0381 10 11"), out);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, Decoder::DecodeStatus::kBlocked);
  EXPECT_TRUE(out.empty());
  for (size_t i = 0; i + 1 < kB2.size(); ++i) {
    ASSERT_TRUE(d.on_encoder_stream(quic::Bytes(&kB2[i], 1)));
  }
  EXPECT_TRUE(d.take_unblocked().empty());  // only the first insert has arrived
  ASSERT_TRUE(d.on_encoder_stream(quic::Bytes(&kB2.back(), 1)));
  auto unblocked = d.take_unblocked();
  ASSERT_EQ(unblocked.size(), 1u);
  EXPECT_EQ(unblocked[0].stream_id, 4u);
  ASSERT_TRUE(unblocked[0].fields);
  EXPECT_EQ(*unblocked[0].fields,
            fields({{":authority", "www.example.com"}, {":path", "/sample/path"}}));
  EXPECT_EQ(d.take_decoder_stream_bytes(), hex("84"));
}

TEST(QpackDecoder, MoreBlockedStreamsThanAllowedIsDecompressionFailed) {
  Decoder d(220, 2, 16384);
  EXPECT_EQ(decode_error(d, hex("0381 10 11"), 4), 0u);
  EXPECT_EQ(decode_error(d, hex("0381 10 11"), 8), 0u);
  EXPECT_EQ(d.blocked_streams(), 2u);
  EXPECT_EQ(decode_error(d, hex("0381 10 11"), 8), 0u);  // same stream: no new blocked stream
  EXPECT_EQ(decode_error(d, hex("0381 10 11"), 12), kDecompressionFailed);
  Decoder none(220, 0, 16384);
  EXPECT_EQ(decode_error(none, hex("0381 10 11"), 4), kDecompressionFailed);
}

TEST(QpackDecoder, BlockedBytesAreBounded) {
  Decoder d(220, 100, 16384);
  std::vector<uint8_t> big = hex("0381");
  big.resize(kMaxBlockedSectionBytes / 2 + 3, 0x10);
  EXPECT_EQ(decode_error(d, big, 4), 0u);
  EXPECT_EQ(decode_error(d, big, 8), kDecompressionFailed);
  d.cancel_stream(4);  // releases the bytes
  EXPECT_EQ(decode_error(d, big, 8), 0u);
}

TEST(QpackDecoder, CancelStreamDropsBlockedSectionAndNotifiesEncoder) {
  Decoder d(220, 10, 16384);
  std::vector<Field> out;
  ASSERT_TRUE(d.decode(4, hex("0381 10 11"), out));
  d.cancel_stream(4);
  EXPECT_EQ(d.take_decoder_stream_bytes(), hex("44"));
  ASSERT_TRUE(d.on_encoder_stream(kB2));
  EXPECT_TRUE(d.take_unblocked().empty());
  EXPECT_EQ(d.take_decoder_stream_bytes(), hex("02"));  // Insert Count Increment 2
  Decoder zero(0, 10, 16384);  // RFC 9204 §4.4.2: may omit when capacity is 0
  zero.cancel_stream(4);
  EXPECT_TRUE(zero.take_decoder_stream_bytes().empty());
}

TEST(QpackDecoder, FieldSectionSizeLimitCountsNameValueAnd32) {
  const auto section = hex("0000 510b 2f69 6e64 6578 2e68 746d 6c");  // :path=/index.html
  const uint64_t size = 5 + 11 + 32;
  Decoder exact(0, 0, size);
  EXPECT_EQ(decode_error(exact, section), 0u);
  Decoder under(0, 0, size - 1);
  EXPECT_EQ(decode_error(under, section), kFieldSectionTooLarge);
  Decoder tiny(0, 0, 10);
  EXPECT_EQ(decode_error(tiny, hex("0000 d1")), kFieldSectionTooLarge);  // indexed :method GET
}

TEST(QpackDecoder, QpackBombStopsAtTheLimit) {
  // One 4000-byte entry referenced 10000 times would be 40 MB of output.
  Decoder d(4096, 10, 64 * 1024);
  std::vector<uint8_t> ins = hex("3fe11f 41 62");  // capacity 4096, literal name "b"
  encode_string(ins, 0x00, 7, std::string(4000, 'x'), false);
  ASSERT_TRUE(d.on_encoder_stream(ins));
  std::vector<uint8_t> section = hex("0200");
  section.insert(section.end(), 10000, 0x80);
  std::vector<Field> out;
  auto r = d.decode(4, section, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kFieldSectionTooLarge);
  EXPECT_TRUE(out.empty());
  // 16 references (16 * 4033 bytes) fit in 64 KiB.
  section.resize(2 + 16);
  r = d.decode(8, section, out);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(out.size(), 16u);
}

TEST(QpackDecoder, UnblockedSectionOverLimitIsReportedPerStream) {
  Decoder d(220, 10, 60);  // one field of :authority=www.example.com costs 57
  std::vector<Field> out;
  ASSERT_TRUE(d.decode(4, hex("0381 10 11"), out));
  ASSERT_TRUE(d.on_encoder_stream(kB2));
  auto u = d.take_unblocked();
  ASSERT_EQ(u.size(), 1u);
  ASSERT_FALSE(u[0].fields);
  EXPECT_EQ(u[0].fields.error().code, kFieldSectionTooLarge);
  EXPECT_EQ(d.blocked_streams(), 0u);
}

TEST(QpackRequiredInsertCount, RoundTripsAcrossWrapAround) {
  const uint64_t capacity = 100;  // MaxEntries 3, FullRange 6
  for (uint64_t total = 0; total < 40; ++total) {
    const uint64_t lo = total >= 3 ? total - 2 : 1;
    for (uint64_t ric = lo; ric <= total + 3; ++ric) {
      const uint64_t enc = encode_required_insert_count(ric, capacity);
      EXPECT_LE(enc, 6u);
      uint64_t back = 0;
      ASSERT_TRUE(decode_required_insert_count(enc, capacity, total, back)) << total << " " << ric;
      EXPECT_EQ(back, ric) << total;
    }
  }
  uint64_t ric = 0;
  EXPECT_FALSE(decode_required_insert_count(7, capacity, 0, ric));  // > FullRange
  EXPECT_FALSE(decode_required_insert_count(1, 0, 0, ric));         // no dynamic table
  // RFC 9204 §4.5.1.1: with MaxEntries 3 and no inserts, encoded 5 would mean RIC 4 > 3.
  EXPECT_FALSE(decode_required_insert_count(5, capacity, 0, ric));
  EXPECT_EQ(encode_required_insert_count(0, capacity), 0u);
}

}  // namespace
}  // namespace h3::qpack

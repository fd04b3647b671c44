// Encoder strategy, acknowledgment tracking, limits and decoder-stream errors.
#include <gtest/gtest.h>

#include "h3/qpack/decoder.h"
#include "h3/qpack/encoder.h"
#include "test_util.h"

namespace h3::qpack {
namespace {

using test::fields;
using test::hex;

uint64_t decoder_stream_error(Encoder& e, const std::vector<uint8_t>& bytes) {
  auto s = e.on_decoder_stream(bytes);
  return s ? 0 : s.error().code;
}

TEST(QpackEncoder, DecoderStreamErrors) {
  Encoder e;
  e.set_peer_settings(220, 10);
  EXPECT_EQ(decoder_stream_error(e, hex("00")), kDecoderStreamError);  // Increment 0
  Encoder e2;
  e2.set_peer_settings(220, 10);
  EXPECT_EQ(decoder_stream_error(e2, hex("01")), kDecoderStreamError);  // nothing inserted
  Encoder e3;
  EXPECT_EQ(decoder_stream_error(e3, hex("84")), kDecoderStreamError);  // ack, unknown stream
  Encoder e4;
  EXPECT_EQ(decoder_stream_error(e4, hex("ff ffffffffffffffffff 01")), kDecoderStreamError);
  Encoder e5;
  EXPECT_EQ(decoder_stream_error(e5, hex("44")), 0u);  // cancelling an unknown stream is fine
}

TEST(QpackEncoder, SectionAckForFullyAcknowledgedStreamIsError) {
  Encoder e;
  e.set_peer_settings(220, 10);
  const auto f = fields({{"x-a", "1"}});
  e.encode(4, f);
  e.encode(4, f);  // inserted and referenced: one outstanding section on stream 4
  ASSERT_TRUE(e.on_decoder_stream(hex("84")));
  EXPECT_EQ(decoder_stream_error(e, hex("84")), kDecoderStreamError);
}

TEST(QpackEncoder, DecoderStreamSplitAnywhere) {
  Encoder e;
  e.set_peer_settings(4096, 10);
  for (int i = 0; i < 200; ++i) {  // 200 distinct fields seen twice: 200 inserts
    const auto f = fields({{"x-n", std::to_string(i).c_str()}});
    e.encode(4, f);
    e.encode(4, f);
  }
  ASSERT_GE(e.table().insert_count(), 100u);
  // Insert Count Increment 100 = 0x3f + 37: "3f 25"; Section Ack stream 300 = "ff ad 01".
  const auto bytes = hex("3f25");
  ASSERT_TRUE(e.on_decoder_stream(quic::Bytes(bytes).first(1)));
  EXPECT_EQ(e.known_received_count(), 0u);
  ASSERT_TRUE(e.on_decoder_stream(quic::Bytes(bytes).subspan(1)));
  EXPECT_EQ(e.known_received_count(), 100u);
}

TEST(QpackEncoder, UsesStaticTableAndLiterals) {
  Encoder e;
  e.set_huffman(false);
  EXPECT_EQ(e.encode(0, fields({{":method", "GET"}})), hex("0000 d1"));
  EXPECT_EQ(e.encode(0, fields({{"x-y", "z"}})), hex("0000 2378 2d79 017a"));
  // Sensitive names keep the never-index bit: authorization is static index 84.
  EXPECT_EQ(e.encode(0, fields({{"authorization", "s"}})), hex("0000 7f45 0173"));
  Field custom{"x-secret", "s", true};
  EXPECT_EQ(e.encode(0, std::vector<Field>{custom}), hex("0000 3701 782d 7365 6372 6574 0173"));
}

TEST(QpackEncoder, SensitiveFieldsNeverEnterTheTable) {
  Encoder e;
  e.set_peer_settings(4096, 10);
  Decoder d(4096, 10, 16384);
  const auto f = fields({{"authorization", "Bearer abc"}, {"cookie", "id=1"}});
  for (int i = 0; i < 3; ++i) {
    const auto section = e.encode(4 * i, f);
    ASSERT_TRUE(d.on_encoder_stream(e.take_encoder_stream_bytes()));
    std::vector<Field> out;
    ASSERT_TRUE(d.decode(4 * i, section, out));
    EXPECT_EQ(out, f);
    EXPECT_TRUE(out[0].sensitive);
    EXPECT_TRUE(out[1].sensitive);
  }
  EXPECT_EQ(e.table().insert_count(), 0u);
}

TEST(QpackEncoder, RespectsPeerAndOwnCapacity) {
  Encoder small_peer;
  small_peer.set_peer_settings(100, 10);
  EXPECT_EQ(small_peer.table().capacity(), 100u);
  EXPECT_EQ(small_peer.take_encoder_stream_bytes(), hex("3f45"));
  Encoder small_self(64);
  small_self.set_peer_settings(4096, 10);
  EXPECT_EQ(small_self.table().capacity(), 64u);
  Encoder zero;
  zero.set_peer_settings(0, 10);
  EXPECT_TRUE(zero.take_encoder_stream_bytes().empty());
  const auto f = fields({{"x-a", "1"}});
  zero.encode(0, f);
  zero.encode(0, f);
  EXPECT_EQ(zero.table().insert_count(), 0u);
}

TEST(QpackEncoder, NeverEvictsEntriesReferencedByUnacknowledgedSections) {
  Encoder e;
  e.set_peer_settings(100, 10);                          // room for one 36..75-byte entry
  const auto a = fields({{"x-a", "aaaaaaaaaaaaaaaa"}});  // 3 + 16 + 32 = 51 bytes
  const auto b = fields({{"x-b", "bbbbbbbbbbbbbbbb"}});
  e.encode(4, a);
  e.encode(4, a);  // inserts a and references it; not acknowledged
  ASSERT_EQ(e.table().insert_count(), 1u);
  e.encode(8, b);
  const auto lit = e.encode(8, b);  // b would evict a: stays literal
  EXPECT_EQ(e.table().insert_count(), 1u);
  EXPECT_EQ(lit[0], 0x00);                      // Required Insert Count 0
  ASSERT_TRUE(e.on_decoder_stream(hex("84")));  // a's section acknowledged
  e.encode(12, b);
  EXPECT_EQ(e.table().insert_count(), 2u);  // now a can go
  EXPECT_EQ(e.table().first_index(), 1u);
}

TEST(QpackEncoder, LimitsStreamsThatCouldBlock) {
  Encoder e;
  e.set_peer_settings(4096, 1);
  const auto f = fields({{"x-a", "1"}});
  e.encode(0, f);
  const auto s4 = e.encode(4, f);  // inserts and references the unacknowledged entry
  EXPECT_NE(s4[0], 0x00);
  EXPECT_EQ(e.blocking_streams(), 1u);
  const auto s8 = e.encode(8, f);  // a second stream may not block: literal instead
  EXPECT_EQ(s8[0], 0x00);
  const auto s4b = e.encode(4, f);  // stream 4 already risks blocking: may reference
  EXPECT_NE(s4b[0], 0x00);
  ASSERT_TRUE(e.on_decoder_stream(hex("01")));  // entry received: references no longer block
  EXPECT_EQ(e.blocking_streams(), 0u);
  const auto s12 = e.encode(12, f);
  EXPECT_NE(s12[0], 0x00);
  EXPECT_EQ(e.blocking_streams(), 0u);

  Encoder none;
  none.set_peer_settings(4096, 0);
  none.encode(0, f);
  EXPECT_EQ(none.encode(4, f)[0], 0x00);
  EXPECT_EQ(none.table().insert_count(), 1u);  // inserted for later, not referenced
}

TEST(QpackEncoder, OutstandingSectionsAreBounded) {
  Encoder e;
  e.set_peer_settings(4096, 0);
  const auto f = fields({{"x-a", "1"}});
  e.encode(0, f);
  e.encode(0, f);
  ASSERT_TRUE(e.on_decoder_stream(hex("01")));  // acknowledged: references never block
  for (uint64_t i = 0; i < kMaxOutstandingSections + 10; ++i) e.encode(4 * i, f);
  EXPECT_EQ(e.outstanding_sections(), kMaxOutstandingSections);
  // Past the bound the encoder stops referencing the table (RIC 0), but still encodes.
  Decoder d(4096, 0, 16384);
  ASSERT_TRUE(d.on_encoder_stream(e.take_encoder_stream_bytes()));
  std::vector<Field> out;
  ASSERT_TRUE(d.decode(1, e.encode(1, f), out));
  EXPECT_EQ(out, f);
}

TEST(QpackEncoder, HuffmanWhenShorter) {
  Encoder e;
  const auto out = e.encode(0, fields({{":authority", "www.example.com"}}));
  // Literal with static name reference 0, Huffman value (C.4.1 bytes).
  EXPECT_EQ(out, hex("0000 50 8c f1e3 c2e5 f23a 6ba0 ab90 f4ff"));
}

}  // namespace
}  // namespace h3::qpack

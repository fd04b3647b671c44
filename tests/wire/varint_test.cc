#include "wire/varint.h"

#include <array>
#include <vector>

#include <gtest/gtest.h>

namespace quic {
namespace {

std::vector<uint8_t> hex(std::initializer_list<int> v) { return {v.begin(), v.end()}; }

// RFC 9000 Appendix A.1 sample encodings.
TEST(Varint, Rfc9000AppendixA1Samples) {
  struct Case { std::vector<uint8_t> enc; uint64_t value; } cases[] = {
      {hex({0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}), 151288809941952652ull},
      {hex({0x9d, 0x7f, 0x3e, 0x7d}), 494878333},
      {hex({0x7b, 0xbd}), 15293},
      {hex({0x25}), 37},
      {hex({0x40, 0x25}), 37},  // non-minimal encodings must decode too
  };
  for (const auto& c : cases) {
    Reader r(c.enc);
    auto v = r.varint();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, c.value);
    EXPECT_TRUE(r.empty());
  }
}

TEST(Varint, MinimalEncodingRoundTripsAtEveryBoundary) {
  const uint64_t values[] = {0, 63, 64, 16383, 16384, (1u << 30) - 1, 1u << 30, kMaxVarint};
  const size_t sizes[] = {1, 1, 2, 2, 4, 4, 8, 8};
  for (size_t i = 0; i < std::size(values); ++i) {
    std::array<uint8_t, 8> buf{};
    Writer w(buf);
    ASSERT_TRUE(w.varint(values[i]));
    EXPECT_EQ(w.written(), sizes[i]);
    EXPECT_EQ(varint_size(values[i]), sizes[i]);
    Reader r(w.view());
    EXPECT_EQ(r.varint(), values[i]);
  }
}

TEST(Varint, RejectsValuesAbove2To62) {
  std::array<uint8_t, 8> buf{};
  Writer w(buf);
  EXPECT_FALSE(w.varint(kMaxVarint + 1));
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(varint_size(kMaxVarint + 1), 0u);
}

TEST(Varint, ForcedLengthEncodesAndRejectsTooSmallLengths) {
  std::array<uint8_t, 8> buf{};
  Writer w(buf);
  ASSERT_TRUE(w.varint_len(37, 4));
  EXPECT_EQ(w.written(), 4u);
  Reader r(w.view());
  EXPECT_EQ(r.varint(), 37u);
  Writer w2(buf);
  EXPECT_FALSE(w2.varint_len(16384, 2));
  EXPECT_FALSE(Writer(buf).varint_len(1, 3));
}

TEST(Varint, TruncatedInputYieldsNothing) {
  const auto enc = hex({0x9d, 0x7f, 0x3e});
  Reader r(enc);
  EXPECT_FALSE(r.varint().has_value());
  EXPECT_EQ(r.offset(), 0u);
  Reader empty{};
  EXPECT_FALSE(empty.varint().has_value());
}

TEST(Writer, OverflowIsSticky) {
  std::array<uint8_t, 3> buf{};
  Writer w(buf);
  EXPECT_TRUE(w.u16(0xabcd));
  EXPECT_FALSE(w.u16(0x1234));
  EXPECT_FALSE(w.u8(1));  // would fit, but the writer already failed
  EXPECT_EQ(w.written(), 2u);
}

TEST(Reader, BytesIsAViewAndBoundsChecked) {
  const auto enc = hex({1, 2, 3, 4});
  Reader r(enc);
  auto b = r.bytes(3);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->data(), enc.data());
  EXPECT_FALSE(r.bytes(2).has_value());
  EXPECT_EQ(r.u8(), 4);
  EXPECT_FALSE(r.bytes(uint64_t{1} << 62).has_value());
}

}  // namespace
}  // namespace quic

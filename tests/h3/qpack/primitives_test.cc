// Prefixed integers, Huffman strings, string literals, static table (RFC 7541 App. C,
// RFC 9204 §4.1 and App. A).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "h3/qpack/huffman.h"
#include "h3/qpack/prefixed_int.h"
#include "h3/qpack/static_table.h"
#include "h3/qpack/string_literal.h"
#include "test_util.h"

namespace h3::qpack {
namespace {

using test::hex;

std::vector<uint8_t> enc_int(uint8_t flags, int prefix, uint64_t v) {
  std::vector<uint8_t> out;
  encode_prefixed_int(out, flags, prefix, v);
  return out;
}

TEST(QpackPrefixedInt, Rfc7541C1Examples) {
  EXPECT_EQ(enc_int(0, 5, 10), hex("0a"));        // C.1.1
  EXPECT_EQ(enc_int(0, 5, 1337), hex("1f9a0a"));  // C.1.2
  EXPECT_EQ(enc_int(0, 8, 42), hex("2a"));        // C.1.3
  EXPECT_EQ(enc_int(0xe0, 5, 10), hex("ea"));     // flags preserved
  const auto in = hex("1f9a0a");
  const IntParse p = decode_prefixed_int(in, 5);
  EXPECT_EQ(p.status, Parse::kOk);
  EXPECT_EQ(p.value, 1337u);
  EXPECT_EQ(p.consumed, 3u);
}

TEST(QpackPrefixedInt, RoundTripsUpTo62Bits) {
  for (int prefix = 1; prefix <= 8; ++prefix) {
    for (uint64_t v :
         {uint64_t{0}, uint64_t{1}, (uint64_t{1} << prefix) - 2, (uint64_t{1} << prefix) - 1,
          uint64_t{1} << prefix, uint64_t{300}, uint64_t{1} << 40, kMaxPrefixedInt}) {
      const auto bytes = enc_int(0, prefix, v);
      const IntParse p = decode_prefixed_int(bytes, prefix);
      ASSERT_EQ(p.status, Parse::kOk) << prefix << " " << v;
      EXPECT_EQ(p.value, v);
      EXPECT_EQ(p.consumed, bytes.size());
      // Every proper prefix is incomplete.
      for (size_t n = 0; n < bytes.size(); ++n) {
        EXPECT_EQ(decode_prefixed_int(std::span(bytes).first(n), prefix).status,
                  Parse::kIncomplete);
      }
    }
  }
}

TEST(QpackPrefixedInt, RejectsValuesAbove62Bits) {
  auto bytes = enc_int(0, 5, kMaxPrefixedInt);
  EXPECT_EQ(decode_prefixed_int(bytes, 5).status, Parse::kOk);
  // kMaxPrefixedInt + 1 = 2^62, encoded by hand: 31 + (2^62 - 31) in 7-bit groups.
  std::vector<uint8_t> over{0x1f};
  uint64_t rest = (uint64_t{1} << 62) - 31;
  while (rest >= 0x80) {
    over.push_back(static_cast<uint8_t>(0x80 | (rest & 0x7f)));
    rest >>= 7;
  }
  over.push_back(static_cast<uint8_t>(rest));
  EXPECT_EQ(decode_prefixed_int(over, 5).status, Parse::kInvalid);
  // 2^64-ish: the top group does not fit at all.
  EXPECT_EQ(decode_prefixed_int(hex("ff ff ff ff ff ff ff ff ff ff 7f"), 8).status,
            Parse::kInvalid);
}

TEST(QpackPrefixedInt, RejectsMoreThanTenContinuationBytes) {
  // Redundant zero groups are legal up to kMaxIntContinuationBytes.
  std::vector<uint8_t> ok{0x1f};
  for (size_t i = 0; i + 1 < kMaxIntContinuationBytes; ++i) ok.push_back(0x80);
  ok.push_back(0x00);
  const IntParse p = decode_prefixed_int(ok, 5);
  EXPECT_EQ(p.status, Parse::kOk);
  EXPECT_EQ(p.value, 31u);
  std::vector<uint8_t> bad{0x1f};
  for (size_t i = 0; i < kMaxIntContinuationBytes; ++i) bad.push_back(0x80);
  EXPECT_EQ(decode_prefixed_int(bad, 5).status, Parse::kInvalid);  // no terminator in sight
  bad.push_back(0x00);
  EXPECT_EQ(decode_prefixed_int(bad, 5).status, Parse::kInvalid);
}

std::vector<uint8_t> huff(std::string_view s) {
  std::vector<uint8_t> out;
  huffman_encode(s, out);
  return out;
}

TEST(QpackHuffman, Rfc7541AppendixCExamples) {
  const std::pair<const char*, const char*> cases[] = {
      {"www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"},  // C.4.1
      {"no-cache", "a8eb 1064 9cbf"},                        // C.4.2
      {"custom-key", "25a8 49e9 5ba9 7d7f"},                 // C.4.3
      {"custom-value", "25a8 49e9 5bb8 e8b4 bf"},
      {"302", "6402"},  // C.6.1
      {"private", "aec3 771a 4b"},
      {"Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"},
      {"https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"},
      {"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
       "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 "
       "03ed 4ee5 b106 3d50 07"},  // C.6.3
  };
  for (const auto& [text, code] : cases) {
    EXPECT_EQ(huff(text), hex(code)) << text;
    EXPECT_EQ(huffman_encoded_size(text), hex(code).size());
    std::string out;
    ASSERT_EQ(huffman_decode(hex(code), 1000, out), Parse::kOk) << text;
    EXPECT_EQ(out, text);
  }
}

TEST(QpackHuffman, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  all += all;
  std::string out;
  ASSERT_EQ(huffman_decode(huff(all), all.size(), out), Parse::kOk);
  EXPECT_EQ(out, all);
}

TEST(QpackHuffman, EnforcesPaddingAndEosRules) {
  std::string out;
  // "0" is 00000 (5 bits); valid padding is 111.
  EXPECT_EQ(huffman_decode(hex("07"), 10, out), Parse::kOk);
  EXPECT_EQ(out, "0");
  out.clear();
  EXPECT_EQ(huffman_decode(hex("06"), 10, out), Parse::kInvalid);     // padding not all ones
  EXPECT_EQ(huffman_decode(hex("07 ff"), 10, out), Parse::kInvalid);  // 11 bits of padding
  EXPECT_EQ(huffman_decode(hex("ff"), 10, out), Parse::kInvalid);     // 8 bits of padding
  // EOS (30 ones) explicitly encoded, then padding.
  EXPECT_EQ(huffman_decode(hex("ff ff ff ff"), 10, out), Parse::kInvalid);
  EXPECT_EQ(huffman_decode(hex("ff ff ff fc"), 10, out), Parse::kInvalid);  // EOS then 00
  out.clear();
  EXPECT_EQ(huffman_decode({}, 10, out), Parse::kOk);
  EXPECT_EQ(out, "");
}

TEST(QpackHuffman, OutputBoundedByCallerLimit) {
  std::string out;
  const auto code = huff("www.example.com");
  EXPECT_EQ(huffman_decode(code, 14, out), Parse::kTooLarge);
  EXPECT_LE(out.size(), 14u);
  out.clear();
  EXPECT_EQ(huffman_decode(code, 15, out), Parse::kOk);
}

TEST(QpackStringLiteral, PicksShorterEncodingAndDecodes) {
  std::vector<uint8_t> out;
  encode_string(out, 0x00, 7, "www.example.com");
  EXPECT_EQ(out, hex("8c f1e3 c2e5 f23a 6ba0 ab90 f4ff"));
  out.clear();
  encode_string(out, 0x40, 5, "\x01\x02");  // Huffman would be longer: raw
  EXPECT_EQ(out, hex("42 0102"));
  std::string s;
  const auto lit = hex("8c f1e3 c2e5 f23a 6ba0 ab90 f4ff");
  StringParse p = decode_string(lit, 7, 100, s);
  EXPECT_EQ(p.status, Parse::kOk);
  EXPECT_EQ(p.consumed, lit.size());
  EXPECT_EQ(s, "www.example.com");
  // Truncated: reports how many bytes the literal needs.
  p = decode_string(std::span(lit).first(5), 7, 100, s);
  EXPECT_EQ(p.status, Parse::kIncomplete);
  EXPECT_EQ(p.need, lit.size());
}

TEST(QpackStringLiteral, RejectsLengthsAboveLimitBeforeBuffering) {
  std::string s;
  // Raw literal claiming 1000 bytes with only 2 present: rejected on the length alone.
  std::vector<uint8_t> big;
  encode_prefixed_int(big, 0x00, 7, 1000);
  big.push_back('a');
  EXPECT_EQ(decode_string(big, 7, 999, s).status, Parse::kTooLarge);
  EXPECT_EQ(decode_string(big, 7, 1000, s).status, Parse::kIncomplete);
  // Huffman: up to 30 bits per byte, so 4 encoded bytes may still decode to 1 byte.
  const auto h = hex("84 ff ff ff 7f");  // not a valid code, but the length is admissible
  EXPECT_NE(decode_string(h, 7, 1, s).status, Parse::kTooLarge);
  EXPECT_EQ(decode_string(hex("85 ffffffffff"), 7, 1, s).status, Parse::kTooLarge);
}

TEST(QpackStaticTable, MatchesRfc9204AppendixA) {
  ASSERT_NE(static_entry(0), nullptr);
  EXPECT_EQ(static_entry(0)->name, ":authority");
  EXPECT_EQ(static_entry(17)->value, "GET");
  EXPECT_EQ(static_entry(29)->value, "*/*");
  EXPECT_EQ(static_entry(85)->value, "script-src 'none'; object-src 'none'; base-uri 'none'");
  EXPECT_EQ(static_entry(98)->name, "x-frame-options");
  EXPECT_EQ(static_entry(98)->value, "sameorigin");
  EXPECT_EQ(static_entry(99), nullptr);
  const StaticMatch m = find_static(":method", "GET");
  EXPECT_EQ(m.exact, 17u);
  EXPECT_EQ(m.name, 15u);
  const StaticMatch n = find_static(":path", "/index.html");
  EXPECT_FALSE(n.exact);
  EXPECT_EQ(n.name, 1u);
  EXPECT_FALSE(find_static("x-custom", "").name);
}

}  // namespace
}  // namespace h3::qpack

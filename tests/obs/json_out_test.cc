#include "obs/json_out.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace obs {
namespace {

TEST(JsonOut, NestedObjectsAndArraysParseBack) {
  std::string s;
  JsonOut j(s);
  j.begin_object();
  j.field("a", uint64_t{18446744073709551615u});
  j.field_bool("b", false);
  j.key("c");
  j.begin_array();
  j.begin_array();
  j.value(uint64_t{1});
  j.value(uint64_t{2});
  j.end_array();
  j.begin_object();
  j.end_object();
  j.value(int64_t{-5});
  j.end_array();
  j.field_ms("t", 1.5);
  j.field_hex("h", quic::Bytes(reinterpret_cast<const uint8_t*>("\x01\xab"), 2));
  j.end_object();
  EXPECT_EQ(s, R"({"a":18446744073709551615,"b":false,"c":[[1,2],{},-5],"t":1.500,"h":"01ab"})");
  auto parsed = nlohmann::json::parse(s);
  EXPECT_EQ(parsed["a"].get<uint64_t>(), 18446744073709551615u);
  EXPECT_EQ(j.depth(), 0u);
}

TEST(JsonOut, HostileStringBytesStayValidJson) {
  // A peer's reason phrase: quotes, backslashes, control bytes, invalid UTF-8.
  std::string reason = std::string("a\"b\\c\n\x01\x7f", 8) + "\xff\xc3(";
  std::string s;
  JsonOut j(s);
  j.begin_object();
  j.field("reason", reason);
  j.end_object();
  auto parsed = nlohmann::json::parse(s, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << s;
  // Bytes >= 0x7f read as Latin-1 code points.
  EXPECT_EQ(parsed["reason"].get<std::string>(), "a\"b\\c\n\x01\x7f\xc3\xbf\xc3\x83(");
}

TEST(JsonOut, NonFiniteNumbersBecomeZero) {
  std::string s;
  JsonOut j(s);
  j.begin_array();
  j.value_ms(std::numeric_limits<double>::infinity());
  j.value_ms(std::numeric_limits<double>::quiet_NaN());
  j.end_array();
  EXPECT_EQ(s, "[0.000,0.000]");
}

TEST(JsonOut, NestingBeyondMaxDepthStaysBalanced) {
  std::string s;
  JsonOut j(s);
  for (size_t i = 0; i < JsonOut::kMaxDepth + 5; ++i) j.begin_array();
  j.value(uint64_t{7});
  for (size_t i = 0; i < JsonOut::kMaxDepth + 5; ++i) j.end_array();
  EXPECT_EQ(j.depth(), 0u);
  EXPECT_FALSE(nlohmann::json::parse(s, nullptr, false).is_discarded()) << s;
}

}  // namespace
}  // namespace obs

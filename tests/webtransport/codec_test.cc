// The WebTransport codecs: application error code mapping (§4.4), WT_CLOSE_SESSION bodies
// (§6: 32-bit code, message of at most 1024 bytes of UTF-8), flow-control capsule bodies
// (§5.6) and the capsule table's caps.
#include <gtest/gtest.h>

#include "webtransport/codec.h"

namespace webtransport {
namespace {

quic::Bytes b(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(WtCodec, AppErrorMappingMatchesTheDraftsEndpointsAndSkipsReservedCodes) {
  EXPECT_EQ(app_error_to_h3(0), 0x52e4a40fa8dbu);
  EXPECT_EQ(app_error_to_h3(0xffffffff), 0x52e5ac983162u);
  EXPECT_EQ(h3_to_app_error(0x52e4a40fa8db), 0u);
  EXPECT_EQ(h3_to_app_error(0x52e5ac983162), 0xffffffffu);
  EXPECT_FALSE(h3_to_app_error(0x52e4a40fa8db - 1));
  EXPECT_FALSE(h3_to_app_error(0x52e5ac983162 + 1));
  EXPECT_FALSE(h3_to_app_error(0x10c));
  for (uint64_t n = 0; n < 200000; ++n) {
    uint32_t code = static_cast<uint32_t>(n * 21473);  // spread over the 32-bit range
    uint64_t h = app_error_to_h3(code);
    ASSERT_FALSE(h3::is_reserved_codepoint(h)) << code;
    ASSERT_EQ(h3_to_app_error(h), code);
  }
  // Adjacent codes around a reserved codepoint map to adjacent HTTP/3 codes minus the gap.
  uint64_t reserved = 0;
  for (uint64_t h = 0x52e4a40fa8db; reserved == 0; ++h) {
    if (h3::is_reserved_codepoint(h)) reserved = h;
  }
  EXPECT_FALSE(h3_to_app_error(reserved));
  EXPECT_EQ(*h3_to_app_error(reserved + 1), *h3_to_app_error(reserved - 1) + 1);
}

TEST(WtCodec, CloseSessionBodies) {
  auto ok = parse_close_session(b(std::string("\x00\x00\x01\x02", 4) + "bye"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->code, 0x102u);
  EXPECT_EQ(ok->reason, "bye");
  auto enc = encode_close_session(0xdeadbeef, "reason");
  auto back = parse_close_session(enc);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->code, 0xdeadbeefu);
  EXPECT_EQ(back->reason, "reason");
  // At the bound and one above it.
  EXPECT_TRUE(parse_close_session(b(std::string(4, '\0') + std::string(1024, 'x'))));
  auto over = parse_close_session(b(std::string(4, '\0') + std::string(1025, 'x')));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, h3::err::kMessageError);
  for (std::string bad : {std::string("\x00\x00\x01", 3),             // no room for the code
                          std::string(4, '\0') + "\xc0\x80",          // overlong NUL
                          std::string(4, '\0') + "\xed\xa0\x80",      // a surrogate
                          std::string(4, '\0') + "\xe2\x82",          // truncated character
                          std::string(4, '\0') + "\xf4\x90\x80\x80",  // above U+10FFFF
                          std::string(4, '\0') + "\xff"}) {
    auto r = parse_close_session(b(bad));
    ASSERT_FALSE(r) << bad.size();
    EXPECT_EQ(r.error().code, h3::err::kMessageError);
  }
  EXPECT_TRUE(valid_utf8(b("\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9")));
}

TEST(WtCodec, EncodingCutsAnOverlongReasonAtACharacterBoundary) {
  std::string reason(1022, 'a');
  reason += "\xf0\x9f\x98\x80";  // 4 bytes over the 1024 line
  EXPECT_EQ(utf8_prefix(reason, 1024), std::string(1022, 'a'));
  auto enc = encode_close_session(1, reason);
  EXPECT_EQ(enc.size(), 4u + 1022u);
  EXPECT_TRUE(parse_close_session(enc));
  EXPECT_EQ(utf8_prefix("short", 1024), "short");
}

TEST(WtCodec, FlowCapsuleBodies) {
  auto v = parse_flow_capsule(capsule::kMaxData, encode_varint_body((uint64_t{1} << 62) - 1));
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, (uint64_t{1} << 62) - 1);
  EXPECT_EQ(*parse_flow_capsule(capsule::kMaxStreamsBidi, encode_varint_body(kMaxStreamCount)),
            kMaxStreamCount);
  auto big = parse_flow_capsule(capsule::kMaxStreamsUni, encode_varint_body(kMaxStreamCount + 1));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, err::kFlowControlError);
  auto sb =
      parse_flow_capsule(capsule::kStreamsBlockedBidi, encode_varint_body(kMaxStreamCount + 1));
  ASSERT_FALSE(sb);
  EXPECT_FALSE(parse_flow_capsule(capsule::kMaxData, {}));
  auto trailing = encode_varint_body(5);
  trailing.push_back(0);
  auto t = parse_flow_capsule(capsule::kDataBlocked, trailing);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, h3::err::kMessageError);
}

TEST(WtCodec, CapsuleTableBoundsEveryWebTransportCapsule) {
  for (uint64_t type : {capsule::kMaxData, capsule::kMaxStreamsBidi, capsule::kDataBlocked,
                        capsule::kStreamsBlockedUni}) {
    std::vector<uint8_t> in;
    h3::append_capsule(in, type, std::vector<uint8_t>(9, 0));  // one byte above a varint
    h3::CapsuleReader reader(capsule_table());
    quic::Bytes rest(in);
    auto r = reader.next(rest);
    ASSERT_FALSE(r) << type;
    EXPECT_EQ(r.error().code, h3::err::kMessageError);
  }
  std::vector<uint8_t> in;
  h3::append_capsule(in, capsule::kDrainSession, {});
  h3::append_capsule(in, 0x1234567, b("unknown"));  // skipped
  h3::CapsuleReader reader(capsule_table());
  quic::Bytes rest(in);
  auto r = reader.next(rest);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->type, capsule::kDrainSession);
  auto end = reader.next(rest);
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
  EXPECT_EQ(reader.skipped_unknown(), 1u);
}

TEST(WtCodec, ProtocolListsAreStructuredFieldStrings) {
  auto l = parse_protocol_list(R"( "chat", "chat-v2";q=1, "a\"b\\c";x="1,2" )");
  ASSERT_TRUE(l);
  EXPECT_EQ(*l, (std::vector<std::string>{"chat", "chat-v2", "a\"b\\c"}));
  EXPECT_EQ(parse_protocol_list("")->size(), 0u);
  // Any member that is not a String: the whole field is ignored (§3.3).
  for (std::string_view bad : {"chat", R"("a", b)", R"("a",)", R"("a" "b")", R"("unterminated)",
                               R"("bad\escape")", "\"tab\tinside\"", R"("a";x="unterminated)"}) {
    EXPECT_FALSE(parse_protocol_list(bad)) << bad;
  }
  std::string many;
  for (size_t i = 0; i <= kMaxProtocols; ++i)
    many += (i ? ", \"p" : "\"p") + std::to_string(i) + "\"";
  EXPECT_FALSE(parse_protocol_list(many));  // beyond the bound: ignored
  EXPECT_EQ(*parse_protocol_item(R"("chat";v=2)"), "chat");
  EXPECT_FALSE(parse_protocol_item(R"("a", "b")"));
  EXPECT_FALSE(parse_protocol_item("token"));
  EXPECT_EQ(*format_protocol("a\"b"), R"("a\"b")");
  EXPECT_FALSE(format_protocol("caf\xc3\xa9"));
  EXPECT_EQ(*parse_protocol_item(*format_protocol(R"(q"\)")), R"(q"\)");
}

}  // namespace
}  // namespace webtransport

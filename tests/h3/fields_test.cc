#include "h3/fields.h"

#include <gtest/gtest.h>

#include "h3/frames.h"
#include "h3/priority.h"

namespace h3 {
namespace {

using Fields = std::vector<Field>;

Fields get() {
  return {{":method", "GET"}, {":scheme", "https"}, {":authority", "example.com"}, {":path", "/"}};
}

uint64_t request_error(const Fields& f, bool ext = false) {
  auto r = validate_request(f, ext);
  return r ? 0 : r.error().code;
}

TEST(H3Fields, ValidRequestParses) {
  Fields f = get();
  f.push_back({"content-length", "12"});
  f.push_back({"te", "trailers"});
  auto r = validate_request(f, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->path, "/");
  EXPECT_EQ(r->content_length, 12u);
}

TEST(H3Fields, PseudoHeaderRulesAreMessageErrors) {
  Fields dup = get();
  dup.push_back({":path", "/x"});
  EXPECT_EQ(request_error(dup), err::kMessageError);
  Fields unknown = get();
  unknown.insert(unknown.begin(), {":foo", "x"});
  EXPECT_EQ(request_error(unknown), err::kMessageError);
  Fields status = get();
  status.insert(status.begin(), {":status", "200"});
  EXPECT_EQ(request_error(status), err::kMessageError);
  Fields after = get();
  after.insert(after.begin() + 2, {"accept", "*/*"});  // regular before :authority
  EXPECT_EQ(request_error(after), err::kMessageError);
  for (const char* missing : {":method", ":scheme", ":path"}) {
    Fields f = get();
    std::erase_if(f, [&](const Field& x) { return x.name == missing; });
    EXPECT_EQ(request_error(f), err::kMessageError) << missing;
  }
  Fields empty_path = get();
  empty_path[3].value = "";
  EXPECT_EQ(request_error(empty_path), err::kMessageError);
}

TEST(H3Fields, AuthorityOrHostRequiredForHttps) {
  Fields f = {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}};
  EXPECT_EQ(request_error(f), err::kMessageError);
  f.push_back({"host", "example.com"});
  EXPECT_EQ(request_error(f), 0u);
  Fields mismatch = get();
  mismatch.push_back({"host", "other.example"});
  EXPECT_EQ(request_error(mismatch), err::kMessageError);
}

TEST(H3Fields, UppercaseAndInvalidNamesAndValues) {
  Fields upper = get();
  upper.push_back({"Accept", "x"});
  EXPECT_EQ(request_error(upper), err::kMessageError);
  EXPECT_FALSE(validate_field_line("a b", "x"));
  EXPECT_FALSE(validate_field_line("", "x"));
  EXPECT_FALSE(validate_field_line("x", "a\r\nb"));
  EXPECT_FALSE(validate_field_line("x", std::string("a\0b", 3)));
  EXPECT_FALSE(validate_field_line("x", " padded"));
  EXPECT_TRUE(validate_field_line("x-custom_1", "v a l"));
}

TEST(H3Fields, ConnectionSpecificFieldsRejected) {
  for (const char* name :
       {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}) {
    Fields f = get();
    f.push_back({name, "x"});
    EXPECT_EQ(request_error(f), err::kMessageError) << name;
  }
  Fields te = get();
  te.push_back({"te", "gzip"});
  EXPECT_EQ(request_error(te), err::kMessageError);
}

TEST(H3Fields, ContentLengthParsing) {
  EXPECT_EQ(parse_content_length("0"), 0u);
  EXPECT_EQ(parse_content_length("12345"), 12345u);
  EXPECT_FALSE(parse_content_length(""));
  EXPECT_FALSE(parse_content_length("-1"));
  EXPECT_FALSE(parse_content_length("1 "));
  EXPECT_FALSE(parse_content_length("99999999999999999999"));
  Fields same = get();
  same.push_back({"content-length", "5, 5"});
  same.push_back({"content-length", "5"});
  EXPECT_EQ(request_error(same), 0u);
  Fields conflict = get();
  conflict.push_back({"content-length", "5"});
  conflict.push_back({"content-length", "6"});
  EXPECT_EQ(request_error(conflict), err::kMessageError);
}

TEST(H3Fields, ContentLengthCheckAgainstData) {
  ContentLengthCheck c(10);
  EXPECT_TRUE(c.on_data(4));
  EXPECT_FALSE(c.on_end());  // 4 of 10
  EXPECT_TRUE(c.on_data(6));
  EXPECT_TRUE(c.on_end());
  EXPECT_EQ(c.on_data(1).error().code, err::kMessageError);
  ContentLengthCheck none;
  EXPECT_TRUE(none.on_data(1000));
  EXPECT_TRUE(none.on_end());
}

TEST(H3Fields, ConnectAndExtendedConnect) {
  Fields connect = {{":method", "CONNECT"}, {":authority", "proxy:443"}};
  EXPECT_EQ(request_error(connect), 0u);
  Fields with_path = connect;
  with_path.push_back({":path", "/"});
  EXPECT_EQ(request_error(with_path), err::kMessageError);
  Fields ext = {{":method", "CONNECT"},
                {":protocol", "connect-udp"},
                {":scheme", "https"},
                {":authority", "proxy"},
                {":path", "/masque"}};
  EXPECT_EQ(request_error(ext, false), err::kMessageError);  // not negotiated
  auto ok = validate_request(ext, true);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->is_extended_connect());
  EXPECT_EQ(ok->protocol, "connect-udp");
  Fields ext_get = get();
  ext_get.push_back({":protocol", "websocket"});
  std::rotate(ext_get.begin(), ext_get.end() - 1, ext_get.end());
  EXPECT_EQ(request_error(ext_get, true), err::kMessageError);
}

TEST(H3Fields, ResponseRules) {
  auto ok = validate_response(Fields{{":status", "200"}, {"content-length", "3"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->content_length, 3u);
  EXPECT_TRUE(validate_response(Fields{{":status", "103"}})->informational());
  EXPECT_FALSE(validate_response(Fields{}));
  EXPECT_FALSE(validate_response(Fields{{":status", "20"}}));
  EXPECT_FALSE(validate_response(Fields{{":status", "600"}}));
  EXPECT_FALSE(validate_response(Fields{{":status", "101"}}));
  EXPECT_FALSE(validate_response(Fields{{":status", "200"}, {":status", "200"}}));
  EXPECT_FALSE(validate_response(Fields{{":status", "200"}, {":path", "/"}}));
  EXPECT_FALSE(validate_response(Fields{{"x", "y"}, {":status", "200"}}));
  EXPECT_FALSE(validate_response(Fields{{":status", "200"}, {"transfer-encoding", "chunked"}}));
}

TEST(H3Fields, TrailersHaveNoPseudoHeaders) {
  EXPECT_TRUE(validate_trailers(Fields{{"x-checksum", "abc"}}));
  EXPECT_EQ(validate_trailers(Fields{{":status", "200"}}).error().code, err::kMessageError);
  EXPECT_FALSE(validate_trailers(Fields{{"connection", "close"}}));
}

TEST(H3Priority, Rfc9218Parameters) {
  EXPECT_EQ(parse_priority(""), (Priority{3, false}));
  EXPECT_EQ(parse_priority("u=0"), (Priority{0, false}));
  EXPECT_EQ(parse_priority("u=5, i"), (Priority{5, true}));
  EXPECT_EQ(parse_priority("i=?0, u=1"), (Priority{1, false}));
  EXPECT_EQ(parse_priority("i, foo=bar;x=1, u=2"), (Priority{2, true}));
  EXPECT_EQ(parse_priority("u=9"), (Priority{3, false}));   // out of range: ignored
  EXPECT_EQ(parse_priority("u=1,"), (Priority{3, false}));  // malformed dictionary
  EXPECT_EQ(parse_priority("U=1"), (Priority{3, false}));
  EXPECT_EQ(format_priority({1, true}), "u=1, i");
  EXPECT_EQ(format_priority({3, false}), "");
  EXPECT_EQ(parse_priority(format_priority({6, true})), (Priority{6, true}));
}

}  // namespace
}  // namespace h3

// URI templates as RFC 9298 §2 and RFC 9484 §3 use them: parse, expand, match.
#include "h3/uri_template.h"

#include <gtest/gtest.h>

namespace h3 {
namespace {

UriTemplate must_parse(std::string_view text) {
  auto t = UriTemplate::parse(text);
  EXPECT_TRUE(t) << text << ": " << (t ? "" : t.error().reason);
  return t ? *t : *UriTemplate::parse("https://x/");
}

TEST(H3UriTemplate, ConnectUdpDefaultTemplateExpandsAndMatches) {
  auto t = must_parse(
      "https://proxy.example.org:4443/.well-known/masque/udp/{target_host}/"
      "{target_port}/");
  EXPECT_EQ(t.scheme(), "https");
  EXPECT_EQ(t.authority(), "proxy.example.org:4443");
  EXPECT_EQ(t.variables(), (std::vector<std::string>{"target_host", "target_port"}));
  auto x = t.expand({{"target_host", "192.0.2.6"}, {"target_port", "443"}});
  EXPECT_EQ(x.path, "/.well-known/masque/udp/192.0.2.6/443/");
  EXPECT_EQ(x.authority, "proxy.example.org:4443");
  auto m = t.match(x.path);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("target_host"), "192.0.2.6");
  EXPECT_EQ(m->at("target_port"), "443");
  EXPECT_FALSE(t.match("/.well-known/masque/udp/192.0.2.6/443"));        // trailing '/'
  EXPECT_FALSE(t.match("/.well-known/masque/udp/192.0.2.6/443/extra"));  // leftover
  EXPECT_FALSE(t.match("/.well-known/masque/ip/192.0.2.6/443/"));
}

TEST(H3UriTemplate, Ipv6LiteralColonsArePercentEncodedAndDecodedBack) {
  auto t = must_parse("https://example.org/.well-known/masque/udp/{target_host}/{target_port}/");
  auto x = t.expand({{"target_host", "2001:db8::42"}, {"target_port", "443"}});
  EXPECT_EQ(x.path, "/.well-known/masque/udp/2001%3Adb8%3A%3A42/443/");  // RFC 9298 §2
  auto m = t.match(x.path);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("target_host"), "2001:db8::42");
  // Lowercase hex from another implementation decodes too.
  m = t.match("/.well-known/masque/udp/2001%3adb8%3a%3a42/443/");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("target_host"), "2001:db8::42");
  // A raw colon is not something the expansion produces: no match.
  EXPECT_FALSE(t.match("/.well-known/masque/udp/2001:db8::42/443/"));
  EXPECT_FALSE(t.match("/.well-known/masque/udp/bad%zz/443/"));
}

TEST(H3UriTemplate, ConnectIpTargetPrefixAndIpproto) {
  auto t = must_parse("https://example.org/.well-known/masque/ip/{target}/{ipproto}/");
  auto x = t.expand({{"target", "2001:db8::/32"}, {"ipproto", "17"}});
  EXPECT_EQ(x.path, "/.well-known/masque/ip/2001%3Adb8%3A%3A%2F32/17/");  // RFC 9484 §4.6
  auto m = t.match(x.path);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("target"), "2001:db8::/32");
  EXPECT_EQ(m->at("ipproto"), "17");
  x = t.expand({{"target", "*"}, {"ipproto", "*"}});
  EXPECT_EQ(x.path, "/.well-known/masque/ip/%2A/%2A/");
  EXPECT_EQ(t.match(x.path)->at("target"), "*");
}

TEST(H3UriTemplate, FormStyleQueryAndLiteralQuery) {
  auto t = must_parse("https://proxy.example.org:4443/masque{?target_host,target_port}");
  auto x = t.expand({{"target_host", "example.com"}, {"target_port", "80"}});
  EXPECT_EQ(x.path, "/masque?target_host=example.com&target_port=80");
  auto m = t.match(x.path);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("target_host"), "example.com");
  EXPECT_EQ(m->at("target_port"), "80");
  // Undefined variables are omitted; with none defined there is no '?'.
  EXPECT_EQ(t.expand({{"target_port", "80"}}).path, "/masque?target_port=80");
  EXPECT_EQ(t.expand({}).path, "/masque");
  m = t.match("/masque");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->empty());
  EXPECT_FALSE(t.match("/masque?other=1"));
  EXPECT_FALSE(t.match("/masque?target_host=a&target_host=b"));  // each name once

  auto lit = must_parse("https://proxy.example.org:4443/masque?h={target_host}&p={target_port}");
  x = lit.expand({{"target_host", "2001:db8::1"}, {"target_port", "443"}});
  EXPECT_EQ(x.path, "/masque?h=2001%3Adb8%3A%3A1&p=443");
  m = lit.match(x.path);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("target_host"), "2001:db8::1");

  auto cont = must_parse("https://masque.example.org/ip?user=bob{&target,ipproto}");
  x = cont.expand({{"target", "192.0.2.0/24"}, {"ipproto", "6"}});
  EXPECT_EQ(x.path, "/ip?user=bob&target=192.0.2.0%2F24&ipproto=6");
  m = cont.match(x.path);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("target"), "192.0.2.0/24");
  EXPECT_EQ(m->at("ipproto"), "6");
}

TEST(H3UriTemplate, SimpleExpressionWithSeveralVariables) {
  auto t = must_parse("https://h/p/{a,b}/");
  EXPECT_EQ(t.expand({{"a", "x y"}, {"b", "1,2"}}).path, "/p/x%20y,1%2C2/");
  auto m = t.match("/p/x%20y,1%2C2/");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("a"), "x y");
  EXPECT_EQ(m->at("b"), "1,2");
  EXPECT_FALSE(t.match("/p/1,2,3/"));  // more values than variables
}

TEST(H3UriTemplate, PercentEncodingFollowsRfc6570) {
  EXPECT_EQ(pct_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(pct_encode(":/?#[]@!$&'()*+,;= %"),
            "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%20%25");
  EXPECT_EQ(pct_encode("\xc3\xa9"), "%C3%A9");  // UTF-8 bytes, uppercase hex
  EXPECT_EQ(pct_decode("%C3%a9x"), "\xc3\xa9x");
  EXPECT_FALSE(pct_decode("%"));
  EXPECT_FALSE(pct_decode("%4"));
  EXPECT_FALSE(pct_decode("%g0"));
}

TEST(H3UriTemplate, RejectsWhatTheMasqueRfcsForbid) {
  for (const char* bad : {
           "/relative/{target}",     // not absolute
           "https:///no-authority",  // empty authority
           "https://host",           // no path
           "https://{host}/x",       // variable in the authority
           "https://h/{+target}",    // reserved expansion
           "https://h/{#target}",    // fragment expansion
           "https://h/x{.target}",   // label expansion
           "https://h/x{/target}",   // path-segment expansion
           "https://h/x{;target}",   // path-style parameters
           "https://h/{target:3}",   // level 4 prefix
           "https://h/{target*}",    // level 4 explode
           "https://h/{target",      // unterminated
           "https://h/{}",           // empty name
           "https://h/{a..b}",       // bad name
           "https://h/{a,a}",        // named twice
           "https://h/{a}/{?a}",     // named twice
           "https://h/a b",          // space
           "https://h/caf\xc3\xa9",  // non-ASCII (RFC 9484 §3)
           "https://h/100%",         // stray '%'
           "https://h/{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}{m}{n}{o}{p}{q}",  // > 16
       }) {
    EXPECT_FALSE(UriTemplate::parse(bad)) << bad;
  }
  EXPECT_FALSE(UriTemplate::parse("https://h/" + std::string(kMaxUriTemplateSize, 'a')));
  auto t = must_parse("https://h/{a}");
  EXPECT_FALSE(t.match("/" + std::string(kMaxMatchedPath, 'a')));  // peer input bounded
  EXPECT_TRUE(t.match("/" + std::string(kMaxMatchedPath - 1, 'a')));
}

}  // namespace
}  // namespace h3

// CONNECT-UDP request validation and target parsing (RFC 9298 §2-3), Proxy-Status formatting
// (RFC 9209 §2) and the access policy (resolved addresses, allow-list, special ranges).
#include <gtest/gtest.h>

#include "masque/access.h"
#include "masque/connect_udp_request.h"
#include "masque/proxy_status.h"

namespace masque {
namespace {

using Fields = std::vector<h3::Field>;

h3::UriTemplate default_template() {
  return *make_udp_template(kDefaultUdpPathTemplate, "proxy.example:443");
}

Fields request(std::string path, bool capsule_protocol = true) {
  Fields f{{":method", "CONNECT"},
           {":protocol", "connect-udp"},
           {":scheme", "https"},
           {":authority", "proxy.example:443"},
           {":path", std::move(path)}};
  if (capsule_protocol) f.push_back({"capsule-protocol", "?1"});
  return f;
}

TEST(ConnectUdpTarget, HostsAndPorts) {
  auto t = parse_target("example.com", "53");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "example.com");
  EXPECT_EQ(t->port, 53);
  EXPECT_FALSE(t->literal);
  auto v4 = parse_target("192.0.2.7", "443");
  ASSERT_TRUE(v4 && v4->literal);
  EXPECT_EQ(v4->literal->to_string(), "192.0.2.7:443");
  auto v6 = parse_target("2001:db8::1", "65535");
  ASSERT_TRUE(v6 && v6->literal);
  EXPECT_TRUE(v6->literal->v6);
  EXPECT_EQ(v6->literal->port, 65535);
  EXPECT_TRUE(parse_target("a_b-c.example.", "1"));  // underscore, trailing dot
  // Every malformed form.
  for (auto [host, port] : std::vector<std::pair<std::string, std::string>>{
           {"example.com", "0"}, {"example.com", "65536"}, {"example.com", "053"},
           {"example.com", "+53"}, {"example.com", ""}, {"example.com", "5a"},
           {"", "53"}, {"[2001:db8::1]", "53"}, {"fe80::1%eth0", "53"}, {"2001:db8::zz", "53"},
           {"exa mple.com", "53"}, {"-bad.example", "53"}, {"bad-.example", "53"},
           {"a..b", "53"}, {"127.1", "53"}, {"1.2.3.4.5", "53"}, {"01.2.3.4", "53"},
           {std::string(64, 'a') + ".example", "53"}, {"x/y", "53"}, {"x@y", "53"}}) {
    EXPECT_FALSE(parse_target(host, port)) << host << " " << port;
  }
  std::string long_name;
  while (long_name.size() <= kMaxTargetHost) long_name += "abcdefgh.";
  EXPECT_FALSE(parse_target(long_name, "53"));
  long_name.resize(kMaxTargetHost - 1);
  long_name.back() = 'x';
  EXPECT_TRUE(parse_target(long_name, "53")) << long_name.size();
}

TEST(ConnectUdpRequest, ValidRequestsGiveTheTarget) {
  auto tmpl = default_template();
  auto v6 = validate_connect_udp(request("/.well-known/masque/udp/2001%3Adb8%3A%3A42/443/"), tmpl);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "2001:db8::42");
  EXPECT_EQ(v6->literal->to_string(), "[2001:db8::42]:443");
  auto name = validate_connect_udp(request("/.well-known/masque/udp/example.org/53/"), tmpl);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->host, "example.org");
  // Parameters after the boolean are allowed (RFC 8941).
  Fields f = request("/.well-known/masque/udp/example.org/53/", false);
  f.push_back({"capsule-protocol", "?1;x=2"});
  EXPECT_TRUE(validate_connect_udp(f, tmpl));
  // A configured template with a query.
  auto q = *make_udp_template("/masque?h={target_host}&p={target_port}", "p");
  auto viaq = validate_connect_udp(request("/masque?h=192.0.2.1&p=9"), q);
  ASSERT_TRUE(viaq);
  EXPECT_EQ(viaq->literal->to_string(), "192.0.2.1:9");
}

TEST(ConnectUdpRequest, RoundTripThroughTheClientBuilder) {
  auto tmpl = default_template();
  for (auto [host, port] : std::vector<std::pair<std::string, uint16_t>>{
           {"example.net", 53}, {"::1", 1}, {"198.51.100.2", 65535}}) {
    Fields f = connect_udp_request(tmpl, host, port);
    auto t = validate_connect_udp(f, tmpl);
    ASSERT_TRUE(t) << host;
    EXPECT_EQ(t->host, host);
    EXPECT_EQ(t->port, port);
  }
}

TEST(ConnectUdpRequest, BadRequestsAre400WithProxyStatus) {
  auto tmpl = default_template();
  auto check = [&](Fields f, uint16_t status, std::string_view detail) {
    auto r = validate_connect_udp(f, tmpl);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, status);
    EXPECT_EQ(r.error().proxy_status.error, ProxyError::kHttpRequestError);
    EXPECT_NE(r.error().proxy_status.details.find(detail), std::string::npos)
        << r.error().proxy_status.details;
  };
  check(request("/.well-known/masque/udp/example.org/53/", false), 400, "capsule-protocol");
  Fields f0 = request("/.well-known/masque/udp/example.org/53/", false);
  f0.push_back({"capsule-protocol", "?0"});
  check(f0, 400, "capsule-protocol");
  check(request("/.well-known/masque/udp/exa%20mple/53/"), 400, "host name");
  check(request("/.well-known/masque/udp/example.org/0/"), 400, "port");
  check(request("/.well-known/masque/udp/%5B%3A%3A1%5D/53/"), 400, "IPv6");
  check(request("/.well-known/masque/udp//53/"), 400, "target_host");
  check(request("/somewhere/else"), 404, "template");
  Fields m = request("/.well-known/masque/udp/example.org/53/");
  m[0].value = "GET";
  check(m, 400, "CONNECT");
  Fields s = request("/.well-known/masque/udp/example.org/53/");
  s[2].value = "http";
  check(s, 400, "scheme");
  Fields p = request("/.well-known/masque/udp/example.org/53/");
  p[1].value = "connect-ip";
  check(p, 400, "connect-udp");
}

TEST(ConnectUdpRequest, CapsuleProtocolValues) {
  EXPECT_TRUE(capsule_protocol_true("?1"));
  EXPECT_TRUE(capsule_protocol_true(" ?1 "));
  EXPECT_TRUE(capsule_protocol_true("?1;a=b"));
  EXPECT_FALSE(capsule_protocol_true(""));
  EXPECT_FALSE(capsule_protocol_true("?0"));
  EXPECT_FALSE(capsule_protocol_true("1"));
  EXPECT_FALSE(capsule_protocol_true("?10"));
  EXPECT_FALSE(capsule_protocol_true("true"));
}

TEST(ConnectUdpTemplate, ConfiguredTemplates) {
  EXPECT_TRUE(make_udp_template("https://p.example/u/{target_host}/{target_port}", "x"));
  EXPECT_FALSE(make_udp_template("/u/{target_host", "x"));
  auto t = *make_udp_template("/x/{target_host}/{target_port}/", "proxy:4433");
  EXPECT_EQ(t.authority(), "proxy:4433");
}

TEST(ProxyStatus, FormatsRfc9209Members) {
  ProxyStatus s{ProxyError::kDnsError, "no such name", std::string("NXDOMAIN")};
  EXPECT_EQ(format_proxy_status("tquic", s),
            R"(tquic; error=dns_error; rcode="NXDOMAIN"; details="no such name")");
  // A name that is not a token is a string; details are escaped; bytes outside ASCII vanish.
  ProxyStatus q{ProxyError::kDestinationIpProhibited, "say \"hi\" \\ \x01\xff", std::nullopt};
  EXPECT_EQ(format_proxy_status("my proxy", q),
            R"("my proxy"; error=destination_ip_prohibited; details="say \"hi\" \\ ??")");
  EXPECT_EQ(format_proxy_status("p", {ProxyError::kDnsTimeout, "", std::nullopt}),
            "p; error=dns_timeout");
  // Status codes: 403 for policy, 502/504 for DNS, 400 for a bad request.
  EXPECT_EQ(status_for(ProxyError::kDestinationIpProhibited), 403);
  EXPECT_EQ(status_for(ProxyError::kHttpRequestDenied), 403);
  EXPECT_EQ(status_for(ProxyError::kDnsError), 502);
  EXPECT_EQ(status_for(ProxyError::kDnsTimeout), 504);
  EXPECT_EQ(status_for(ProxyError::kDestinationIpUnroutable), 502);
  EXPECT_EQ(status_for(ProxyError::kConnectionLimitReached), 503);
  EXPECT_EQ(status_for(ProxyError::kHttpRequestError), 400);
  EXPECT_EQ(error_token(ProxyError::kConnectionLimitReached), "connection_limit_reached");
  EXPECT_EQ(error_token(ProxyError::kProxyInternalError), "proxy_internal_error");
}

TEST(ProxyStatus, ParsesWhatItFormatsAndRejectsGarbage) {
  ProxyStatus s{ProxyError::kDnsError, "a \"quoted\"; b=c, d", std::string("SERVFAIL")};
  auto p = parse_proxy_status(format_proxy_status("tquic", s));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->proxy, "tquic");
  EXPECT_EQ(p->error, "dns_error");
  EXPECT_EQ(p->rcode, "SERVFAIL");
  EXPECT_EQ(p->details, "a \"quoted\"; b=c, d");
  auto two = parse_proxy_status("a; error=dns_timeout, b; error=dns_error");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->error, "dns_timeout");  // the first member
  EXPECT_TRUE(parse_proxy_status("x; received-status=503; error=connection_refused; flag"));
  for (std::string_view bad : {"", "tquic", "; error=x", "t; error=", "t; Error=x", "t; error=\"x",
                               "t; details=\"\\q\"; error=x", "t error=x"}) {
    EXPECT_FALSE(parse_proxy_status(bad)) << bad;
  }
}

quic::SocketAddress addr(std::string_view text) {
  return *quic::SocketAddress::parse(text);
}

TEST(ConnectUdpAccess, SpecialRangesAreClassified) {
  struct Case {
    std::string_view a;
    AddressClass c;
  };
  for (auto [a, c] : std::vector<Case>{
           {"8.8.8.8:53", AddressClass::kPublic},
           {"[2001:4860::8888]:53", AddressClass::kPublic},
           {"127.0.0.1:1", AddressClass::kLoopback},
           {"127.255.1.1:1", AddressClass::kLoopback},
           {"[::1]:1", AddressClass::kLoopback},
           {"10.1.2.3:1", AddressClass::kPrivate},
           {"172.16.0.1:1", AddressClass::kPrivate},
           {"172.31.255.255:1", AddressClass::kPrivate},
           {"172.32.0.1:1", AddressClass::kPublic},
           {"192.168.1.1:1", AddressClass::kPrivate},
           {"100.64.0.1:1", AddressClass::kPrivate},
           {"[fd00::1]:1", AddressClass::kPrivate},
           {"[fc00::1]:1", AddressClass::kPrivate},
           {"169.254.169.254:80", AddressClass::kLinkLocal},
           {"[fe80::1]:1", AddressClass::kLinkLocal},
           {"224.0.0.251:5353", AddressClass::kMulticast},
           {"239.1.1.1:1", AddressClass::kMulticast},
           {"[ff02::1]:1", AddressClass::kMulticast},
           {"0.0.0.0:1", AddressClass::kUnspecified},
           {"0.1.2.3:1", AddressClass::kUnspecified},
           {"[::]:1", AddressClass::kUnspecified},
           {"255.255.255.255:1", AddressClass::kBroadcast},
           {"240.0.0.1:1", AddressClass::kReserved},
           {"[::ffff:127.0.0.1]:1", AddressClass::kLoopback},  // IPv4-mapped
           {"[::ffff:10.0.0.1]:1", AddressClass::kPrivate},
           {"[::ffff:8.8.8.8]:1", AddressClass::kPublic},
       }) {
    EXPECT_EQ(classify(addr(a)), c) << a;
  }
}

TEST(ConnectUdpAccess, DefaultPolicyRefusesSpecialAddressesWith403) {
  AccessPolicy p;
  EXPECT_FALSE(p.check(addr("8.8.8.8:53")));
  for (std::string_view a : {"127.0.0.1:53", "10.0.0.1:53", "[fd00::1]:53", "169.254.169.254:80",
                             "224.0.0.1:5353", "0.0.0.0:53", "255.255.255.255:67",
                             "[::ffff:127.0.0.1]:53", "[::1]:53"}) {
    auto r = p.check(addr(a));
    ASSERT_TRUE(r) << a;
    EXPECT_EQ(r->status, 403);
    EXPECT_EQ(r->proxy_status.error, ProxyError::kDestinationIpProhibited);
    EXPECT_NE(r->proxy_status.details.find(std::string(a.substr(0, a.rfind(':')))), std::string::npos);
  }
  AccessPolicy open({}, true);
  EXPECT_FALSE(open.check(addr("127.0.0.1:53")));
  EXPECT_FALSE(open.check(addr("[fd00::1]:53")));
}

TEST(ConnectUdpAccess, AllowListIsExhaustiveAndPortAware) {
  std::vector<AllowRule> rules;
  for (std::string_view r : {"127.0.0.1/32:53", "192.0.2.0/24:1000-2000", "[2001:db8::/32]:443",
                             "198.51.100.7", "[fd00::/8]"}) {
    auto rule = parse_allow_rule(r);
    ASSERT_TRUE(rule) << r;
    rules.push_back(*rule);
  }
  AccessPolicy p(rules, false);
  EXPECT_FALSE(p.check(addr("127.0.0.1:53")));  // explicitly allowed loopback
  EXPECT_TRUE(p.check(addr("127.0.0.1:54")));
  EXPECT_TRUE(p.check(addr("127.0.0.2:53")));
  EXPECT_FALSE(p.check(addr("192.0.2.200:1000")));
  EXPECT_FALSE(p.check(addr("192.0.2.200:2000")));
  EXPECT_TRUE(p.check(addr("192.0.2.200:2001")));
  EXPECT_TRUE(p.check(addr("192.0.3.1:1500")));
  EXPECT_FALSE(p.check(addr("[2001:db8:ffff::1]:443")));
  EXPECT_TRUE(p.check(addr("[2001:db9::1]:443")));
  EXPECT_FALSE(p.check(addr("198.51.100.7:9")));  // any port
  EXPECT_FALSE(p.check(addr("[fd12::1]:9")));
  EXPECT_FALSE(p.check(addr("[::ffff:127.0.0.1]:53")));  // mapped form of an allowed address
  auto public_not_listed = p.check(addr("8.8.8.8:53"));
  ASSERT_TRUE(public_not_listed);
  EXPECT_NE(public_not_listed->proxy_status.details.find("allow-list"), std::string::npos);
  // --allow-private does not widen an allow-list.
  AccessPolicy p2(rules, true);
  EXPECT_TRUE(p2.check(addr("10.0.0.1:53")));
}

TEST(ConnectUdpAccess, AllowRuleSyntax) {
  auto r = parse_allow_rule("10.0.0.0/8:53");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->prefix_len, 8);
  EXPECT_EQ(r->port_lo, 53);
  EXPECT_EQ(r->port_hi, 53);
  auto v6 = parse_allow_rule("::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->prefix_len, 128);
  EXPECT_EQ(v6->port_lo, 1);
  EXPECT_EQ(v6->port_hi, 65535);
  auto zero = parse_allow_rule("0.0.0.0/0");
  ASSERT_TRUE(zero);
  EXPECT_TRUE(zero->matches(addr("203.0.113.1:7")));
  EXPECT_FALSE(zero->matches(addr("[2001:db8::1]:7")));  // families never mix
  for (std::string_view bad : {"", "bogus", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8:", "10.0.0.0/8:0",
                               "10.0.0.0/8:2000-1000", "10.0.0.0/8:1-70000", "[::1", "[::1]53",
                               "::1/129", "10.0.0.0/8:a", "10.0.0.0/-1", "[10.0.0.1]x"}) {
    EXPECT_FALSE(parse_allow_rule(bad)) << bad;
  }
}

}  // namespace
}  // namespace masque

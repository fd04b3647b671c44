// The pure helpers of `tquic masque-ip` and the proxy's CONNECT-IP part: which advertised
// routes the client installs, and the client key the proxy derives from a peer address.
#include <gtest/gtest.h>

#include "apps/masque_ip.h"
#include "apps/masque_ip_proxy.h"

namespace apps {
namespace {

using masque::IpAddress;
using masque::IpPrefix;
using masque::IpRange;

std::vector<std::string> install(std::vector<IpRange> routes, const char* proxy, size_t& skipped) {
  std::vector<std::string> out;
  for (const IpPrefix& p : routes_to_install(routes, *IpAddress::parse(proxy), skipped)) {
    out.push_back(p.to_string());
  }
  return out;
}

TEST(ConnectIpTool, RoutesHoldingTheProxyAreNotInstalled) {
  size_t skipped = 0;
  auto r = install({IpRange::of(*IpPrefix::parse("198.18.1.0/24")),
                    IpRange{*IpAddress::parse("198.18.2.1"), *IpAddress::parse("198.18.2.2"), 0}},
                   "198.18.0.2", skipped);
  EXPECT_EQ(r, (std::vector<std::string>{"198.18.1.0/24", "198.18.2.1/32", "198.18.2.2/32"}));
  EXPECT_EQ(skipped, 0u);
  // A default route would carry the tunnel's own packets into the tunnel: left out.
  r = install({IpRange::of(*IpPrefix::parse("0.0.0.0/0"))}, "198.18.0.2", skipped);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(skipped, 1u);
}

TEST(ConnectIpTool, InstalledRoutesAreBounded) {
  // 2 * 128 prefixes per awkward IPv6 range: enough ranges exceed the bound.
  std::vector<IpRange> ranges;
  for (int i = 0; i < 16; ++i) {
    std::string base = "2001:db8:" + std::to_string(i + 1) + "::";
    ranges.push_back(IpRange{*IpAddress::parse((base + "1").c_str()),
                             *IpAddress::parse((base + "ffff:ffff:ffff:fffe").c_str()), 0});
  }
  size_t skipped = 0;
  auto r = install(ranges, "198.18.0.2", skipped);
  EXPECT_EQ(r.size(), kMaxInstalledRoutes);
  EXPECT_GT(skipped, 0u);
}

TEST(ConnectIpTool, ClientKeyIsThePeerIp) {
  EXPECT_EQ(client_key_of("198.18.0.1:5555"), "198.18.0.1");
  EXPECT_EQ(client_key_of("[2001:db8::1]:443"), "2001:db8::1");
  EXPECT_EQ(client_key_of("no-port"), "no-port");
}

TEST(ConnectIpTool, StatsLineNamesEveryCounter) {
  masque::ConnectIpStats s;
  s.dropped_spoofed = 3;
  s.icmp_sent = 2;
  std::string line = format_ip_stats(s);
  EXPECT_NE(line.find("dropped_spoofed=3"), std::string::npos);
  EXPECT_NE(line.find("icmp_sent=2"), std::string::npos);
  EXPECT_NE(line.find("dropped_unknown_context=0"), std::string::npos);
}

}  // namespace
}  // namespace apps

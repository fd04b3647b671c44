// ROUTE_ADVERTISEMENT ranges turned into the prefixes a routing table takes.
#include <gtest/gtest.h>

#include <string>

#include "masque/tun_device.h"

namespace masque {
namespace {

TEST(TunRanges, RangesBecomeMinimalPrefixes) {
  auto p = [](const char* a, const char* b) {
    std::vector<std::string> out;
    for (const IpPrefix& x :
         range_to_prefixes(IpRange{*IpAddress::parse(a), *IpAddress::parse(b), 0})) {
      out.push_back(x.to_string());
    }
    return out;
  };
  EXPECT_EQ(p("0.0.0.0", "255.255.255.255"), std::vector<std::string>{"0.0.0.0/0"});
  EXPECT_EQ(p("198.18.0.0", "198.19.255.255"), std::vector<std::string>{"198.18.0.0/15"});
  EXPECT_EQ(p("10.0.0.1", "10.0.0.6"),
            (std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"}));
  EXPECT_EQ(p("10.0.0.7", "10.0.0.7"), std::vector<std::string>{"10.0.0.7/32"});
  EXPECT_EQ(p("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), std::vector<std::string>{"::/0"});
  EXPECT_EQ(p("2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff").size(), 64u);
  EXPECT_EQ(p("255.255.255.254", "255.255.255.255"),
            std::vector<std::string>{"255.255.255.254/31"});
}

}  // namespace
}  // namespace masque

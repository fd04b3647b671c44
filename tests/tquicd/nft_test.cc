// The server's nftables ruleset as text, the address state file, and applying/removing the
// table with a real nft when the test runs as root in a namespace of its own.
#include <gtest/gtest.h>

#include "tquicd/address_store.h"
#include "tquicd/nft.h"

namespace bond {
namespace {

TEST(NftRuleset, MasqueradesEachPoolOutOfTheUplinkAndClampsTheMss) {
  std::vector<IpPrefix> pools{*parse_prefix("10.77.0.9/24"), *parse_prefix("fd00:77::/64")};
  auto text = nft_ruleset(pools, "tquic0", "eth0");
  ASSERT_TRUE(text.has_value()) << text.error();
  EXPECT_EQ(*text,
            "table inet tquicd\n"
            "delete table inet tquicd\n"
            "table inet tquicd {\n"
            "  chain postrouting {\n"
            "    type nat hook postrouting priority srcnat; policy accept;\n"
            "    ip saddr 10.77.0.0/24 oifname \"eth0\" masquerade\n"
            "    ip6 saddr fd00:77::/64 oifname \"eth0\" masquerade\n"
            "  }\n"
            "  chain forward {\n"
            "    type filter hook forward priority mangle; policy accept;\n"
            "    iifname \"tquic0\" tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n"
            "    oifname \"tquic0\" tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n"
            "  }\n"
            "}\n");
  EXPECT_EQ(nft_teardown(), "delete table inet tquicd\n");
}

TEST(NftRuleset, WithoutUplinkEveryInterfaceButTheTunnel) {
  auto text = nft_ruleset({*parse_prefix("10.77.0.0/23")}, "tq0", "");
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("ip saddr 10.77.0.0/23 oifname != \"tq0\" masquerade\n"), std::string::npos);
  auto odd = nft_ruleset({*parse_prefix("10.1.2.3/13")}, "tq0", "");
  ASSERT_TRUE(odd.has_value());
  EXPECT_NE(odd->find("ip saddr 10.0.0.0/13 "), std::string::npos);  // host bits cleared
}

TEST(NftRuleset, RefusesNamesThatCouldBreakOutOfTheString) {
  std::vector<IpPrefix> pools{*parse_prefix("10.77.0.0/24")};
  EXPECT_FALSE(nft_ruleset(pools, "tq\"0", "eth0").has_value());
  EXPECT_FALSE(nft_ruleset(pools, "tq0", "eth 0").has_value());
  EXPECT_FALSE(nft_ruleset(pools, "tq0", "eth0\n").has_value());
  EXPECT_FALSE(nft_ruleset(pools, "", "eth0").has_value());
  EXPECT_FALSE(nft_ruleset({}, "tq0", "eth0").has_value());
  EXPECT_FALSE(nft_ruleset(pools, "tq0", "a-very-long-name-x").has_value());
}

TEST(NftApply, ReportsNftsRefusal) {
  // A syntax error: nft runs (or is missing) and either way the answer is an error naming it.
  auto r = nft_apply("this is not nft\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("nft"), std::string::npos);
}

TEST(AddressState, RoundTripsAndCanonicalises) {
  std::vector<StoredAddress> in{{"site1", "10.77.0.2"}, {"site-2.b", "fd00:77::2"}};
  std::string text = format_address_state(in);
  EXPECT_EQ(text, "tquicd-addresses 1\nclient site1 10.77.0.2\nclient site-2.b fd00:77::2\n");
  auto back = parse_address_state(text);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, in);
  auto canon = parse_address_state("tquicd-addresses 1\nclient a fd00:0077:0::0002\n");
  ASSERT_TRUE(canon.has_value());
  EXPECT_EQ((*canon)[0].address, "fd00:77::2");
  EXPECT_EQ(address_state_path("/var/lib/tquicd"), "/var/lib/tquicd/addresses");
}

TEST(AddressState, RefusesCorruptFilesNamingTheLine) {
  auto err = [](std::string_view t) {
    auto r = parse_address_state(t);
    return r ? std::string("accepted") : r.error();
  };
  EXPECT_EQ(err(""), "line 1: empty file");
  EXPECT_EQ(err("tquicd-quota 1\n"), "line 1: not a tquicd address file");
  EXPECT_EQ(err("tquicd-addresses 1\nclient a 10.0.0.1"), "line 2: no newline");
  EXPECT_EQ(err("tquicd-addresses 1\nclient a 10.0.0.300\n"), "line 2: bad address");
  EXPECT_EQ(err("tquicd-addresses 1\nclient a\n"), "line 2: expected 'client NAME ADDRESS'");
  EXPECT_EQ(err("tquicd-addresses 1\nclient a/b 10.0.0.1\n"), "line 2: bad client name");
  EXPECT_EQ(err("tquicd-addresses 1\nclient " + std::string(33, 'a') + " 10.0.0.1\n"),
            "line 2: bad client name");
  EXPECT_EQ(err("tquicd-addresses 1\nclient a 10.0.0.1 x\n"), "line 2: bad address");
  EXPECT_EQ(err(std::string(kMaxAddressStateBytes + 1, 'x')), "larger than 8 MiB");
}

TEST(AddressState, AtMostTheBoundOfLines) {
  std::string text = "tquicd-addresses 1\n";
  for (size_t i = 0; i <= kMaxStoredAddresses; ++i) text += "client c 10.0.0.1\n";
  auto r = parse_address_state(text);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), "line " + std::to_string(kMaxStoredAddresses + 2) + ": too many addresses");
}

}  // namespace
}  // namespace bond

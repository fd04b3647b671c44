// The CONNECT-IP address pool: IPv4/IPv6 CIDRs, stable assignment per client key, exhaustion.
#include "masque/address_pool.h"

#include <gtest/gtest.h>

#include <set>

#include "masque/ip_packet_test_util.h"

namespace masque {
namespace {

using test::ip;

AddressPool pool(const char* cidr) {
  return AddressPool::create(*IpPrefix::parse(cidr)).value();
}

TEST(AddressPool, AddressOfNamesWhatAKeyHolds) {
  AddressPool p = pool("198.18.200.0/29");
  EXPECT_FALSE(p.address_of("site1"));
  auto a = p.assign("site1");
  ASSERT_TRUE(a);
  p.assign("site2");
  EXPECT_EQ(p.address_of("site1"), a);
  p.release("site1", *a);
  EXPECT_FALSE(p.address_of("site1"));  // released: no longer its
}

TEST(AddressPool, V4HandsOutEveryHostButRouterNetworkAndBroadcast) {
  AddressPool p = pool("198.18.200.0/29");  // 8 addresses: .0 network, .1 router, .7 broadcast
  EXPECT_EQ(p.router(), ip("198.18.200.1"));
  EXPECT_EQ(p.capacity(), 5u);
  std::set<IpAddress> got;
  std::vector<IpAddress> of_client;
  for (int i = 0; i < 5; ++i) {
    auto a = p.assign("client" + std::to_string(i));
    ASSERT_TRUE(a) << i;
    got.insert(*a);
    of_client.push_back(*a);
  }
  EXPECT_EQ(got, (std::set<IpAddress>{ip("198.18.200.2"), ip("198.18.200.3"), ip("198.18.200.4"),
                                      ip("198.18.200.5"), ip("198.18.200.6")}));
  // Exhausted: an answer, not a failure; a release makes room again.
  EXPECT_FALSE(p.assign("late"));
  p.release("client0", of_client[3]);  // not client0's: nothing happens
  EXPECT_FALSE(p.assign("late"));
  p.release("client3", of_client[3]);
  EXPECT_EQ(p.assign("late"), of_client[3]);
  EXPECT_EQ(p.in_use(), 5u);
}

TEST(AddressPool, StablePerKeyAndPreferredHonoured) {
  AddressPool p = pool("198.18.200.0/24");
  auto a = p.assign("alice");
  ASSERT_TRUE(a);
  p.release("alice", *a);
  auto b = p.assign("bob", *a);  // bob asks for alice's old address: free, so granted
  EXPECT_EQ(b, a);
  auto again = p.assign("alice");  // alice's last address is taken: another one
  ASSERT_TRUE(again);
  EXPECT_NE(*again, *a);
  p.release("alice", *again);
  EXPECT_EQ(p.assign("alice"), again);  // and that one sticks
  // A fresh pool gives the same first answer for the same key (a restarted proxy).
  EXPECT_EQ(pool("198.18.200.0/24").assign("carol"), pool("198.18.200.0/24").assign("carol"));
  // Preferences outside the pool, the router, or held by another key are not granted.
  EXPECT_NE(p.assign("dave", ip("10.0.0.1")), ip("10.0.0.1"));
  EXPECT_NE(p.assign("erin", p.router()), p.router());
  EXPECT_NE(p.assign("frank", *b), b);
  EXPECT_TRUE(p.held_by(*b, "bob"));
  p.release("frank", *b);  // not frank's: nothing happens
  EXPECT_TRUE(p.held_by(*b, "bob"));
}

// A restarted proxy seeded with what the last one remembered gives each key its old address,
// even when the key's hash would land elsewhere (the tquicd server's state file).
TEST(AddressPool, SeededKeysGetTheirRememberedAddressBack) {
  AddressPool first = pool("198.18.200.0/24");
  ASSERT_TRUE(first.assign("x"));
  auto bob = first.assign("bob", ip("198.18.200.77"));
  ASSERT_EQ(bob, ip("198.18.200.77"));
  auto saved = first.remembered();
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[1], (std::pair<std::string, IpAddress>{"bob", ip("198.18.200.77")}));
  AddressPool again = pool("198.18.200.0/24");
  for (const auto& [key, a] : saved) again.seed(key, a);
  EXPECT_EQ(again.assign("bob"), ip("198.18.200.77"));
  EXPECT_EQ(again.remembered().size(), 2u);
  // Seeds outside the pool, or the router, are ignored.
  AddressPool other = pool("198.18.200.0/24");
  other.seed("eve", ip("10.0.0.5"));
  other.seed("mallory", other.router());
  EXPECT_TRUE(other.remembered().empty());
  EXPECT_NE(other.assign("eve"), ip("10.0.0.5"));
}

TEST(AddressPool, OneKeyHoldsAtMostTheBound) {
  AddressPool p = pool("198.18.200.0/24");
  std::vector<IpAddress> got;
  for (size_t i = 0; i < kMaxAddressesPerKey; ++i) {
    auto a = p.assign("greedy");
    ASSERT_TRUE(a) << i;
    got.push_back(*a);
  }
  EXPECT_FALSE(p.assign("greedy"));
  EXPECT_FALSE(p.assign("greedy", ip("198.18.200.77")));
  EXPECT_EQ(p.assign("greedy", got[0]), got[0]);  // what it holds is still its own
  EXPECT_TRUE(p.assign("modest"));                // others are not affected
  p.release("greedy", got[0]);
  EXPECT_TRUE(p.assign("greedy"));
  EXPECT_FALSE(p.assign("greedy"));
}

TEST(AddressPool, ProbingStopsAtTheBoundEvenWithAFreeAddressLeft) {
  // /111: 131070 client addresses, about twice kMaxPoolProbes. Hold all but one (by
  // preference, one per key); a key whose probe window misses the free one is refused after
  // kMaxPoolProbes candidates rather than walking the whole pool.
  AddressPool p = pool("2001:db8::/111");
  ASSERT_EQ(p.capacity(), 131070u);
  IpAddress free_one = *IpAddress::parse("2001:db8::1:0");
  IpAddress a = *IpAddress::parse("2001:db8::2");
  for (uint64_t i = 0; i < p.capacity(); ++i) {
    if (a != free_one) {
      ASSERT_EQ(p.assign("h" + std::to_string(i), a), a);
    }
    size_t b = 16;
    while (b-- > 0 && ++a.bytes[b] == 0) {  // a + 1
    }
  }
  ASSERT_EQ(p.in_use(), p.capacity() - 1);
  size_t refused = 0, found = 0;
  for (int k = 0; k < 16 && (refused == 0 || found == 0); ++k) {
    std::string key = "probe" + std::to_string(k);
    auto got = p.assign(key);
    if (!got) {
      ++refused;
      continue;
    }
    EXPECT_EQ(*got, free_one);
    ++found;
    p.release(key, *got);
  }
  EXPECT_GT(refused, 0u);  // bounded: some windows miss it
  EXPECT_GT(found, 0u);    // and it is found when a window covers it
}

TEST(AddressPool, V6AndTinyPools) {
  AddressPool p = pool("2001:db8:1::/64");
  EXPECT_EQ(p.router(), ip("2001:db8:1::1"));
  auto a = p.assign("x");
  ASSERT_TRUE(a);
  EXPECT_TRUE(p.prefix().contains(*a));
  EXPECT_NE(*a, p.router());
  EXPECT_FALSE(AddressPool::create(*IpPrefix::parse("198.18.0.0/31")));
  EXPECT_FALSE(AddressPool::create(*IpPrefix::parse("2001:db8::/127")));
  AddressPool tiny = pool("2001:db8::/126");  // ::1 router, ::2 and ::3 clients
  EXPECT_EQ(tiny.capacity(), 2u);
  EXPECT_TRUE(tiny.assign("a"));
  EXPECT_TRUE(tiny.assign("b"));
  EXPECT_FALSE(tiny.assign("c"));
}

TEST(AddressPool, V6PoolFillsCompletelyThenRefuses) {
  AddressPool p = pool("2001:db8::/120");  // ::1 router, ::0 never: 254 clients
  std::set<IpAddress> got;
  for (size_t i = 0; i < 254; ++i) {
    auto a = p.assign("k" + std::to_string(i));  // one per key, well within the per-key bound
    ASSERT_TRUE(a) << i;
    got.insert(*a);
  }
  EXPECT_EQ(got.size(), 254u);
  EXPECT_FALSE(got.contains(ip("2001:db8::")));
  EXPECT_TRUE(got.contains(ip("2001:db8::ff")));
  EXPECT_FALSE(p.assign("one-too-many"));
}

}  // namespace
}  // namespace masque

// rtnetlink parsing with crafted messages (links, addresses, truncations, bad lengths, the
// event bound), the interface table built from them, and the watch socket seeing a real change
// when the test may create a dummy interface.
#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cstring>
#include <functional>

#include "tquicd/netlink_watch.h"
#include "tquicd_test_util.h"

namespace bond {
namespace {

using Kind = InterfaceEvent::Kind;

void put(std::vector<uint8_t>& b, const void* p, size_t n) {
  const auto* c = static_cast<const uint8_t*>(p);
  b.insert(b.end(), c, c + n);
  while (b.size() % 4 != 0) b.push_back(0);
}

void attr(std::vector<uint8_t>& b, uint16_t type, const void* p, size_t n) {
  rtattr a{};
  a.rta_len = static_cast<uint16_t>(sizeof a + n);
  a.rta_type = type;
  size_t at = b.size();
  b.resize(at + sizeof a);
  std::memcpy(b.data() + at, &a, sizeof a);
  put(b, p, n);
}

// One message: header, fixed body, attributes; the header's length is patched in.
std::vector<uint8_t> message(uint16_t type, const void* body, size_t body_len,
                             const std::function<void(std::vector<uint8_t>&)>& attrs = {}) {
  std::vector<uint8_t> b(sizeof(nlmsghdr));
  put(b, body, body_len);
  if (attrs) attrs(b);
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(b.size());
  h.nlmsg_type = type;
  std::memcpy(b.data(), &h, sizeof h);
  return b;
}

std::vector<uint8_t> link_msg(uint16_t type, int index, unsigned flags, const char* name) {
  ifinfomsg ifi{};
  ifi.ifi_index = index;
  ifi.ifi_flags = flags;
  return message(type, &ifi, sizeof ifi, [&](std::vector<uint8_t>& b) {
    if (name != nullptr) attr(b, IFLA_IFNAME, name, std::strlen(name) + 1);
  });
}

std::vector<uint8_t> addr_msg(uint16_t type, uint32_t index, std::array<uint8_t, 4> ip,
                              uint8_t flags = 0) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = 24;
  ifa.ifa_flags = flags;
  ifa.ifa_index = index;
  return message(type, &ifa, sizeof ifa, [&](std::vector<uint8_t>& b) {
    attr(b, IFA_ADDRESS, ip.data(), 4);
    attr(b, IFA_LOCAL, ip.data(), 4);
  });
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

using testutil::v4;

TEST(RtnetlinkParse, LinksAndAddresses) {
  auto buf = concat({link_msg(RTM_NEWLINK, 7, IFF_UP | IFF_RUNNING, "wan0"),
                     link_msg(RTM_NEWLINK, 8, IFF_UP, "wan1"),  // up, no carrier
                     addr_msg(RTM_NEWADDR, 7, {198, 18, 160, 2}),
                     addr_msg(RTM_DELADDR, 8, {198, 18, 161, 2}),
                     link_msg(RTM_DELLINK, 8, 0, "wan1")});
  NetlinkParseStats st;
  auto ev = parse_rtnetlink(buf, st);
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(st.malformed, 0u);
  EXPECT_EQ(ev[0].kind, Kind::kLink);
  EXPECT_EQ(ev[0].ifindex, 7u);
  EXPECT_EQ(ev[0].name, "wan0");
  EXPECT_TRUE(ev[0].running);
  EXPECT_FALSE(ev[1].running);  // no carrier is not running
  EXPECT_EQ(ev[2].kind, Kind::kAddress);
  EXPECT_EQ(ev[2].address, v4(198, 18, 160, 2));
  EXPECT_TRUE(ev[2].usable);
  EXPECT_EQ(ev[3].kind, Kind::kAddressGone);
  EXPECT_EQ(ev[4].kind, Kind::kLinkGone);
}

TEST(RtnetlinkParse, PointToPointTakesTheLocalAddressAndTentativeIsNotUsable) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_index = 3;
  uint8_t peer[4] = {10, 0, 0, 1}, local[4] = {10, 0, 0, 2};
  auto m = message(RTM_NEWADDR, &ifa, sizeof ifa, [&](std::vector<uint8_t>& b) {
    attr(b, IFA_ADDRESS, peer, 4);
    attr(b, IFA_LOCAL, local, 4);
  });
  NetlinkParseStats st;
  auto ev = parse_rtnetlink(m, st);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].address, v4(10, 0, 0, 2));
  ev = parse_rtnetlink(addr_msg(RTM_NEWADDR, 3, {10, 0, 0, 2}, IFA_F_TENTATIVE), st);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(ev[0].usable);
}

TEST(RtnetlinkParse, MalformedInputIsCountedNeverReadPast) {
  auto good = link_msg(RTM_NEWLINK, 7, IFF_UP | IFF_RUNNING, "wan0");
  NetlinkParseStats st;
  // Every truncation of a valid message: nothing read past the end (ASan), no event.
  for (size_t n = 0; n < good.size(); ++n) {
    auto ev = parse_rtnetlink(std::span<const uint8_t>(good.data(), n), st);
    EXPECT_TRUE(ev.empty()) << n;
  }
  // A header claiming more than the buffer holds.
  auto big = good;
  uint32_t len = 4096;
  std::memcpy(big.data(), &len, 4);
  st = {};
  EXPECT_TRUE(parse_rtnetlink(big, st).empty());
  EXPECT_EQ(st.malformed, 1u);
  // A header shorter than itself.
  auto tiny = good;
  len = 8;
  std::memcpy(tiny.data(), &len, 4);
  st = {};
  EXPECT_TRUE(parse_rtnetlink(tiny, st).empty());
  EXPECT_EQ(st.malformed, 1u);
  // An attribute running past its message; the next message is still parsed.
  ifinfomsg ifi{};
  ifi.ifi_index = 9;
  auto bad_attr = message(RTM_NEWLINK, &ifi, sizeof ifi, [](std::vector<uint8_t>& b) {
    rtattr a{};
    a.rta_len = 200;
    a.rta_type = IFLA_IFNAME;
    put(b, &a, sizeof a);
  });
  st = {};
  auto ev = parse_rtnetlink(concat({bad_attr, good}), st);
  EXPECT_EQ(st.malformed, 1u);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].ifindex, 7u);
  // A name without its terminating NUL, an address of the wrong size, index 0.
  auto unterminated = message(RTM_NEWLINK, &ifi, sizeof ifi, [](std::vector<uint8_t>& b) {
    attr(b, IFLA_IFNAME, "wan", 3);
  });
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET6;
  ifa.ifa_index = 2;
  uint8_t four[4] = {1, 2, 3, 4};
  auto short_v6 = message(RTM_NEWADDR, &ifa, sizeof ifa,
                          [&](std::vector<uint8_t>& b) { attr(b, IFA_ADDRESS, four, 4); });
  st = {};
  EXPECT_TRUE(parse_rtnetlink(concat({unterminated, short_v6, link_msg(RTM_NEWLINK, 0, 0, "x")}), st)
                  .empty());
  EXPECT_EQ(st.malformed, 3u);
}

TEST(RtnetlinkParse, EventsPerParseAreBounded) {
  std::vector<uint8_t> buf;
  auto one = addr_msg(RTM_NEWADDR, 4, {198, 18, 160, 9});
  for (size_t i = 0; i < kMaxNetlinkEventsPerRead + 10; ++i) buf.insert(buf.end(), one.begin(), one.end());
  NetlinkParseStats st;
  EXPECT_EQ(parse_rtnetlink(buf, st).size(), kMaxNetlinkEventsPerRead);
  EXPECT_EQ(st.dropped, 10u);
}

TEST(InterfaceTable, FollowsCarrierAndAddresses) {
  InterfaceTable t;
  NetlinkParseStats st;
  for (const auto& e : parse_rtnetlink(concat({addr_msg(RTM_NEWADDR, 7, {198, 18, 160, 2}),
                                               link_msg(RTM_NEWLINK, 7, IFF_UP | IFF_RUNNING, "wan0")}),
                                       st)) {
    t.apply(e);
  }
  EXPECT_TRUE(t.running("wan0"));
  EXPECT_EQ(t.first_address("wan0", false), v4(198, 18, 160, 2));
  EXPECT_FALSE(t.first_address("wan0", true));
  EXPECT_TRUE(t.has_address("wan0", v4(198, 18, 160, 2)));
  EXPECT_TRUE(t.has_address("", quic::SocketAddress::v4(198, 18, 160, 2, 555)));  // port ignored
  EXPECT_FALSE(t.has_address("wan1", v4(198, 18, 160, 2)));
  // Carrier lost: not running, and its address no longer counts.
  for (const auto& e : parse_rtnetlink(link_msg(RTM_NEWLINK, 7, IFF_UP, "wan0"), st)) t.apply(e);
  EXPECT_FALSE(t.running("wan0"));
  EXPECT_FALSE(t.has_address("wan0", v4(198, 18, 160, 2)));
  for (const auto& e : parse_rtnetlink(concat({link_msg(RTM_NEWLINK, 7, IFF_UP | IFF_RUNNING, nullptr),
                                               addr_msg(RTM_DELADDR, 7, {198, 18, 160, 2})}),
                                       st)) {
    t.apply(e);
  }
  EXPECT_TRUE(t.running("wan0"));  // a message without a name keeps the known one
  EXPECT_FALSE(t.first_address("wan0", false));
  for (const auto& e : parse_rtnetlink(link_msg(RTM_DELLINK, 7, 0, "wan0"), st)) t.apply(e);
  EXPECT_EQ(t.size(), 0u);
}

TEST(InterfaceTable, AddressesPerInterfaceAndInterfacesAreBounded) {
  InterfaceTable t;
  InterfaceEvent e;
  e.kind = Kind::kAddress;
  e.ifindex = 1;
  for (uint32_t i = 0; i < kMaxAddressesPerInterface + 5; ++i) {
    e.address = v4(10, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i));
    t.apply(e);
  }
  InterfaceEvent l;
  l.kind = Kind::kLink;
  l.name = "many";
  l.running = true;
  l.ifindex = 1;
  t.apply(l);
  EXPECT_TRUE(t.has_address("many", v4(10, 0, 0, 0)));
  EXPECT_FALSE(t.has_address("many", v4(10, 0, 0, kMaxAddressesPerInterface)));
  for (uint32_t i = 0; i < kMaxTrackedInterfaces + 5; ++i) {
    l.ifindex = 100 + i;
    t.apply(l);
  }
  EXPECT_EQ(t.size(), kMaxTrackedInterfaces);
}

TEST(InterfaceSnapshot, SeesTheLoopback) {
  InterfaceTable t;
  for (const auto& e : snapshot_interfaces()) t.apply(e);
  EXPECT_TRUE(t.running("lo"));
  EXPECT_TRUE(t.has_address("lo", v4(127, 0, 0, 1)));
}

TEST(NetlinkWatch, OpensASubscribedNonBlockingSocket) {
  auto w = NetlinkWatch::open();
  ASSERT_TRUE(w.has_value()) << w.error().reason;
  bool resync = false;
  auto ev = (*w)->read(resync);  // nothing pending, or a few changes: it returns at once
  EXPECT_LE(ev.size(), kMaxNetlinkEventsPerRead);
  EXPECT_GE((*w)->fd(), 0);
}

}  // namespace
}  // namespace bond

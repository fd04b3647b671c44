// The TUN wrapper in a private network namespace (root): MTU, addresses and routes appear in
// the kernel and are gone after the wrapper is destroyed; a packet the kernel routes into the
// device is read back whole and one written to it is delivered (ICMP echo answered by the
// kernel).
#include "masque/tun_device.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#include "masque/ip_packet_test_util.h"

namespace masque {
namespace {

IpPrefix pfx(const char* s) {
  return IpPrefix::parse(s).value();
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return out;
  std::array<char, 512> buf;
  while (fgets(buf.data(), buf.size(), f) != nullptr) out += buf.data();
  pclose(f);
  return out;
}

TEST(TunDevice, AddsAndRemovesWhatItMadeAndMovesPackets) {
  // A namespace of this process alone: nothing here touches the host's interfaces.
  if (unshare(CLONE_NEWNET) != 0) {
    GTEST_SKIP() << "cannot create a network namespace (needs root / CAP_SYS_ADMIN): "
                 << std::strerror(errno);
  }
  {
    auto t = TunDevice::open("tqtest0");
    ASSERT_TRUE(t) << t.error().reason;
    TunDevice& tun = **t;
    ASSERT_TRUE(tun.set_mtu(1300));
    ASSERT_TRUE(tun.disable_ipv6());
    EXPECT_EQ(run("cat /proc/sys/net/ipv6/conf/tqtest0/disable_ipv6"), "1\n");
    ASSERT_TRUE(tun.add_address(pfx("198.18.50.1/32")));
    ASSERT_TRUE(tun.add_route(pfx("198.18.60.0/24")));
    ASSERT_TRUE(tun.sync_routes({pfx("198.18.60.0/24"), pfx("198.18.61.0/24")}));
    std::string link = run("ip -o link show dev tqtest0");
    EXPECT_NE(link.find("mtu 1300"), std::string::npos) << link;
    EXPECT_NE(run("ip -o addr show dev tqtest0").find("198.18.50.1/32"), std::string::npos);
    std::string routes = run("ip route show dev tqtest0");
    EXPECT_NE(routes.find("198.18.60.0/24"), std::string::npos) << routes;
    EXPECT_NE(routes.find("198.18.61.0/24"), std::string::npos) << routes;
    ASSERT_TRUE(tun.sync_routes({pfx("198.18.61.0/24")}));
    EXPECT_EQ(run("ip route show dev tqtest0").find("198.18.60.0/24"), std::string::npos);
    // A duplicate add is a no-op; a failed add (route for an unknown family length) reports.
    EXPECT_TRUE(tun.add_route(pfx("198.18.61.0/24")));

    // The kernel routes a UDP datagram to 198.18.61.9 into the device.
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(udp, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    inet_pton(AF_INET, "198.18.61.9", &to.sin_addr);
    ASSERT_EQ(sendto(udp, "hi", 2, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 2);
    close(udp);
    // The first packets may be the kernel's own IPv6 chatter on a new link (MLD, router
    // solicitations): skip those, bounded.
    pollfd pfd{tun.fd(), POLLIN, 0};
    std::array<uint8_t, 2048> buf;
    std::optional<IpPacketInfo> info;
    for (int i = 0; i < 20 && !info && poll(&pfd, 1, 2000) == 1; ++i) {
      auto n = tun.read(buf);
      ASSERT_TRUE(n);
      auto p = parse_ip_packet(quic::Bytes(buf.data(), *n));
      if (p && p->version == 4) info = *p;
    }
    ASSERT_TRUE(info);
    EXPECT_EQ(info->src, *IpAddress::parse("198.18.50.1"));
    EXPECT_EQ(info->dst, *IpAddress::parse("198.18.61.9"));
    EXPECT_EQ(info->protocol, ipproto::kUdp);
    // Nothing else waiting: a read says so with 0, not an error.
    while (true) {
      auto more = tun.read(buf);
      ASSERT_TRUE(more);
      if (*more == 0) break;
    }
    // An echo request written to the device reaches the kernel, whose reply comes back out.
    auto echo = test::make_packet(
        {.src = "198.18.61.9", .dst = "198.18.50.1", .protocol = ipproto::kIcmp, .payload = 16});
    std::fill(echo.begin() + 20, echo.end(), 0);
    echo[20] = 8;  // echo request; ICMP checksum over the 16 bytes
    uint16_t c = checksum_fold(checksum_add(0, quic::Bytes(echo).subspan(20)));
    echo[22] = static_cast<uint8_t>(c >> 8), echo[23] = static_cast<uint8_t>(c);
    ASSERT_TRUE(tun.write(echo));
    bool replied = false;
    for (int i = 0; i < 20 && !replied && poll(&pfd, 1, 100) >= 0; ++i) {
      auto r = tun.read(buf);
      ASSERT_TRUE(r);
      if (*r >= 21 && buf[0] == 0x45 && buf[9] == ipproto::kIcmp && buf[20] == 0) {
        replied = true;  // echo reply
      }
    }
    EXPECT_TRUE(replied);
  }
  // Destroyed: a non-persistent TUN goes with its fd, and with it what was added.
  EXPECT_EQ(if_nametoindex("tqtest0"), 0u);
  EXPECT_EQ(run("ip route").find("198.18.61.0/24"), std::string::npos);
}

TEST(TunDevice, BadNamesAreRefused) {
  EXPECT_FALSE(TunDevice::open(""));
  EXPECT_FALSE(TunDevice::open(std::string(IFNAMSIZ, 'x')));
}

}  // namespace
}  // namespace masque

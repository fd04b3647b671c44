// RelayCore with a fake clock: per-IP links, flow mapping in both directions, the flow and link
// table limits, idle expiry, and --down windows.
#include "emu/relay_core.h"

#include <gtest/gtest.h>

namespace emu {
namespace {

using namespace std::chrono_literals;
using quic::Instant;
using quic::SocketAddress;

SocketAddress ip4(uint8_t last, uint16_t port) { return SocketAddress::v4(127, 0, 0, last, port); }
const SocketAddress kServer = ip4(1, 4434);
const Instant kT0 = Instant{} + 1000s;  // a monotonic clock does not start at zero

LinkArg link(uint8_t last, const char* spec) {
  auto l = parse_link_arg("127.0.0." + std::to_string(last) + "=" + spec, transparent_profile());
  EXPECT_TRUE(l) << l.error();
  return *l;
}

RelayConfig two_links() {
  RelayConfig c;
  c.server = kServer;
  c.links = {link(2, "delay=10ms"), link(3, "delay=30ms,up.delay=5ms")};
  return c;
}

std::vector<uint8_t> bytes(uint8_t tag) { return std::vector<uint8_t>(100, tag); }

TEST(RelayCore, EachClientIpGetsItsLinkInBothDirections) {
  RelayCore core(two_links(), kT0);
  const SocketAddress a = ip4(2, 5000), b = ip4(3, 6000);
  auto fa = core.from_client(kT0, a, 0, bytes(1));
  auto fb = core.from_client(kT0, b, 2, bytes(2));
  ASSERT_TRUE(fa && fb);
  EXPECT_TRUE(fa->created && fb->created);
  EXPECT_NE(fa->flow, fb->flow);

  std::vector<Outgoing> out;
  core.poll(kT0 + 5ms - 1ns, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(core.next_wakeup(), kT0 + 5ms);  // b's link is 5 ms upstream
  core.poll(kT0 + 5ms, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].to_server);
  EXPECT_EQ(out[0].flow, fb->flow);
  EXPECT_EQ(out[0].to, kServer);
  EXPECT_EQ(out[0].ecn, 2);  // ECN passes through
  EXPECT_EQ(out[0].payload, bytes(2));
  out.clear();
  core.poll(kT0 + 10ms, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].flow, fa->flow);

  // The server answers each flow's upstream socket; the reply goes back to that client after
  // the link's downstream delay.
  out.clear();
  core.from_server(kT0 + 20ms, fb->flow, 0, bytes(3));
  core.from_server(kT0 + 20ms, fa->flow, 0, bytes(4));
  core.poll(kT0 + 30ms, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].to_server);
  EXPECT_EQ(out[0].to, a);
  EXPECT_EQ(out[0].payload, bytes(4));
  out.clear();
  core.poll(kT0 + 50ms, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, b);

  // A second datagram of a known 4-tuple reuses its flow.
  auto again = core.from_client(kT0 + 60ms, a, 0, bytes(5));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->flow, fa->flow);

  auto rep = core.report();
  ASSERT_EQ(rep.size(), 2u);
  EXPECT_TRUE(rep[0].configured);
  EXPECT_EQ(rep[0].up.sent_packets, 2u);
  EXPECT_EQ(rep[0].down.delivered_packets, 1u);
  EXPECT_EQ(rep[1].up.delivered_packets, 1u);
}

TEST(RelayCore, ConfiguredLinksComeFirstAndPortsOfOneIpShareALink) {
  RelayCore core(two_links(), kT0);
  // An unconfigured IP speaks first; it still gets the index after the configured links.
  ASSERT_TRUE(core.from_client(kT0, ip4(9, 1), 0, bytes(1)));
  ASSERT_TRUE(core.from_client(kT0, ip4(3, 1), 0, bytes(1)));
  ASSERT_TRUE(core.from_client(kT0, ip4(3, 2), 0, bytes(1)));
  EXPECT_EQ(core.live_flows(), 3u);
  auto rep = core.report();
  ASSERT_EQ(rep.size(), 3u);
  EXPECT_EQ(rep[0].ip, ip4(2, 0));
  EXPECT_EQ(rep[1].ip, ip4(3, 0));
  EXPECT_EQ(rep[1].up.sent_packets, 2u);  // two flows, one link
  EXPECT_EQ(rep[2].ip, ip4(9, 0));
  EXPECT_FALSE(rep[2].configured);
  EXPECT_EQ(rep[2].up_config.delay, 0ns);  // the transparent default
}

TEST(RelayCore, FlowTableIsBoundedAndIdleFlowsExpire) {
  RelayConfig c = two_links();
  RelayCore core(c, kT0);
  for (size_t i = 0; i < kMaxFlows; ++i) {
    auto f = core.from_client(kT0, ip4(2, static_cast<uint16_t>(1000 + i)), 0, bytes(1));
    ASSERT_TRUE(f) << i;
  }
  EXPECT_EQ(core.live_flows(), kMaxFlows);
  EXPECT_FALSE(core.from_client(kT0, ip4(2, 60000), 0, bytes(1)));
  EXPECT_EQ(core.counters().rejected_flow_limit, 1u);
  // A known 4-tuple still passes while the table is full.
  EXPECT_TRUE(core.from_client(kT0 + 1s, ip4(2, 1000), 0, bytes(1)));

  EXPECT_TRUE(core.expire(kT0 + kFlowIdleTimeout - 1ns).empty());
  auto gone = core.expire(kT0 + kFlowIdleTimeout);
  EXPECT_EQ(gone.size(), kMaxFlows - 1);  // all but the one that spoke at kT0 + 1s
  EXPECT_EQ(core.live_flows(), 1u);
  EXPECT_EQ(core.counters().flows_expired, kMaxFlows - 1);
  auto fresh = core.from_client(kT0 + kFlowIdleTimeout, ip4(2, 60000), 0, bytes(1));
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(fresh->created);
}

TEST(RelayCore, LinkTableIsBounded) {
  RelayConfig c;
  c.server = kServer;
  RelayCore core(c, kT0);
  for (size_t i = 0; i < kMaxLinks; ++i) {
    SocketAddress a = SocketAddress::v4(10, 0, static_cast<uint8_t>(i / 256),
                                        static_cast<uint8_t>(i % 256), 1);
    ASSERT_TRUE(core.from_client(kT0, a, 0, bytes(1))) << i;
  }
  EXPECT_FALSE(core.from_client(kT0, SocketAddress::v4(10, 1, 0, 0, 1), 0, bytes(1)));
  EXPECT_EQ(core.counters().rejected_link_limit, 1u);
  EXPECT_EQ(core.report().size(), kMaxLinks);
}

TEST(RelayCore, DatagramsOfAnExpiredOrUnknownFlowAreCountedNotSent) {
  RelayCore core(two_links(), kT0);
  auto f = core.from_client(kT0, ip4(2, 5000), 0, bytes(1));
  ASSERT_TRUE(f);
  core.close_flow(f->flow);  // e.g. its upstream socket could not be opened
  std::vector<Outgoing> out;
  core.poll(kT0 + 1s, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(core.counters().unroutable, 1u);
  core.from_server(kT0 + 1s, f->flow, 0, bytes(2));
  core.from_server(kT0 + 1s, 12345, 0, bytes(2));
  EXPECT_EQ(core.counters().unroutable, 3u);
  EXPECT_FALSE(core.client_of(f->flow));
}

TEST(RelayCore, DownWindowDarkensBothDirectionsOfThatLinkOnly) {
  RelayConfig c = two_links();
  c.downs.push_back(*parse_down_arg("127.0.0.2@1s-2s"));
  RelayCore core(c, kT0);
  auto a = core.from_client(kT0 + 1500ms, ip4(2, 1), 0, bytes(1));
  auto b = core.from_client(kT0 + 1500ms, ip4(3, 1), 0, bytes(1));
  ASSERT_TRUE(a && b);
  core.from_server(kT0 + 1500ms, a->flow, 0, bytes(2));
  std::vector<Outgoing> out;
  core.poll(kT0 + 1900ms, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].flow, b->flow);
  auto rep = core.report();
  EXPECT_EQ(rep[0].up.dropped_blackhole, 1u);
  EXPECT_EQ(rep[0].down.dropped_blackhole, 1u);
  EXPECT_EQ(rep[1].up.dropped_blackhole, 0u);
  // After the window the link carries again.
  out.clear();
  core.from_client(kT0 + 2s, ip4(2, 1), 0, bytes(1));
  core.poll(kT0 + 2s + 10ms, out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(RelayCore, RateLimitedLinkPacesWhatItForwards) {
  RelayConfig c;
  c.server = kServer;
  c.links = {link(2, "rate=8mbit,header=0,queue=3000")};  // 1000 bytes: exactly 1 ms
  RelayCore core(c, kT0);
  std::vector<uint8_t> kb(1000, 7);
  for (int i = 0; i < 5; ++i) core.from_client(kT0, ip4(2, 1), 0, kb);
  // One in service, three queued (3000 bytes), the fifth dropped.
  EXPECT_EQ(core.report()[0].up.dropped_queue, 1u);
  std::vector<Outgoing> out;
  for (int ms = 1; ms <= 4; ++ms) {
    EXPECT_EQ(core.next_wakeup(), kT0 + std::chrono::milliseconds(ms));
    core.poll(kT0 + std::chrono::milliseconds(ms), out);
    EXPECT_EQ(out.size(), static_cast<size_t>(ms));
  }
  EXPECT_EQ(core.next_wakeup(), quic::kNever);
}

}  // namespace
}  // namespace emu

// The daemons' receive side (tquicd/reorder_sink.h) and token field (tquicd/daemon.h):
// in-order release per tunnel, unordered flows and unsequenced packets passed straight
// through, separate sequence spaces per tunnel, the tunnel bound, the hold time from the
// delay spread, and the Bearer token parsing.
#include "tquicd/reorder_sink.h"

#include <gtest/gtest.h>

#include "tquicd/daemon.h"
#include "tquicd/ip_header.h"
#include "tquicd/ip_test_packets.h"

namespace bond {
namespace {

using namespace std::chrono_literals;
constexpr uint8_t kTcp = 6, kUdp = 17;

struct Recorder : masque::PacketSink {
  std::vector<uint16_t> src_ports;  // which packet, by its TCP/UDP source port
  void deliver(quic::Bytes packet, const masque::PacketMeta&) override {
    auto p = parse_ip_packet(packet);
    src_ports.push_back(p.info ? p.info->src_port : 0);
  }
};

struct Fixture {
  Recorder out;
  quic::Instant now{std::chrono::seconds(1000)};
  ReorderSink sink{out, ReorderLimits{}, true, [this] { return now; }};

  void send(uint64_t tunnel, uint64_t seq, uint8_t proto, uint16_t port,
            uint64_t sent_us = 0) {
    auto p = test::ipv4(proto, port, 80);
    masque::PacketMeta m{2, seq, sent_us, tunnel};
    sink.deliver(p, m);
  }
};

TEST(ReorderSink, ReleasesOneTunnelInOrderAndPassesUnorderedFlows) {
  Fixture f;
  f.send(1, 0, kTcp, 100);
  f.send(1, 2, kTcp, 102);  // held: 1 is missing
  f.send(1, 3, kUdp, 103);  // UDP needs no order: straight through
  EXPECT_EQ(f.out.src_ports, (std::vector<uint16_t>{100, 103}));
  f.send(1, 1, kTcp, 101);
  EXPECT_EQ(f.out.src_ports, (std::vector<uint16_t>{100, 103, 101, 102}));
  f.send(1, 1, kTcp, 101);  // a duplicate is dropped
  EXPECT_EQ(f.out.src_ports.size(), 4u);
  EXPECT_EQ(f.sink.stats().reorder.duplicates, 1u);
}

TEST(ReorderSink, KeepsOneSequenceSpacePerTunnel) {
  Fixture f;
  f.send(1, 0, kTcp, 100);
  f.send(2, 0, kTcp, 200);  // another tunnel's first packet, not a duplicate
  f.send(2, 1, kTcp, 201);
  EXPECT_EQ(f.out.src_ports, (std::vector<uint16_t>{100, 200, 201}));
  EXPECT_EQ(f.sink.stats().tunnels, 2u);
}

TEST(ReorderSink, AReconnectedTunnelStartsItsSequenceSpaceOver) {
  Fixture f;
  for (uint64_t seq = 0; seq < 5; ++seq) f.send(1, seq, kTcp, static_cast<uint16_t>(100 + seq));
  f.sink.forget_tunnels();
  EXPECT_EQ(f.sink.stats().tunnels, 0u);
  EXPECT_EQ(f.sink.stats().reorder.in_order, 5u);  // the old tunnel's counters stay
  // The new connection's tunnel has the same id (each connection numbers its tunnels from 1)
  // and numbers its packets from 0: in order, not duplicates of the old ones.
  f.send(1, 0, kTcp, 200);
  f.send(1, 1, kTcp, 201);
  EXPECT_EQ(f.out.src_ports.size(), 7u);
  EXPECT_EQ(f.out.src_ports.back(), 201);
  EXPECT_EQ(f.sink.stats().reorder.duplicates, 0u);
}

TEST(ReorderSink, PassesUnsequencedPacketsStraightThrough) {
  Fixture f;
  auto p = test::ipv4(kTcp, 7, 80);
  f.sink.deliver(p, masque::PacketMeta{.tunnel = 1});  // context 0: no sequence number
  f.sink.deliver(p, masque::PacketMeta{2, 5, 0, 0});   // no tunnel (our own ICMP)
  EXPECT_EQ(f.out.src_ports.size(), 2u);
  EXPECT_EQ(f.sink.stats().passthrough, 2u);
  EXPECT_EQ(f.sink.stats().tunnels, 0u);
}

TEST(ReorderSink, GivesUpAGapAfterTheHoldFromTheDelaySpread) {
  Fixture f;
  // Paths 10 ms apart: samples alternate between two one-way delays (common offset 5 s).
  f.send(1, 0, kTcp, 100, 1'000'000);
  f.now += 10ms;
  f.send(1, 1, kTcp, 101, 1'000'000);  // 10 ms later than the first: spread 10 ms
  EXPECT_EQ(f.sink.hold_time(), 15ms + kReorderHoldMargin);  // 1.5 x the spread
  f.send(1, 3, kTcp, 103, 1'010'000);  // 2 is missing
  EXPECT_EQ(f.out.src_ports.size(), 2u);
  quic::Instant deadline = f.sink.next_timeout();
  EXPECT_EQ(deadline, f.now + f.sink.hold_time());
  f.now = deadline;
  f.sink.on_timeout(f.now);
  EXPECT_EQ(f.out.src_ports.back(), 103);
  EXPECT_EQ(f.sink.stats().reorder.gap_timeouts, 1u);
}

TEST(ReorderSink, TunnelsPastTheBoundPassUnordered) {
  Fixture f;
  for (uint64_t t = 1; t <= kMaxReorderTunnels + 3; ++t) f.send(t, 0, kTcp, 1);
  EXPECT_EQ(f.sink.stats().tunnels, kMaxReorderTunnels);
  EXPECT_EQ(f.sink.stats().passthrough, 3u);
  // Idle tunnels are forgotten, which makes room again.
  f.now += kReorderTunnelIdle;
  f.sink.on_timeout(f.now);
  EXPECT_EQ(f.sink.stats().tunnels, 0u);
  EXPECT_EQ(f.sink.stats().reorder.in_order, kMaxReorderTunnels);
}

TEST(DelaySpread, ForgetsWindowsOlderThanTwo) {
  DelaySpread d;
  quic::Instant t{std::chrono::seconds(5)};
  EXPECT_FALSE(d.spread());
  d.on_sample(t, 100);
  d.on_sample(t + 1ms, 40'100);  // a slow path: 40 ms spread
  EXPECT_EQ(d.spread(), 40ms);
  d.on_sample(t + kSpreadWindow, 100);  // the previous window still counts
  EXPECT_EQ(d.spread(), 40ms);
  d.on_sample(t + 3 * kSpreadWindow, 200);  // the slow path went quiet long ago
  d.on_sample(t + 3 * kSpreadWindow + 1ms, 300);
  EXPECT_EQ(d.spread(), 100us);
}

TEST(PresentedToken, TakesExactlyOneBearerField) {
  std::vector<h3::Field> ok{{"authorization", "Bearer abc"}};
  EXPECT_EQ(presented_token(ok), "abc");
  std::vector<h3::Field> none{{":method", "CONNECT"}};
  EXPECT_EQ(presented_token(none), "");
  std::vector<h3::Field> basic{{"authorization", "Basic abc"}};
  EXPECT_EQ(presented_token(basic), "");
  std::vector<h3::Field> twice{{"authorization", "Bearer a"}, {"authorization", "Bearer b"}};
  EXPECT_EQ(presented_token(twice), "");
}

TEST(DaemonApplies, NamesTheLiveKeysEachDaemonApplies) {
  EXPECT_TRUE(daemon_applies(DaemonRole::kClient, "reorder.max_hold"));
  EXPECT_TRUE(daemon_applies(DaemonRole::kClient, "ingress.target"));
  EXPECT_FALSE(daemon_applies(DaemonRole::kServer, "ingress.target"));
  EXPECT_TRUE(daemon_applies(DaemonRole::kServer, "server.tokens_file"));
  // Every link key, and whole links added or removed, on the client (link_manager.h).
  for (const char* k : {"link[a].rate", "link[a].role", "link[a].weight", "link[a].quota",
                        "link[a].interface", "link[a].mark", "link[a]"}) {
    EXPECT_TRUE(daemon_applies(DaemonRole::kClient, k)) << k;
  }
  EXPECT_FALSE(daemon_applies(DaemonRole::kServer, "link[a].rate"));
  EXPECT_TRUE(daemon_applies(DaemonRole::kServer, "server.client_rate"));
  EXPECT_TRUE(daemon_applies(DaemonRole::kServer, "server.max_clients"));
  EXPECT_FALSE(daemon_applies(DaemonRole::kClient, "server.max_clients"));
  // Both daemons classify their TUN packets (the interactive lane).
  for (DaemonRole r : {DaemonRole::kClient, DaemonRole::kServer}) {
    EXPECT_TRUE(daemon_applies(r, "classifier.interactive_ports"));
    EXPECT_TRUE(daemon_applies(r, "classifier.small_packet"));
  }
  EXPECT_FALSE(daemon_applies(DaemonRole::kClient, "log.level"));
}

}  // namespace
}  // namespace bond

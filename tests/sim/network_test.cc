// Scheduling, routing and the whole-network properties: blackholes, link state changes, NAT
// rebinding, multipath, node timers, run() semantics, determinism and pcap output.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include "sim/network.h"
#include "toy_nodes.h"

namespace sim::test {
namespace {

using namespace std::chrono_literals;

std::set<uint64_t> seqs(const std::vector<Arrival>& arrivals) {
  std::set<uint64_t> out;
  for (const auto& a : arrivals) out.insert(a.seq);
  return out;
}

TEST(Network, BlackholeWindowDropsEverythingInsideAndNothingOutside) {
  Network net(1);
  CbrSender sender(addr(1), addr(2), 1000, 10ms, Instant{}, 300);  // 0 .. 2.99 s, 0.8 ms tx
  Sink sink;
  net.add_node(&sender, {addr(1)});
  net.add_node(&sink, {addr(2)});
  LinkConfig cfg;
  cfg.blackholes = {{1s, 2s}};
  int link = net.add_link(addr(1), addr(2), cfg, LinkConfig{});
  net.run(quic::kNever);
  const auto got = seqs(sink.arrivals);
  for (uint64_t s = 0; s < 300; ++s) {
    const bool inside = s >= 100 && s < 200;
    EXPECT_EQ(got.contains(s), !inside) << s;
  }
  EXPECT_EQ(net.stats(link, true).dropped_blackhole, 100u);
  EXPECT_EQ(net.stats(link, true).delivered_packets, 200u);
}

TEST(Network, PeriodicBlackholeIsDarkTwoSecondsInEverySeven) {
  Network net(1);
  CbrSender sender(addr(1), addr(2), 1000, 100ms, Instant{}, 300);  // 30 s
  Sink sink;
  net.add_node(&sender, {addr(1)});
  net.add_node(&sink, {addr(2)});
  LinkConfig cfg;
  cfg.periodic_blackhole = std::make_tuple(Duration(7s), Duration(2s), Duration(1s));
  int link = net.add_link(addr(1), addr(2), cfg, LinkConfig{});
  net.run(quic::kNever);
  const auto got = seqs(sink.arrivals);
  uint64_t dark = 0;
  for (uint64_t s = 0; s < 300; ++s) {
    const int64_t ms = static_cast<int64_t>(s) * 100;
    const bool is_dark = ms >= 1000 && (ms - 1000) % 7000 < 2000;
    dark += is_dark;
    EXPECT_EQ(got.contains(s), !is_dark) << s;
  }
  EXPECT_EQ(dark, 90u);  // windows starting at 1, 8, 15, 22 s; the one at 29 s gets 10 packets
  EXPECT_EQ(net.stats(link, true).dropped_blackhole, dark);
}

TEST(Network, LinkDownLosesQueuedAndInFlightPacketsUntilUp) {
  Network net(1);
  CbrSender sender(addr(1), addr(2), 1000, 10ms, Instant{}, 300);
  Sink sink;
  net.add_node(&sender, {addr(1)});
  net.add_node(&sink, {addr(2)});
  int link = net.add_link(addr(1), addr(2), LinkConfig{}, LinkConfig{});
  net.schedule_down(link, at_ms(1000));
  net.schedule_up(link, at_ms(2000));
  net.run(quic::kNever);
  const auto got = seqs(sink.arrivals);
  for (uint64_t s = 0; s < 300; ++s) {
    // Sent at 10*s ms, arriving 15.8 ms later: lost if still in flight at 1 s.
    const int64_t sent_us = static_cast<int64_t>(s) * 10000;
    const bool lost = sent_us + 15800 >= 1000000 && sent_us < 2000000;
    EXPECT_EQ(got.contains(s), !lost) << s;
  }
  EXPECT_EQ(net.stats(link, true).dropped_blackhole, 101u);
}

TEST(Network, RateChangeAppliesFromTheScheduledTime) {
  Network net(1);
  CbrSender sender(addr(1), addr(2), 1250, 2ms, Instant{}, 1000);
  Sink sink;
  net.add_node(&sender, {addr(1)});
  net.add_node(&sink, {addr(2)});
  int link = net.add_link(addr(1), addr(2), LinkConfig{}, LinkConfig{});
  net.schedule_change(link, true, at_ms(1000), [](LinkConfig& c) { c.rate_bps = 2.5e6; });
  net.run(quic::kNever);
  ASSERT_GT(sink.arrivals.size(), 510u);
  EXPECT_EQ(sink.arrivals[499].at, at_ms(998 + 1 + 15));
  EXPECT_EQ(sink.arrivals[500].at, at_ms(1000 + 4 + 15));  // 4 ms per packet from now on
  EXPECT_EQ(sink.arrivals[501].at, at_ms(1004 + 4 + 15));
  EXPECT_EQ(sink.arrivals[510].at, at_ms(1040 + 4 + 15));
  EXPECT_GT(net.stats(link, true).dropped_queue, 0u);
  EXPECT_EQ(net.stats(link, false).sent_packets, 0u);  // the change touched one direction only
}

TEST(Network, DelayAndLossChangesApplyToPacketsLeavingAfterThem) {
  Network net(1);
  CbrSender sender(addr(1), addr(2), 1250, 10ms, Instant{}, 300);
  Sink sink;
  net.add_node(&sender, {addr(1)});
  net.add_node(&sink, {addr(2)});
  int link = net.add_link(addr(1), addr(2), LinkConfig{}, LinkConfig{});
  net.schedule_change(link, true, at_ms(1000), [](LinkConfig& c) { c.delay = 50ms; });
  net.schedule_change(link, true, at_ms(2000), [](LinkConfig& c) { c.loss = 1.0; });
  net.run(quic::kNever);
  ASSERT_EQ(sink.arrivals.size(), 200u);
  EXPECT_EQ(sink.arrivals[99].at, at_ms(990 + 1 + 15));
  EXPECT_EQ(sink.arrivals[100].at, at_ms(1000 + 1 + 50));
  EXPECT_EQ(sink.arrivals[199].at, at_ms(1990 + 1 + 50));
  EXPECT_EQ(net.stats(link, true).dropped_loss, 100u);
}

TEST(Network, NatRebindingRewritesSourceAndRoutesReplies) {
  Network net(1);
  const SocketAddress client = addr(1, 5000), server = addr(2, 443);
  const SocketAddress port_rebound = addr(1, 6000);
  const SocketAddress addr_rebound = SocketAddress::v4(192, 0, 2, 7, 7000);
  CbrSender sender(client, server, 200, 100ms, Instant{}, 40);  // 0 .. 3.9 s
  Echo echo;
  net.add_node(&sender, {client});
  net.add_node(&echo, {server});
  net.add_link(client, server, LinkConfig{}, LinkConfig{});
  net.schedule_rebind(client, port_rebound, at_ms(1050));
  net.schedule_rebind(port_rebound, addr_rebound, at_ms(2050));  // moves the same binding
  net.run(quic::kNever);

  ASSERT_EQ(echo.arrivals.size(), 40u);
  for (const auto& a : echo.arrivals) {
    const SocketAddress expect = a.seq <= 10 ? client : a.seq <= 20 ? port_rebound : addr_rebound;
    EXPECT_EQ(a.d.src, expect) << a.seq;
    EXPECT_EQ(a.d.dst, server);
  }
  // Every echo (sent to the public address) reaches the client as if sent to its own address.
  ASSERT_EQ(sender.received.size(), 40u);
  for (const auto& d : sender.received) {
    EXPECT_EQ(d.dst, client);
    EXPECT_EQ(d.src, server);
  }
  EXPECT_EQ(net.undeliverable(), 0u);
}

TEST(Network, AfterRebindingTheOldAddressIsUnreachable) {
  Network net(1);
  const SocketAddress client = addr(1, 5000), server = addr(2, 443);
  Sink client_sink;
  CbrSender server_sender(server, client, 200, 100ms, Instant{}, 20);
  net.add_node(&client_sink, {client});
  net.add_node(&server_sender, {server});
  net.add_link(client, server, LinkConfig{}, LinkConfig{});
  net.schedule_rebind(client, addr(1, 6000), at_ms(1000));
  net.run(quic::kNever);
  // Sent at 0..900 ms arrive by 916 ms; the rest find no binding.
  EXPECT_EQ(client_sink.arrivals.size(), 10u);
  EXPECT_EQ(net.undeliverable(), 10u);
}

// A node with two addresses sending on both, as a multipath endpoint does.
class TwoPathSender : public Node {
 public:
  TwoPathSender(CbrSender* a, CbrSender* b) : a_(a), b_(b) {}
  void on_datagram(Instant, Datagram) override {}
  std::optional<Datagram> poll_transmit(Instant now) override {
    if (auto d = a_->poll_transmit(now)) return d;
    return b_->poll_transmit(now);
  }
  Instant next_timeout() const override { return std::min(a_->next_timeout(), b_->next_timeout()); }
  void on_timeout(Instant) override {}

 private:
  CbrSender *a_, *b_;
};

TEST(Network, TwoLinksBetweenTheSameNodesCarryIndependently) {
  const SocketAddress a1 = addr(1), b1 = addr(2);
  const SocketAddress a2 = SocketAddress::v4(10, 0, 1, 1, 4433);
  const SocketAddress b2 = SocketAddress::v4(10, 0, 1, 2, 4433);
  LinkConfig fast;
  fast.delay = 10ms;
  fast.loss = 0.2;
  LinkConfig slow;
  slow.rate_bps = 1e6;
  slow.delay = 40ms;
  slow.loss = 0.3;

  auto run = [&](bool with_second, std::vector<Arrival>* arrivals, Network::DirStats* s0,
                 Network::DirStats* s1) {
    Network net(9);
    CbrSender p1(a1, b1, 125, 5ms, Instant{}, 400), p2(a2, b2, 125, 5ms, Instant{}, 400);
    TwoPathSender sender(&p1, &p2);
    Sink sink;
    net.add_node(&sender, {a1, a2});
    net.add_node(&sink, {b1, b2});
    int l0 = net.add_link(a1, b1, fast, LinkConfig{});
    if (with_second) {
      EXPECT_EQ(net.add_link(a2, b2, slow, LinkConfig{}), 1);
    }
    net.run(quic::kNever);
    *arrivals = sink.arrivals;
    *s0 = net.stats(l0, true);
    if (with_second) *s1 = net.stats(1, true);
  };

  std::vector<Arrival> both, single;
  Network::DirStats s0{}, s1{}, alone{}, unused{};
  run(true, &both, &s0, &s1);
  run(false, &single, &alone, &unused);

  std::set<uint64_t> path0, path0_alone, path1;
  for (const auto& a : both) {
    const Duration latency = a.at - (Instant{} + a.seq * 5ms);
    if (a.d.dst == b1) {
      EXPECT_EQ(latency, 10ms + 100us);
      path0.insert(a.seq);
    } else {
      EXPECT_EQ(a.d.dst, b2);
      EXPECT_EQ(latency, 40ms + 1ms);
      path1.insert(a.seq);
    }
  }
  for (const auto& a : single) {
    if (a.d.dst == b1) path0_alone.insert(a.seq);
  }
  EXPECT_EQ(path0, path0_alone);  // the second link does not perturb the first one's losses
  EXPECT_NE(path0, path1);
  EXPECT_EQ(s0.sent_packets, 400u);
  EXPECT_EQ(s1.sent_packets, 400u);
  EXPECT_EQ(s0.delivered_packets, path0.size());
  EXPECT_EQ(s1.delivered_packets, path1.size());
  EXPECT_NEAR(static_cast<double>(s1.dropped_loss) / 400, 0.3, 0.07);
}

TEST(Network, DatagramsWithoutALinkAreCountedUnroutable) {
  Network net(1);
  CbrSender sender(addr(1), addr(3), 100, 1ms, Instant{}, 5);
  Sink sink;
  net.add_node(&sender, {addr(1)});
  net.add_node(&sink, {addr(2), addr(3)});
  net.add_link(addr(1), addr(2), LinkConfig{}, LinkConfig{});
  net.run(quic::kNever);
  EXPECT_EQ(net.unroutable(), 5u);
  EXPECT_TRUE(sink.arrivals.empty());
}

TEST(Network, ArrivalForAnUnownedAddressIsUndeliverable) {
  Network net(1);
  CbrSender sender(addr(1), addr(2, 9999), 100, 1ms, Instant{}, 3);
  Sink sink;
  net.add_node(&sender, {addr(1)});
  net.add_node(&sink, {addr(2)});  // port 4433 only
  int link = net.add_link(addr(1), addr(2), LinkConfig{}, LinkConfig{});
  net.run(quic::kNever);
  EXPECT_EQ(net.undeliverable(), 3u);
  EXPECT_EQ(net.stats(link, true).delivered_packets, 3u);
  EXPECT_TRUE(sink.arrivals.empty());
}

TEST(Network, AddLinkRejectsDuplicatesAndSameIp) {
  Network net(1);
  EXPECT_EQ(net.add_link(addr(1), addr(2), {}, {}), 0);
  EXPECT_EQ(net.add_link(addr(2, 1), addr(1, 2), {}, {}), -1);  // same IP pair, other ports
  EXPECT_EQ(net.add_link(addr(1), addr(1, 1), {}, {}), -1);
  EXPECT_EQ(net.add_link(addr(1), addr(3), {}, {}), 1);
}

// Records when it is woken; moves its deadline as a QUIC connection re-arms its timer.
class TimerNode : public Node {
 public:
  void on_datagram(Instant, Datagram) override {}
  std::optional<Datagram> poll_transmit(Instant) override { return std::nullopt; }
  Instant next_timeout() const override { return deadline; }
  void on_timeout(Instant now) override {
    fired.push_back(now);
    deadline = fired.size() < 3 ? now + 7ms : quic::kNever;
  }
  Instant deadline = quic::kNever;
  std::vector<Instant> fired;
};

TEST(Network, NodeTimersFireExactlyAndStaleDeadlinesAreIgnored) {
  Network net(1);
  TimerNode node;
  node.deadline = at_ms(5);
  net.add_node(&node, {addr(1)});
  // Moving the deadline later before it fires must cancel the earlier wake-up.
  net.schedule_call(at_ms(1), [&](Instant) { node.deadline = at_ms(20); });
  net.run(quic::kNever);
  EXPECT_EQ(node.fired, (std::vector<Instant>{at_ms(20), at_ms(27), at_ms(34)}));
}

TEST(Network, RunStopsAtUntilAndResumes) {
  Network net(1);
  CbrSender sender(addr(1), addr(2), 100, 10ms, Instant{}, 100);
  Sink sink;
  net.add_node(&sender, {addr(1)});
  net.add_node(&sink, {addr(2)});
  net.add_link(addr(1), addr(2), LinkConfig{}, LinkConfig{});
  EXPECT_EQ(net.run(at_ms(100)), at_ms(100));
  EXPECT_EQ(net.now(), at_ms(100));
  EXPECT_EQ(sink.arrivals.size(), 9u);  // sent at 0..80 ms arrive by 95.08 ms
  Instant stopped = net.run(quic::kNever, [&] { return sink.arrivals.size() == 50; });
  EXPECT_EQ(stopped, sink.arrivals.back().at);
  EXPECT_EQ(net.run(quic::kNever), Instant{} + 990ms + 15ms + 80us);
  EXPECT_EQ(sink.arrivals.size(), 100u);
  EXPECT_EQ(net.run(at_ms(5000)), at_ms(5000));  // no events left: the clock still advances
}

TEST(Network, ScheduledCallRunsAtItsTimeAndNodesArePolledAfterIt) {
  Network net(1);
  CbrSender sender(addr(1), addr(2), 100, 10ms, Instant{}, 0);  // idle until poked
  Sink sink;
  net.add_node(&sender, {addr(1)});
  net.add_node(&sink, {addr(2)});
  net.add_link(addr(1), addr(2), LinkConfig{}, LinkConfig{});
  std::vector<Instant> calls;
  net.schedule_call(at_ms(300), [&](Instant now) {
    calls.push_back(now);
    sender = CbrSender(addr(1), addr(2), 100, 10ms, now, 1);
  });
  net.run(quic::kNever);
  EXPECT_EQ(calls, (std::vector<Instant>{at_ms(300)}));
  ASSERT_EQ(sink.arrivals.size(), 1u);
  EXPECT_EQ(sink.arrivals[0].at, Instant{} + 315ms + 80us);
}

struct Scenario {
  uint64_t hash;
  std::vector<uint64_t> order;
};

Scenario impaired_run(uint64_t seed) {
  Network net(seed);
  CbrSender sender(addr(1), addr(2), 1200, 700us, Instant{}, 5000);
  Echo echo;
  net.add_node(&sender, {addr(1)});
  net.add_node(&echo, {addr(2)});
  LinkConfig cfg;
  cfg.loss = 0.02;
  cfg.burst_loss = 0.01;
  cfg.jitter = 3ms;
  cfg.reorder = 0.05;
  cfg.corrupt = 0.01;
  cfg.ce_mark = 0.1;
  net.add_link(addr(1), addr(2), cfg, cfg);
  net.run(quic::kNever);
  Scenario s{net.trace_hash(), {}};
  for (const auto& a : echo.arrivals) s.order.push_back(a.seq);
  return s;
}

TEST(Network, SameSeedGivesIdenticalTraceDifferentSeedDoesNot) {
  Scenario a = impaired_run(7), b = impaired_run(7), c = impaired_run(8);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.order, b.order);
  EXPECT_NE(a.hash, c.hash);
  EXPECT_NE(a.order, c.order);
}

TEST(Network, PcapHasOneRecordPerDatagramEnteringALink) {
  const std::string path = ::testing::TempDir() + "sim_pcap_test.pcap";
  {
    Network net(1);
    ASSERT_TRUE(net.set_pcap(path));
    CbrSender sender(addr(1), addr(2), 100, 1ms, Instant{}, 4, kEct0);
    Sink sink;
    net.add_node(&sender, {addr(1)});
    net.add_node(&sink, {addr(2)});
    net.add_link(addr(1), addr(2), LinkConfig{}, LinkConfig{});
    net.run(quic::kNever);
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  std::remove(path.c_str());
  ASSERT_EQ(bytes.size(), 24u + 4 * (16 + 20 + 8 + 100));
  uint32_t magic;
  std::memcpy(&magic, bytes.data(), 4);
  EXPECT_EQ(magic, 0xa1b23c4du);
  // Second record: timestamp 1 ms, then an IPv4 header with ECT(0) and DF.
  const uint8_t* rec = bytes.data() + 24 + (16 + 128);
  uint32_t ts[2];
  std::memcpy(ts, rec, 8);
  EXPECT_EQ(ts[0], 0u);
  EXPECT_EQ(ts[1], 1000000u);
  const uint8_t* ip = rec + 16;
  EXPECT_EQ(ip[0], 0x45);
  EXPECT_EQ(ip[1], kEct0);
  EXPECT_EQ(ip[9], 17);
  EXPECT_EQ(ip[12], 10);
  EXPECT_EQ(ip[19], 2);
  // A correct IPv4 header checksum makes the ones'-complement sum of the header 0xffff.
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  EXPECT_EQ(sum, 0xffffu);
}

}  // namespace
}  // namespace sim::test

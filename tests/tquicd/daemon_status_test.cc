// The control plane's view of a client's links (daemon_status.h): link state from the paths,
// counters that stay monotonic when a link's path is replaced, recent loss, and the events a
// change implies (path_up, path_down, failover, bond_state, link_up/down), each exactly once.
#include "tquicd/daemon_status.h"

#include <gtest/gtest.h>

namespace bond {
namespace {

using namespace std::chrono_literals;

const quic::SocketAddress kA = quic::SocketAddress::v4(198, 18, 140, 2, 40000);
const quic::SocketAddress kB = quic::SocketAddress::v4(198, 18, 141, 2, 40001);
const quic::SocketAddress kServer = quic::SocketAddress::v4(198, 19, 140, 1, 4433);

LinkTracker::Link link(std::string name, quic::SocketAddress local,
                       LinkRole role = LinkRole::kPrimary) {
  LinkTracker::Link l;
  l.config.name = std::move(name);
  l.config.role = role;
  l.local = local;
  return l;
}

PathSample path(uint64_t id, quic::SocketAddress local, bool usable, uint64_t sent,
                uint64_t packets_sent = 0, uint64_t lost = 0) {
  PathSample p;
  p.id = id;
  p.local = local;
  p.remote = kServer;
  p.usable = usable;
  p.srtt = 20ms + std::chrono::milliseconds(id);
  p.cwnd = 12000;
  p.bytes_sent = sent;
  p.bytes_received = sent / 10;
  p.packets_sent = packets_sent;
  p.packets_lost = lost;
  return p;
}

std::vector<std::string> kinds(const EventBus& bus, uint64_t after) {
  std::vector<std::string> out;
  for (const Event& e : bus.log().since(after)) {
    out.push_back(std::string(to_string(e.kind)) + (e.link.empty() ? "" : " " + e.link) +
                  (e.detail.empty() ? "" : ": " + e.detail));
  }
  return out;
}

struct StatusFixture {
  quic::Instant t{std::chrono::seconds(10)};
  EventBus bus{t};
  LinkTracker tracker{{link("a", kA), link("b", kB)}};
  Status s;
  uint64_t seen = 0;
  std::vector<std::string> step(const std::vector<PathSample>& paths) {
    t += 1s;
    tracker.update(paths, t, bus, s);
    auto k = kinds(bus, seen);
    seen = bus.log().last_seq();
    return k;
  }
};

TEST(LinkTracker, StatesFiguresAndEventsOnce) {
  StatusFixture f;
  EXPECT_TRUE(f.step({}).empty());  // nothing up yet: no event (the bond starts down)
  EXPECT_EQ(f.s.bond, BondState::kDown);
  EXPECT_EQ(f.step({path(0, kA, true, 1000)}),
            (std::vector<std::string>{"path_up a", "bond_state: down -> degraded"}));  // b is configured, not up yet
  EXPECT_EQ(f.step({path(0, kA, true, 2000), path(1, kB, true, 500)}),
            (std::vector<std::string>{"path_up b", "bond_state: degraded -> bonded"}));
  PathSample b = path(1, kB, true, 600);
  b.keepalive = 7s;  // the interval in force on b's path (the link's `keepalive`)
  EXPECT_TRUE(f.step({path(0, kA, true, 3000), b}).empty());
  ASSERT_EQ(f.s.links.size(), 2u);
  EXPECT_EQ(f.s.links[0].state, LinkHealth::kUp);
  EXPECT_EQ(f.s.links[0].rtt_us, 20000u);
  EXPECT_EQ(f.s.links[1].rtt_us, 21000u);
  EXPECT_EQ(f.s.links[0].tx_bytes, 3000u);
  EXPECT_EQ(f.s.links[0].rx_bytes, 300u);
  EXPECT_GT(f.s.links[0].tx_rate_bps, 0u);
  ASSERT_EQ(f.s.paths.size(), 2u);
  EXPECT_EQ(f.s.paths[1].link, "b");
  EXPECT_EQ(f.s.paths[1].cwnd_bytes, 12000u);
  EXPECT_EQ(f.s.paths[1].keepalive_ms, 7000u);
  EXPECT_EQ(f.s.paths[0].keepalive_ms, 0u);
  EXPECT_TRUE(f.s.paths[1].active);
  EXPECT_EQ(f.s.bond, BondState::kBonded);
  // a's path fails: path_down, failover to b, degraded.
  PathSample failed = path(0, kA, false, 3000);
  failed.failed = true;
  EXPECT_EQ(f.step({failed, path(1, kB, true, 900)}),
            (std::vector<std::string>{"path_down a: failed", "failover a: to b",
                                      "bond_state: bonded -> degraded"}));
  EXPECT_EQ(f.s.links[0].state, LinkHealth::kFailed);
  EXPECT_EQ(f.s.links[0].rtt_us, 0u);  // no RTT shown for a link without a usable path
  // b goes too: no link left, the bond is down.
  EXPECT_EQ(f.step({failed}),
            (std::vector<std::string>{"path_down b: closed", "failover b: no link left",
                                      "bond_state: degraded -> down"}));
}

TEST(LinkTracker, CountersSurviveANewPathAndLossIsRecent) {
  StatusFixture f;
  f.step({path(0, kA, true, 5000, 100, 0), path(1, kB, true, 10)});
  f.step({path(0, kA, true, 6000, 200, 50), path(1, kB, true, 10)});
  EXPECT_DOUBLE_EQ(f.s.links[0].loss, 0.5);  // 50 of the last 100 packets
  f.step({path(0, kA, true, 7000, 300, 50), path(1, kB, true, 10)});
  EXPECT_DOUBLE_EQ(f.s.links[0].loss, 0.0);  // none of the last 100: the past does not linger
  // a's path is abandoned and a new one (ID 2) opens: the link's counters keep counting.
  PathSample gone = path(0, kA, false, 7000, 300, 50);
  gone.abandoned = true;
  f.step({gone, path(1, kB, true, 10), path(2, kA, true, 400, 10, 0)});
  EXPECT_EQ(f.s.links[0].tx_bytes, 7400u);
  EXPECT_EQ(f.s.paths.size(), 2u);  // the abandoned path is not listed
  f.step({path(1, kB, true, 10), path(2, kA, true, 900, 20, 0)});  // path 0 gone for good
  EXPECT_EQ(f.s.links[0].tx_bytes, 7900u);
}

TEST(LinkTracker, CountersCarryOnAcrossANewConnection) {
  StatusFixture f;
  f.step({path(0, kA, true, 5000), path(1, kB, true, 700)});
  f.step({});  // the connection is gone: no paths
  EXPECT_EQ(f.s.bond, BondState::kDown);
  // The client reconnected: the new connection numbers its paths from 0 again, with small
  // counters; the links' totals keep the old connection's bytes instead of going backwards.
  f.tracker.on_new_connection();
  f.step({path(0, kA, true, 40), path(1, kB, true, 100)});
  EXPECT_EQ(f.s.links[0].tx_bytes, 5040u);
  EXPECT_EQ(f.s.links[1].tx_bytes, 800u);
  f.step({path(0, kA, true, 90), path(1, kB, true, 300)});
  EXPECT_EQ(f.s.links[0].tx_bytes, 5090u);
  EXPECT_EQ(f.s.links[1].tx_bytes, 1000u);
}

TEST(LinkTracker, ALinkReopenedOnAnotherAddressKeepsCounting) {
  StatusFixture f;
  f.step({path(0, kA, true, 1000), path(1, kB, true, 10)});
  const quic::SocketAddress moved = quic::SocketAddress::v4(198, 18, 150, 2, 40100);
  f.tracker.set_local("a", moved);
  // Its old path is no longer the link's; the new one from the new address is.
  EXPECT_EQ(f.step({path(0, kA, true, 1000), path(1, kB, true, 10)}),
            (std::vector<std::string>{"path_down a: closed", "failover a: to b",
                                      "bond_state: bonded -> degraded"}));
  EXPECT_EQ(f.step({path(1, kB, true, 10), path(3, moved, true, 500)}),
            (std::vector<std::string>{"path_up a", "bond_state: degraded -> bonded"}));
  EXPECT_EQ(f.s.links[0].tx_bytes, 1500u);
}

TEST(LinkTracker, ReconfiguredLinksKeepTheirCountersAndAdminState) {
  StatusFixture f;
  f.step({path(0, kA, true, 1000), path(1, kB, true, 10)});
  ASSERT_TRUE(f.tracker.set_admin_down("b", true, f.t, f.bus));
  // A reload: b removed, c added (no socket yet), a's role changed.
  LinkConfig a, c;
  a.name = "a";
  a.role = LinkRole::kBackup;
  c.name = "c";
  f.tracker.configure({c, a});
  ASSERT_EQ(f.tracker.find("b"), nullptr);
  ASSERT_NE(f.tracker.find("c"), nullptr);
  EXPECT_EQ(f.tracker.find("a")->local, kA);  // its address is kept
  f.step({path(0, kA, true, 1200)});
  ASSERT_EQ(f.s.links.size(), 2u);
  EXPECT_EQ(f.s.links[0].name, "c");
  EXPECT_EQ(f.s.links[0].state, LinkHealth::kDown);
  EXPECT_EQ(f.s.links[1].name, "a");
  EXPECT_EQ(f.s.links[1].role, LinkRole::kBackup);
  EXPECT_EQ(f.s.links[1].tx_bytes, 1200u);  // counting went on
  // b comes back: it starts afresh (not admin down, no counters).
  LinkConfig b;
  b.name = "b";
  f.tracker.configure({a, b});
  EXPECT_FALSE(f.tracker.find("b")->admin_down);
  f.step({path(0, kA, true, 1200)});
  EXPECT_EQ(f.s.links[1].tx_bytes, 0u);
  // A link kept across a reload keeps its admin state.
  ASSERT_TRUE(f.tracker.set_admin_down("a", true, f.t, f.bus));
  f.tracker.configure({a, b});
  EXPECT_TRUE(f.tracker.find("a")->admin_down);
}

TEST(LinkTracker, PathHistoryIsBounded) {
  StatusFixture f;
  uint64_t total = 0;
  // A link reopened more often than the bound: old paths are folded, the sum stays exact.
  for (uint64_t id = 0; id < kMaxTrackedPathsPerLink + 10; ++id) {
    f.step({path(id, kA, true, 100)});
    total += 100;
  }
  EXPECT_EQ(f.s.links[0].tx_bytes, total);
}

TEST(LinkTracker, AdminDownIsShownAndReportedOnce) {
  StatusFixture f;
  f.step({path(0, kA, true, 1), path(1, kB, true, 1)});
  EXPECT_TRUE(f.tracker.set_admin_down("a", true, f.t, f.bus));
  EXPECT_TRUE(f.tracker.set_admin_down("a", true, f.t, f.bus));  // again: no second event
  EXPECT_FALSE(f.tracker.set_admin_down("zz", true, f.t, f.bus));
  // The path is still usable until its PATH_ABANDON goes out: shown down all the same.
  EXPECT_EQ(f.step({path(0, kA, true, 1), path(1, kB, true, 1)}),
            (std::vector<std::string>{"link_down a: administratively",
                                      "path_down a: administratively down", "failover a: to b",
                                      "bond_state: bonded -> degraded"}));
  EXPECT_TRUE(f.s.links[0].admin_down);
  EXPECT_EQ(f.s.links[0].state, LinkHealth::kDown);
  ASSERT_NE(f.tracker.find("a"), nullptr);
  EXPECT_TRUE(f.tracker.find("a")->admin_down);
  f.tracker.set_admin_down("a", false, f.t, f.bus);
  EXPECT_EQ(f.step({path(1, kB, true, 1), path(2, kA, true, 1)}),
            (std::vector<std::string>{"link_up a: administratively", "path_up a",
                                      "bond_state: degraded -> bonded"}));
}

TEST(LinkTracker, BackupLinksAndQuota) {
  quic::Instant t{};
  EventBus bus(t);
  LinkTracker tracker({link("a", kA), link("sat", kB, LinkRole::kBackup)});
  tracker.set_quota("sat", 5'000'000, 1'000'000);
  Status s;
  tracker.update({path(0, kA, true, 1), path(1, kB, true, 1)}, t, bus, s);
  EXPECT_EQ(s.bond, BondState::kSingle);  // a backup does not make a bond
  EXPECT_EQ(s.links[1].quota_bytes, 5'000'000u);
  EXPECT_EQ(s.links[1].quota_used_bytes, 1'000'000u);
  tracker.update({path(1, kB, true, 1)}, t + 1s, bus, s);
  EXPECT_EQ(s.bond, BondState::kDegraded);  // only the backup carries traffic
}

TEST(ClientTracker, EventsOnceAndBounded) {
  quic::Instant t{};
  EventBus bus(t, 16);
  ClientTracker clients([](const std::string& name) { return "10.0.0." + name.substr(1, 1); });
  clients.on_authenticated(1, "c1", t, bus);
  clients.on_authenticated(1, "c1", t, bus);  // a second request on the same connection
  EXPECT_EQ(bus.count(EventKind::kClientUp), 1u);
  clients.on_authenticated(1, "c2", t, bus);  // the connection now speaks for another client
  EXPECT_EQ(bus.count(EventKind::kClientDown), 1u);
  EXPECT_EQ(bus.count(EventKind::kClientUp), 2u);
  for (uint64_t h = 2; h < kMaxTrackedClients + 100; ++h) clients.on_authenticated(h, "c3", t, bus);
  EXPECT_EQ(clients.size(), kMaxTrackedClients);  // beyond the bound: not followed
  Status s;
  // Every connection gone: each tracked one reported down once, none left.
  clients.update([](uint64_t) -> quic::Connection* { return nullptr; }, t + 1s, bus, s);
  EXPECT_EQ(clients.size(), 0u);
  EXPECT_EQ(bus.count(EventKind::kClientDown), 1u + kMaxTrackedClients);
  EXPECT_TRUE(s.conns.empty());
  EXPECT_EQ(s.bond, BondState::kDown);
}

}  // namespace
}  // namespace bond

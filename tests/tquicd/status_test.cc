// The status model, its renderings and the Prometheus text: the event ring's bounds and
// sequence numbers, the bond state derived from links, and a scrape parsed back line by line.
#include "tquicd/status.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "status_fake.h"
#include "tquicd/dashboard.h"
#include "tquicd/history.h"
#include "tquicd/metrics.h"
#include "tquicd/status_format.h"

namespace bond {
namespace {

Event ev(EventKind k, std::string link) { return Event{0, 5250, k, std::move(link), "x"}; }

TEST(EventLog, SequenceNumbersAndBoundedRing) {
  EventLog log(4);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(log.add(ev(EventKind::kPathUp, "a")), uint64_t(i + 1));
  EXPECT_EQ(log.size(), 4u);
  EXPECT_EQ(log.last_seq(), 10u);
  uint64_t missed = 0;
  auto all = log.since(0, SIZE_MAX, &missed);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all.front().seq, 7u);
  EXPECT_EQ(missed, 6u);  // 1..6 dropped
  auto tail = log.since(8, SIZE_MAX, &missed);
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0].seq, 9u);
  EXPECT_EQ(missed, 0u);
  EXPECT_TRUE(log.since(10).empty());
  EXPECT_TRUE(log.since(1000).empty());
  EXPECT_EQ(log.since(0, 1).size(), 1u);
}

TEST(EventBus, StampsLogsAndFansOut) {
  quic::Instant t0{std::chrono::seconds(100)};
  EventBus bus(t0, 8);
  std::vector<Event> a, b;
  size_t ida = bus.subscribe([&](const Event& e) { a.push_back(e); });
  size_t idb = bus.subscribe([&](const Event& e) { b.push_back(e); });
  ASSERT_NE(ida, 0u);
  ASSERT_NE(idb, ida);
  EXPECT_EQ(bus.push(t0 + std::chrono::milliseconds(1250), EventKind::kLinkAdded, "lte", "x"), 1u);
  EXPECT_EQ(bus.push(t0 - std::chrono::seconds(1), EventKind::kConfigReloaded, ""), 2u);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].seq, 1u);
  EXPECT_EQ(a[0].time_ms, 1250u);
  EXPECT_EQ(a[0].link, "lte");
  EXPECT_EQ(a[1].time_ms, 0u);  // before the start: clamped, not wrapped
  EXPECT_EQ(b.size(), 2u);
  bus.unsubscribe(idb);
  bus.push(t0, EventKind::kQuotaReset, "lte");
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(bus.count(EventKind::kQuotaReset), 1u);
  EXPECT_EQ(bus.log().last_seq(), 3u);
  EXPECT_STREQ(to_string(EventKind::kLinkRemoved), "link_removed");
  EXPECT_STREQ(to_string(EventKind::kConfigReloaded), "config_reloaded");
}

TEST(EventBus, BoundsTextListenersAndReentry) {
  quic::Instant t0{};
  EventBus bus(t0, 4);
  int calls = 0;
  // A subscriber that pushes: its event is logged but not fanned out again (no recursion).
  bus.subscribe([&](const Event& e) {
    ++calls;
    if (e.kind == EventKind::kPathDown) bus.push(t0, EventKind::kFailover, "b");
  });
  bus.push(t0, EventKind::kPathDown, std::string(1000, 'l'), std::string(5000, 'd'));
  EXPECT_EQ(calls, 1);
  auto all = bus.log().since(0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].link.size(), kMaxEventLink);
  EXPECT_EQ(all[0].detail.size(), kMaxEventDetail);
  EXPECT_EQ(all[1].kind, EventKind::kFailover);
  for (size_t i = 1; i < EventBus::kMaxListeners; ++i) EXPECT_NE(bus.subscribe([](const Event&) {}), 0u);
  EXPECT_EQ(bus.subscribe([](const Event&) {}), 0u);  // over kMaxListeners: refused
  for (int i = 0; i < 10; ++i) bus.push(t0, EventKind::kLinkUp, "a");
  EXPECT_EQ(bus.log().size(), 4u);  // the ring stays bounded
  EXPECT_EQ(bus.count(EventKind::kLinkUp), 10u);
}

TEST(StatusHistory, OneSamplePerIntervalBoundedAndServed) {
  StatusHistory h(3);
  Status s;
  LinkStatus l;
  l.name = "a\"b";
  l.tx_rate_bps = 1000;
  l.rx_rate_bps = 500;
  l.rtt_us = 21500;
  l.loss = 0.25;
  l.quota_bytes = 200;
  l.quota_used_bytes = 50;
  s.links = {l};
  for (uint64_t ms : {0, 400, 999, 1000, 2500, 3600, 4700}) {
    s.uptime_ms = ms;
    h.record(s);
  }
  EXPECT_EQ(h.size(), 3u);  // 0, 1000, 2500, 3600, 4700 taken; the ring keeps the last three
  std::string j = h.json();
  EXPECT_EQ(j.rfind("[{\"t\":2.500,", 0), 0u) << j;
  EXPECT_NE(j.find(R"({"name":"a\"b","thr":1500,"rtt":21.500,"loss":25.000,"quota":25.000})"),
            std::string::npos) << j;
  EXPECT_EQ(StatusHistory().json(), "[]");
  HttpRequest req;
  req.path = "/api/history";
  EXPECT_EQ(dashboard_route(req, s, EventLog(), &h).body, j);
  EXPECT_EQ(dashboard_route(req, s, EventLog()).body, "[]");
}

TEST(BondState, DerivedFromLinks) {
  auto link = [](LinkRole r, LinkHealth s) {
    LinkStatus l;
    l.role = r;
    l.state = s;
    return l;
  };
  using R = LinkRole;
  using S = LinkHealth;
  EXPECT_EQ(derive_bond_state({}), BondState::kDown);
  EXPECT_EQ(derive_bond_state({link(R::kPrimary, S::kUp)}), BondState::kSingle);
  EXPECT_EQ(derive_bond_state({link(R::kPrimary, S::kUp), link(R::kSecondary, S::kUp)}),
            BondState::kBonded);
  EXPECT_EQ(derive_bond_state({link(R::kPrimary, S::kUp), link(R::kSecondary, S::kFailed)}),
            BondState::kDegraded);
  EXPECT_EQ(derive_bond_state({link(R::kPrimary, S::kDown), link(R::kBackup, S::kUp)}),
            BondState::kDegraded);
  EXPECT_EQ(derive_bond_state({link(R::kPrimary, S::kUp), link(R::kBackup, S::kUp)}),
            BondState::kSingle);
  EXPECT_EQ(derive_bond_state({link(R::kPrimary, S::kFailed), link(R::kBackup, S::kDown)}),
            BondState::kDown);
}

TEST(RateMeter, ConvergesAndRestarts) {
  using namespace std::chrono_literals;
  RateMeter m(1s);
  quic::Instant t = quic::instant_from_ns(1'000'000'000);
  uint64_t bytes = 0;
  m.update(t, bytes);
  EXPECT_EQ(m.bits_per_second(), 0u);
  // 1,250,000 bytes/s = 10 Mbit/s, sampled every 100 ms for 10 s.
  for (int i = 0; i < 100; ++i) {
    t += 100ms;
    bytes += 125'000;
    m.update(t, bytes);
  }
  EXPECT_NEAR(static_cast<double>(m.bits_per_second()), 10e6, 10e6 * 0.001);
  m.update(t, bytes);  // same instant: ignored
  EXPECT_NEAR(static_cast<double>(m.bits_per_second()), 10e6, 10e6 * 0.001);
  // Irregular sampling of a 20 Mbit/s rate converges the same way.
  for (int i = 0; i < 40; ++i) {
    auto dt = (i % 2) ? 50ms : 450ms;
    t += dt;
    bytes += static_cast<uint64_t>(2.5e6 * std::chrono::duration<double>(dt).count());
    m.update(t, bytes);
  }
  EXPECT_NEAR(static_cast<double>(m.bits_per_second()), 20e6, 20e6 * 0.01);
  m.update(t + 1s, 10);  // counter reset
  EXPECT_EQ(m.bits_per_second(), 0u);
}

TEST(StatusFormat, TextShowsBondAndEveryLink) {
  Status s = test::fake_status(3);
  std::string t = format_text(s, StatusView::kStatus);
  EXPECT_EQ(t.rfind("bond: bonded", 0), 0u) << t;
  for (const char* name : {"fibre", "lte", "sat", "198.19.0.1:443"})
    EXPECT_NE(t.find(name), std::string::npos) << name;
  EXPECT_NE(t.find("28.61MiB/4.66GiB (1%)"), std::string::npos) << t;  // quota column
  std::string flows = format_text(s, StatusView::kFlows);
  EXPECT_EQ(flows.rfind("bond: bonded", 0), 0u);
  EXPECT_NE(flows.find("interactive"), std::string::npos);
  EXPECT_EQ(flows.find("fibre"), std::string::npos);  // only the flows table
  s.links[0].admin_down = true;
  EXPECT_NE(format_text(s, StatusView::kLinks).find("down*"), std::string::npos);
}

// Each path's keepalive interval in force (Connection::path_keepalive): whole seconds, tenths,
// "-" for none; JSON in milliseconds.
TEST(StatusFormat, PathKeepalive) {
  Status s = test::fake_status(3);
  s.paths[0].keepalive_ms = 7000;
  s.paths[1].keepalive_ms = 0;
  std::string t = format_text(s, StatusView::kPaths);
  EXPECT_NE(t.find(" KEEPALIVE\n"), std::string::npos) << t;
  auto row = [&t](const char* link) {
    size_t at = t.find(std::string(" ") + link + " ");
    return at == std::string::npos ? std::string() : t.substr(at, t.find('\n', at) - at);
  };
  EXPECT_TRUE(row("fibre").ends_with(" 7s")) << t;
  EXPECT_TRUE(row("lte").ends_with(" -")) << t;
  s.paths[0].keepalive_ms = 587'718;
  t = format_text(s, StatusView::kPaths);
  EXPECT_TRUE(row("fibre").ends_with(" 587.7s")) << t;
  std::string j = format_json(s, StatusView::kPaths);
  EXPECT_NE(j.find(R"("packets_lost":3,"keepalive_ms":587718})"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("keepalive_ms":0})"), std::string::npos) << j;
}

TEST(StatusFormat, JsonHasViewArraysAndEscapes) {
  Status s = test::fake_status(9);  // lte failed: degraded
  s.links[0].name = "q\"b\\\n";
  std::string j = format_json(s, StatusView::kLinks);
  EXPECT_EQ(j.rfind("{\"bond\":\"degraded\"", 0), 0u) << j;
  EXPECT_NE(j.find("\"links\":["), std::string::npos);
  EXPECT_EQ(j.find("\"paths\""), std::string::npos);
  EXPECT_NE(j.find(R"("name":"q\"b\\\u000a")"), std::string::npos) << j;
  EXPECT_NE(j.find("\"state\":\"failed\""), std::string::npos);
  std::string all = format_json(s, StatusView::kStatus);
  for (const char* k : {"\"links\":[", "\"paths\":[", "\"conns\":[", "\"flows\":["})
    EXPECT_NE(all.find(k), std::string::npos) << k;
}

TEST(StatusFormat, Events) {
  Event e{12, 5250, EventKind::kFailover, "lte", "to fibre"};
  EXPECT_EQ(format_event_text(e), "#12 +5.250s failover lte: to fibre");
  EXPECT_EQ(format_event_json(e),
            R"({"seq":12,"time_ms":5250,"event":"failover","link":"lte","detail":"to fibre"})");
  EXPECT_STREQ(to_string(EventKind::kQuotaReached), "quota_reached");
}

// Parses exposition text back: every line a comment or `name{labels} value`, every sample's
// family declared by # TYPE first.
std::map<std::string, double> parse_scrape(const std::string& text) {
  static const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$)");
  static const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$)");
  std::map<std::string, double> out;
  std::set<std::string> declared;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, type)) {
      declared.insert(m[1]);
      continue;
    }
    if (line.starts_with("# HELP ")) continue;
    EXPECT_TRUE(std::regex_match(line, m, sample)) << "bad line: " << line;
    if (m.empty()) continue;
    EXPECT_TRUE(declared.count(m[1])) << "undeclared " << m[1];
    out[std::string(m[1]) + std::string(m[2])] = std::stod(m[3]);
  }
  return out;
}

TEST(StatusFormat, Reconnecting) {
  Status s = test::fake_status(3);
  EXPECT_EQ(format_text(s, StatusView::kStatus).find("reconnecting"), std::string::npos);
  s.bond = BondState::kReconnecting;
  s.reconnect = {2, 1, 3, 1850, 4200, 900, "connection closed: stateless reset"};
  std::string t = format_text(s, StatusView::kStatus);
  EXPECT_EQ(t.rfind("bond: reconnecting", 0), 0u) << t;
  EXPECT_NE(t.find("\nreconnecting: attempt 3, next in 1.8s, down 4.2s (lost: connection closed: "
                   "stateless reset)\n"),
            std::string::npos)
      << t;
  s.reconnect.next_attempt_ms = 0;
  EXPECT_NE(format_text(s, StatusView::kStatus).find("attempt 3, running"), std::string::npos);
  std::string j = format_json(s, StatusView::kStatus);
  EXPECT_NE(j.find(R"("reconnect":{"disconnects":2,"reconnects":1,"attempt":3,"next_attempt_ms":0,)"
                   R"("down_ms":4200,"last_downtime_ms":900,"last_reason":"connection closed: )"
                   R"(stateless reset"})"),
            std::string::npos)
      << j;
  s.role = DaemonRole::kServer;  // a server has no connection of its own to lose
  EXPECT_EQ(format_json(s, StatusView::kStatus).find("\"reconnect\""), std::string::npos);
  auto m = parse_scrape(format_metrics(s, 0));
  EXPECT_EQ(m.at("tquicd_bond_state{state=\"reconnecting\"}"), 1);
  EXPECT_EQ(m.at("tquicd_disconnects_total"), 2);
  EXPECT_EQ(m.at("tquicd_reconnects_total"), 1);
}

TEST(StatusFormat, IngressDropsByReason) {
  Status s = test::fake_status(3);
  s.ingress = {12288, 8, 4, 3, 41, 2};
  std::string t = format_text(s, StatusView::kStatus);
  EXPECT_NE(t.find("\ningress: 12.0KiB in 8 packets  drops: tail 4  codel 3  outage 41  "
                   "ce-marked 2\n"),
            std::string::npos)
      << t;
  std::string j = format_json(s, StatusView::kStatus);
  EXPECT_NE(j.find(R"("ingress":{"queued_bytes":12288,"queued_packets":8,"tail_drops":4,)"
                   R"("codel_drops":3,"outage_drops":41,"ce_marks":2})"),
            std::string::npos)
      << j;
  auto m = parse_scrape(format_metrics(s, 0));
  EXPECT_EQ(m.at("tquicd_ingress_drops_total{reason=\"tail\"}"), 4);
  EXPECT_EQ(m.at("tquicd_ingress_drops_total{reason=\"codel\"}"), 3);
  EXPECT_EQ(m.at("tquicd_ingress_drops_total{reason=\"outage\"}"), 41);
  EXPECT_EQ(m.at("tquicd_ingress_ce_marks_total"), 2);
  EXPECT_EQ(m.at("tquicd_ingress_queue_bytes"), 12288);
  s.role = DaemonRole::kServer;  // no ingress queue on the server
  EXPECT_EQ(format_text(s, StatusView::kStatus).find("ingress:"), std::string::npos);
  EXPECT_EQ(format_json(s, StatusView::kStatus).find("\"ingress\""), std::string::npos);
}

TEST(Metrics, ScrapeParsesBack) {
  Status s = test::fake_status(9);
  auto m = parse_scrape(format_metrics(s, 42));
  EXPECT_EQ(m.at("tquicd_bond_state{state=\"degraded\"}"), 1);
  EXPECT_EQ(m.at("tquicd_bond_state{state=\"bonded\"}"), 0);
  EXPECT_EQ(m.at("tquicd_link_state{link=\"lte\",role=\"secondary\",state=\"failed\"}"), 1);
  EXPECT_EQ(m.at("tquicd_link_state{link=\"lte\",role=\"secondary\",state=\"up\"}"), 0);
  EXPECT_DOUBLE_EQ(m.at("tquicd_link_rtt_seconds{link=\"fibre\"}"), 0.021);
  EXPECT_DOUBLE_EQ(m.at("tquicd_link_tx_bytes_total{link=\"fibre\"}"), 9e6);
  EXPECT_DOUBLE_EQ(m.at("tquicd_link_quota_bytes{link=\"lte\"}"), 5e9);
  EXPECT_DOUBLE_EQ(m.at("tquicd_link_quota_used_bytes{link=\"lte\"}"), 9e7);
  EXPECT_DOUBLE_EQ(m.at("tquicd_link_loss_ratio{link=\"lte\"}"), 0.01);
  EXPECT_EQ(m.at("tquicd_events_total"), 42);
  EXPECT_EQ(m.at("tquicd_paths_active"), 1);
}

TEST(Metrics, LabelValuesEscaped) {
  Status s;
  s.links.resize(1);
  s.links[0].name = "a\"b\\c\nd";
  auto m = parse_scrape(format_metrics(s, 0));
  EXPECT_TRUE(m.count(R"(tquicd_link_rtt_seconds{link="a\"b\\c\nd"})"));
}

}  // namespace
}  // namespace bond

// The c-ares resolver on the event loop: answers, NXDOMAIN, a server that never answers
// (timeout) while other lookups and timers go on, the bound on outstanding lookups, cancel,
// and destruction with lookups in flight.
#include <gtest/gtest.h>

#include "apps/net_options.h"
#include "connect_udp_harness.h"
#include "io/clock.h"
#include "io/os_random.h"
#include "masque/resolver.h"

namespace masque_test {
namespace {

using masque::ResolveResult;

struct Loop {
  io::OsRandom random;
  quic::Endpoint endpoint{client_config(), random};
  io::EndpointDriver driver{endpoint, {}};
  static quic::EndpointConfig client_config() {
    quic::EndpointConfig ec;
    apps::NetOptions net;
    (void)apps::apply_connection_options(net, ec.connection);
    quic::TlsConfig tc;
    tc.alpn = {"h3"};
    ec.tls = *quic::make_tls_context(tc);
    return ec;
  }
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds t = 3000ms) {
    return run_loop_until(driver, pred, t);
  }
};

std::unique_ptr<masque::AresResolver> resolver(Loop& l, uint16_t dns_port, size_t max_pending = 8) {
  masque::AresConfig c;
  c.servers = "127.0.0.1:" + std::to_string(dns_port);
  c.timeout = 1000ms;
  c.tries = 1;
  c.max_pending = max_pending;
  auto r = masque::AresResolver::create(l.driver, c);
  return r ? std::move(*r) : nullptr;
}

TEST(ConnectUdpResolver, AnswersFailuresAndASilentServerDoNotBlockTheLoop) {
  auto dns = fake_dns_server();
  Loop l;
  auto r = resolver(l, dns->port());
  ASSERT_TRUE(r);
  std::optional<ResolveResult> ok, nx, slow;
  bool inside = true;
  ASSERT_TRUE(r->resolve("slow.test", [&](ResolveResult x) { slow = std::move(x); }));
  ASSERT_TRUE(r->resolve("ok.test", [&](ResolveResult x) {
    EXPECT_FALSE(inside);  // never from inside resolve()
    ok = std::move(x);
  }));
  ASSERT_TRUE(r->resolve("nx.test", [&](ResolveResult x) { nx = std::move(x); }));
  inside = false;
  EXPECT_EQ(r->pending(), 3u);
  // A timer keeps firing on the same loop while slow.test waits.
  int ticks = 0;
  std::function<void(quic::Instant)> tick = [&](quic::Instant now) {
    ++ticks;
    l.driver.add_timer(now + 10ms, tick);
  };
  l.driver.add_timer(io::monotonic_now() + 10ms, tick);
  ASSERT_TRUE(l.run_until([&] { return ok && nx; }));
  EXPECT_FALSE(slow);  // the answers came while slow.test was still waiting
  EXPECT_EQ(ok->status, ResolveResult::Status::kOk);
  ASSERT_EQ(ok->addresses.size(), 1u);
  EXPECT_EQ(ok->addresses[0].to_string(), "127.0.0.1:0");
  EXPECT_EQ(nx->status, ResolveResult::Status::kNotFound);
  EXPECT_EQ(nx->rcode, "NXDOMAIN");
  ASSERT_TRUE(l.run_until([&] { return slow.has_value(); }));
  EXPECT_EQ(slow->status, ResolveResult::Status::kTimeout);
  EXPECT_GE(ticks, 20);  // ~100 timer periods passed during the wait
  EXPECT_EQ(r->pending(), 0u);
}

TEST(ConnectUdpResolver, OutstandingLookupsAreBoundedAndCancelledOnesStayCounted) {
  auto dns = fake_dns_server();
  Loop l;
  auto r = resolver(l, dns->port(), 4);
  ASSERT_TRUE(r);
  int called = 0;
  std::vector<masque::Resolver::QueryId> ids;
  for (int i = 0; i < 4; ++i) {
    auto id = r->resolve("slow.test", [&](ResolveResult) { ++called; });
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  EXPECT_FALSE(r->resolve("ok.test", [&](ResolveResult) { ++called; }));  // the bound
  r->cancel(ids[0]);
  r->cancel(12345);  // unknown: ignored
  // A cancelled lookup c-ares still works on keeps its slot until c-ares lets go of it.
  EXPECT_EQ(r->pending(), 4u);
  EXPECT_FALSE(r->resolve("ok.test", [&](ResolveResult) { ++called; }));
  ASSERT_TRUE(l.run_until([&] { return r->pending() == 0; }));
  EXPECT_EQ(called, 3);  // the cancelled one never called back
  std::optional<ResolveResult> ok;
  ASSERT_TRUE(r->resolve("ok.test", [&](ResolveResult x) { ok = std::move(x); }));
  ASSERT_TRUE(l.run_until([&] { return ok.has_value(); }));
}

TEST(ConnectUdpResolver, DestroyedWithLookupsInFlight) {
  auto dns = fake_dns_server();
  Loop l;
  int called = 0;
  {
    auto r = resolver(l, dns->port());
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->resolve("slow.test", [&](ResolveResult) { ++called; }));
    ASSERT_TRUE(r->resolve("slow.test", [&](ResolveResult) { ++called; }));
    // The questions are out (c-ares's socket is registered on the loop); then it goes away.
    ASSERT_TRUE(l.run_until([&] { return dns->received() >= 2; }, 1000ms));
  }
  // Its descriptors and timer left the loop with it: nothing is called, and the loop sleeps
  // through the time its timeout would have fired (no timer of its is left to wake it).
  uint64_t wakeups = l.driver.stats().wakeups, fired = l.driver.stats().app_timers_fired;
  (void)l.driver.run_until([] { return false; }, io::monotonic_now() + 1200ms);
  EXPECT_EQ(called, 0);
  EXPECT_EQ(l.driver.stats().app_timers_fired, fired);
  EXPECT_LE(l.driver.stats().wakeups, wakeups + 1);
}

TEST(ConnectUdpResolver, BadServerListIsAConfigurationError) {
  Loop l;
  masque::AresConfig c;
  c.servers = "not an address";
  auto r = masque::AresResolver::create(l.driver, c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().reason.find("not an address"), std::string::npos);
}

}  // namespace
}  // namespace masque_test

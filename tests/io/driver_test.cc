// The event loop over real loopback sockets: deadlines are honoured without spinning, and two
// endpoints in two threads complete a verified transfer (the simulator's transfer app, so any
// byte out of place fails) with GSO/GRO on and off.
#include "io/endpoint_driver.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "harness/transfer_app.h"
#include "io/clock.h"
#include "io/os_random.h"
#include "io/sockaddr.h"
#include "test_endpoint_config.h"

namespace io {
namespace {

using namespace std::chrono_literals;

using test::endpoint_config;

TEST(EndpointDriver, IdleLoopReturnsAtDeadline) {
  auto sock = UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"));
  ASSERT_TRUE(sock);
  OsRandom random;
  quic::Endpoint ep(endpoint_config(true), random);
  EndpointDriver driver(ep, {sock->get()});
  ASSERT_TRUE(driver.ok());
  quic::Instant start = monotonic_now();
  auto r = driver.run_until([] { return false; }, start + 50ms);
  quic::Instant end = monotonic_now();
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(*r);
  EXPECT_GE(end - start, 50ms);
  // Blocked in epoll, not spinning: a handful of iterations, not thousands.
  EXPECT_LT(driver.stats().iterations, 10u);
}

void transfer(bool v6, bool gso, uint64_t bytes, int streams) {
  SocketOptions so;
  so.gso = so.gro = gso;
  auto any = quic::SocketAddress::parse(v6 ? "[::1]:0" : "127.0.0.1:0");
  auto server_sock = UdpSocket::open(*any, so);
  auto client_sock = UdpSocket::open(*any, so);
  ASSERT_TRUE(server_sock && client_sock);

  OsRandom server_random, client_random;
  quic::Endpoint server_ep(endpoint_config(true), server_random);
  quic::Endpoint client_ep(endpoint_config(false), client_random);
  harness::TransferServer server_app;
  harness::TransferPlan plan;
  plan.sizes.assign(static_cast<size_t>(streams), bytes / static_cast<uint64_t>(streams));
  harness::TransferClient client_app((*client_sock)->local_address(),
                                     (*server_sock)->local_address(), plan);

  std::atomic<bool> stop{false};
  DriverStats server_stats;
  std::thread server([&] {
    EndpointDriver d(server_ep, {server_sock->get()});
    d.set_app([&](quic::Endpoint& e, quic::Instant now) { server_app.on_activity(e, now); });
    // Wake every 20 ms at most so the stop flag is seen.
    while (!stop) (void)d.run_until([&] { return stop.load(); }, monotonic_now() + 20ms);
    server_stats = d.stats();
  });
  EndpointDriver d(client_ep, {client_sock->get()});
  d.set_app([&](quic::Endpoint& e, quic::Instant now) { client_app.on_activity(e, now); });
  auto r = d.run_until([&] { return client_app.done(); }, monotonic_now() + 120s);
  stop = true;
  server.join();
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  EXPECT_TRUE(*r) << "timed out";
  EXPECT_FALSE(client_app.failed()) << client_app.error();
  EXPECT_EQ(client_app.bytes_received(), plan.sizes[0] * plan.sizes.size());
  const SocketStats& ss = (*server_sock)->stats();
  if (gso) {
    // The core built the runs (Connection::poll_transmit) and they left with UDP_SEGMENT as
    // they were: long runs, not pairs, each one GSO message.
    EXPECT_GT(server_stats.core_runs, 0u);
    EXPECT_GT(server_stats.core_run_datagrams, 4 * server_stats.core_runs);
    EXPECT_GE(ss.gso_messages, server_stats.core_runs);
    EXPECT_GE(ss.gso_datagrams, server_stats.core_run_datagrams);
    EXPECT_GT(ss.gso_datagrams, 4 * ss.gso_messages);
  } else {
    // No socket with GSO: the driver asks for one datagram per transmit.
    EXPECT_EQ(server_stats.core_runs, 0u);
    EXPECT_EQ(ss.gso_messages, 0u);
    EXPECT_EQ((*client_sock)->stats().gro_buffers, 0u);
  }
}

TEST(EndpointDriver, TransferIPv4WithGso) {
  transfer(false, true, 8 << 20, 4);
}
TEST(EndpointDriver, TransferIPv4WithoutGso) {
  transfer(false, false, 8 << 20, 4);
}
TEST(EndpointDriver, TransferIPv6WithGso) {
  transfer(true, true, 8 << 20, 1);
}

}  // namespace
}  // namespace io

namespace io {
namespace {

using namespace std::chrono_literals;
using test::endpoint_config;

// One server endpoint on an IPv4 and an IPv6 socket: each client's replies must leave through
// the socket of its own family (the transmit's local address picks it).
TEST(EndpointDriver, OneEndpointServesIPv4AndIPv6Sockets) {
  auto s4 = UdpSocket::open(*quic::SocketAddress::parse("127.0.0.1:0"));
  auto s6 = UdpSocket::open(*quic::SocketAddress::parse("[::1]:0"));
  ASSERT_TRUE(s4 && s6);
  OsRandom server_random;
  quic::Endpoint server_ep(endpoint_config(true), server_random);
  harness::TransferServer server_app;
  std::atomic<bool> stop{false};
  std::thread server([&] {
    EndpointDriver d(server_ep, {s4->get(), s6->get()});
    d.set_app([&](quic::Endpoint& e, quic::Instant now) { server_app.on_activity(e, now); });
    while (!stop) (void)d.run_until([&] { return stop.load(); }, monotonic_now() + 20ms);
  });
  for (UdpSocket* target : {s4->get(), s6->get()}) {
    auto cs =
        UdpSocket::open(target->local_address().v6 ? *quic::SocketAddress::parse("[::1]:0")
                                                   : *quic::SocketAddress::parse("127.0.0.1:0"));
    ASSERT_TRUE(cs);
    OsRandom client_random;
    quic::Endpoint client_ep(endpoint_config(false), client_random);
    harness::TransferPlan plan;
    plan.sizes = {1 << 20};
    harness::TransferClient client_app((*cs)->local_address(), target->local_address(), plan);
    EndpointDriver d(client_ep, {cs->get()});
    d.set_app([&](quic::Endpoint& e, quic::Instant now) { client_app.on_activity(e, now); });
    auto r = d.run_until([&] { return client_app.done(); }, monotonic_now() + 60s);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(*r);
    EXPECT_FALSE(client_app.failed()) << client_app.error();
    EXPECT_EQ(client_app.bytes_received(), 1u << 20);
  }
  stop = true;
  server.join();
  EXPECT_GT((*s4)->stats().datagrams_sent, 700u);  // 1 MiB in ~1.4 kB datagrams
  EXPECT_GT((*s6)->stats().datagrams_sent, 700u);
}

}  // namespace
}  // namespace io

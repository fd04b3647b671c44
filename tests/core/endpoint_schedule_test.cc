// quic::Endpoint visits only the connections something touched (core/endpoint_schedule.h):
// the schedule alone (deadline order, ready FIFO, forgetting), then through endpoints: a
// connection changed through connection() after it went idle sends again, the timer of the last
// of 5,000 connections fires at its deadline and not before, closed connections are reaped and
// reported, and connections with data take turns.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/endpoint_schedule.h"
#include "support/pair.h"

namespace quic {
namespace {

Instant at_ms(int64_t ms) { return instant_from_ns(1'000'000'000 + ms * 1'000'000); }

std::optional<Instant> no_deadline(ConnectionHandle) { return kNever; }

TEST(EndpointSchedule, DeadlinesComeOutInOrderWithTiesByHandle) {
  EndpointSchedule s;
  std::map<ConnectionHandle, Instant> at = {{3, at_ms(5)}, {1, at_ms(5)}, {2, at_ms(1)},
                                            {4, kNever}};
  for (const auto& [h, t] : at) s.touch(h);
  s.settle([&](ConnectionHandle h) -> std::optional<Instant> { return at.at(h); });
  EXPECT_EQ(s.next_deadline(), at_ms(1));
  EXPECT_FALSE(s.pop_due(at_ms(0)).has_value());
  EXPECT_EQ(s.pop_due(at_ms(5)), 2u);
  EXPECT_EQ(s.pop_due(at_ms(5)), 1u);
  EXPECT_EQ(s.pop_due(at_ms(5)), 3u);
  // 4 has no deadline; the popped ones wait until their deadline is read again.
  EXPECT_FALSE(s.pop_due(at_ms(100)).has_value());
  EXPECT_EQ(s.next_deadline(), kNever);
  s.touch(1);
  s.settle([&](ConnectionHandle) -> std::optional<Instant> { return at_ms(7); });
  EXPECT_EQ(s.next_deadline(), at_ms(7));
}

TEST(EndpointSchedule, TouchedConnectionsBecomeReadyOnceInHandleOrder) {
  EndpointSchedule s;
  for (ConnectionHandle h : {5, 2, 9, 2, 5}) s.touch(h);
  s.settle(no_deadline);
  EXPECT_EQ(s.ready_count(), 3u);
  EXPECT_EQ(s.pop_ready(), 2u);
  s.touch(5);  // already waiting in the FIFO: not queued twice
  s.settle(no_deadline);
  EXPECT_EQ(s.pop_ready(), 5u);
  EXPECT_EQ(s.pop_ready(), 9u);
  EXPECT_FALSE(s.pop_ready().has_value());
}

TEST(EndpointSchedule, SendersTakeTurnsAndOneWithNothingLeaves) {
  EndpointSchedule s;
  for (ConnectionHandle h : {1, 2, 3}) s.touch(h);
  s.settle(no_deadline);
  std::vector<ConnectionHandle> order;
  int turns_of_2 = 0;
  while (order.size() < 10) {
    auto h = s.pop_ready();
    ASSERT_TRUE(h.has_value());
    order.push_back(*h);
    // 2 has data for one datagram; 1 and 3 keep sending.
    if (*h != 2 || ++turns_of_2 == 1) s.requeue(*h);
  }
  EXPECT_EQ(order, (std::vector<ConnectionHandle>{1, 2, 3, 1, 2, 3, 1, 3, 1, 3}));
}

TEST(EndpointSchedule, RemovedConnectionsAreSkippedAndForgotten) {
  EndpointSchedule s;
  s.touch(1);
  s.touch(2);
  s.settle([](ConnectionHandle h) -> std::optional<Instant> {
    return at_ms(static_cast<int64_t>(h));
  });
  s.remove(1);
  EXPECT_EQ(s.next_deadline(), at_ms(2));
  EXPECT_EQ(s.pop_ready(), 2u);
  EXPECT_FALSE(s.pop_ready().has_value());
  EXPECT_EQ(s.size(), 1u);
  // A handle the reader no longer knows is forgotten when it is settled.
  s.touch(2);
  s.settle([](ConnectionHandle) -> std::optional<Instant> { return std::nullopt; });
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.next_deadline(), kNever);
}

const uint8_t kPing[4] = {'p', 'i', 'n', 'g'};

// Idle, the connection left the ready FIFO. A write through a fresh connection() lookup, or
// through a kept pointer followed by touch(), makes the endpoint poll it again, with no
// datagram or timer in between.
TEST(EndpointScheduling, ConnectionTouchedAfterGoingIdleIsPolledAgain) {
  test::Pair p;
  ASSERT_TRUE(p.handshake());
  ASSERT_TRUE(p.settle(std::chrono::milliseconds(200)));
  Endpoint& ep = p.client_endpoint();
  const ConnectionHandle h = *p.client_side_state().handle;
  std::vector<uint8_t> buf(65536);
  ASSERT_FALSE(ep.poll_transmit(p.now(), buf).has_value());

  Connection* c = ep.connection(h);
  ASSERT_NE(c, nullptr);
  auto id = c->open_stream(true);
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(c->stream_write(*id, kPing, false).has_value());
  EXPECT_TRUE(ep.poll_transmit(p.now(), buf).has_value());
  while (ep.poll_transmit(p.now(), buf)) {
  }

  ASSERT_TRUE(c->stream_write(*id, kPing, true).has_value());  // kept pointer: not seen yet
  EXPECT_FALSE(ep.poll_transmit(p.now(), buf).has_value());
  ep.touch(h);
  EXPECT_TRUE(ep.poll_transmit(p.now(), buf).has_value());
}

// 5,000 client connections with nothing but their Initials' PTO timers. The last one starts
// half a PTO later, so its timer is the only one due once the others have backed off; it fires
// at its deadline, not a nanosecond before.
TEST(EndpointScheduling, TimerOfTheLastOfFiveThousandConnectionsFiresOnTime) {
  constexpr size_t kConnections = 5000;
  SeededRandom random(11);
  EndpointConfig config;
  config.tls = test::test_tls_context(false, {"hq-interop"});
  Endpoint ep(config, random);
  const SocketAddress local = SocketAddress::v4(198, 18, 0, 1, 40000);
  const SocketAddress remote = SocketAddress::v4(198, 18, 0, 2, 443);
  std::vector<uint8_t> buf(65536);
  auto drain = [&](Instant now) {
    size_t n = 0;
    while (n < 4 * kConnections && ep.poll_transmit(now, buf)) ++n;
    return n;
  };
  const Instant t0 = at_ms(0);
  for (size_t i = 0; i + 1 < kConnections; ++i) ASSERT_TRUE(ep.connect(local, remote, t0));
  ASSERT_GE(drain(t0), kConnections - 1);
  const Duration pto = ep.next_timeout() - t0;
  ASSERT_GT(pto, Duration::zero());

  auto last = ep.connect(local, remote, t0 + pto / 2);
  ASSERT_TRUE(last.has_value());
  ASSERT_GE(drain(t0 + pto / 2), 1u);
  // The others' PTOs fire and back off (RFC 9002 §6.2.1): their next deadline is 2 PTOs away.
  ep.on_timeout(t0 + pto);
  ASSERT_GE(drain(t0 + pto), kConnections - 1);

  const Instant due = ep.next_timeout();
  EXPECT_EQ(due, ep.connection(*last)->next_timeout());
  EXPECT_LT(due, t0 + 2 * pto);
  ep.on_timeout(due - Duration(1));
  EXPECT_EQ(ep.connection(*last)->next_timeout(), due);
  EXPECT_EQ(drain(due - Duration(1)), 0u);
  ep.on_timeout(due);
  EXPECT_GT(ep.connection(*last)->next_timeout(), due);
  EXPECT_GE(drain(due), 1u);  // its probe
  EXPECT_GT(ep.next_timeout(), due);
}

// The client closes; once the server's draining period is over its connection is closed, and
// reap_closed() drops it, returns its handle and reports it to take_activity().
TEST(EndpointScheduling, ClosedConnectionIsReapedAndReported) {
  test::Pair p;
  ASSERT_TRUE(p.handshake());
  Endpoint& ep = p.server_endpoint();
  ep.track_activity();
  (void)ep.take_activity();
  p.client()->close(0, "done", p.now());
  p.run_for(std::chrono::seconds(10));
  const ConnectionHandle h = *p.server_side_state().handle;
  ASSERT_NE(p.server(), nullptr);
  EXPECT_TRUE(p.server()->is_closed());
  EXPECT_EQ(ep.reap_closed(), std::vector<ConnectionHandle>{h});
  EXPECT_EQ(ep.connection(h), nullptr);
  EXPECT_EQ(ep.connection_count(), 0u);
  auto activity = ep.take_activity();
  EXPECT_NE(std::find(activity.begin(), activity.end(), h), activity.end());
  EXPECT_TRUE(ep.reap_closed().empty());
  EXPECT_EQ(ep.next_timeout(), kNever);
}

// Two client connections with data on one endpoint: polls alternate between them while both
// have data (round-robin), not one connection first and then the other.
TEST(EndpointScheduling, ConnectionsWithDataTakeTurns) {
  test::PairConfig config;
  test::Pair p(config);
  Endpoint& ep = p.client_endpoint();
  auto second = ep.connect(config.net.client_addr, config.net.server_addr, p.now());
  ASSERT_TRUE(second.has_value());
  const ConnectionHandle first = *p.client_side_state().handle;
  ASSERT_TRUE(p.drive_until([&] {
    return ep.connection(first)->handshake_complete() &&
           ep.connection(*second)->handshake_complete();
  }));
  ASSERT_TRUE(p.settle(std::chrono::milliseconds(200)));
  std::vector<uint8_t> bulk(20'000, 0x5a);
  for (ConnectionHandle h : {first, *second}) {
    Connection* c = ep.connection(h);
    auto id = c->open_stream(true);
    ASSERT_TRUE(id.has_value());
    ASSERT_EQ(c->stream_write(*id, bulk, true), bulk.size());
  }
  // Read through kept pointers: a lookup would touch them, which the test is not about.
  const Connection* one = ep.connection(first);
  const Connection* two = ep.connection(*second);
  std::vector<uint8_t> buf(65536);
  std::vector<ConnectionHandle> senders;
  for (int i = 0; i < 8; ++i) {
    const uint64_t a = one->stats().packets_sent, b = two->stats().packets_sent;
    ASSERT_TRUE(ep.poll_transmit(p.now(), buf).has_value());
    if (one->stats().packets_sent != a) senders.push_back(first);
    if (two->stats().packets_sent != b) senders.push_back(*second);
  }
  ASSERT_EQ(senders.size(), 8u);
  for (size_t i = 1; i < senders.size(); ++i) EXPECT_NE(senders[i], senders[i - 1]) << i;
}

}  // namespace
}  // namespace quic

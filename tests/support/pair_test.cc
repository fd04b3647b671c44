// test::Pair itself: stepping order, the bounds of drive_until, interceptors, by-hand moves,
// link changes, paths and determinism.
#include "support/pair.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace test {
namespace {

NetConfig with_delay(Duration one_way) {
  NetConfig n;
  n.to_server = n.to_client = NetConfig::instant_link(one_way);
  return n;
}

bool has(const std::vector<quic::Event>& events, quic::EventKind kind) {
  return std::any_of(events.begin(), events.end(),
                     [&](const quic::Event& e) { return e.kind == kind; });
}

TEST(Pair, HandshakeCompletesAndEventsAreDrainedPerSide) {
  Pair p;
  ASSERT_NE(p.client(), nullptr);
  ASSERT_TRUE(p.handshake());
  ASSERT_NE(p.server(), nullptr);
  EXPECT_TRUE(has(p.client_side_state().events, quic::EventKind::kHandshakeCompleted));
  EXPECT_TRUE(has(p.server_side_state().events, quic::EventKind::kHandshakeCompleted));
  EXPECT_FALSE(p.sent(Dir::kToServer).empty());
  EXPECT_FALSE(p.sent(Dir::kToClient).empty());
}

TEST(Pair, BareClientConnectionHandshakesWithTheServerEndpoint) {
  PairConfig c;
  c.bare_client = true;
  Pair p(c);
  ASSERT_NE(p.client(), nullptr);
  ASSERT_TRUE(p.handshake());
  EXPECT_TRUE(has(p.client_side_state().events, quic::EventKind::kHandshakeCompleted));
  EXPECT_EQ(p.server_endpoint().connection_count(), 1u);
}

TEST(Pair, FirstStepsFollowTheLinkDelay) {
  PairConfig c;
  c.net = with_delay(10ms);
  Pair p(c);
  const Instant start = p.now();
  // The client's Initial leaves at once and is the first thing to touch a side: the server.
  ASSERT_TRUE(p.step());
  EXPECT_EQ(p.now(), start + 10ms);
  EXPECT_NE(p.server(), nullptr);
  // The server answered at once; its flight reaches the client one delay later.
  ASSERT_TRUE(p.step());
  EXPECT_EQ(p.now(), start + 20ms);
}

TEST(Pair, StepWakesTheEarliestTimerWhenNothingIsOnTheWire) {
  Pair p;
  p.intercept = [](Dir, sim::Datagram&, Instant) { return Verdict::kDrop; };
  ASSERT_TRUE(p.step());  // the client's first PTO: the Initial was dropped
  const Instant before = p.now();
  const Instant pto = p.client_endpoint().next_timeout();
  ASSERT_GT(pto, before);
  ASSERT_NE(pto, quic::kNever);
  ASSERT_TRUE(p.step());
  EXPECT_EQ(p.now(), pto);
}

TEST(Pair, TimeNeverGoesBackwardsAcrossSteps) {
  PairConfig c;
  c.net = with_delay(3ms);
  c.net.to_server.jitter = 2ms;
  Pair p(c);
  Instant last = p.now();
  for (int i = 0; i < 200 && p.step(p.now() + 1s); ++i) {
    EXPECT_GE(p.now(), last);
    last = p.now();
  }
  EXPECT_TRUE(p.client()->handshake_complete());
}

TEST(Pair, DriveUntilStopsAtItsStepBound) {
  Pair p;
  const uint64_t before = p.steps();
  EXPECT_FALSE(p.drive_until([] { return false; }, Limits{5, 3600s}));
  EXPECT_EQ(p.steps() - before, 5u);
}

TEST(Pair, DroppingEverythingMakesDriveUntilFailWithinItsTimeLimit) {
  Pair p;
  uint64_t dropped = 0;
  p.intercept = [&](Dir, sim::Datagram&, Instant) {
    ++dropped;
    return Verdict::kDrop;
  };
  const Instant start = p.now();
  EXPECT_FALSE(p.handshake(Limits{1'000'000, 2s}));
  EXPECT_LE(p.now() - start, 2s);
  EXPECT_FALSE(p.client()->handshake_complete());
  EXPECT_EQ(p.server(), nullptr);
  EXPECT_GE(dropped, 2u);  // the Initial and at least one retransmission
  EXPECT_EQ(p.network().stats(p.link_id(0), true).sent_packets, 0u);
}

TEST(Pair, InterceptorCanDropOneDatagramAndRewriteOthers) {
  Pair p;
  int server_datagrams = 0;
  uint64_t remarked = 0;
  p.intercept = [&](Dir d, sim::Datagram& dg, Instant) {
    if (d == Dir::kToClient && server_datagrams++ == 0) return Verdict::kDrop;
    if (d == Dir::kToServer) {
      dg.ecn = sim::kEct1;
      ++remarked;
    }
    return Verdict::kPass;
  };
  ASSERT_TRUE(p.handshake());  // recovered from the lost first server flight
  EXPECT_GT(server_datagrams, 1);
  EXPECT_GT(remarked, 0u);
}

TEST(Pair, TakeAndDeliverMoveDatagramsByHand) {
  Pair p;
  auto initial = p.take(Dir::kToServer);
  ASSERT_FALSE(initial.empty());
  EXPECT_GE(initial.front().payload.size(), 1200u);  // a padded client Initial
  EXPECT_EQ(p.sent(Dir::kToServer).size(), initial.size());
  for (auto& d : initial) p.deliver(Dir::kToServer, std::move(d));
  ASSERT_NE(p.server(), nullptr);
  auto reply = p.take(Dir::kToClient);
  EXPECT_FALSE(reply.empty());
  for (auto& d : reply) p.deliver(Dir::kToClient, std::move(d));
  // Nothing crossed a link; the automatic stepping carries on from the by-hand state.
  EXPECT_EQ(p.network().stats(p.link_id(0), true).sent_packets, 0u);
  ASSERT_TRUE(p.handshake());
}

TEST(Pair, AdvanceMovesTheClockWithoutWakingEitherSide) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  ASSERT_TRUE(p.settle(100ms));
  const size_t sent_before = p.sent(Dir::kToServer).size() + p.sent(Dir::kToClient).size();
  const Instant before = p.now();
  p.advance(5s);
  EXPECT_EQ(p.now(), before + 5s);
  EXPECT_EQ(p.sent(Dir::kToServer).size() + p.sent(Dir::kToClient).size(), sent_before);
}

TEST(Pair, ChangedLinkDelayShowsInTheNextExchange) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  ASSERT_TRUE(p.settle(100ms));
  p.change_link(0, Dir::kToServer, [](sim::LinkConfig& l) { l.delay = 40ms; });
  auto id = p.client()->open_stream(true);
  ASSERT_TRUE(id.has_value());
  const uint8_t byte = 7;
  ASSERT_TRUE(p.client()->stream_write(*id, quic::Bytes(&byte, 1), true).has_value());
  const Instant sent_at = p.now();
  ASSERT_TRUE(p.drive_until([&] {
    return has(p.server_side_state().events, quic::EventKind::kStreamOpened) ||
           has(p.server_side_state().events, quic::EventKind::kStreamReadable);
  }));
  EXPECT_EQ(p.now() - sent_at, 40ms);
}

TEST(Pair, ExtraClientAddressesAreSeparatePaths) {
  PairConfig c;
  c.net.extra_client_addrs = {SocketAddress::v4(192, 0, 2, 11, 50001)};
  Pair p(c);
  ASSERT_EQ(p.paths(), 2u);
  EXPECT_NE(p.link_id(0), p.link_id(1));
  ASSERT_TRUE(p.handshake());
  EXPECT_GT(p.network().stats(p.link_id(0), true).delivered_packets, 0u);
  EXPECT_EQ(p.network().stats(p.link_id(1), true).sent_packets, 0u);  // no path opened on it
}

// The multipath tests' shape: a second path on its own link, then the first link goes dark and
// the data still arrives over the second.
TEST(Pair, SecondPathCarriesDataWhenTheFirstLinkDrops) {
  PairConfig c;
  c.client.connection.multipath = c.server.connection.multipath = true;
  const SocketAddress second = SocketAddress::v4(192, 0, 2, 11, 50001);
  c.net.extra_client_addrs = {second};
  c.net.to_server = c.net.to_client = NetConfig::instant_link(5ms);
  Pair p(c);
  ASSERT_TRUE(p.handshake());
  ASSERT_TRUE(p.settle(100ms));
  ASSERT_TRUE(p.client()->add_path(second, c.net.server_addr).has_value());
  ASSERT_TRUE(p.drive_until(
      [&] { return has(p.client_side_state().events, quic::EventKind::kPathValidated); }));
  for (Dir d : {Dir::kToServer, Dir::kToClient}) {
    p.change_link(0, d, [](sim::LinkConfig& l) { l.loss = 1.0; });
  }
  auto id = p.client()->open_stream(true);
  ASSERT_TRUE(id.has_value());
  std::vector<uint8_t> data(20'000, 0x33);
  ASSERT_EQ(p.client()->stream_write(*id, data, true).value_or(0), data.size());
  ASSERT_TRUE(p.drive_until(
      [&] { return has(p.client_side_state().events, quic::EventKind::kStreamFinished); },
      Limits{100'000, 20s}));
  EXPECT_GT(p.network().stats(p.link_id(1), true).delivered_bytes, data.size());
  EXPECT_GT(p.network().stats(p.link_id(0), true).dropped_loss, 0u);  // path 0 was tried
}

TEST(Pair, AddressFirstUsedByTheClientIsAdoptedAsAPath) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  ASSERT_TRUE(p.settle(100ms));  // handshake confirmed, spare connection IDs issued
  ASSERT_EQ(p.paths(), 1u);
  const SocketAddress moved = SocketAddress::v4(192, 0, 2, 77, 5555);
  ASSERT_TRUE(p.client()->migrate(moved).has_value());
  ASSERT_TRUE(p.drive_until([&] { return p.server()->path().remote == moved; }));
  EXPECT_EQ(p.paths(), 2u);
  ASSERT_TRUE(p.settle(100ms));
  EXPECT_GT(p.network().stats(p.link_id(1), false).delivered_packets, 0u);  // replies arrive
  EXPECT_EQ(p.network().undeliverable(), 0u);
  EXPECT_EQ(p.network().unroutable(), 0u);
}

// A handshake and 40 KB on a stream over links losing 20%: enough packets for the seed to show.
uint64_t lossy_run(uint64_t seed) {
  PairConfig c;
  c.net = with_delay(5ms);
  c.net.seed = seed;
  c.net.to_server.loss = c.net.to_client.loss = 0.2;
  Pair p(c);
  EXPECT_TRUE(p.handshake(Limits{100'000, 20s}));
  auto id = p.client()->open_stream(true);
  EXPECT_TRUE(id.has_value());
  std::vector<uint8_t> data(40'000, 0x5a);
  EXPECT_EQ(p.client()->stream_write(*id, data, true).value_or(0), data.size());
  EXPECT_TRUE(p.drive_until(
      [&] { return has(p.client_side_state().events, quic::EventKind::kStreamFinished); },
      Limits{100'000, 20s}));
  EXPECT_GT(p.network().stats(p.link_id(0), true).dropped_loss, 0u);
  return p.network().trace_hash();
}

TEST(Pair, SameSeedSameRun) {
  EXPECT_EQ(lossy_run(3), lossy_run(3));
  EXPECT_NE(lossy_run(3), lossy_run(4));
}

}  // namespace
}  // namespace test

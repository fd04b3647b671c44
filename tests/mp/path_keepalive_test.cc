// Per-path keepalive intervals through a connection pair (Connection::set_path_keepalive): an
// idle connection whose client keeps one path alive every second and a metered backup path
// every ten, counted on the wire over a minute of virtual time; the idle-timeout cap; and the
// interval surviving the path's reopening after a failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "support/pair.h"

namespace test {
namespace {

const SocketAddress kSecond = SocketAddress::v4(192, 0, 2, 11, 50001);

bool has(const std::vector<quic::Event>& events, quic::EventKind kind) {
  return std::any_of(events.begin(), events.end(),
                     [&](const quic::Event& e) { return e.kind == kind; });
}

// Two paths (path 1 a backup on its own link), 5 ms one way. The server sends no keepalives
// (path_keepalive 0), so every datagram the idle client sends is one of its keepalive PINGs.
PairConfig two_paths(Duration idle_timeout) {
  PairConfig c;
  c.client.connection.multipath = c.server.connection.multipath = true;
  c.client.connection.idle_timeout = c.server.connection.idle_timeout = idle_timeout;
  c.server.connection.path_keepalive = Duration{0};
  c.net.extra_client_addrs = {kSecond};
  c.net.to_server = c.net.to_client = NetConfig::instant_link(5ms);
  return c;
}

// Handshake, then path 1 opened (as a backup) and validated.
void open_second_path(Pair& p) {
  ASSERT_TRUE(p.handshake());
  ASSERT_TRUE(p.settle(100ms));
  ASSERT_TRUE(p.client()->add_path(kSecond, p.server()->path().local, true).has_value());
  ASSERT_TRUE(p.drive_until(
      [&] { return has(p.client_side_state().events, quic::EventKind::kPathValidated); }));
  ASSERT_NE(p.client()->find_path(1), nullptr);
}

// The times the client sent a datagram from `from` during the next `d` of virtual time.
std::vector<Instant> client_sends_from(Pair& p, const SocketAddress& from, Duration d) {
  std::vector<Instant> times;
  p.intercept = [&](Dir dir, sim::Datagram& dg, Instant now) {
    if (dir == Dir::kToServer && dg.src == from) times.push_back(now);
    return Verdict::kPass;
  };
  p.run_for(d);
  p.intercept = nullptr;
  return times;
}

// Every gap between consecutive sends is `interval` (plus at most `slack` of timer rounding).
void expect_every(const std::vector<Instant>& times, Duration interval, Duration slack) {
  for (size_t i = 1; i < times.size(); ++i) {
    EXPECT_GE(times[i] - times[i - 1], interval) << "gap " << i;
    EXPECT_LE(times[i] - times[i - 1], interval + slack) << "gap " << i;
  }
}

TEST(PathKeepalive, IdleBackupPathPingsEveryTenSecondsWhileTheOtherPingsEverySecond) {
  PairConfig c = two_paths(120s);
  Pair p(c);
  open_second_path(p);
  ASSERT_TRUE(p.client()->set_path_keepalive(1, 10s));
  EXPECT_EQ(p.client()->path_keepalive(1), 10s);
  EXPECT_EQ(p.client()->path_keepalive(0), 1s);  // the connection-wide interval
  p.run_for(12s);  // past the validation traffic: both paths idle on keepalives only
  const SocketAddress first = p.client()->path(0).local;
  std::vector<Instant> fast, slow;
  p.intercept = [&](Dir dir, sim::Datagram& dg, Instant now) {
    if (dir == Dir::kToServer) (dg.src == kSecond ? slow : fast).push_back(now);
    return Verdict::kPass;
  };
  ASSERT_EQ(first, c.net.client_addr);
  p.run_for(60s);
  p.intercept = nullptr;
  // 60 s at 1 s and at 10 s: the window catches 60 and 6 PINGs (one more or fewer at its edges).
  EXPECT_GE(fast.size(), 59u);
  EXPECT_LE(fast.size(), 61u);
  EXPECT_GE(slow.size(), 5u);
  EXPECT_LE(slow.size(), 7u);
  expect_every(fast, 1s, 2ms);
  expect_every(slow, 10s, 2ms);
  EXPECT_FALSE(p.client()->is_closed());
}

// An interval longer than half the negotiated idle timeout is cut to it while no other path
// keeps the connection alive: with a 10 s wish on both paths and an 8 s idle timeout, each path
// PINGs every 4 s, and the connection survives the idle 40 s.
TEST(PathKeepalive, IntervalIsCappedAtHalfTheIdleTimeoutWhenNoPathKeepsTheConnectionAlive) {
  PairConfig c = two_paths(8s);
  c.server.connection.path_keepalive = 60s;  // capped at 4 s as well, and deferred by the client's
  Pair p(c);
  open_second_path(p);
  ASSERT_TRUE(p.client()->set_path_keepalive(0, 10s));
  ASSERT_TRUE(p.client()->set_path_keepalive(1, 10s));
  EXPECT_EQ(p.client()->path_keepalive(0), 4s);
  EXPECT_EQ(p.client()->path_keepalive(1), 4s);
  p.run_for(10s);
  std::vector<Instant> slow = client_sends_from(p, kSecond, 40s);
  // The client's PINGs every 4 s; the server's PINGs, due 4 s after the client's last one
  // arrived, never come first, so the client sends nothing else on the path.
  ASSERT_GE(slow.size(), 9u);
  EXPECT_LE(slow.size(), 11u);
  expect_every(slow, 4s, 2ms);
  EXPECT_FALSE(p.client()->is_closed());
  EXPECT_FALSE(p.server()->is_closed());
}

TEST(PathKeepalive, RefusesUnknownPathsAndOutOfRangeIntervals) {
  Pair p(two_paths(30s));
  open_second_path(p);
  EXPECT_FALSE(p.client()->set_path_keepalive(7, 10s));  // no such path
  EXPECT_FALSE(p.client()->set_path_keepalive(1, 50ms));
  EXPECT_FALSE(p.client()->set_path_keepalive(1, 601s));
  EXPECT_EQ(p.client()->path_keepalive(1), 1s);
  ASSERT_TRUE(p.client()->abandon_path(1).has_value());
  EXPECT_FALSE(p.client()->set_path_keepalive(1, 10s));  // closed
}

void go_dark(Pair& p, size_t path, bool dark) {
  for (Dir d : {Dir::kToServer, Dir::kToClient}) {
    p.change_link(path, d, [dark](sim::LinkConfig& l) { l.loss = dark ? 1.0 : 0.0; });
  }
}

// While the other path keeps the connection alive (1 s), a backup's 10 s wish is in force
// despite the 8 s idle timeout (multipath-21 defines no per-path idle timeout). When that path
// goes dark and fails, the cap is back at once: the backup PINGs within 4 s and the connection
// survives on it.
TEST(PathKeepalive, LongIntervalOnlyWhileAnotherPathKeepsTheConnectionAlive) {
  Pair p(two_paths(8s));
  open_second_path(p);
  ASSERT_TRUE(p.client()->set_path_keepalive(1, 10s));
  EXPECT_EQ(p.client()->path_keepalive(1), 10s);
  p.run_for(12s);
  std::vector<Instant> slow = client_sends_from(p, kSecond, 30s);
  ASSERT_GE(slow.size(), 2u);
  EXPECT_LE(slow.size(), 4u);
  expect_every(slow, 10s, 2ms);
  go_dark(p, 0, true);
  ASSERT_TRUE(p.drive_until([&] { return p.client()->path(0).health.failed(); }));
  EXPECT_EQ(p.client()->path_keepalive(1), 4s);
  slow = client_sends_from(p, kSecond, 30s);
  ASSERT_GE(slow.size(), 7u);
  for (size_t i = 1; i < slow.size(); ++i) EXPECT_LE(slow[i] - slow[i - 1], 4s + 2ms);
  EXPECT_FALSE(p.client()->is_closed());
  EXPECT_FALSE(p.server()->is_closed());
}

// A new path has no RTT sample yet, so its PTO (about 1 s from the initial RTT) is no shorter
// than the 1 s keepalive. A keepalive sent while the last one is unanswered would push that
// PTO back every time, and a dark idle path would never time out: it waits for the PTO.
TEST(PathKeepalive, DarkIdlePathFailsThoughItsKeepaliveIsShorterThanItsPto) {
  Pair p(two_paths(120s));
  open_second_path(p);
  ASSERT_EQ(p.client()->path_keepalive(1), 1s);
  go_dark(p, 1, true);
  const Instant dark = p.now();
  // PTOs at about 1, 3 and 7 s (doubling): failed after the third.
  ASSERT_TRUE(p.drive_until([&] { return p.client()->find_path(1)->health.failed(); },
                            Limits{100'000, 20s}));
  EXPECT_LE(p.now() - dark, 8s);
  EXPECT_EQ(p.client()->stats().paths_failed, 1u);
}

// The wish stays with the 4-tuple: the backup link dies, its path fails and is abandoned, and
// once the link is back the client's path manager reopens the 4-tuple as a new path, which
// keeps 10 s. (Also: the abandoned path's packets in flight arm no PTO, which could never send
// its probe and left the client's timer in the past: a busy loop until the path's state went.)
TEST(PathKeepalive, ReopenedPathKeepsItsInterval) {
  PairConfig c = two_paths(120s);
  c.client.connection.path_abandon_after = 2s;
  Pair p(c);
  open_second_path(p);
  ASSERT_TRUE(p.client()->set_path_keepalive(1, 10s));
  go_dark(p, 1, true);
  ASSERT_TRUE(p.drive_until([&] { return p.client()->stats().paths_abandoned > 0; },
                            Limits{100'000, 30s}));
  go_dark(p, 1, false);
  auto reopened = [&]() -> const quic::Path* {
    for (size_t i = 0; i < p.client()->path_count(); ++i) {
      const quic::Path& path = p.client()->path(i);
      if (path.id > 1 && path.local == kSecond && path.validated) return &path;
    }
    return nullptr;
  };
  ASSERT_TRUE(p.drive_until([&] { return reopened() != nullptr; }, Limits{100'000, 40s}));
  EXPECT_EQ(p.client()->path_keepalive(reopened()->id), 10s);
  p.run_for(2s);  // past the new path's validation
  std::vector<Instant> slow = client_sends_from(p, kSecond, 30s);
  EXPECT_GE(slow.size(), 2u);
  EXPECT_LE(slow.size(), 4u);
  expect_every(slow, 10s, 2ms);
}

}  // namespace
}  // namespace test

// The client's reconnection schedule (reconnect.h): the backoff table with its cap and jitter
// bounds, which refusals end the daemon, the schedule across outages (at once first, growing,
// started over after a connection that held), and the server's persisted reset key format.
#include <gtest/gtest.h>

#include <set>

#include "tquicd/reconnect.h"
#include "tquicd/reset_key.h"

namespace bond {
namespace {

using namespace std::chrono_literals;

TEST(ReconnectDelay, DoublesFromOneSecondUpToTheCap) {
  struct Row {
    uint64_t attempt;
    quic::Duration base;
  };
  const Row table[] = {{0, 0s},  {1, 0s},  {2, 1s},   {3, 2s},   {4, 4s},
                       {5, 8s},  {6, 16s}, {7, 30s},  {8, 30s},  {1000, 30s},
                       {UINT64_MAX, 30s}};
  for (const Row& r : table) {
    EXPECT_EQ(reconnect_delay(r.attempt, 0.0), r.base) << r.attempt;
    // The jitter only shortens, by at most kReconnectJitter: never past the cap.
    auto shortest = std::chrono::duration_cast<quic::Duration>(r.base * (1 - kReconnectJitter));
    EXPECT_EQ(reconnect_delay(r.attempt, 1.0), shortest) << r.attempt;
    quic::Duration mid = reconnect_delay(r.attempt, 0.5);
    EXPECT_LE(mid, r.base);
    EXPECT_GE(mid, shortest);
  }
  EXPECT_EQ(reconnect_delay(3, 0.5), 1800ms);
  // Out-of-range random numbers are clamped, not extrapolated.
  EXPECT_EQ(reconnect_delay(7, -3.0), 30s);
  EXPECT_EQ(reconnect_delay(7, 7.0), 24s);
}

TEST(ReconnectDelay, DefinitiveRefusals) {
  for (int status : {400, 401, 403, 404, 405, 499}) EXPECT_TRUE(definitive_refusal(status));
  for (int status : {0, 200, 301, 408, 429, 500, 502, 503, 600, -1})
    EXPECT_FALSE(definitive_refusal(status)) << status;
}

TEST(ReconnectSchedule, FirstAtOnceThenBackoffUntilConnected) {
  ReconnectSchedule s(7);
  quic::Instant t{};
  EXPECT_FALSE(s.reconnecting());
  EXPECT_EQ(s.attempt(), 1u);  // the first connection's
  EXPECT_EQ(s.on_connected(t), std::nullopt);  // the first connection is no reconnection
  EXPECT_EQ(s.attempt(), 0u);
  t += 10s;
  s.on_disconnected(t, "idle timeout");
  EXPECT_TRUE(s.reconnecting());
  EXPECT_EQ(s.disconnects(), 1u);
  EXPECT_EQ(s.last_reason(), "idle timeout");
  EXPECT_EQ(s.down_since(), t);
  EXPECT_EQ(s.attempt(), 1u);
  EXPECT_EQ(s.next_attempt(), t);  // at once
  quic::Instant lost = t;
  // Each failure waits about twice as long as the previous one, up to the cap.
  const quic::Duration bases[] = {1s, 2s, 4s, 8s, 16s, 30s, 30s};
  for (size_t i = 0; i < std::size(bases); ++i) {
    s.on_attempt_started();
    EXPECT_EQ(s.next_attempt(), quic::kNever);  // an attempt runs: nothing is due
    t += kReconnectAttemptTimeout;
    s.on_attempt_failed(t);
    EXPECT_EQ(s.attempt(), i + 2);
    quic::Duration wait = s.next_attempt() - t;
    EXPECT_LE(wait, bases[i]) << i;
    EXPECT_GE(wait, std::chrono::duration_cast<quic::Duration>(bases[i] * (1 - kReconnectJitter)));
    t = s.next_attempt();
  }
  s.on_attempt_started();
  t += 1s;
  EXPECT_EQ(s.on_connected(t), t - lost);
  EXPECT_FALSE(s.reconnecting());
  EXPECT_EQ(s.reconnects(), 1u);
  EXPECT_EQ(s.last_downtime(), t - lost);
}

TEST(ReconnectSchedule, StartsOverOnlyAfterAConnectionThatHeld) {
  ReconnectSchedule s(1);
  quic::Instant t{};
  s.on_connected(t);
  s.on_disconnected(t, "reset");
  for (int i = 0; i < 6; ++i) {
    s.on_attempt_started();
    s.on_attempt_failed(t);
    t = s.next_attempt();
  }
  s.on_attempt_started();
  s.on_connected(t);
  // A connection that lasted less than kReconnectStableAfter: the backoff carries on (a server
  // that accepts and drops at once is not hammered).
  t += kReconnectStableAfter - 1s;
  s.on_disconnected(t, "reset");
  EXPECT_GE(s.next_attempt() - t, 24s);
  s.on_attempt_started();
  s.on_connected(t);
  // One that held: the next outage begins at once again.
  t += kReconnectStableAfter + 1s;
  s.on_disconnected(t, "reset");
  EXPECT_EQ(s.next_attempt(), t);
  EXPECT_EQ(s.disconnects(), 3u);
  EXPECT_EQ(s.reconnects(), 2u);
  // The reason may carry the server's close reason phrase: kept bounded.
  s.on_disconnected(t, std::string(kMaxReconnectReason + 100, 'x'));
  EXPECT_EQ(s.last_reason().size(), kMaxReconnectReason);
}

TEST(ReconnectSchedule, JitterSpreadsClients) {
  std::set<int64_t> waits;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    ReconnectSchedule s(seed);
    quic::Instant t{};
    s.on_disconnected(t, "reset");
    for (int i = 0; i < 4; ++i) s.on_attempt_failed(t);  // the fourth wait: 8 s nominal
    waits.insert((s.next_attempt() - t).count());
  }
  EXPECT_GT(waits.size(), 10u);  // twenty routers do not return in the same instant
}

TEST(ResetKey, RoundTripAndRefusals) {
  ResetKey key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 37 + 1);
  std::string text = format_reset_key(key);
  EXPECT_EQ(text.rfind("tquicd-reset-key 1 ", 0), 0u);
  EXPECT_EQ(parse_reset_key(text), key);
  std::string bare = text.substr(0, text.size() - 1);
  EXPECT_EQ(parse_reset_key(bare), key);  // without the newline
  std::string upper = bare;
  upper.back() = 'F';
  std::string zeros = "tquicd-reset-key 1 " + std::string(64, '0');
  for (const std::string& bad :
       {std::string(), std::string("tquicd-reset-key 1 "), bare.substr(0, bare.size() - 2),
        bare + "00", bare + "\n\n", "tquicd-reset-key 2" + bare.substr(18),
        bare.substr(0, 20) + "xz" + bare.substr(22), upper, zeros}) {
    EXPECT_EQ(parse_reset_key(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(reset_key_path("/var/lib/tquicd"), "/var/lib/tquicd/reset_key");
}

}  // namespace
}  // namespace bond

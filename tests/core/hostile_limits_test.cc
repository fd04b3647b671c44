// Defences that only show after many packets: the optimistic-ACK defence (RFC 9000 §21.4,
// skipped packet numbers) and the AEAD integrity limit (RFC 9001 §6.6). A malicious client
// plays against a real server connection (hostile_fixture.h).
#include <gtest/gtest.h>

#include <vector>

#include "hostile_fixture.h"

namespace quic::hostile {
namespace {

// The server runs with the default ConnectionConfig::skip_pn_period: the defence is on by
// default, and these tests are of the default.
PairOptions big_client_windows() {
  PairOptions o;
  o.client.initial_max_data = 1ull << 30;
  o.client.initial_max_stream_data = 1ull << 30;
  o.client.max_connection_window = 1ull << 30;
  o.client.max_stream_window = 1ull << 30;
  return o;
}

// The server streams data to an honest client (every received packet acknowledged) until it
// has skipped `skips` packet numbers, or gives up after a bounded number of rounds.
void stream_until_skipped(Pair& pair, uint64_t skips) {
  auto sid = pair.server()->open_stream(true);
  ASSERT_TRUE(sid.has_value());
  std::vector<uint8_t> chunk(16 * 1024, 0x5a);
  for (int round = 0; round < 4000 && pair.server()->stats().packet_numbers_skipped < skips;
       ++round) {
    (void)pair.server()->stream_write(*sid, chunk, false);
    pair.poll_server();
    pair.ack_all_server_packets();
    pair.advance(1ms);
  }
  ASSERT_GE(pair.server()->stats().packet_numbers_skipped, skips);
  ASSERT_FALSE(pair.server_close_code().has_value());
}

// The first packet number below the largest sent that the server never sent.
std::optional<uint64_t> first_gap(const std::set<uint64_t>& pns) {
  uint64_t expect = 0;
  for (uint64_t pn : pns) {
    if (pn != expect) return expect;
    expect = pn + 1;
  }
  return std::nullopt;
}

TEST(HostileLimits, OptimisticAckDefenceIsOnByDefault) {
  EXPECT_EQ(ConnectionConfig{}.skip_pn_period, 512u);
}

// RFC 9000 §21.4: with the default period of 512 the server skips a packet number within its
// first ~800 1-RTT packets. An honest client that acknowledges exactly what it received keeps the
// connection, and the skipped number is neither a loss nor an RTT sample.
TEST(HostileLimits, SkippedPacketNumberIsNotLostAndHonestAcksPass) {
  Pair pair(big_client_windows());
  ASSERT_TRUE(pair.handshake());
  stream_until_skipped(pair, 2);
  auto gap = first_gap(pair.server_1rtt_pns());
  ASSERT_TRUE(gap.has_value()) << "the server's packet numbers have no gap";
  EXPECT_EQ(pair.server()->stats().packets_lost, 0u);
  EXPECT_FALSE(pair.server()->is_draining_or_closing());
}

// An optimistic ACK (one range from 0 to the largest packet number seen, claiming the holes
// were received too) acknowledges a packet the server never sent: PROTOCOL_VIOLATION.
TEST(HostileLimits, OptimisticAckOfSkippedPacketNumberIsProtocolViolation) {
  Pair pair(big_client_windows());
  ASSERT_TRUE(pair.handshake());
  stream_until_skipped(pair, 1);
  auto largest = pair.server_largest_1rtt_pn();
  ASSERT_TRUE(largest.has_value());
  ASSERT_TRUE(first_gap(pair.server_1rtt_pns()).has_value());
  AckRange r{0, *largest};
  pair.inject_frames(
      {AckFrame::from_ranges(0, false, std::span<const AckRange>(&r, 1), 0, std::nullopt)});
  auto code = pair.server_close_code();
  ASSERT_TRUE(code.has_value()) << "an ACK of a skipped packet number was accepted";
  EXPECT_EQ(*code, err::kProtocolViolation);
  auto f = pair.server_close_frame();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->error_code, err::kProtocolViolation);
}

// The period is configurable; 0 turns skipping off, and an optimistic ACK then goes unseen.
TEST(HostileLimits, SkipPeriodZeroNeverSkips) {
  PairOptions o = big_client_windows();
  o.server.skip_pn_period = 0;
  Pair pair(o);
  ASSERT_TRUE(pair.handshake());
  auto sid = pair.server()->open_stream(true);
  ASSERT_TRUE(sid.has_value());
  std::vector<uint8_t> chunk(16 * 1024, 0x5a);
  for (int round = 0; round < 300; ++round) {
    (void)pair.server()->stream_write(*sid, chunk, false);
    pair.poll_server();
    pair.ack_all_server_packets();
    pair.advance(1ms);
  }
  EXPECT_GT(pair.server_1rtt_pns().size(), 1000u);
  EXPECT_EQ(pair.server()->stats().packet_numbers_skipped, 0u);
  EXPECT_FALSE(first_gap(pair.server_1rtt_pns()).has_value());
}

// A 1-RTT packet to the server whose AEAD tag is wrong (the null backend wants 16 zero bytes).
Datagram forged_packet(Pair& pair, uint64_t pn) {
  const uint8_t ping[] = {0x01, 0x00, 0x00, 0x00};
  Datagram d = short_packet(pair.server_cid(), pn, ping);
  d.back() ^= 0x01;
  return d;
}

// RFC 9001 §6.6: more forged 1-RTT packets than the integrity limit close the connection with
// AEAD_LIMIT_REACHED; up to the limit they are dropped silently (§5.5).
TEST(HostileLimits, ForgedPacketsPastIntegrityLimitAreAeadLimitReached) {
  constexpr uint64_t kLimit = 10;
  PairOptions o;
  o.server.aead_integrity_limit = kLimit;
  Pair pair(o);
  ASSERT_TRUE(pair.handshake());
  const uint64_t dropped_before = pair.server()->stats().packets_dropped;
  for (uint64_t i = 0; i < kLimit; ++i) pair.deliver_to_server(forged_packet(pair, 2'000'000 + i));
  EXPECT_EQ(pair.server()->stats().authentication_failures, kLimit);
  EXPECT_EQ(pair.server()->stats().packets_dropped, dropped_before + kLimit);
  ASSERT_FALSE(pair.server_close_code().has_value());
  // A genuine packet in between does not reset the count (it is per connection lifetime).
  pair.inject_frames({PingFrame{}});
  ASSERT_FALSE(pair.server_close_code().has_value());
  pair.deliver_to_server(forged_packet(pair, 2'000'100));
  auto code = pair.server_close_code();
  ASSERT_TRUE(code.has_value()) << "forged packet past the integrity limit was ignored";
  EXPECT_EQ(*code, err::kAeadLimitReached);
  auto f = pair.server_close_frame();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->error_code, err::kAeadLimitReached);
}

// The default limit is the suite's (2^52 for AES-GCM): a handful of forgeries only get dropped.
TEST(HostileLimits, DefaultIntegrityLimitToleratesSomeForgeries) {
  Pair pair;
  ASSERT_TRUE(pair.handshake());
  for (uint64_t i = 0; i < 100; ++i) pair.deliver_to_server(forged_packet(pair, 2'000'000 + i));
  EXPECT_EQ(pair.server()->stats().authentication_failures, 100u);
  EXPECT_FALSE(pair.server_close_code().has_value());
}

}  // namespace
}  // namespace quic::hostile

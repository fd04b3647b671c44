// Hostile input around recovery and connection close: absurd ACK delays (RFC 9002 §5.3), the
// anti-amplification limit before address validation (RFC 9000 §8.1), and the closing and
// draining states (RFC 9000 §10.2) under a packet flood.
#include <gtest/gtest.h>

#include "hostile_fixture.h"

namespace quic::hostile {
namespace {

// RFC 9002 §5.3: after confirmation the ACK Delay is capped at max_ack_delay; an encoded delay
// of 2^62-1 (microseconds << exponent: far beyond any Duration) must not overflow or poison
// the RTT estimate.
TEST(HostileClosing, AckWithMaximalAckDelayLeavesRttSane) {
  Pair pair;
  ASSERT_TRUE(pair.handshake());
  auto id = pair.server()->open_stream(true);
  ASSERT_TRUE(id.has_value());
  const uint8_t x[4] = {1, 2, 3, 4};
  ASSERT_TRUE(pair.server()->stream_write(*id, x, false).has_value());
  ASSERT_FALSE(pair.poll_server().empty());
  pair.advance(20ms);
  AckRange r{0, *pair.server_largest_1rtt_pn()};
  pair.inject_frames({AckFrame::from_ranges(0, false, std::span<const AckRange>(&r, 1),
                                            kMaxVarint, std::nullopt)});
  EXPECT_FALSE(pair.server_close_code().has_value());
  Duration srtt = pair.server()->path().rtt.smoothed();
  EXPECT_GT(srtt, Duration(0));
  EXPECT_LT(srtt, Duration(1s)) << "smoothed RTT " << srtt.count() << " ns";
}

// RFC 9000 §8.1: before the client's address is validated the server sends at most three
// times what it received, however many PTOs fire (a spoofed Initial must not amplify).
TEST(HostileClosing, ServerNeverExceedsThreeTimesAmplificationBeforeValidation) {
  Pair pair;
  auto initial = pair.poll_client();
  ASSERT_EQ(initial.size(), 1u);
  size_t received = initial[0].size();
  pair.deliver_to_server(initial[0]);
  ASSERT_EQ(pair.server_endpoint().connection_count(), 1u);
  size_t sent = 0;
  for (int i = 0; i < 6000; ++i) {  // 60 s of fake time, timers fired as they fall due
    sent += total_bytes(pair.poll_server());
    pair.advance(10ms);
    if (pair.server_endpoint().next_timeout() <= pair.now()) {
      pair.server_endpoint().on_timeout(pair.now());
    }
  }
  EXPECT_GT(sent, 0u);
  EXPECT_LE(sent, 3 * received);
}

// RFC 9000 §10.2.2: after the peer's CONNECTION_CLOSE the server drains: it sends nothing,
// whatever else arrives.
TEST(HostileClosing, DrainingServerSendsNothing) {
  Pair pair;
  ASSERT_TRUE(pair.handshake());
  pair.inject_frames({ConnectionCloseFrame{false, err::kNoError, 0, {}}});
  EXPECT_TRUE(pair.server()->closed_by_peer());
  EXPECT_TRUE(pair.server()->is_draining_or_closing());
  EXPECT_TRUE(pair.poll_server().empty());
  for (int i = 0; i < 100; ++i) pair.inject_frames({PingFrame{}});
  EXPECT_TRUE(pair.poll_server().empty());
}

// RFC 9000 §10.2.1: in the closing state the server answers packets with CONNECTION_CLOSE,
// at most one datagram per datagram received (a flood cannot multiply). Rate limiting beyond
// that (the RFC's SHOULD) is checked in hostile_pending_test.cc.
TEST(HostileClosing, ClosingServerAnswersAtMostOneDatagramPerDatagram) {
  Pair pair;
  ASSERT_TRUE(pair.handshake());
  pair.inject_frames({HandshakeDoneFrame{}});
  ASSERT_TRUE(pair.server_close_code().has_value());
  (void)pair.poll_server();
  size_t answers = 0;
  constexpr size_t kFlood = 500;
  for (size_t i = 0; i < kFlood; ++i) {
    const uint8_t ping[] = {0x01, 0x00, 0x00, 0x00};
    pair.inject(ping);
    for (const Datagram& d : pair.poll_server()) {
      ASSERT_TRUE(find_close(d, pair.client_cid().len).has_value());
      ++answers;
    }
  }
  EXPECT_GT(answers, 0u) << "closing endpoints should repeat CONNECTION_CLOSE";
  EXPECT_LE(answers, kFlood);
}

// After the closing period the connection is closed and the endpoint reaps it; a packet for it
// then gets a stateless reset (RFC 9000 §10.3): smaller than the packet that triggered it and
// ending in the token the CID's owner can compute without state. The client, which still has
// state, recognises the token and ends its connection without answering.
TEST(HostileClosing, ReapedConnectionIsStatelesslyResetAndClientStops) {
  Pair pair;
  ASSERT_TRUE(pair.handshake());
  pair.inject_frames({HandshakeDoneFrame{}});
  ASSERT_TRUE(pair.server_close_code().has_value());
  (void)pair.poll_server();
  pair.advance(60s);
  pair.server_endpoint().on_timeout(pair.now());
  EXPECT_TRUE(pair.server()->is_closed());
  pair.server_endpoint().reap_closed();
  EXPECT_EQ(pair.server_endpoint().connection_count(), 0u);

  // The client still believes in the connection and sends data.
  auto id = pair.client().open_stream(true);
  ASSERT_TRUE(id.has_value());
  const uint8_t msg[40] = {};
  ASSERT_TRUE(pair.client().stream_write(*id, msg, false).has_value());
  auto from_client = pair.poll_client();
  ASSERT_FALSE(from_client.empty());
  for (auto& d : from_client) pair.deliver_to_server(d);
  EXPECT_EQ(pair.server_endpoint().stats().stateless_resets_sent, from_client.size());
  auto resets = pair.poll_server();
  ASSERT_EQ(resets.size(), from_client.size());
  EXPECT_LT(resets[0].size(), from_client[0].size());
  EXPECT_GE(resets[0].size(), kMinStatelessResetSize);

  pair.deliver_to_client(resets[0]);
  EXPECT_TRUE(pair.client().is_draining_or_closing());
  ASSERT_TRUE(pair.client().close_error().has_value());
  EXPECT_EQ(pair.client().close_error()->reason, "stateless reset");
  EXPECT_TRUE(pair.poll_client().empty());  // no answer to a reset: no loop
}

}  // namespace
}  // namespace quic::hostile

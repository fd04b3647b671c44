// ACK_FREQUENCY / IMMEDIATE_ACK (draft-ietf-quic-ack-frequency) and RESET_STREAM_AT
// (draft-ietf-quic-reliable-stream-reset) from a malicious client: negotiation and every error
// rule, and what the server does with valid frames.
#include <gtest/gtest.h>

#include <cstring>

#include "hostile_fixture.h"

namespace quic::hostile {
namespace {

PairOptions extensions(bool on) {
  PairOptions o;
  o.server.ack_frequency = on;
  o.server.reliable_reset = on;
  o.client.ack_frequency = on;
  o.client.reliable_reset = on;
  return o;
}

class ExtensionPair : public ::testing::Test {
 protected:
  explicit ExtensionPair(bool on) : pair(extensions(on)) {}
  void SetUp() override { ASSERT_TRUE(pair.handshake()); }
  void expect_closed_with(uint64_t code, uint64_t frame_type) {
    auto c = pair.server_close_code();
    ASSERT_TRUE(c.has_value()) << "server did not close";
    EXPECT_EQ(*c, code) << "got " << error_name(*c) << " (" << pair.server()->close_error()->reason
                        << "), want " << error_name(code);
    auto f = pair.server_close_frame();
    ASSERT_TRUE(f.has_value()) << "no CONNECTION_CLOSE on the wire";
    EXPECT_EQ(f->error_code, code);
    EXPECT_EQ(f->frame_type, frame_type);
  }
  void expect_open() {
    auto c = pair.server_close_code();
    EXPECT_FALSE(c.has_value()) << error_name(*c) << ": " << pair.server()->close_error()->reason;
  }
  const AckTracker& server_acks() { return pair.server()->path(0).app.acks; }
  // Whether the server's next datagrams carry an ACK frame.
  bool server_sends_ack() {
    for (const Datagram& d : pair.poll_server()) {
      for (const PlainPacket& p : decode_datagram(d, 8)) {
        for (const Frame& f : decode_frames(p.payload)) {
          if (std::holds_alternative<AckFrame>(f)) return true;
        }
      }
    }
    return false;
  }
  Pair pair;
};

// Both sides offer both extensions.
class HostileExtensions : public ExtensionPair {
 protected:
  HostileExtensions() : ExtensionPair(true) {}
};
// Neither side offers them.
class HostileExtensionsOff : public ExtensionPair {
 protected:
  HostileExtensionsOff() : ExtensionPair(false) {}
};

const uint8_t kData[8] = {'r', 'e', 'l', 'i', 'a', 'b', 'l', 'e'};
Bytes data(size_t n) { return Bytes(kData, n); }

// --- ACK_FREQUENCY: negotiation (§3) and frame rules (§4)

TEST_F(HostileExtensionsOff, AckFrequencyWithoutOurMinAckDelayIsProtocolViolation) {
  pair.inject_frames({AckFrequencyFrame{0, 4, 25000, 3}});
  expect_closed_with(err::kProtocolViolation, frame_type::kAckFrequency);
}

TEST_F(HostileExtensionsOff, ImmediateAckWithoutOurMinAckDelayIsProtocolViolation) {
  pair.inject_frames({ImmediateAckFrame{}});
  expect_closed_with(err::kProtocolViolation, frame_type::kImmediateAck);
}

TEST_F(HostileExtensions, RequestedMaxAckDelayBelowOurMinAckDelayIsProtocolViolation) {
  pair.inject_frames({AckFrequencyFrame{0, 4, 1000, 3}});  // exactly min_ack_delay (1 ms): fine
  expect_open();
  pair.inject_frames({AckFrequencyFrame{1, 4, 999, 3}});
  expect_closed_with(err::kProtocolViolation, frame_type::kAckFrequency);
}

TEST_F(HostileExtensions, RequestedMaxAckDelayOf2To14MsIsProtocolViolation) {
  pair.inject_frames({AckFrequencyFrame{0, 4, (uint64_t{1} << 14) * 1000 - 1, 3}});
  expect_open();
  pair.inject_frames({AckFrequencyFrame{1, 4, (uint64_t{1} << 14) * 1000, 3}});
  expect_closed_with(err::kProtocolViolation, frame_type::kAckFrequency);
}

TEST_F(HostileExtensions, AckFrequencyIsAppliedToThePathsAckTracker) {
  pair.inject_frames({AckFrequencyFrame{7, 9, 40000, 3}});
  expect_open();
  EXPECT_EQ(server_acks().ack_eliciting_threshold(), 9u);
  EXPECT_EQ(server_acks().max_ack_delay(), 40ms);
  EXPECT_EQ(server_acks().reordering_threshold(), 3u);
}

// §4: "MUST ignore ... unless the Sequence Number value is greater than the largest processed".
TEST_F(HostileExtensions, OlderOrRepeatedAckFrequencySequenceIsIgnored) {
  pair.inject_frames({AckFrequencyFrame{5, 9, 40000, 3}});
  pair.inject_frames({AckFrequencyFrame{5, 2, 2000, 1}});
  pair.inject_frames({AckFrequencyFrame{4, 3, 3000, 0}});
  expect_open();
  EXPECT_EQ(server_acks().ack_eliciting_threshold(), 9u);
  pair.inject_frames({AckFrequencyFrame{6, 2, 2000, 1}});
  EXPECT_EQ(server_acks().ack_eliciting_threshold(), 2u);
}

// A peer-controlled threshold is capped (acknowledging more often is always allowed).
TEST_F(HostileExtensions, HugeThresholdsAreCappedAtTheHonouredLimit) {
  pair.inject_frames({AckFrequencyFrame{0, kMaxVarint, 25000, kMaxVarint}});
  expect_open();
  EXPECT_EQ(server_acks().ack_eliciting_threshold(), kMaxHonouredAckThreshold);
  EXPECT_EQ(server_acks().reordering_threshold(), kMaxHonouredAckThreshold);
}

TEST_F(HostileExtensions, ImmediateAckIsAnsweredAtOnceDespiteTheThreshold) {
  // Reordering threshold 0: the jump to the fixture's injected packet numbers is no trigger.
  pair.inject_frames({AckFrequencyFrame{0, 10, 200000, 0}});
  (void)pair.poll_server();
  pair.inject_frames({PingFrame{}});
  EXPECT_FALSE(server_sends_ack());
  pair.inject_frames({ImmediateAckFrame{}});
  EXPECT_TRUE(server_sends_ack());
  expect_open();
}

// --- RESET_STREAM_AT

// §3: without our reset_stream_at the frame type is unknown here (RFC 9000 §12.4).
TEST_F(HostileExtensionsOff, ResetStreamAtWithoutOurTransportParameterIsFrameEncodingError) {
  pair.inject_frames({StreamFrame{0, 0, data(8), false, true}});
  pair.inject_frames({ResetStreamAtFrame{0, 1, 8, 4}});
  expect_closed_with(err::kFrameEncodingError, frame_type::kResetStreamAt);
}

TEST_F(HostileExtensions, ReliableSizeAboveFinalSizeIsFrameEncodingError) {
  std::vector<uint8_t> bad = {0x24, 0x00, 0x01, 0x04, 0x05};  // final 4, reliable 5
  pair.inject(bad);
  expect_closed_with(err::kFrameEncodingError, frame_type::kResetStreamAt);
}

TEST_F(HostileExtensions, ResetStreamAtChangingTheFinalSizeIsFinalSizeError) {
  pair.inject_frames({StreamFrame{0, 0, data(2), false, true}});
  pair.inject_frames({ResetStreamAtFrame{0, 1, 8, 4}});
  expect_open();
  pair.inject_frames({ResetStreamAtFrame{0, 1, 7, 4}});
  expect_closed_with(err::kFinalSizeError, frame_type::kResetStreamAt);
}

TEST_F(HostileExtensions, ResetStreamAtBelowReceivedDataIsFinalSizeError) {
  pair.inject_frames({StreamFrame{0, 0, data(8), false, true}});
  pair.inject_frames({ResetStreamAtFrame{0, 1, 6, 4}});
  expect_closed_with(err::kFinalSizeError, frame_type::kResetStreamAt);
}

TEST_F(HostileExtensions, ResetStreamAtOnOurUniStreamIsStreamStateError) {
  pair.inject_frames({ResetStreamAtFrame{3, 1, 0, 0}});  // server-initiated uni: send-only here
  expect_closed_with(err::kStreamStateError, frame_type::kResetStreamAt);
}

// The receiver hands out exactly the reliable bytes, then the reset; later frames may only
// lower the reliable size (a larger one, e.g. reordered, changes nothing).
TEST_F(HostileExtensions, ReceiverDeliversTheReliableBytesThenTheReset) {
  pair.inject_frames({ResetStreamAtFrame{0, 42, 8, 6}});  // before any data
  pair.inject_frames({ResetStreamAtFrame{0, 42, 8, 7}});  // larger: ignored
  pair.inject_frames({StreamFrame{0, 0, data(8), false, true}});
  expect_open();
  uint8_t buf[16];
  bool fin = false;
  auto n = pair.server()->stream_read(0, MutBytes(buf, sizeof buf), &fin);
  ASSERT_TRUE(n.has_value());
  ASSERT_EQ(*n, 6u);
  EXPECT_EQ(std::memcmp(buf, kData, 6), 0);
  EXPECT_FALSE(fin);
  bool reset_event = false;
  while (auto e = pair.server()->poll_event()) {
    if (e->kind == EventKind::kStreamReset && e->stream_id == 0) {
      reset_event = true;
      EXPECT_EQ(e->error_code, 42u);
    }
  }
  EXPECT_TRUE(reset_event);
  auto again = pair.server()->stream_read(0, MutBytes(buf, sizeof buf), &fin);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, 42u);
}

TEST_F(HostileExtensions, LowerReliableSizeAndThenResetStreamTakeEffect) {
  pair.inject_frames({StreamFrame{0, 0, data(8), false, true}});
  pair.inject_frames({ResetStreamAtFrame{0, 42, 8, 6}});
  pair.inject_frames({ResetStreamAtFrame{0, 42, 8, 3}});
  uint8_t buf[16];
  auto n = pair.server()->stream_read(0, MutBytes(buf, sizeof buf), nullptr);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 3u);
  // A RESET_STREAM (reliable size 0) is in force at once whatever is unread.
  pair.inject_frames({StreamFrame{4, 0, data(8), false, true}});
  pair.inject_frames({ResetStreamAtFrame{4, 9, 8, 6}});
  pair.inject_frames({ResetStreamFrame{4, 9, 8}});
  expect_open();
  auto r = pair.server()->stream_read(4, MutBytes(buf, sizeof buf), nullptr);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, 9u);
}

// --- RESET_STREAM_AT, sending side (Connection::stream_reset_at)

// RESET_STREAM_AT frames in the server's next datagrams.
std::vector<ResetStreamAtFrame> reset_at_frames(Pair& pair) {
  std::vector<ResetStreamAtFrame> out;
  for (const Datagram& d : pair.poll_server()) {
    for (const PlainPacket& p : decode_datagram(d, 8)) {
      for (const Frame& f : decode_frames(p.payload)) {
        if (const auto* r = std::get_if<ResetStreamAtFrame>(&f)) out.push_back(*r);
      }
    }
  }
  return out;
}

TEST_F(HostileExtensionsOff, StreamResetAtFailsWithoutThePeersTransportParameter) {
  auto id = pair.server()->open_stream(false);
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(pair.server()->stream_write(*id, data(8), false).has_value());
  auto st = pair.server()->stream_reset_at(*id, 7, 4);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, err::kStreamStateError);
  EXPECT_TRUE(pair.server()->stream_reset_at(*id, 7, 0).has_value());  // = RESET_STREAM
}

TEST_F(HostileExtensions, StreamResetAtSendsTheFrameAndOnlyLowers) {
  auto id = pair.server()->open_stream(false);
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(pair.server()->stream_write(*id, data(8), false).has_value());
  EXPECT_FALSE(pair.server()->stream_reset_at(*id, 7, 9).has_value());  // beyond the written
  ASSERT_TRUE(pair.server()->stream_reset_at(*id, 7, 6).has_value());
  auto sent = reset_at_frames(pair);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], (ResetStreamAtFrame{*id, 7, 6, 6}));  // nothing above 6 was ever sent
  EXPECT_FALSE(pair.server()->stream_reset_at(*id, 7, 7).has_value());  // raising
  ASSERT_TRUE(pair.server()->stream_reset_at(*id, 7, 2).has_value());
  sent = reset_at_frames(pair);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], (ResetStreamAtFrame{*id, 7, 6, 2}));  // the final size stays
  expect_open();
}

// --- The sender's policy (ack_frequency.h)

TEST(AckFrequencyPolicy, SmallWindowsKeepTheDefault) {
  auto c = choose_ack_frequency(31 * 1200, 1200, 20ms, 1ms, 25ms);
  EXPECT_EQ(c, (AckFrequencyChoice{1, 25ms}));
}

TEST(AckFrequencyPolicy, LargeWindowsAskForAboutEightAcksPerWindowBounded) {
  EXPECT_EQ(choose_ack_frequency(160 * 1200, 1200, 20ms, 1ms, 25ms),
            (AckFrequencyChoice{20, 5ms}));
  // Capped threshold and delay; never below the peer's min_ack_delay or 1 ms.
  EXPECT_EQ(choose_ack_frequency(10000 * 1200, 1200, 400ms, 1ms, 25ms),
            (AckFrequencyChoice{kMaxRequestedAckElicitingThreshold, kMaxRequestedAckDelay}));
  EXPECT_EQ(choose_ack_frequency(160 * 1200, 1200, 2ms, 3ms, 25ms).max_ack_delay, 3ms);
  EXPECT_EQ(choose_ack_frequency(160 * 1200, 1200, 2ms, 0ms, 25ms).max_ack_delay, 1ms);
}

TEST(AckFrequencyPolicy, OnlyMaterialChangesAreSent) {
  AckFrequencyChoice sent{20, 5ms};
  EXPECT_FALSE(ack_frequency_changed(sent, {20, 5ms}));
  EXPECT_FALSE(ack_frequency_changed(sent, {24, 4100us}));  // under a quarter either way
  EXPECT_TRUE(ack_frequency_changed(sent, {27, 5ms}));
  EXPECT_TRUE(ack_frequency_changed(sent, {20, 3ms}));
  EXPECT_TRUE(ack_frequency_changed({1, 25ms}, {2, 25ms}));
}

}  // namespace
}  // namespace quic::hostile

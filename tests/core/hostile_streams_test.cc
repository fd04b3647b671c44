// More stream-level violations from a malicious client (RFC 9000 §2-4, §19.4-§19.14): final
// sizes, stream limits at their exact boundary, frames for the wrong direction, and frame
// encodings the decoder must refuse.
#include <gtest/gtest.h>

#include <cstring>

#include "hostile_fixture.h"

namespace quic::hostile {
namespace {

class HostileStreams : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pair.handshake()); }
  void expect_closed_with(uint64_t code) {
    auto c = pair.server_close_code();
    ASSERT_TRUE(c.has_value()) << "server did not close";
    EXPECT_EQ(*c, code) << "got " << error_name(*c) << " (" << pair.server()->close_error()->reason
                        << "), want " << error_name(code);
    auto f = pair.server_close_frame();
    ASSERT_TRUE(f.has_value()) << "no CONNECTION_CLOSE on the wire";
    EXPECT_EQ(f->error_code, *c);
  }
  void expect_open() {
    auto c = pair.server_close_code();
    EXPECT_FALSE(c.has_value()) << error_name(*c) << ": " << pair.server()->close_error()->reason;
  }
  Pair pair;
};

const uint8_t kData[8] = {'h', 'o', 's', 't', 'i', 'l', 'e', '!'};
Bytes data(size_t n) { return Bytes(kData, n); }

// RFC 9000 §4.6: with initial_max_streams_bidi = 100 the client may open streams 0..396.
TEST_F(HostileStreams, HundredthBidiStreamIsAcceptedAndTheNextIsStreamLimitError) {
  pair.inject_frames({StreamFrame{396, 0, data(1), false, true}});
  expect_open();
  pair.inject_frames({StreamFrame{400, 0, data(1), false, true}});
  expect_closed_with(err::kStreamLimitError);
}

// RFC 9000 §4.5: data past a known final size.
TEST_F(HostileStreams, DataBeyondFinalSizeIsFinalSizeError) {
  pair.inject_frames({StreamFrame{0, 0, data(4), true, true}});
  expect_open();
  pair.inject_frames({StreamFrame{0, 4, data(4), false, true}});
  expect_closed_with(err::kFinalSizeError);
}

// RFC 9000 §4.5: a second, different final size.
TEST_F(HostileStreams, ChangedFinalSizeIsFinalSizeError) {
  pair.inject_frames({StreamFrame{0, 0, data(8), true, true}});
  pair.inject_frames({StreamFrame{0, 0, data(4), true, true}});
  expect_closed_with(err::kFinalSizeError);
}

// RFC 9000 §4.5 / §19.4: RESET_STREAM with a final size below the data already received.
TEST_F(HostileStreams, ResetStreamBelowReceivedDataIsFinalSizeError) {
  pair.inject_frames({StreamFrame{0, 0, data(8), false, true}});
  pair.inject_frames({ResetStreamFrame{0, 0, 4}});
  expect_closed_with(err::kFinalSizeError);
}

// RFC 9000 §4.5: a final size beyond the flow-control limit is FLOW_CONTROL_ERROR.
TEST_F(HostileStreams, ResetStreamFinalSizeBeyondWindowIsFlowControlError) {
  pair.inject_frames({ResetStreamFrame{0, 0, 100'000'000}});
  expect_closed_with(err::kFlowControlError);
}

// RFC 9000 §19.8: offset + length above 2^62-1.
TEST_F(HostileStreams, StreamEndBeyond2Pow62IsFrameEncodingError) {
  std::vector<uint8_t> p(32);
  Writer w(p);
  w.varint(frame_type::kStream | frame_type::kStreamOffBit | frame_type::kStreamLenBit);
  w.varint(0);
  w.varint(kMaxVarint);
  w.varint(4);
  w.bytes(data(4));
  p.resize(w.written());
  pair.inject(p);
  expect_closed_with(err::kFrameEncodingError);
}

// RFC 9000 §19.8: a Length running past the end of the packet.
TEST_F(HostileStreams, StreamLengthPastPacketEndIsFrameEncodingError) {
  const uint8_t p[] = {0x0a, 0x00, 0x40, 0x64, 'a', 'b'};  // STREAM id 0, len 100, 2 bytes
  pair.inject(p);
  expect_closed_with(err::kFrameEncodingError);
}

// RFC 9000 §19.10: MAX_STREAM_DATA for a locally-initiated stream not yet created.
TEST_F(HostileStreams, MaxStreamDataOnUnopenedServerStreamIsStreamStateError) {
  pair.inject_frames({MaxStreamDataFrame{1, 1 << 20}});
  expect_closed_with(err::kStreamStateError);
}

// RFC 9000 §19.5: STOP_SENDING for a receive-only stream (client unidirectional).
TEST_F(HostileStreams, StopSendingOnClientUniStreamIsStreamStateError) {
  pair.inject_frames({StreamFrame{2, 0, data(1), false, true}});
  expect_open();
  pair.inject_frames({StopSendingFrame{2, 0}});
  expect_closed_with(err::kStreamStateError);
}

// RFC 9000 §19.13: STREAM_DATA_BLOCKED for a send-only stream (server unidirectional).
TEST_F(HostileStreams, StreamDataBlockedOnServerUniStreamIsStreamStateError) {
  auto id = pair.server()->open_stream(false);
  ASSERT_TRUE(id.has_value());
  pair.inject_frames({StreamDataBlockedFrame{*id, 0}});
  expect_closed_with(err::kStreamStateError);
}

// RFC 9000 §19.4: RESET_STREAM for a locally-initiated bidirectional stream not yet created.
TEST_F(HostileStreams, ResetStreamOnUnopenedServerBidiStreamIsStreamStateError) {
  pair.inject_frames({ResetStreamFrame{1, 0, 0}});
  expect_closed_with(err::kStreamStateError);
}

// RFC 9000 §19.14: STREAMS_BLOCKED above 2^60 (STREAM_LIMIT_ERROR or FRAME_ENCODING_ERROR).
TEST_F(HostileStreams, StreamsBlockedAbove2Pow60IsRejected) {
  std::vector<uint8_t> p(16);
  Writer w(p);
  w.varint(frame_type::kStreamsBlockedUni);
  w.varint((uint64_t{1} << 60) + 1);
  p.resize(w.written());
  pair.inject(p);
  auto c = pair.server_close_code();
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(*c == err::kFrameEncodingError || *c == err::kStreamLimitError) << error_name(*c);
}

// RFC 9000 §19.11 for the unidirectional variant.
TEST_F(HostileStreams, MaxStreamsUniAbove2Pow60IsFrameEncodingError) {
  std::vector<uint8_t> p(16);
  Writer w(p);
  w.varint(frame_type::kMaxStreamsUni);
  w.varint(kMaxVarint);
  p.resize(w.written());
  pair.inject(p);
  expect_closed_with(err::kFrameEncodingError);
}

// RFC 9000 §19.15: a zero-length connection ID in NEW_CONNECTION_ID.
TEST_F(HostileStreams, NewConnectionIdWithEmptyCidIsFrameEncodingError) {
  std::vector<uint8_t> p(64);
  Writer w(p);
  w.varint(frame_type::kNewConnectionId);
  w.varint(1);
  w.varint(0);
  w.u8(0);
  w.zeros(16);
  p.resize(w.written());
  pair.inject(p);
  expect_closed_with(err::kFrameEncodingError);
}

NewConnectionIdFrame ncid(uint64_t seq, std::array<uint8_t, 8>& storage) {
  storage.fill(static_cast<uint8_t>(0x40 + seq));
  NewConnectionIdFrame f;
  f.sequence = seq;
  f.cid = Bytes(storage.data(), storage.size());
  f.reset_token.fill(static_cast<uint8_t>(0x80 + seq));
  return f;
}

// RFC 9000 §5.1.1: more active connection IDs than our active_connection_id_limit (4).
TEST_F(HostileStreams, NewConnectionIdBeyondActiveLimitIsConnectionIdLimitError) {
  std::array<uint8_t, 8> s1, s2, s3, s4;
  pair.inject_frames({ncid(1, s1), ncid(2, s2), ncid(3, s3)});
  expect_open();
  pair.inject_frames({ncid(4, s4)});
  expect_closed_with(err::kConnectionIdLimitError);
}

// RFC 9000 §19.16: retiring a sequence number never issued.
TEST_F(HostileStreams, RetireUnissuedConnectionIdIsProtocolViolation) {
  pair.inject_frames({RetireConnectionIdFrame{0, false, 1000}});
  expect_closed_with(err::kProtocolViolation);
}

// RFC 9000 §12.4: frame types must use the shortest encoding (PING as 0x40 0x01); we use the
// permitted PROTOCOL_VIOLATION.
TEST_F(HostileStreams, FrameTypeNotInShortestFormIsProtocolViolation) {
  const uint8_t p[] = {0x40, 0x01, 0x01, 0x01};
  pair.inject(p);
  expect_closed_with(err::kProtocolViolation);
}

// RFC 9001 §4.1.3 / §4.8: 1-RTT CRYPTO bytes that are not a valid post-handshake message are a
// TLS error, CRYPTO_ERROR (0x100 + alert).
TEST_F(HostileStreams, OneRttCryptoGarbageIsCryptoError) {
  const uint8_t junk[] = {0x77, 0x00, 0x00, 0x04, 1, 2, 3, 4};
  pair.inject_frames({CryptoFrame{0, Bytes(junk)}});
  auto c = pair.server_close_code();
  ASSERT_TRUE(c.has_value());
  EXPECT_GE(*c, err::kCryptoErrorBase);
  EXPECT_LT(*c, err::kCryptoErrorBase + 0x100);
}

}  // namespace
}  // namespace quic::hostile

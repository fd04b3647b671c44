// A malicious client sends one forbidden 1-RTT frame after a real handshake; the server must
// close with the RFC 9000 error code (§19 per frame, §12.4, §20.1) and say so on the wire.
// Cases follow the h3spec transport list.
#include <gtest/gtest.h>

#include <cstring>

#include "hostile_fixture.h"

namespace quic::hostile {
namespace {

class HostileFrames : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pair.handshake());
    ASSERT_EQ(pair.server()->local_cids().front(), pair.server_cid());
  }
  // The server connection closed with `code`, and its next datagram carries a transport
  // CONNECTION_CLOSE (0x1c) with the same code.
  void expect_closed_with(uint64_t code) {
    auto c = pair.server_close_code();
    ASSERT_TRUE(c.has_value()) << "server did not close";
    EXPECT_EQ(*c, code) << "got " << error_name(*c) << " (" << pair.server()->close_error()->reason
                        << "), want " << error_name(code);
    auto f = pair.server_close_frame();
    ASSERT_TRUE(f.has_value()) << "no CONNECTION_CLOSE on the wire";
    EXPECT_FALSE(f->application);
    EXPECT_EQ(f->error_code, code);
  }
  Pair pair;
};

Bytes data_of(const char* s) { return Bytes(reinterpret_cast<const uint8_t*>(s), std::strlen(s)); }

// RFC 9000 §4.1: data beyond the advertised stream/connection limit.
TEST_F(HostileFrames, StreamAtOffset1e8IsFlowControlError) {
  pair.inject_frames({StreamFrame{0, 100'000'000, data_of("x"), false, true}});
  expect_closed_with(err::kFlowControlError);
}

// RFC 9000 §4.6: a stream ID above the MAX_STREAMS we advertised (100).
TEST_F(HostileFrames, StreamOnBidiStream1e9IsStreamLimitError) {
  pair.inject_frames({StreamFrame{1'000'000'000, 0, data_of("x"), false, true}});
  expect_closed_with(err::kStreamLimitError);
}

// RFC 9000 §12.4: an unknown frame type is FRAME_ENCODING_ERROR.
TEST_F(HostileFrames, UnknownFrameTypeIsFrameEncodingError) {
  const uint8_t payload[] = {0x40, 0x99, 0x00, 0x00};
  pair.inject(payload);
  expect_closed_with(err::kFrameEncodingError);
}

// RFC 9000 §12.4: a packet containing no frames is PROTOCOL_VIOLATION.
TEST_F(HostileFrames, PacketWithoutFramesIsProtocolViolation) {
  pair.inject({});
  expect_closed_with(err::kProtocolViolation);
}

// RFC 9000 §17.3.1: reserved bits of a short header set after removing protection.
TEST_F(HostileFrames, ShortHeaderReservedBitsAreProtocolViolation) {
  const uint8_t ping[] = {0x01, 0x00, 0x00, 0x00};
  pair.inject(ping, 0x18);
  expect_closed_with(err::kProtocolViolation);
}

// RFC 9000 §19.7: a server receiving NEW_TOKEN.
TEST_F(HostileFrames, NewTokenFromClientIsProtocolViolation) {
  pair.inject_frames({NewTokenFrame{data_of("token")}});
  expect_closed_with(err::kProtocolViolation);
}

// RFC 9000 §19.20: a server receiving HANDSHAKE_DONE.
TEST_F(HostileFrames, HandshakeDoneFromClientIsProtocolViolation) {
  pair.inject_frames({HandshakeDoneFrame{}, PingFrame{}});
  expect_closed_with(err::kProtocolViolation);
}

// RFC 9000 §19.4: RESET_STREAM for a send-only stream (server-initiated unidirectional).
TEST_F(HostileFrames, ResetStreamOnServerUniStreamIsStreamStateError) {
  auto id = pair.server()->open_stream(false);
  ASSERT_TRUE(id.has_value());
  ASSERT_EQ(*id, 3u);
  pair.inject_frames({ResetStreamFrame{*id, 0, 0}});
  expect_closed_with(err::kStreamStateError);
}

// The same for a server uni stream the server never opened.
TEST_F(HostileFrames, ResetStreamOnUnopenedServerUniStreamIsStreamStateError) {
  pair.inject_frames({ResetStreamFrame{7, 0, 0}});
  expect_closed_with(err::kStreamStateError);
}

// RFC 9000 §19.5: STOP_SENDING for a locally-initiated stream not yet created.
TEST_F(HostileFrames, StopSendingOnUnopenedServerStreamIsStreamStateError) {
  pair.inject_frames({StopSendingFrame{1, 0}});
  expect_closed_with(err::kStreamStateError);
}

// RFC 9000 §19.8: STREAM on a send-only stream.
TEST_F(HostileFrames, StreamOnServerUniStreamIsStreamStateError) {
  auto id = pair.server()->open_stream(false);
  ASSERT_TRUE(id.has_value());
  pair.inject_frames({StreamFrame{*id, 0, data_of("x"), false, true}});
  expect_closed_with(err::kStreamStateError);
}

// RFC 9000 §19.8: STREAM on a locally-initiated stream not yet created.
TEST_F(HostileFrames, StreamOnUnopenedServerBidiStreamIsStreamStateError) {
  pair.inject_frames({StreamFrame{5, 0, data_of("x"), false, true}});
  expect_closed_with(err::kStreamStateError);
}

// RFC 9000 §19.10: MAX_STREAM_DATA for a receive-only stream (client unidirectional).
TEST_F(HostileFrames, MaxStreamDataOnClientUniStreamIsStreamStateError) {
  pair.inject_frames({StreamFrame{2, 0, data_of("x"), false, true}});
  ASSERT_FALSE(pair.server_close_code().has_value());
  pair.inject_frames({MaxStreamDataFrame{2, 1 << 20}});
  expect_closed_with(err::kStreamStateError);
}

// RFC 9221 §4: DATAGRAM without max_datagram_frame_size.
TEST_F(HostileFrames, DatagramWhenNotNegotiatedIsProtocolViolation) {
  pair.inject_frames({DatagramFrame{data_of("dgram"), true}});
  expect_closed_with(err::kProtocolViolation);
}

// RFC 9000 §19.15: Retire Prior To greater than Sequence Number.
TEST_F(HostileFrames, NewConnectionIdRetirePriorToAboveSequenceIsFrameEncodingError) {
  NewConnectionIdFrame f;
  f.sequence = 1;
  f.retire_prior_to = 2;
  const uint8_t cid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  f.cid = cid;
  // encode_frame refuses the invalid frame, so write it by hand.
  std::vector<uint8_t> p(64);
  Writer w(p);
  w.varint(frame_type::kNewConnectionId);
  w.varint(1);
  w.varint(2);
  w.u8(8);
  w.bytes(cid);
  w.zeros(16);
  p.resize(w.written());
  pair.inject(p);
  expect_closed_with(err::kFrameEncodingError);
}

// RFC 9000 §19.11: a stream count above 2^60.
TEST_F(HostileFrames, MaxStreamsAbove2Pow60IsFrameEncodingError) {
  std::vector<uint8_t> p(16);
  Writer w(p);
  w.varint(frame_type::kMaxStreamsBidi);
  w.varint((uint64_t{1} << 60) + 1);
  p.resize(w.written());
  pair.inject(p);
  expect_closed_with(err::kFrameEncodingError);
}

// RFC 9000 §13.1 / §19.3: acknowledging a packet number never sent.
TEST_F(HostileFrames, AckOfNeverSentPacketIsProtocolViolation) {
  AckRange r{999'000, 1'000'000};
  pair.inject_frames(
      {AckFrame::from_ranges(0, false, std::span<const AckRange>(&r, 1), 0, std::nullopt)});
  expect_closed_with(err::kProtocolViolation);
}

// RFC 9000 §7.5: CRYPTO data past what the endpoint is willing to buffer.
TEST_F(HostileFrames, OneRttCryptoBeyond64KiBIsCryptoBufferExceeded) {
  pair.inject_frames({CryptoFrame{kMaxCryptoReorderBytes + 1000, data_of("hello")}});
  expect_closed_with(err::kCryptoBufferExceeded);
}

// A legitimate frame after the handshake leaves the connection open: the fixture itself works.
TEST_F(HostileFrames, ControlPingKeepsConnectionOpen) {
  uint64_t before = pair.server()->stats().packets_received;
  pair.inject_frames({PingFrame{}});
  EXPECT_EQ(pair.server()->stats().packets_received, before + 1);
  EXPECT_FALSE(pair.server_close_code().has_value());
  EXPECT_FALSE(pair.server()->is_draining_or_closing());
}

}  // namespace
}  // namespace quic::hostile

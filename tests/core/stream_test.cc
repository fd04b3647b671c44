#include "core/stream.h"

#include <gtest/gtest.h>

#include <vector>

namespace quic {
namespace {

StreamParams bidi_params(uint64_t send_limit = 1000, uint64_t recv_window = 1000) {
  StreamParams p;
  p.send_limit = send_limit;
  p.recv_window = recv_window;
  return p;
}

TEST(StreamId, BitsFollowRfc9000Section2_1) {
  EXPECT_FALSE(stream_is_server_initiated(0));
  EXPECT_TRUE(stream_is_server_initiated(1));
  EXPECT_TRUE(stream_is_uni(2));
  EXPECT_TRUE(stream_is_uni(3) && stream_is_server_initiated(3));
  EXPECT_EQ(make_stream_id(5, true, true), 23u);
  EXPECT_EQ(stream_index(23), 5u);
  EXPECT_TRUE(stream_is_local(4, false));
  EXPECT_FALSE(stream_is_local(4, true));
}

TEST(Stream, SendStatesReadySendDataSentDataRecvd) {
  Stream s(0, bidi_params());
  std::vector<uint8_t> data(100, 1);
  EXPECT_EQ(s.send_state(), SendState::kReady);
  ASSERT_EQ(s.write(data), 100u);
  auto c1 = s.next_chunk(60, 1000);
  ASSERT_TRUE(c1);
  EXPECT_EQ(s.send_state(), SendState::kSend);
  ASSERT_TRUE(s.finish());
  auto c2 = s.next_chunk(60, 1000);
  ASSERT_TRUE(c2 && c2->fin);
  EXPECT_EQ(s.send_state(), SendState::kDataSent);
  s.on_chunk_acked(c2->offset, c2->length, true);
  EXPECT_EQ(s.send_state(), SendState::kDataSent);
  s.on_chunk_acked(c1->offset, c1->length, false);
  EXPECT_EQ(s.send_state(), SendState::kDataRecvd);
  EXPECT_FALSE(s.reset(1));  // terminal: nothing to reset
}

TEST(Stream, ChunksAreLimitedByStreamAndConnectionCredit) {
  Stream s(0, bidi_params(/*send_limit=*/50));
  std::vector<uint8_t> data(100, 1);
  s.write(data);
  auto c = s.next_chunk(1000, /*conn_available=*/30);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->length, 30u);
  EXPECT_TRUE(s.connection_blocked(0));
  EXPECT_FALSE(s.stream_blocked());
  c = s.next_chunk(1000, 1000);
  EXPECT_EQ(c->length, 20u);
  EXPECT_TRUE(s.stream_blocked());
  EXPECT_FALSE(s.next_chunk(1000, 1000));
  EXPECT_TRUE(s.on_max_stream_data(100));
  c = s.next_chunk(1000, 1000);
  EXPECT_EQ(c->length, 50u);
}

TEST(Stream, ResetFromAnyNonTerminalStateReportsSentBytesAsFinalSize) {
  Stream s(0, bidi_params());
  std::vector<uint8_t> data(100, 1);
  s.write(data);
  s.next_chunk(40, 1000);
  ASSERT_TRUE(s.reset(77));
  EXPECT_EQ(s.send_state(), SendState::kResetSent);
  EXPECT_EQ(s.reset_error(), 77u);
  EXPECT_EQ(s.reset_final_size(), 40u);
  EXPECT_FALSE(s.next_chunk(1000, 1000));
  EXPECT_EQ(s.write(data), 0u);
  s.on_reset_acked();
  EXPECT_EQ(s.send_state(), SendState::kResetRecvd);
}

TEST(Stream, StopSendingFromPeerResetsWithItsCode) {
  Stream s(0, bidi_params());
  std::vector<uint8_t> data(10, 1);
  s.write(data);
  EXPECT_TRUE(s.on_stop_sending(9));
  EXPECT_EQ(s.send_state(), SendState::kResetSent);
  EXPECT_EQ(s.reset_error(), 9u);
  EXPECT_FALSE(s.on_stop_sending(9));  // already reset
}

TEST(Stream, RecvStatesThroughSizeKnownToDataRead) {
  Stream s(1, bidi_params());
  std::vector<uint8_t> data(100, 3);
  ASSERT_TRUE(s.on_stream_frame(50, std::span(data).first(50), true));
  EXPECT_EQ(s.recv_state(), RecvState::kSizeKnown);
  EXPECT_FALSE(s.readable());
  ASSERT_TRUE(s.on_stream_frame(0, std::span(data).first(50), false));
  EXPECT_EQ(s.recv_state(), RecvState::kDataRecvd);
  EXPECT_TRUE(s.readable());
  std::vector<uint8_t> out(60);
  auto r = s.read(out);
  EXPECT_EQ(r.bytes, 60u);
  EXPECT_FALSE(r.fin);
  r = s.read(out);
  EXPECT_EQ(r.bytes, 40u);
  EXPECT_TRUE(r.fin);
  EXPECT_EQ(s.recv_state(), RecvState::kDataRead);
  // Retransmissions after the end are harmless; data past the final size is not.
  EXPECT_TRUE(s.on_stream_frame(0, std::span(data).first(10), false));
  EXPECT_EQ(s.on_stream_frame(95, std::span(data).first(10), false).error().code,
            err::kFinalSizeError);
}

TEST(Stream, EndOfStreamIsDeliveredWhenFinArrivesAfterAllDataWasRead) {
  Stream s(1, bidi_params());
  std::vector<uint8_t> data(10, 3), out(20);
  ASSERT_TRUE(s.on_stream_frame(0, data, false));
  EXPECT_EQ(s.read(out).bytes, 10u);
  ASSERT_TRUE(s.on_stream_frame(10, {}, true));
  EXPECT_EQ(s.recv_state(), RecvState::kDataRecvd);
  EXPECT_TRUE(s.readable());
  auto r = s.read(out);
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_TRUE(r.fin);
  EXPECT_EQ(s.recv_state(), RecvState::kDataRead);
}

TEST(Stream, PeerResetMovesToResetRecvdAndReadReportsIt) {
  Stream s(1, bidi_params());
  std::vector<uint8_t> data(10, 3), out(20);
  ASSERT_TRUE(s.on_stream_frame(0, data, false));
  auto r = s.on_reset_stream(5, 30);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ(s.recv_state(), RecvState::kResetRecvd);
  EXPECT_TRUE(s.readable());
  auto rr = s.read(out);
  EXPECT_EQ(rr.reset_error, 5u);
  EXPECT_EQ(s.recv_state(), RecvState::kResetRead);
  // A repeated RESET_STREAM must agree on the final size.
  EXPECT_TRUE(s.on_reset_stream(5, 30));
  EXPECT_EQ(s.on_reset_stream(5, 31).error().code, err::kFinalSizeError);
}

TEST(Stream, ResetAfterAllDataReceivedIsIgnored) {
  Stream s(1, bidi_params());
  std::vector<uint8_t> data(10, 3);
  ASSERT_TRUE(s.on_stream_frame(0, data, true));
  auto r = s.on_reset_stream(5, 10);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_EQ(s.recv_state(), RecvState::kDataRecvd);
  EXPECT_EQ(s.on_reset_stream(5, 11).error().code, err::kFinalSizeError);
}

TEST(Stream, StopSendingDiscardsIncomingData) {
  Stream s(1, bidi_params());
  std::vector<uint8_t> data(10, 3);
  ASSERT_TRUE(s.on_stream_frame(0, data, false));
  ASSERT_TRUE(s.stop_sending(4));
  EXPECT_TRUE(s.stop_sending_pending());
  EXPECT_FALSE(s.stop_sending(4));
  ASSERT_TRUE(s.on_stream_frame(10, data, true));
  EXPECT_EQ(s.recv_state(), RecvState::kDataRead);  // nothing left for the application
  EXPECT_FALSE(s.stop_sending_pending());
  EXPECT_EQ(s.recv_buffer().read_offset(), 20u);
}

TEST(Stream, WindowUpdateAfterHalfReadOnlyInRecvState) {
  Stream s(1, bidi_params(1000, 1000));
  std::vector<uint8_t> data(600, 3), out(600);
  ASSERT_TRUE(s.on_stream_frame(0, data, false));
  EXPECT_FALSE(s.window_update_due());
  s.read(out);
  EXPECT_TRUE(s.window_update_due());
  EXPECT_EQ(s.poll_window_update(instant_from_ns(0), 10ms), 1600u);
  EXPECT_EQ(s.recv_buffer().max_offset(), 1600u);
  ASSERT_TRUE(s.on_stream_frame(600, data, true));
  s.read(out);
  EXPECT_FALSE(s.wants_window_updates());  // final size known: no MAX_STREAM_DATA
}

TEST(Stream, FinishedOnlyWhenBothPartsTerminal) {
  Stream s(0, bidi_params());
  std::vector<uint8_t> out(10);
  s.finish();
  auto c = s.next_chunk(100, 100);
  ASSERT_TRUE(c && c->fin);
  s.on_chunk_acked(c->offset, c->length, c->fin);
  EXPECT_EQ(s.send_state(), SendState::kDataRecvd);
  EXPECT_FALSE(s.finished());
  ASSERT_TRUE(s.on_stream_frame(0, {}, true));
  EXPECT_FALSE(s.finished());  // the application has not seen the end yet
  EXPECT_TRUE(s.read(out).fin);
  EXPECT_TRUE(s.finished());
}

TEST(Stream, UnidirectionalHasOnlyOnePart) {
  StreamParams p = bidi_params();
  p.has_recv = false;
  Stream send_only(2, p);
  std::vector<uint8_t> data(10, 1);
  EXPECT_EQ(send_only.write(data), 10u);
  EXPECT_FALSE(send_only.stop_sending(1));
  p.has_recv = true;
  p.has_send = false;
  Stream recv_only(3, p);
  EXPECT_EQ(recv_only.write(data), 0u);
  EXPECT_FALSE(recv_only.reset(1));
}

// RESET_STREAM_AT (draft-ietf-quic-reliable-stream-reset), sending part: the bytes below the
// reliable size still go out and are retransmitted; above it, nothing is; no FIN.
TEST(Stream, ResetAtKeepsDeliveringBelowTheReliableSizeOnly) {
  Stream s(0, bidi_params());
  std::vector<uint8_t> data(500, 7);
  ASSERT_EQ(s.write(data), 500u);
  ASSERT_TRUE(s.finish());
  auto c1 = s.next_chunk(300, 1000);  // [0, 300) sent
  ASSERT_TRUE(c1);
  EXPECT_FALSE(s.reset(9, 501));  // beyond what was written
  ASSERT_TRUE(s.reset(9, 400));
  EXPECT_EQ(s.send_state(), SendState::kResetSent);
  EXPECT_EQ(s.reset_final_size(), 400u);  // max(sent, reliable)
  EXPECT_EQ(s.reset_reliable_size(), 400u);
  auto c2 = s.next_chunk(1000, 1000);  // the rest of the reliable part, no FIN
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->offset, 300u);
  EXPECT_EQ(c2->length, 100u);
  EXPECT_FALSE(c2->fin);
  EXPECT_FALSE(s.next_chunk(1000, 1000));
  s.on_chunk_lost(0, 300, false);
  auto re = s.next_chunk(1000, 1000);
  ASSERT_TRUE(re);
  EXPECT_EQ(re->offset, 0u);
  EXPECT_EQ(re->length, 300u);
  EXPECT_TRUE(re->retransmission);
  // "Reset Recvd" needs both the frame and every reliable byte acknowledged.
  s.on_reset_acked();
  EXPECT_EQ(s.send_state(), SendState::kResetSent);
  s.on_chunk_acked(0, 300, false);
  s.on_chunk_acked(300, 100, false);
  EXPECT_EQ(s.send_state(), SendState::kResetRecvd);
}

TEST(Stream, ResetAtBelowWhatWasSentDropsTheRestAndALaterResetOnlyLowers) {
  Stream s(0, bidi_params());
  std::vector<uint8_t> data(500, 7);
  ASSERT_EQ(s.write(data), 500u);
  ASSERT_TRUE(s.next_chunk(500, 1000));
  ASSERT_TRUE(s.reset(9, 200));
  EXPECT_EQ(s.reset_final_size(), 500u);
  s.on_chunk_lost(0, 500, false);  // only [0, 200) comes back
  auto re = s.next_chunk(1000, 1000);
  ASSERT_TRUE(re);
  EXPECT_EQ(re->length, 200u);
  EXPECT_FALSE(s.next_chunk(1000, 1000));
  EXPECT_FALSE(s.reset(9, 300));  // raising is refused
  ASSERT_TRUE(s.reset(9, 100));   // lowering is allowed; the final size stays
  EXPECT_EQ(s.reset_reliable_size(), 100u);
  EXPECT_EQ(s.reset_final_size(), 500u);
  ASSERT_TRUE(s.reset(9, 0));     // and down to a plain RESET_STREAM
  s.on_chunk_lost(0, 200, false);
  EXPECT_FALSE(s.next_chunk(1000, 1000));
}

// Receiving part: the reliable bytes are read, then the reset.
TEST(Stream, PeerResetAtIsReadUpToTheReliableSizeThenReported) {
  Stream s(0, bidi_params());
  std::vector<uint8_t> data(10, 3);
  ASSERT_TRUE(s.on_stream_frame(0, data, false));
  auto r = s.on_reset_stream(5, 10, 4);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(*r);  // not yet: 4 bytes are still to be read
  uint8_t buf[16];
  ReadResult a = s.read(MutBytes(buf, sizeof buf));
  EXPECT_EQ(a.bytes, 4u);
  EXPECT_FALSE(a.reset_error);
  EXPECT_EQ(s.recv_state(), RecvState::kResetRecvd);
  ReadResult b = s.read(MutBytes(buf, sizeof buf));
  EXPECT_EQ(b.bytes, 0u);
  ASSERT_TRUE(b.reset_error);
  EXPECT_EQ(*b.reset_error, 5u);
}

}  // namespace
}  // namespace quic

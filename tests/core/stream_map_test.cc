#include "core/stream_map.h"

#include <gtest/gtest.h>

#include <vector>

namespace quic {
namespace {

constexpr Instant kT0 = instant_from_ns(1'000'000'000);

StreamMapConfig config(bool server, uint64_t max_streams = 100) {
  StreamMapConfig c;
  c.is_server = server;
  c.max_streams_bidi = max_streams;
  c.max_streams_uni = max_streams;
  c.stream_window_bidi_local = 1000;
  c.stream_window_bidi_remote = 1000;
  c.stream_window_uni = 1000;
  c.connection_window = 3000;
  return c;
}

PeerStreamParams peer(uint64_t max_streams = 100, uint64_t window = 1000,
                      uint64_t max_data = 3000) {
  return PeerStreamParams{max_data, window, window, window, max_streams, max_streams};
}

std::vector<uint8_t> bytes(size_t n, uint8_t v = 0x5a) {
  return std::vector<uint8_t>(n, v);
}

void expect_error(const Status& s, uint64_t code, uint64_t frame_type) {
  ASSERT_FALSE(s) << "expected " << error_name(code);
  EXPECT_EQ(s.error().code, code) << s.error().reason;
  EXPECT_EQ(s.error().frame_type, frame_type);
}

std::vector<StreamEvent> drain_events(StreamMap& m) {
  std::vector<StreamEvent> v;
  while (auto e = m.poll_event()) v.push_back(*e);
  return v;
}

std::vector<ControlFrame> drain_control(StreamMap& m, Instant now = kT0) {
  std::vector<ControlFrame> v;
  while (auto f = m.peek_control(now, 10ms)) {
    v.push_back(*f);
    m.pop_control();
  }
  return v;
}

TEST(StreamMap, LocalStreamIdsFollowInitiatorAndDirectionBits) {
  StreamMap client(config(false), peer());
  StreamMap server(config(true), peer());
  EXPECT_EQ(client.open(true), 0u);
  EXPECT_EQ(client.open(true), 4u);
  EXPECT_EQ(client.open(false), 2u);
  EXPECT_EQ(server.open(true), 1u);
  EXPECT_EQ(server.open(false), 3u);
  EXPECT_EQ(server.open(false), 7u);
}

TEST(StreamMap, OpenIsBlockedAtPeerMaxStreamsAndQueuesStreamsBlockedOnce) {
  StreamMap m(config(false), peer(/*max_streams=*/2));
  ASSERT_TRUE(m.open(true));
  ASSERT_TRUE(m.open(true));
  EXPECT_FALSE(m.open(true));
  EXPECT_FALSE(m.open(true));
  auto ctl = drain_control(m);
  ASSERT_EQ(ctl.size(), 1u);
  EXPECT_EQ(ctl[0], (ControlFrame{ControlKind::kStreamsBlocked, 0, 2, 0, true}));
  ASSERT_TRUE(m.on_max_streams(true, 3));
  auto ev = drain_events(m);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, StreamEventKind::kStreamsAvailable);
  EXPECT_EQ(m.open(true), 8u);
  ASSERT_TRUE(m.on_max_streams(true, 1));  // smaller values are ignored
  EXPECT_EQ(m.peer_max_streams(true), 3u);
}

TEST(StreamMap, MaxStreamsAbove2To60IsFrameEncodingError) {
  StreamMap m(config(false), peer());
  expect_error(m.on_max_streams(true, (uint64_t{1} << 60) + 1), err::kFrameEncodingError, 0x12);
  expect_error(m.on_max_streams(false, (uint64_t{1} << 60) + 1), err::kFrameEncodingError, 0x13);
  expect_error(m.on_streams_blocked(false, (uint64_t{1} << 60) + 1), err::kFrameEncodingError,
               0x17);
  EXPECT_TRUE(m.on_max_streams(true, uint64_t{1} << 60));
}

TEST(StreamMap, PeerStreamIdAboveOurLimitIsStreamLimitError) {
  StreamMap server(config(true, /*max_streams=*/10), peer());
  auto d = bytes(1);
  expect_error(server.on_stream_frame(1'000'000'000, 0, d, false), err::kStreamLimitError, 0x08);
  expect_error(server.on_stream_frame(4 * 10, 0, d, false), err::kStreamLimitError, 0x08);
  EXPECT_TRUE(server.on_stream_frame(4 * 9, 0, d, false));  // index 9 is the last allowed
  expect_error(server.on_reset_stream(4 * 10 + 2, 0, 0), err::kStreamLimitError, 0x04);
  EXPECT_EQ(server.stream_count(), 10u);
}

TEST(StreamMap, ConcurrencyLimitIsClampedAndEnforced) {
  StreamMap server(config(true, /*max_streams=*/uint64_t{1} << 40), peer());
  EXPECT_EQ(server.advertised_max_streams(true), kMaxConcurrentStreams);
  auto d = bytes(1);
  expect_error(server.on_stream_frame(4 * kMaxConcurrentStreams, 0, d, false),
               err::kStreamLimitError, 0x08);
  EXPECT_EQ(server.stream_count(), 0u);
  // The highest allowed ID opens every lower one: bounded by the clamp.
  EXPECT_TRUE(server.on_stream_frame(4 * (kMaxConcurrentStreams - 1), 0, d, false));
  EXPECT_EQ(server.stream_count(), kMaxConcurrentStreams);
}

TEST(StreamMap, PeerStreamOpensAllLowerIdsOfTheSameType) {
  StreamMap server(config(true), peer());
  auto d = bytes(5);
  ASSERT_TRUE(server.on_stream_frame(8, 0, d, false));
  auto ev = drain_events(server);
  std::vector<StreamEvent> want = {{0, StreamEventKind::kOpened},
                                   {4, StreamEventKind::kOpened},
                                   {8, StreamEventKind::kOpened},
                                   {8, StreamEventKind::kReadable}};
  EXPECT_EQ(ev, want);
  // MAX_STREAM_DATA also opens a peer bidirectional stream (RFC 9000 §3.2).
  ASSERT_TRUE(server.on_max_stream_data(12, 5000));
  EXPECT_NE(server.find(12), nullptr);
  EXPECT_EQ(server.find(10), nullptr);  // another type: untouched
}

TEST(StreamMap, FrameDirectionRulesGiveStreamStateError) {
  StreamMap client(config(false), peer());
  auto uni = client.open(false);  // 2: send-only for us
  ASSERT_EQ(uni, 2u);
  auto d = bytes(3);
  expect_error(client.on_stream_frame(2, 0, d, false), err::kStreamStateError, 0x08);
  expect_error(client.on_reset_stream(2, 0, 0), err::kStreamStateError, 0x04);
  expect_error(client.on_stream_data_blocked(2, 0), err::kStreamStateError, 0x15);
  EXPECT_TRUE(client.on_max_stream_data(2, 5000));
  EXPECT_TRUE(client.on_stop_sending(2, 1));
  // 3 is a server uni stream: receive-only for the client.
  expect_error(client.on_max_stream_data(3, 10), err::kStreamStateError, 0x11);
  expect_error(client.on_stop_sending(3, 0), err::kStreamStateError, 0x05);
  EXPECT_TRUE(client.on_stream_frame(3, 0, d, false));
  // Locally-initiated streams we have not opened yet.
  expect_error(client.on_stream_frame(4, 0, d, false), err::kStreamStateError, 0x08);
  expect_error(client.on_stop_sending(4, 0), err::kStreamStateError, 0x05);
  expect_error(client.on_max_stream_data(6, 10), err::kStreamStateError, 0x11);
}

TEST(StreamMap, HostileOffsetIsFlowControlErrorWithoutAllocation) {
  StreamMapConfig c = config(true);
  c.stream_window_bidi_remote = 1 << 20;
  c.connection_window = 1 << 20;
  StreamMap server(c, peer());
  auto d = bytes(1000);
  expect_error(server.on_stream_frame(0, 100'000'000, d, false), err::kFlowControlError, 0x08);
  EXPECT_EQ(server.buffered_receive_bytes(), 0u);
  expect_error(server.on_stream_frame(0, kMaxVarint, d, false), err::kFrameEncodingError, 0x08);
}

TEST(StreamMap, ConnectionWindowBoundsTheSumOfAllStreams) {
  StreamMap server(config(true), peer());  // 1000 per stream, 3000 per connection
  auto d = bytes(1000);
  ASSERT_TRUE(server.on_stream_frame(0, 0, d, false));
  ASSERT_TRUE(server.on_stream_frame(4, 0, d, false));
  ASSERT_TRUE(server.on_stream_frame(8, 0, std::span(d).first(500), false));
  EXPECT_EQ(server.connection_received(), 2500u);
  EXPECT_LE(server.buffered_receive_bytes(), 2 * 3000u);
  expect_error(server.on_stream_frame(12, 0, std::span(d).first(501), false),
               err::kFlowControlError, 0x08);
  // A RESET_STREAM's final size is charged too (RFC 9000 §4.5).
  expect_error(server.on_reset_stream(12, 0, 501), err::kFlowControlError, 0x04);
  EXPECT_TRUE(server.on_reset_stream(12, 0, 500));
  EXPECT_EQ(server.connection_received(), 3000u);
}

TEST(StreamMap, ReadingReleasesConnectionAndStreamCredit) {
  StreamMap server(config(true), peer());
  auto d = bytes(800);
  ASSERT_TRUE(server.on_stream_frame(0, 0, d, false));
  ASSERT_TRUE(server.on_stream_frame(4, 0, d, false));
  EXPECT_FALSE(server.has_pending_control());
  std::vector<uint8_t> out(1000);
  EXPECT_EQ(server.read(0, out).bytes, 800u);
  EXPECT_EQ(server.read(4, out).bytes, 800u);
  EXPECT_TRUE(server.has_pending_control());
  auto ctl = drain_control(server);
  std::vector<ControlFrame> want = {{ControlKind::kMaxStreamData, 0, 1800},
                                    {ControlKind::kMaxStreamData, 4, 1800},
                                    {ControlKind::kMaxData, 0, 4600}};
  EXPECT_EQ(ctl, want);
}

TEST(StreamMap, LostControlFramesAreResentOnlyWithTheLatestValue) {
  StreamMap server(config(true), peer());
  auto d = bytes(800);
  std::vector<uint8_t> out(1000);
  ASSERT_TRUE(server.on_stream_frame(0, 0, d, false));
  server.read(0, out);
  auto first = drain_control(server, kT0);
  ASSERT_EQ(first.size(), 1u);  // MAX_STREAM_DATA 1800 (the connection is under half)
  ASSERT_EQ(first[0].kind, ControlKind::kMaxStreamData);
  server.on_control_lost(first[0]);
  auto again = drain_control(server, kT0);
  EXPECT_EQ(again, first);  // still current: resent as is
  ASSERT_TRUE(server.on_stream_frame(0, 800, d, false));
  server.read(0, out);
  auto second = drain_control(server, kT0 + 1s);
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(second[0].kind, ControlKind::kMaxStreamData);
  EXPECT_GT(second[0].value, first[0].value);
  server.on_control_lost(first[0]);  // superseded: not resent
  EXPECT_TRUE(drain_control(server, kT0 + 1s).empty());
  server.on_control_lost(second[0]);
  EXPECT_EQ(drain_control(server, kT0 + 1s).at(0), second[0]);
}

TEST(StreamMap, BlockedFramesAreSentOncePerLimit) {
  StreamMap client(config(false), peer(100, /*window=*/500, /*max_data=*/800));
  auto a = client.open(true);
  auto b = client.open(true);
  auto d = bytes(1000);
  EXPECT_EQ(client.write(*a, d), 1000u);
  EXPECT_EQ(client.write(*b, d), 1000u);
  uint64_t sent = 0;
  while (auto c = client.next_stream_chunk(200)) sent += c->chunk.length;
  EXPECT_EQ(sent, 800u);  // the connection limit
  auto ctl = drain_control(client);
  ASSERT_FALSE(ctl.empty());
  bool stream_blocked = false, data_blocked = false;
  for (auto& f : ctl) {
    stream_blocked |= f.kind == ControlKind::kStreamDataBlocked && f.value == 500;
    data_blocked |= f.kind == ControlKind::kDataBlocked && f.value == 800;
  }
  EXPECT_TRUE(data_blocked);
  ASSERT_TRUE(client.on_max_data(5000));
  while (auto c = client.next_stream_chunk(200)) sent += c->chunk.length;
  EXPECT_EQ(sent, 1000u);  // both streams at their 500-byte stream limit
  ctl = drain_control(client);
  size_t n_stream_blocked = 0;
  for (auto& f : ctl) n_stream_blocked += f.kind == ControlKind::kStreamDataBlocked;
  EXPECT_EQ(n_stream_blocked + (stream_blocked ? 1 : 0), 2u);
  EXPECT_TRUE(drain_control(client).empty());  // not repeated
}

TEST(StreamMap, WriteToAStreamAtItsLimitQueuesStreamDataBlocked) {
  StreamMap client(config(false), peer(100, /*window=*/100, /*max_data=*/10000));
  auto id = *client.open(true);
  auto d = bytes(100);
  client.write(id, d);
  ASSERT_TRUE(client.next_stream_chunk(1000));
  EXPECT_FALSE(client.has_stream_data());
  ASSERT_TRUE(drain_control(client).empty());  // exactly at the limit, nothing waiting
  client.write(id, d);
  EXPECT_FALSE(client.has_stream_data());
  auto ctl = drain_control(client);
  ASSERT_EQ(ctl.size(), 1u);
  EXPECT_EQ(ctl[0], (ControlFrame{ControlKind::kStreamDataBlocked, id, 100}));
  ASSERT_TRUE(client.on_max_stream_data(id, 150));
  EXPECT_TRUE(client.has_stream_data());
  EXPECT_EQ(client.next_stream_chunk(1000)->chunk, (SendChunk{100, 50, false, false}));
}

TEST(StreamMap, ResetStreamHasNoStreamDataLeft) {
  StreamMap client(config(false), peer());
  auto id = *client.open(true);
  auto d = bytes(100);
  client.write(id, d);
  EXPECT_TRUE(client.has_stream_data());
  ASSERT_TRUE(client.reset(id, 3));
  EXPECT_FALSE(client.has_stream_data());
  EXPECT_FALSE(client.next_stream_chunk(1000));
  auto ctl = drain_control(client);
  ASSERT_EQ(ctl.size(), 1u);
  EXPECT_EQ(ctl[0], (ControlFrame{ControlKind::kResetStream, id, 0, 3}));
}

TEST(StreamMap, StreamsShareSendingRoundRobin) {
  StreamMap client(config(false), peer(100, 100000, 100000));
  std::vector<uint64_t> ids;
  auto d = bytes(300);
  for (int i = 0; i < 3; ++i) {
    ids.push_back(*client.open(true));
    client.write(ids.back(), d);
  }
  std::vector<uint64_t> order;
  while (auto c = client.next_stream_chunk(100)) order.push_back(c->stream_id);
  std::vector<uint64_t> want = {0, 4, 8, 0, 4, 8, 0, 4, 8};
  EXPECT_EQ(order, want);
}

// The deadline scheduler's hooks: held streams are passed over (new and lost data alike) and
// keep their turn; next_chunk_of serves one stream whatever the priorities, lost data first.
TEST(StreamMap, HeldStreamsArePassedOverAndKeepTheirPlace) {
  StreamMap client(config(false), peer(100, 100000, 100000));
  std::vector<uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(*client.open(true));
    client.write(ids.back(), bytes(200));
  }
  auto held = [](uint64_t id) { return id == 4; };
  std::vector<uint64_t> order;
  while (auto c = client.next_stream_chunk(100, held)) order.push_back(c->stream_id);
  EXPECT_EQ(order, (std::vector<uint64_t>{0, 8, 0, 8}));
  EXPECT_TRUE(client.has_stream_data());  // stream 4 still waits
  // Released, it sends.
  order.clear();
  while (auto c = client.next_stream_chunk(100)) order.push_back(c->stream_id);
  EXPECT_EQ(order, (std::vector<uint64_t>{4, 4}));
  // Lost data of the held stream (lost first) waits too; stream 0's is resent.
  client.on_stream_chunk_lost(4, 0, 100, false);
  client.on_stream_chunk_lost(0, 0, 100, false);
  auto r = client.next_stream_chunk(100, held);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream_id, 0u);
  EXPECT_TRUE(r->chunk.retransmission);
  EXPECT_FALSE(client.next_stream_chunk(100, held).has_value());
  r = client.next_stream_chunk(100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream_id, 4u);
  EXPECT_TRUE(r->chunk.retransmission);
}

TEST(StreamMap, NextChunkOfServesOneStreamLostDataFirst) {
  StreamMap client(config(false), peer(100, 100000, 100000));
  auto a = *client.open(true);
  auto b = *client.open(true);
  client.write(a, bytes(300));
  client.write(b, bytes(300));
  ASSERT_TRUE(client.set_priority(a, StreamPriority{0, false}));  // a would always go first
  auto c1 = client.next_chunk_of(b, 100);
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->stream_id, b);
  EXPECT_EQ(c1->chunk, (SendChunk{0, 100, false, false}));
  client.on_stream_chunk_lost(b, 0, 100, false);
  auto c2 = client.next_chunk_of(b, 100);
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->chunk, (SendChunk{0, 100, false, true}));  // the loss first
  EXPECT_EQ(client.connection_credit().used(), 100u);       // charged once
  // The stale retransmission entry does not disturb normal scheduling.
  auto c3 = client.next_stream_chunk(100);
  ASSERT_TRUE(c3);
  EXPECT_EQ(c3->stream_id, a);
  EXPECT_FALSE(client.next_chunk_of(999, 100).has_value());
}

TEST(StreamMap, StopSendingFromPeerQueuesResetStreamWithItsCode) {
  StreamMap client(config(false), peer());
  auto id = *client.open(true);
  auto d = bytes(100);
  client.write(id, d);
  auto c = client.next_stream_chunk(60);
  ASSERT_TRUE(c);
  ASSERT_TRUE(client.on_stop_sending(id, 42));
  auto ev = drain_events(client);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], (StreamEvent{id, StreamEventKind::kStopSending, 42}));
  EXPECT_FALSE(client.next_stream_chunk(100));  // no more STREAM frames after RESET_STREAM
  auto ctl = drain_control(client);
  ASSERT_EQ(ctl.size(), 1u);
  EXPECT_EQ(ctl[0], (ControlFrame{ControlKind::kResetStream, id, 60, 42}));
  client.on_control_lost(ctl[0]);  // RESET_STREAM is resent until acknowledged
  EXPECT_EQ(drain_control(client), ctl);
  client.on_control_acked(ctl[0]);
  EXPECT_EQ(client.find(id)->send_state(), SendState::kResetRecvd);
}

TEST(StreamMap, OurStopSendingIsResentUntilThePeerResets) {
  StreamMap server(config(true), peer());
  auto d = bytes(100);
  ASSERT_TRUE(server.on_stream_frame(0, 0, d, false));
  ASSERT_TRUE(server.stop_sending(0, 11));
  EXPECT_FALSE(server.stop_sending(0, 11));
  auto ctl = drain_control(server);
  ASSERT_EQ(ctl.size(), 1u);
  EXPECT_EQ(ctl[0], (ControlFrame{ControlKind::kStopSending, 0, 0, 11}));
  server.on_control_lost(ctl[0]);
  EXPECT_EQ(drain_control(server), ctl);
  // Data arriving after STOP_SENDING is dropped but still charged and released.
  ASSERT_TRUE(server.on_stream_frame(0, 100, d, false));
  EXPECT_EQ(server.buffered_receive_bytes(), 0u);
  EXPECT_EQ(server.connection_window().consumed(), 200u);
  ASSERT_TRUE(server.on_reset_stream(0, 11, 200));
  server.on_control_lost(ctl[0]);  // the peer answered: no need to resend
  EXPECT_TRUE(drain_control(server).empty());
}

TEST(StreamMap, PeerResetReleasesCreditAndIsReportedOnce) {
  StreamMapConfig c = config(true);
  c.stream_window_bidi_remote = 3000;
  StreamMap server(c, peer());
  auto d = bytes(100);
  ASSERT_TRUE(server.on_stream_frame(0, 0, d, false));
  ASSERT_TRUE(server.on_reset_stream(0, 7, 2000));
  ASSERT_TRUE(server.on_reset_stream(0, 7, 2000));  // duplicate
  expect_error(server.on_reset_stream(0, 7, 2001), err::kFinalSizeError, 0x04);
  auto ev = drain_events(server);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[2], (StreamEvent{0, StreamEventKind::kReset, 7}));
  EXPECT_EQ(server.connection_window().consumed(), 2000u);
  // The unread bytes count as consumed: MAX_DATA moves on.
  auto ctl = drain_control(server);
  ASSERT_EQ(ctl.size(), 1u);
  EXPECT_EQ(ctl[0], (ControlFrame{ControlKind::kMaxData, 0, 5000}));
}

TEST(StreamMap, ShortWriteReportsWritableOnceSpaceFrees) {
  StreamMapConfig c = config(false);
  c.send_buffer_bytes = 100;
  StreamMap client(c, peer());
  auto id = *client.open(true);
  auto d = bytes(150);
  EXPECT_EQ(client.write(id, d), 100u);
  auto ch = client.next_stream_chunk(1000);
  ASSERT_TRUE(ch);
  EXPECT_TRUE(drain_events(client).empty());
  client.on_stream_chunk_acked(id, 0, 40, false);
  auto ev = drain_events(client);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], (StreamEvent{id, StreamEventKind::kWritable}));
}

// kWritable waits for a low-water mark of free room (a quarter of the buffer, at most 64 KiB),
// not for the first acknowledged byte; a writer that wrote all it had room for asks for the
// event with want_writable.
TEST(StreamMap, WritableWaitsForTheLowWaterMark) {
  StreamMapConfig c = config(false);
  c.send_buffer_bytes = 100;  // mark: 25 bytes
  StreamMap client(c, peer());
  auto id = *client.open(true);
  EXPECT_EQ(client.write(id, bytes(150)), 100u);
  ASSERT_TRUE(client.next_stream_chunk(1000));
  client.on_stream_chunk_acked(id, 0, 24, false);
  EXPECT_TRUE(drain_events(client).empty()) << "24 bytes free: under the mark";
  client.on_stream_chunk_acked(id, 24, 1, false);
  auto ev = drain_events(client);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], (StreamEvent{id, StreamEventKind::kWritable}));

  // Filled exactly (not a short write): no event unless asked for.
  EXPECT_EQ(client.write(id, bytes(25)), 25u);
  ASSERT_TRUE(client.next_stream_chunk(1000));
  client.on_stream_chunk_acked(id, 25, 75, false);
  EXPECT_TRUE(drain_events(client).empty());
  EXPECT_EQ(client.write(id, bytes(75)), 75u);  // the room, exactly
  client.want_writable(id);
  ASSERT_TRUE(client.next_stream_chunk(1000));
  client.on_stream_chunk_acked(id, 100, 30, false);
  ev = drain_events(client);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], (StreamEvent{id, StreamEventKind::kWritable}));
}

TEST(StreamMap, LostChunksAreRetransmitted) {
  StreamMap client(config(false), peer());
  auto id = *client.open(true);
  auto d = bytes(300);
  client.write(id, d);
  client.finish(id);
  std::vector<StreamChunk> sent;
  while (auto c = client.next_stream_chunk(100)) sent.push_back(*c);
  ASSERT_EQ(sent.size(), 3u);
  client.on_stream_chunk_acked(id, 0, 100, false);
  client.on_stream_chunk_lost(id, 100, 100, false);
  client.on_stream_chunk_lost(id, 200, 100, true);
  auto r1 = client.next_stream_chunk(150);
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->chunk, (SendChunk{100, 150, false, true}));  // adjacent losses merge
  auto r2 = client.next_stream_chunk(150);
  EXPECT_EQ(r2->chunk, (SendChunk{250, 50, true, true}));
  EXPECT_EQ(client.connection_credit().used(), 300u);  // retransmissions are free
}

// Two stream maps wired back to back: every frame is delivered and acknowledged at once.
struct Pair {
  StreamMap client;
  StreamMap server;
  int streams_blocked_seen = 0;
  Instant now = kT0;

  Pair(const StreamMapConfig& cc, const StreamMapConfig& sc, const PeerStreamParams& cp,
       const PeerStreamParams& sp)
      : client(cc, sp), server(sc, cp) {}

  Status deliver(StreamMap& to, const ControlFrame& f) {
    switch (f.kind) {
      case ControlKind::kMaxData:
        return to.on_max_data(f.value);
      case ControlKind::kMaxStreamData:
        return to.on_max_stream_data(f.stream_id, f.value);
      case ControlKind::kMaxStreams:
        return to.on_max_streams(f.bidi, f.value);
      case ControlKind::kDataBlocked:
        return to.on_data_blocked(f.value);
      case ControlKind::kStreamDataBlocked:
        return to.on_stream_data_blocked(f.stream_id, f.value);
      case ControlKind::kStreamsBlocked:
        ++streams_blocked_seen;
        return to.on_streams_blocked(f.bidi, f.value);
      case ControlKind::kResetStream:
        return to.on_reset_stream(f.stream_id, f.error_code, f.value);
      case ControlKind::kStopSending:
        return to.on_stop_sending(f.stream_id, f.error_code);
    }
    return {};
  }

  bool pump(StreamMap& from, StreamMap& to) {
    bool moved = false;
    while (auto f = from.peek_control(now, 10ms)) {
      from.pop_control();
      EXPECT_TRUE(deliver(to, *f));
      from.on_control_acked(*f);
      moved = true;
    }
    while (auto c = from.next_stream_chunk(1200)) {
      std::vector<uint8_t> buf(c->chunk.length);
      EXPECT_TRUE(from.copy_out(c->stream_id, c->chunk.offset, c->chunk.length, buf.data()));
      EXPECT_TRUE(to.on_stream_frame(c->stream_id, c->chunk.offset, buf, c->chunk.fin));
      from.on_stream_chunk_acked(c->stream_id, c->chunk.offset, c->chunk.length, c->chunk.fin);
      moved = true;
    }
    now += 1ms;
    return moved;
  }
};

TEST(StreamMap, SequentialStreamsBeyondTheLimitFlowWithMaxStreams) {
  constexpr uint64_t kLimit = 1000;
  constexpr int kTotal = 1999;
  StreamMapConfig cc = config(false, kLimit), sc = config(true, kLimit);
  cc.connection_window = sc.connection_window = 1 << 20;
  Pair p(cc, sc, PeerStreamParams{1 << 20, 1000, 1000, 1000, kLimit, kLimit},
         PeerStreamParams{1 << 20, 1000, 1000, 1000, kLimit, kLimit});
  auto request = bytes(10, 1), response = bytes(20, 2);
  int opened = 0, completed = 0, first_batch = -1, rounds = 0;
  std::vector<uint8_t> buf(100);
  while (completed < kTotal && rounds++ < 100) {
    while (opened < kTotal) {
      auto id = p.client.open(true);
      if (!id) break;
      ++opened;
      EXPECT_EQ(p.client.write(*id, request), request.size());
      EXPECT_TRUE(p.client.finish(*id));
    }
    if (first_batch < 0) first_batch = opened;
    p.pump(p.client, p.server);
    while (auto e = p.server.poll_event()) {
      if (e->kind != StreamEventKind::kReadable) continue;
      ReadResult r;
      do r = p.server.read(e->stream_id, buf);
      while (r.bytes > 0 && !r.fin);
      if (r.fin) {
        p.server.write(e->stream_id, response);
        p.server.finish(e->stream_id);
      }
    }
    p.pump(p.server, p.client);
    p.pump(p.client, p.server);  // acks of responses are immediate; MAX_STREAMS went back
    while (auto e = p.client.poll_event()) {
      if (e->kind != StreamEventKind::kReadable) continue;
      ReadResult r;
      do r = p.client.read(e->stream_id, buf);
      while (r.bytes > 0 && !r.fin);
      if (r.fin) ++completed;
    }
    p.pump(p.server, p.client);
  }
  EXPECT_EQ(first_batch, static_cast<int>(kLimit));
  EXPECT_EQ(completed, kTotal);
  EXPECT_GE(p.streams_blocked_seen, 1);
  EXPECT_GE(p.client.peer_max_streams(true), static_cast<uint64_t>(kTotal));
  EXPECT_EQ(p.server.advertised_max_streams(true), kTotal + kLimit);
  EXPECT_EQ(p.server.stream_count(), 0u);  // closed streams' state was freed
  EXPECT_EQ(p.client.stream_count(), 0u);
}

TEST(StreamMap, UnidirectionalStreamTransfersAndCloses) {
  Pair p(config(false), config(true), peer(), peer());
  auto id = *p.client.open(false);
  auto d = bytes(2500, 9);
  size_t written = 0;
  std::vector<uint8_t> got, buf(700);
  bool fin = false;
  for (int round = 0; round < 20 && !fin; ++round) {
    written += p.client.write(id, std::span(d).subspan(written));
    if (written == d.size()) p.client.finish(id);
    p.pump(p.client, p.server);
    for (;;) {
      auto r = p.server.read(id, buf);
      got.insert(got.end(), buf.begin(), buf.begin() + r.bytes);
      fin = fin || r.fin;
      if (r.bytes == 0) break;
    }
    p.pump(p.server, p.client);  // MAX_STREAM_DATA / MAX_DATA back to the sender
  }
  EXPECT_TRUE(fin);
  EXPECT_EQ(got, d);  // more than the 1000-byte stream window: updates flowed
  EXPECT_EQ(p.server.stream_count(), 0u);
  EXPECT_EQ(p.client.stream_count(), 0u);
  EXPECT_EQ(p.server.advertised_max_streams(false), 101u);
}

}  // namespace
}  // namespace quic

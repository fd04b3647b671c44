// Resource-exhaustion attacks from a malicious client after a real handshake. Each peer-
// controlled quantity has a cap in the core (connection.h, stream_buffers.h, recovery/); these
// tests drive past the cap and check that the server either closes with the RFC error code or
// stays within bounded memory (measured with the fixture's counting operator new).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "core/stream_buffers.h"
#include "hostile_fixture.h"

namespace quic::hostile {
namespace {

// Generous ceiling for what a capped flood may leave behind (caps are a few KiB to ~100 KiB).
constexpr int64_t kHeapGrowthCeiling = 1 << 20;

PairOptions big_client_windows() {
  PairOptions o;
  o.client.initial_max_data = 1ull << 30;
  o.client.initial_max_stream_data = 1ull << 30;
  o.client.max_connection_window = 1ull << 30;
  o.client.max_stream_window = 1ull << 30;
  return o;
}

size_t count_frames_in(const std::vector<Datagram>& ds, size_t cid_len, auto pred) {
  size_t n = 0;
  for (const Datagram& d : ds) {
    for (const PlainPacket& p : decode_datagram(d, cid_len)) {
      for (const Frame& f : decode_frames(p.payload)) n += pred(f) ? 1 : 0;
    }
  }
  return n;
}

// Writes stream data on a server stream and takes the server's datagrams (never acknowledged)
// until the congestion window stops it: afterwards only ACKs may leave the server.
void fill_server_cwnd(Pair& pair, uint64_t stream_id) {
  std::vector<uint8_t> chunk(64 * 1024, 0x5a);
  int quiet = 0;
  for (int i = 0; i < 200 && quiet < 3; ++i) {
    (void)pair.server()->stream_write(stream_id, chunk, false);
    quiet = pair.poll_server().empty() ? quiet + 1 : 0;
    pair.advance(1ms);  // past any pacing delay; timers deliberately not fired
  }
}

// RFC 9000 §8.2.2 / §9.3.3: PATH_CHALLENGEs need PATH_RESPONSEs, but a peer must not be able to
// make us queue unbounded responses while we cannot send (tiny congestion window).
TEST(HostileAttacks, PathChallengeFloodQueuesAtMostKMaxPendingPathResponses) {
  Pair pair(big_client_windows());
  ASSERT_TRUE(pair.handshake());
  auto sid = pair.server()->open_stream(true);
  ASSERT_TRUE(sid.has_value());
  fill_server_cwnd(pair, *sid);
  ASSERT_TRUE(pair.poll_server().empty());

  constexpr int kPackets = 60, kPerPacket = 120;  // 7200 challenges, 1080 bytes per packet
  int64_t heap_before = live_heap_bytes();
  uint64_t received_before = pair.server()->stats().packets_received;
  std::array<uint8_t, 8> last{};
  for (int p = 0; p < kPackets; ++p) {
    std::vector<uint8_t> payload(kPerPacket * 9);
    Writer w(payload);
    for (int i = 0; i < kPerPacket; ++i) {
      PathChallengeFrame f;
      uint32_t n = static_cast<uint32_t>(p * kPerPacket + i);
      std::memcpy(f.data.data(), &n, sizeof n);
      f.data[7] = 0xcc;
      ASSERT_TRUE(encode_frame(w, f));
      last = f.data;
    }
    pair.inject(payload);
  }
  int64_t growth = live_heap_bytes() - heap_before;
  EXPECT_EQ(pair.server()->stats().packets_received, received_before + kPackets);
  EXPECT_LT(growth, kHeapGrowthCeiling) << "heap grew by " << growth << " bytes";
  EXPECT_FALSE(pair.server_close_code().has_value());

  // Open the window: whatever was queued now leaves, and it is at most the cap.
  std::vector<Datagram> out;
  for (int round = 0; round < 50; ++round) {
    pair.ack_all_server_packets();
    pair.advance(1ms);
    auto ds = pair.poll_server();
    out.insert(out.end(), ds.begin(), ds.end());
  }
  size_t responses = count_frames_in(out, pair.client_cid().len, [](const Frame& f) {
    return std::holds_alternative<PathResponseFrame>(f);
  });
  bool newest_answered = count_frames_in(out, pair.client_cid().len, [&](const Frame& f) {
                           auto* r = std::get_if<PathResponseFrame>(&f);
                           return r && r->data == last;
                         }) > 0;
  EXPECT_GT(responses, 0u);
  EXPECT_LE(responses, kMaxPendingPathResponses);
  EXPECT_TRUE(newest_answered) << "the newest challenge should be among those kept";
  EXPECT_FALSE(pair.server_close_code().has_value());
}

NewConnectionIdFrame ncid(uint64_t seq, uint64_t retire_prior_to,
                          std::array<uint8_t, 8>& cid_storage) {
  for (size_t i = 0; i < 8; ++i) cid_storage[i] = static_cast<uint8_t>(seq >> (8 * (i % 8)));
  cid_storage[7] ^= 0xa5;
  NewConnectionIdFrame f;
  f.sequence = seq;
  f.retire_prior_to = retire_prior_to;
  f.cid = Bytes(cid_storage.data(), cid_storage.size());
  f.reset_token.fill(static_cast<uint8_t>(seq));
  f.reset_token[0] = 0x77;
  return f;
}

// RFC 9000 §5.1.2: each NEW_CONNECTION_ID retiring everything before it forces a
// RETIRE_CONNECTION_ID; while we cannot send them (blocked window, never acknowledged) their
// number must stay bounded, by closing with CONNECTION_ID_LIMIT_ERROR.
TEST(HostileAttacks, RetirePriorToStuffingClosesWithConnectionIdLimitError) {
  Pair pair(big_client_windows());
  ASSERT_TRUE(pair.handshake());
  auto sid = pair.server()->open_stream(true);
  ASSERT_TRUE(sid.has_value());
  fill_server_cwnd(pair, *sid);
  int64_t heap_before = live_heap_bytes();
  std::array<uint8_t, 8> storage;
  uint64_t sent = 0;
  for (uint64_t seq = 1; seq <= 10'000 && !pair.server_close_code(); ++seq, ++sent) {
    pair.inject_frames({ncid(seq, seq, storage)});
  }
  int64_t growth = live_heap_bytes() - heap_before;
  EXPECT_LT(growth, kHeapGrowthCeiling);
  ASSERT_TRUE(pair.server_close_code().has_value()) << "no close after " << sent << " frames";
  EXPECT_EQ(*pair.server_close_code(), err::kConnectionIdLimitError);
  EXPECT_LE(sent, 2 * kMaxRetiredCidsPending + 2);
}

// The same attack while the server can send: the RETIRE_CONNECTION_IDs leave (never
// acknowledged), and state still stays bounded.
TEST(HostileAttacks, RetirePriorToStuffingWithOpenWindowStaysBounded) {
  Pair pair;
  ASSERT_TRUE(pair.handshake());
  int64_t heap_before = live_heap_bytes();
  size_t recorded_before = 0;
  std::array<uint8_t, 8> storage;
  uint64_t seq = 1;
  for (; seq <= 5'000 && !pair.server_close_code(); ++seq) {
    pair.inject_frames({ncid(seq, seq, storage)});
    if (seq % 4 == 0) {
      pair.poll_server();
      pair.advance(1ms);
    }
  }
  // The fixture keeps every server datagram; discount that from the growth.
  for (const Datagram& d : pair.server_sent()) recorded_before += d.capacity() + sizeof(Datagram);
  int64_t growth = live_heap_bytes() - heap_before - static_cast<int64_t>(recorded_before);
  EXPECT_LT(growth, kHeapGrowthCeiling) << "heap grew by " << growth << " bytes";
  if (auto code = pair.server_close_code()) {
    EXPECT_EQ(*code, err::kConnectionIdLimitError);
  }
}

// RFC 9000 §7.5: CRYPTO data in 1-RTT is bounded. A server has released its TLS session by
// then (tls_release_test.cc), so a flood of one-byte fragments ends at its first byte with
// unexpected_message; nothing is buffered (the reassembly-gap cap is stream_buffers_test's).
TEST(HostileAttacks, OneRttCryptoFragmentFloodIsBoundedAndCloses) {
  Pair pair;
  ASSERT_TRUE(pair.handshake());
  int64_t heap_before = live_heap_bytes();
  const uint8_t byte[1] = {0x42};
  uint64_t off = 2;
  for (int p = 0; p < 200 && !pair.server_close_code(); ++p) {
    std::vector<uint8_t> payload(1100);
    Writer w(payload);
    while (w.room() > 8 && off + 1 < kMaxCryptoReorderBytes) {
      if (!encode_frame(w, CryptoFrame{off, Bytes(byte, 1)})) break;
      off += 2;
    }
    payload.resize(w.written());
    pair.inject(payload);
  }
  EXPECT_LT(live_heap_bytes() - heap_before, kHeapGrowthCeiling);
  auto code = pair.server_close_code();
  ASSERT_TRUE(code.has_value()) << "late CRYPTO fragments accepted";
  EXPECT_EQ(*code, err::kCryptoErrorBase + kTlsAlertUnexpectedMessage) << error_name(*code);
}

// The same for STREAM data: one-byte fragments inside the flow-control window.
TEST(HostileAttacks, StreamFragmentFloodIsBoundedAndCloses) {
  Pair pair;
  ASSERT_TRUE(pair.handshake());
  int64_t heap_before = live_heap_bytes();
  const uint8_t byte[1] = {0x42};
  uint64_t off = 2;
  for (int p = 0; p < 200 && !pair.server_close_code(); ++p) {
    std::vector<uint8_t> payload(1100);
    Writer w(payload);
    while (w.room() > 12) {
      if (!encode_frame(w, StreamFrame{0, off, Bytes(byte, 1), false, true})) break;
      off += 2;
    }
    payload.resize(w.written());
    pair.inject(payload);
  }
  EXPECT_LT(live_heap_bytes() - heap_before, kHeapGrowthCeiling);
  auto code = pair.server_close_code();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, err::kProtocolViolation) << error_name(*code);
}

// RFC 9000 §19.3: an ACK frame may carry thousands of ranges. Processing it must cost
// O(ranges) without allocation beyond the frame's own size, and leave the connection open.
TEST(HostileAttacks, AckWithThousandsOfRangesIsProcessedAndConnectionSurvives) {
  Pair pair(big_client_windows());
  ASSERT_TRUE(pair.handshake());
  auto sid = pair.server()->open_stream(true);
  ASSERT_TRUE(sid.has_value());
  // Have the server send enough packets that every-other-packet ranges are all legitimate.
  constexpr uint64_t kRanges = 3000;
  std::vector<uint8_t> chunk(256 * 1024, 0x33);
  for (int i = 0; i < 3000; ++i) {
    auto largest = pair.server_largest_1rtt_pn();
    if (largest && *largest > 2 * kRanges + 10) break;
    (void)pair.server()->stream_write(*sid, chunk, false);
    pair.poll_server();
    pair.ack_all_server_packets();
    pair.advance(1ms);
  }
  // Send one more flight that is not acknowledged yet, then the huge ACK.
  (void)pair.server()->stream_write(*sid, chunk, false);
  pair.poll_server();
  ASSERT_TRUE(pair.server_largest_1rtt_pn().has_value());
  uint64_t largest = *pair.server_largest_1rtt_pn();
  ASSERT_GT(largest, 2 * kRanges);
  // Every other packet the server sent (not every other number: it skips some, RFC 9000
  // §21.4, and acknowledging one of those is a PROTOCOL_VIOLATION).
  const std::set<uint64_t>& sent = pair.server_1rtt_pns();
  ASSERT_EQ(*sent.rbegin(), largest);
  std::vector<AckRange> ranges;
  for (auto it = sent.rbegin(); it != sent.rend() && ranges.size() < kRanges; ++it) {
    ranges.push_back({*it, *it});
    if (++it == sent.rend()) break;
  }
  ASSERT_EQ(ranges.size(), kRanges);
  AckFrame ack = AckFrame::from_ranges(0, false, ranges, 0, std::nullopt);
  ASSERT_GT(encoded_size(ack), 2 * kRanges);
  uint64_t received_before = pair.server()->stats().packets_received;
  int64_t heap_before = live_heap_bytes();
  pair.inject_frames({ack});
  EXPECT_EQ(pair.server()->stats().packets_received, received_before + 1);
  EXPECT_FALSE(pair.server_close_code().has_value())
      << pair.server()->close_error()->reason;
  EXPECT_LT(live_heap_bytes() - heap_before, kHeapGrowthCeiling);
}

// The same range count where the ranges reach above the largest packet sent: rejected whole.
TEST(HostileAttacks, AckWithThousandsOfRangesAboveLargestSentIsProtocolViolation) {
  Pair pair;
  ASSERT_TRUE(pair.handshake());
  std::vector<AckRange> ranges;
  for (uint64_t k = 0; k < 4000; ++k) ranges.push_back({1'000'000 - 2 * k, 1'000'000 - 2 * k});
  pair.inject_frames({AckFrame::from_ranges(0, false, ranges, 0, std::nullopt)});
  ASSERT_TRUE(pair.server_close_code().has_value());
  EXPECT_EQ(*pair.server_close_code(), err::kProtocolViolation);
}

// RFC 9000 §10.2.1: "An endpoint SHOULD limit the rate at which it generates packets in the
// closing state. For instance, an endpoint could wait for a progressively increasing number of
// received packets or amount of time before responding."
// (Regression: every packet used to be answered.)
TEST(HostileAttacks, ClosingServerRateLimitsItsCloseRepeats) {
  Pair pair;
  ASSERT_TRUE(pair.handshake());
  pair.inject_frames({HandshakeDoneFrame{}});
  ASSERT_TRUE(pair.server_close_code().has_value());
  (void)pair.poll_server();
  size_t in = 0, out = 0, answers = 0;
  for (int i = 0; i < 500; ++i) {
    const uint8_t ping[] = {0x01, 0x00, 0x00, 0x00};
    in += short_packet(pair.server_cid(), pair.next_injected_pn(), ping).size();
    pair.inject(ping);
    auto ds = pair.poll_server();
    answers += ds.size();
    out += total_bytes(ds);
  }
  EXPECT_GT(answers, 0u);
  EXPECT_LE(answers, 50u) << "answered " << answers << " of 500 packets";
  EXPECT_LE(out, in) << "closing state sent " << out << " bytes for " << in << " received";
}

// RFC 9000 §5.1.2: "An endpoint MUST NOT forget a connection ID without retiring it". With 64
// retirements queued (the cap, window blocked), a NEW_CONNECTION_ID whose sequence number is
// already below Retire Prior To must still be retired, or the connection closed with
// CONNECTION_ID_LIMIT_ERROR; silently dropping it is not allowed.
TEST(HostileAttacks, ConnectionIdBelowRetirePriorToIsNeverForgotten) {
  Pair pair(big_client_windows());
  ASSERT_TRUE(pair.handshake());
  std::array<uint8_t, 8> storage;
  // Retire everything the real client issued and let those RETIRE_CONNECTION_IDs go out and
  // be acknowledged: nothing is queued afterwards, the current CID is sequence 10.
  pair.inject_frames({ncid(10, 10, storage)});
  for (int i = 0; i < 3; ++i) {
    pair.poll_server();
    pair.ack_all_server_packets();
  }
  auto sid = pair.server()->open_stream(true);
  ASSERT_TRUE(sid.has_value());
  fill_server_cwnd(pair, *sid);
  // Even sequence numbers, each retiring all before it: queues 10, 12, ..., 136 (64 entries).
  for (uint64_t seq = 12; seq <= 138; seq += 2) pair.inject_frames({ncid(seq, seq, storage)});
  ASSERT_FALSE(pair.server_close_code().has_value())
      << pair.server()->close_error()->reason;
  // Sequence 11 was never seen and is below Retire Prior To (138): it must be retired.
  pair.inject_frames({ncid(11, 11, storage)});
  if (auto code = pair.server_close_code()) {
    EXPECT_EQ(*code, err::kConnectionIdLimitError);
    return;
  }
  std::vector<Datagram> out;
  for (int round = 0; round < 50; ++round) {
    pair.ack_all_server_packets();
    pair.advance(1ms);
    auto ds = pair.poll_server();
    out.insert(out.end(), ds.begin(), ds.end());
  }
  size_t retired_1 = count_frames_in(out, pair.client_cid().len, [](const Frame& f) {
    auto* r = std::get_if<RetireConnectionIdFrame>(&f);
    return r && r->sequence == 11;
  });
  size_t retired_all = count_frames_in(out, pair.client_cid().len, [](const Frame& f) {
    return std::holds_alternative<RetireConnectionIdFrame>(f);
  });
  EXPECT_GE(retired_all, kMaxRetiredCidsPending) << "the queued retirements did not drain";
  EXPECT_GT(retired_1, 0u) << "sequence 11 was neither retired nor refused";
}

}  // namespace
}  // namespace quic::hostile

// Hostile-peer regressions for core bugs these tests first exposed (CID forgotten without
// retirement; unlimited CONNECTION_CLOSE repeats while closing). Each names its RFC text.
#include <gtest/gtest.h>

#include <array>

#include "hostile_fixture.h"

namespace quic::hostile {
namespace {

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

size_t total_bytes(const std::vector<Datagram>& ds) {
  size_t n = 0;
  for (const Datagram& d : ds) n += d.size();
  return n;
}

// RFC 9000 §10.2.1: "An endpoint SHOULD limit the rate at which it generates packets in the
// closing state. For instance, an endpoint could wait for a progressively increasing number of
// received packets or amount of time before responding." Today every packet is answered (500
// CONNECTION_CLOSE datagrams for 500 one-PING packets, 30500 bytes out for 16500 in).
TEST(HostileFixed, ClosingServerRateLimitsItsCloseRepeats) {
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
TEST(HostileFixed, ConnectionIdBelowRetirePriorToIsNeverForgotten) {
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

// 0-RTT (RFC 9000 §4.6.1, §7.4.1, §12.4, §17.2.3; RFC 9001 §4.6): a first connection leaves
// a ticket, a second one resumes with it. Real GnuTLS (tickets, early secrets, anti-replay),
// null packet protection so the tests can read and forge 0-RTT packets (hostile_fixture.h).
#include <gtest/gtest.h>

#include <string>

#include "hostile_fixture.h"
#include "wire/frame_rules.h"

namespace quic::hostile {
namespace {

using namespace std::chrono_literals;

Bytes as_bytes(const std::string& s) {
  return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

struct Ticket {
  std::vector<uint8_t> ticket, params;
};

// Runs a first connection against a server using `stls` and returns what the client keeps.
Ticket first_connection(const std::shared_ptr<const TlsContext>& stls, PairOptions o = {}) {
  o.server_tls = stls;
  o.server.accept_0rtt = true;  // tickets then allow 0-RTT
  Pair p(o);
  EXPECT_TRUE(p.handshake());
  p.run();
  return {p.client().session_ticket(), p.client().remembered_params()};
}

PairOptions resume_options(const std::shared_ptr<const TlsContext>& stls, const Ticket& t) {
  PairOptions o;
  o.server_tls = stls;
  o.connect.session_ticket = t.ticket;
  o.connect.zero_rtt = true;
  o.server.accept_0rtt = true;
  return o;
}

size_t count_packets(const std::vector<Datagram>& ds, LongType type, size_t cid_len) {
  size_t n = 0;
  for (const auto& d : ds) {
    for (const auto& p : decode_datagram(d, cid_len)) n += p.long_header && p.type == type;
  }
  return n;
}

std::string read_all(Connection& c, uint64_t id) {
  std::string out;
  uint8_t buf[4096];
  for (;;) {
    bool fin = false;
    auto n = c.stream_read(id, buf, &fin);
    if (!n || *n == 0) break;
    out.append(reinterpret_cast<const char*>(buf), *n);
    if (fin) break;
  }
  return out;
}

class ZeroRtt : public ::testing::Test {
 protected:
  void SetUp() override {
    stls_ = test_tls_context(true, {"hq-interop"});
    ASSERT_TRUE(stls_);
    ticket_ = first_connection(stls_);
    ASSERT_FALSE(ticket_.ticket.empty());
    ASSERT_FALSE(ticket_.params.empty());
  }
  std::shared_ptr<const TlsContext> stls_;
  Ticket ticket_;
};

TEST_F(ZeroRtt, RequestReachesServerBeforeHandshakeCompletes) {
  Pair p(resume_options(stls_, ticket_));
  ASSERT_TRUE(p.client().zero_rtt_active());
  auto id = p.client().open_stream(true);
  ASSERT_TRUE(id);
  ASSERT_TRUE(p.client().stream_write(*id, as_bytes("GET /index.html\r\n"), true));
  auto flight = p.poll_client();
  EXPECT_GE(count_packets(flight, LongType::kZeroRtt, 8), 1u);
  for (auto& d : flight) p.deliver_to_server(d);
  Connection* s = p.server();
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->handshake_complete());  // the client's Finished has not even been sent
  EXPECT_TRUE(s->stats().zero_rtt_accepted);
  EXPECT_GE(s->stats().zero_rtt_packets_received, 1u);
  EXPECT_EQ(read_all(*s, *id), "GET /index.html\r\n");
  ASSERT_TRUE(p.handshake());
  EXPECT_TRUE(p.client().stats().zero_rtt_attempted);
  EXPECT_TRUE(p.client().stats().zero_rtt_accepted);
  EXPECT_TRUE(p.client().stats().resumed);
  EXPECT_GT(p.client().stats().zero_rtt_bytes_sent, 0u);
  EXPECT_FALSE(p.client().zero_rtt_active());
  EXPECT_FALSE(p.client().close_error());
}

TEST_F(ZeroRtt, NotAttemptedUnlessTheApplicationAsks) {
  PairOptions o = resume_options(stls_, ticket_);
  o.connect.zero_rtt = false;  // RFC 9001 §5.6: only when the application asks
  Pair p(o);
  EXPECT_FALSE(p.client().zero_rtt_active());
  EXPECT_FALSE(p.client().open_stream(true));  // no limits known before the handshake
  EXPECT_EQ(count_packets(p.poll_client(), LongType::kZeroRtt, 8), 0u);
  EXPECT_FALSE(p.client().stats().zero_rtt_attempted);
}

TEST_F(ZeroRtt, ExplicitRememberedParamsBoundZeroRtt) {
  PairOptions o = resume_options(stls_, ticket_);
  o.connect.remembered_params = ticket_.params;
  Pair p(o);
  ASSERT_TRUE(p.client().zero_rtt_active());
  // The first connection's server allows 100 bidirectional streams (ConnectionConfig default).
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(p.client().open_stream(true)) << i;
  EXPECT_FALSE(p.client().open_stream(true));
}

TEST_F(ZeroRtt, GarbageRememberedParamsMeanNoZeroRtt) {
  PairOptions o = resume_options(stls_, ticket_);
  o.connect.remembered_params = {0xff, 0xff, 0xff};
  Pair p(o);
  EXPECT_FALSE(p.client().zero_rtt_active());
  ASSERT_TRUE(p.handshake());
  EXPECT_TRUE(p.client().stats().resumed);  // still a resumption, in 1-RTT
  EXPECT_FALSE(p.client().stats().zero_rtt_attempted);
}

// The server turned 0-RTT off after issuing the ticket: 0-RTT packets find no key and are
// dropped; the client learns of the rejection and resends in 1-RTT. No error either side.
TEST_F(ZeroRtt, RejectedByServerResentInOneRtt) {
  PairOptions o = resume_options(stls_, ticket_);
  o.server.accept_0rtt = false;
  Pair p(o);
  ASSERT_TRUE(p.client().zero_rtt_active());
  auto id = p.client().open_stream(true);
  ASSERT_TRUE(id);
  std::string big(3000, 'x');  // spills into 0-RTT-only datagrams
  ASSERT_TRUE(p.client().stream_write(*id, as_bytes(big), true));
  ASSERT_TRUE(p.handshake());
  p.run();
  Connection* s = p.server();
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->stats().zero_rtt_accepted);
  EXPECT_EQ(s->stats().zero_rtt_packets_received, 0u);
  EXPECT_GE(s->stats().packets_dropped, 1u);
  EXPECT_EQ(read_all(*s, *id), big);
  EXPECT_TRUE(p.client().stats().zero_rtt_attempted);
  EXPECT_FALSE(p.client().stats().zero_rtt_accepted);
  EXPECT_FALSE(p.client().close_error());
  EXPECT_FALSE(s->close_error());
}

// A forged 0-RTT packet with a forbidden frame is ignored, not an error, when the server has
// no 0-RTT key (0-RTT disabled): it cannot even be authenticated.
TEST_F(ZeroRtt, DisabledServerIgnoresZeroRttPackets) {
  PairOptions o = resume_options(stls_, ticket_);
  o.server.accept_0rtt = false;
  Pair p(o);
  for (auto& d : p.poll_client()) p.deliver_to_server(d);
  ASSERT_NE(p.server(), nullptr);
  p.inject_zero_rtt(encode_frames({CryptoFrame{0, as_bytes("hello")}}), 50);
  EXPECT_FALSE(p.server_close_code());
  ASSERT_TRUE(p.handshake());
  EXPECT_FALSE(p.server_close_code());
}

// Hostile: frames RFC 9000 §12.4 forbids in 0-RTT close the connection with
// PROTOCOL_VIOLATION (§12.5 allows it; Table 3 decides).
class ZeroRttForbiddenFrame : public ZeroRtt, public ::testing::WithParamInterface<int> {};

Frame forbidden_frame(int i) {
  static const uint8_t kData[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  static const uint8_t kToken[4] = {9, 9, 9, 9};
  switch (i) {
    case 0: return CryptoFrame{0, Bytes(kData, 8)};
    case 1: {
      static const AckRange kRange{0, 0};  // the frame views it: must outlive the call
      return AckFrame::from_ranges(0, false, std::span<const AckRange>(&kRange, 1), 0,
                                   std::nullopt);
    }
    case 2: return NewTokenFrame{Bytes(kToken, 4)};
    case 3: return HandshakeDoneFrame{};
    default: break;
  }
  std::array<uint8_t, 8> d{};
  return PathResponseFrame{d};
}

TEST_P(ZeroRttForbiddenFrame, ClosesWithProtocolViolation) {
  Pair p(resume_options(stls_, ticket_));
  for (auto& d : p.poll_client()) p.deliver_to_server(d);
  ASSERT_NE(p.server(), nullptr);
  ASSERT_TRUE(p.server()->stats().zero_rtt_accepted);
  Frame f = forbidden_frame(GetParam());
  uint64_t type = frame_type_of(f);
  ASSERT_FALSE(frame_allowed_in(type, PacketKind::kZeroRtt));
  p.inject_zero_rtt(encode_frames({f}), 40);
  EXPECT_EQ(p.server_close_code(), err::kProtocolViolation);
  ASSERT_TRUE(p.server()->close_error());
  EXPECT_EQ(p.server()->close_error()->frame_type, type);
}

INSTANTIATE_TEST_SUITE_P(Frames, ZeroRttForbiddenFrame, ::testing::Range(0, 5));

TEST_F(ZeroRtt, StreamFrameInForgedZeroRttIsAccepted) {
  Pair p(resume_options(stls_, ticket_));
  for (auto& d : p.poll_client()) p.deliver_to_server(d);
  ASSERT_NE(p.server(), nullptr);
  p.inject_zero_rtt(encode_frames({StreamFrame{0, 0, as_bytes("ping"), true, true}}), 40);
  EXPECT_FALSE(p.server_close_code());
  EXPECT_EQ(read_all(*p.server(), 0), "ping");
}

// Anti-replay (RFC 8446 §8, RFC 9001 §9.2): the same first flight at a second server instance
// sharing the ticket key and replay cache gets no 0-RTT, only a handshake that cannot finish.
TEST_F(ZeroRtt, ReplayedFirstFlightGetsNoZeroRtt) {
  Pair p(resume_options(stls_, ticket_));
  auto id = p.client().open_stream(true);
  ASSERT_TRUE(id);
  ASSERT_TRUE(p.client().stream_write(*id, as_bytes("transfer 100 EUR"), true));
  auto flight = p.poll_client();
  std::vector<Datagram> copy = flight;
  for (auto& d : flight) p.deliver_to_server(d);
  ASSERT_NE(p.server(), nullptr);
  EXPECT_TRUE(p.server()->stats().zero_rtt_accepted);

  SeededRandom rnd(7);
  ConnectionConfig cfg;
  cfg.aead = AeadBackend::kNull;
  Endpoint other(EndpointConfig{true, cfg, stls_}, rnd);
  for (auto& d : copy) {
    other.on_datagram(p.now(), SocketAddress::v4(192, 0, 2, 2, 443),
                      SocketAddress::v4(192, 0, 2, 1, 50000), 0, d);
  }
  auto h = other.accept();
  ASSERT_TRUE(h);
  Connection* replayed = other.connection(*h);
  ASSERT_NE(replayed, nullptr);
  EXPECT_FALSE(replayed->stats().zero_rtt_accepted);
  EXPECT_EQ(replayed->stats().zero_rtt_packets_received, 0u);
  EXPECT_EQ(read_all(*replayed, *id), "");
  while (auto e = replayed->poll_event()) EXPECT_NE(e->kind, EventKind::kStreamOpened);
}

// 0-RTT that overtakes its Initial is buffered by the Endpoint and replayed once the Initial
// has created the connection.
TEST_F(ZeroRtt, ZeroRttAheadOfInitialIsBufferedAndReplayed) {
  Pair p(resume_options(stls_, ticket_));
  auto id = p.client().open_stream(true);
  ASSERT_TRUE(id);
  std::string big(3000, 'y');
  ASSERT_TRUE(p.client().stream_write(*id, as_bytes(big), true));
  auto flight = p.poll_client();
  ASSERT_GE(flight.size(), 2u);  // Initial (+ 0-RTT), then 0-RTT-only datagrams
  for (size_t i = 1; i < flight.size(); ++i) p.deliver_to_server(flight[i]);
  EXPECT_EQ(p.server_endpoint().stats().zero_rtt_buffered, flight.size() - 1);
  EXPECT_EQ(p.server_endpoint().connection_count(), 0u);
  p.deliver_to_server(flight[0]);
  ASSERT_NE(p.server(), nullptr);
  EXPECT_EQ(p.server_endpoint().stats().zero_rtt_replayed, flight.size() - 1);
  EXPECT_EQ(read_all(*p.server(), *id), big);
}

TEST_F(ZeroRtt, EarlyZeroRttBufferIsBounded) {
  Pair p(resume_options(stls_, ticket_));
  uint64_t dropped_before = p.server_endpoint().stats().datagrams_dropped;
  const size_t n = kMaxBufferedZeroRttDatagrams + 10;
  for (size_t i = 0; i < n; ++i) {
    ConnectionId dcid;
    dcid.len = 8;
    dcid.bytes[0] = static_cast<uint8_t>(i);
    dcid.bytes[1] = 0x5a;
    p.deliver_to_server(long_packet(kVersion1, LongType::kZeroRtt, dcid, dcid, i,
                                    encode_frames({PingFrame{}}), 1200));
  }
  EXPECT_EQ(p.server_endpoint().stats().zero_rtt_buffered, n);
  EXPECT_EQ(p.server_endpoint().stats().datagrams_dropped - dropped_before, 10u);
  EXPECT_EQ(p.server_endpoint().connection_count(), 0u);
}

// RFC 9000 §7.4.1: a server that accepts 0-RTT must not lower a remembered limit.
TEST_F(ZeroRtt, AcceptingServerThatLowersALimitIsAProtocolViolation) {
  PairOptions o = resume_options(stls_, ticket_);
  o.server.initial_max_data = 64 * 1024;  // the first server advertised 1 MiB
  Pair p(o);
  auto id = p.client().open_stream(true);
  ASSERT_TRUE(id);
  ASSERT_TRUE(p.client().stream_write(*id, as_bytes("hi"), true));
  p.run();
  ASSERT_TRUE(p.client().close_error());
  EXPECT_EQ(p.client().close_error()->code, err::kProtocolViolation);
  EXPECT_NE(p.client().close_error()->reason.find("initial_max_data"), std::string::npos);
}

// Rejected 0-RTT: the handshake's limits apply even when smaller, as long as what was already
// written fits them.
TEST_F(ZeroRtt, RejectedWithSmallerLimitsStillDelivers) {
  PairOptions o = resume_options(stls_, ticket_);
  o.server.accept_0rtt = false;
  o.server.initial_max_data = 64 * 1024;
  o.server.max_streams_bidi = 4;
  Pair p(o);
  auto id = p.client().open_stream(true);
  ASSERT_TRUE(id);
  ASSERT_TRUE(p.client().stream_write(*id, as_bytes("small"), true));
  ASSERT_TRUE(p.handshake());
  p.run();
  ASSERT_FALSE(p.client().close_error());
  EXPECT_EQ(read_all(*p.server(), *id), "small");
  // The new stream limit (4) applies, not the remembered 100.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(p.client().open_stream(true)) << i;
  EXPECT_FALSE(p.client().open_stream(true));
}

TEST_F(ZeroRtt, RejectedWithLimitsBelowWhatWasWrittenFailsLocally) {
  PairOptions o = resume_options(stls_, ticket_);
  o.server.accept_0rtt = false;
  o.server.max_streams_bidi = 1;
  Pair p(o);
  ASSERT_TRUE(p.client().open_stream(true));
  ASSERT_TRUE(p.client().open_stream(true));  // within the remembered 100, above the new 1
  p.run();
  ASSERT_TRUE(p.client().close_error());
  EXPECT_EQ(p.client().close_error()->code, err::kInternalError);
}

class ZeroRttDatagrams : public ::testing::Test {
 protected:
  void SetUp() override {
    stls_ = test_tls_context(true, {"hq-interop"});
    PairOptions o;
    o.client.max_datagram_frame_size = o.server.max_datagram_frame_size = 1200;
    ticket_ = first_connection(stls_, o);
    ASSERT_FALSE(ticket_.ticket.empty());
  }
  PairOptions options(bool accept) {
    PairOptions o = resume_options(stls_, ticket_);
    o.client.max_datagram_frame_size = o.server.max_datagram_frame_size = 1200;
    o.server.accept_0rtt = accept;
    return o;
  }
  std::shared_ptr<const TlsContext> stls_;
  Ticket ticket_;
};

TEST_F(ZeroRttDatagrams, SentInZeroRtt) {
  Pair p(options(true));
  ASSERT_GT(p.client().max_datagram_payload(), 0u);  // from the remembered parameters
  ASSERT_TRUE(p.client().send_datagram(as_bytes("early datagram")));
  for (auto& d : p.poll_client()) p.deliver_to_server(d);
  ASSERT_NE(p.server(), nullptr);
  auto got = p.server()->recv_datagram();
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(got->begin(), got->end()), "early datagram");
}

TEST_F(ZeroRttDatagrams, ResentAfterRejection) {
  Pair p(options(false));
  ASSERT_TRUE(p.client().send_datagram(as_bytes("early datagram")));
  ASSERT_TRUE(p.handshake());
  p.run();
  auto got = p.server()->recv_datagram();
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(got->begin(), got->end()), "early datagram");
  EXPECT_FALSE(p.server()->recv_datagram());  // exactly once
}

}  // namespace
}  // namespace quic::hostile

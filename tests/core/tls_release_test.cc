// A server connection drops its TLS session once the handshake is done (Connection::release_tls,
// RFC 9001 §4.1.2, §6): what must still work without it (key updates both ways, ALPN, data),
// and what a client's late CRYPTO data gets (RFC 9001 §6, RFC 8446 §6.2: unexpected_message).
#include <gtest/gtest.h>

#include <algorithm>

#include "hostile_fixture.h"
#include "support/pair.h"

namespace quic::hostile {
namespace {

class TlsRelease : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pair.handshake()); }
  void expect_closed_with(uint64_t code) {
    auto c = pair.server_close_code();
    ASSERT_TRUE(c.has_value()) << "server did not close";
    EXPECT_EQ(*c, code) << pair.server()->close_error()->reason;
    auto f = pair.server_close_frame();
    ASSERT_TRUE(f.has_value()) << "no CONNECTION_CLOSE on the wire";
    EXPECT_EQ(f->error_code, code);
  }
  Pair pair;
};

constexpr uint64_t kUnexpectedMessage = err::kCryptoErrorBase + kTlsAlertUnexpectedMessage;

TEST_F(TlsRelease, ServerDropsItsSessionAndKeepsWhatTheApplicationReads) {
  EXPECT_FALSE(pair.server()->holds_tls_session());
  EXPECT_EQ(pair.server()->alpn(), "hq-interop");
  // The client keeps its session: a NewSessionTicket may still come.
  EXPECT_TRUE(pair.client().holds_tls_session());
  EXPECT_FALSE(pair.client().session_ticket().empty());
}

// RFC 9001 §6: a TLS KeyUpdate is a connection error 0x010a.
TEST_F(TlsRelease, TlsKeyUpdateAfterTheHandshakeIsUnexpectedMessage) {
  const uint8_t key_update[] = {24, 0, 0, 1, 0};
  pair.inject_frames({CryptoFrame{0, Bytes(key_update)}});
  expect_closed_with(kUnexpectedMessage);
}

// One byte is enough: no message may start there, so nothing waits for the rest.
TEST_F(TlsRelease, FirstByteOfAnyLateMessageIsUnexpectedMessage) {
  const uint8_t one[] = {20};
  pair.inject_frames({CryptoFrame{0, Bytes(one)}});
  expect_closed_with(kUnexpectedMessage);
}

// Out of order, past a gap: refused at once rather than buffered up to kMaxCryptoReorderBytes.
TEST_F(TlsRelease, LateCryptoAfterAGapIsRefusedNotBuffered) {
  const uint8_t some[] = {1, 2, 3};
  pair.inject_frames({CryptoFrame{4000, Bytes(some)}});
  expect_closed_with(kUnexpectedMessage);
}

// Past the reorder bound the earlier check still answers (RFC 9000 §7.5).
TEST_F(TlsRelease, LateCryptoBeyondTheReorderBoundIsCryptoBufferExceeded) {
  const uint8_t some[] = {1};
  pair.inject_frames({CryptoFrame{kMaxCryptoReorderBytes + 10, Bytes(some)}});
  expect_closed_with(err::kCryptoBufferExceeded);
}

// An empty CRYPTO frame carries no new byte: nothing to refuse.
TEST_F(TlsRelease, EmptyLateCryptoFrameKeepsTheConnection) {
  pair.inject_frames({CryptoFrame{0, Bytes()}});
  EXPECT_FALSE(pair.server_close_code().has_value());
  EXPECT_FALSE(pair.server()->is_draining_or_closing());
}

// Key updates after the session is gone, with real AEAD (the hostile fixture's null protection
// would not notice wrong keys): the server starts one, the client follows; then the client
// starts one, the server follows; data crosses in every phase.
TEST(TlsReleaseKeys, KeyUpdatesBothWaysAfterTheSessionIsGone) {
  test::Pair p;
  ASSERT_TRUE(p.handshake());
  ASSERT_TRUE(p.settle(100ms));
  quic::Connection& server = *p.server();
  quic::Connection& client = *p.client();
  ASSERT_FALSE(server.holds_tls_session());
  auto exchange = [&](uint8_t tag) {
    auto id = client.open_stream(true);
    ASSERT_TRUE(id.has_value());
    const uint8_t msg[] = {tag, tag, tag};
    ASSERT_EQ(client.stream_write(*id, Bytes(msg), true).value_or(0), sizeof msg);
    uint8_t got[8] = {};
    size_t n = 0;
    bool fin = false;
    ASSERT_TRUE(p.drive_until([&] {
      auto r = server.stream_read(*id, MutBytes(got + n, sizeof got - n), &fin);
      if (r) n += *r;
      return fin;
    }));
    ASSERT_EQ(n, sizeof msg);
    EXPECT_TRUE(std::equal(msg, msg + n, got));
  };
  exchange(1);
  ASSERT_TRUE(server.initiate_key_update().has_value());
  exchange(2);
  ASSERT_TRUE(p.settle(100ms));
  EXPECT_TRUE(server.key_phase());
  EXPECT_TRUE(client.key_phase());
  EXPECT_GE(client.stats().key_updates, 1u);
  // §6.1: the client may update again once a packet of its new phase was acknowledged.
  exchange(3);
  ASSERT_TRUE(p.settle(100ms));
  ASSERT_TRUE(client.initiate_key_update().has_value());
  exchange(4);
  ASSERT_TRUE(p.settle(100ms));
  EXPECT_FALSE(server.key_phase());
  EXPECT_FALSE(client.key_phase());
  EXPECT_GE(server.stats().key_updates, 1u);
  EXPECT_FALSE(server.is_draining_or_closing());
  EXPECT_FALSE(client.is_draining_or_closing());
}

}  // namespace
}  // namespace quic::hostile

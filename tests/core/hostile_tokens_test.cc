// Address-validation tokens at the Endpoint (RFC 9000 §8.1.2-8.1.4): a client presenting a
// forged, expired or relocated token does not get its address treated as validated, and the
// Retry-under-load policy sends Retry only once too many handshakes are half open. Token
// contents themselves are tested in token_test.cc.
#include <gtest/gtest.h>

#include "hostile_fixture.h"

namespace quic::hostile {
namespace {

// Another client (its own random, so its own connection IDs) at `addr`.
struct OtherClient {
  OtherClient(Pair& pair, SocketAddress addr, uint64_t seed)
      : pair_(pair), addr_(addr), random_(seed) {
    ConnectionConfig cfg;
    cfg.aead = AeadBackend::kNull;
    auto c = Connection::connect(cfg, test_tls_context(false, {"hq-interop"}), addr_,
                                 pair.server_addr(), pair.now(), random_, ConnectOptions{});
    if (c) conn_ = std::move(*c);
  }
  // Sends everything the client has to the server endpoint.
  void flush() {
    Datagram buf(1500);
    while (auto t = conn_->poll_transmit(pair_.now(), buf)) {
      pair_.server_endpoint().on_datagram(pair_.now(), pair_.server_addr(), addr_, 0,
                                          MutBytes(buf.data(), t->size));
    }
  }
  Pair& pair_;
  SocketAddress addr_;
  SeededRandom random_;
  std::unique_ptr<Connection> conn_;
};

// Delivers the client's pending datagrams to the server as if sent from `from`.
void client_to_server(Pair& pair, const SocketAddress& from) {
  for (auto& d : pair.poll_client()) {
    pair.server_endpoint().on_datagram(pair.now(), pair.server_addr(), from, 0, d);
  }
}

void server_to_client(Pair& pair) {
  for (auto& d : pair.poll_server()) pair.deliver_to_client(std::move(d));
}

const Endpoint::Stats& stats(Pair& pair) { return pair.server_endpoint().stats(); }

// RetryPolicy::kUnderLoad: no Retry while fewer than retry_half_open_limit handshakes are
// incomplete; Retry for new clients at the limit; none again once the handshake completed.
TEST(HostileTokens, RetryUnderLoadOnlyAtTheHalfOpenLimit) {
  PairOptions o;
  o.retry = RetryPolicy::kUnderLoad;
  o.retry_half_open_limit = 1;
  Pair pair(o);
  client_to_server(pair, pair.client_addr());
  EXPECT_EQ(stats(pair).retries_sent, 0u);
  EXPECT_EQ(stats(pair).connections_accepted, 1u);
  // One handshake half open: the next new client gets a Retry and no state.
  OtherClient second(pair, SocketAddress::v4(192, 0, 2, 50, 40000), 11);
  ASSERT_TRUE(second.conn_);
  second.flush();
  EXPECT_EQ(stats(pair).retries_sent, 1u);
  EXPECT_EQ(stats(pair).connections_accepted, 1u);
  // The first handshake completes: below the limit again, a third client is accepted at once.
  ASSERT_TRUE(pair.handshake());
  OtherClient third(pair, SocketAddress::v4(192, 0, 2, 51, 40000), 12);
  ASSERT_TRUE(third.conn_);
  third.flush();
  EXPECT_EQ(stats(pair).retries_sent, 1u);
  EXPECT_EQ(stats(pair).connections_accepted, 2u);
}

// RFC 9000 §8.1.4: a token the server cannot validate (here: random bytes in the place of a
// NEW_TOKEN token) is treated as no token: Retry, and the handshake completes through it.
TEST(HostileTokens, ForgedNewTokenIsTreatedAsNoToken) {
  PairOptions o;
  o.retry = RetryPolicy::kAlways;
  o.connect.token.assign(120, 0xa5);
  Pair pair(o);
  client_to_server(pair, pair.client_addr());
  EXPECT_EQ(stats(pair).tokens_rejected, 1u);
  EXPECT_EQ(stats(pair).retries_sent, 1u);
  EXPECT_EQ(stats(pair).connections_accepted, 0u);
  ASSERT_TRUE(pair.handshake());
  EXPECT_EQ(stats(pair).tokens_accepted, 1u);  // the Retry token
}

// Without Retry, a forged token still does not validate the address: the connection is
// accepted under the anti-amplification limit, and the token counted as rejected.
TEST(HostileTokens, ForgedTokenWithoutRetryIsCountedAndIgnored) {
  PairOptions o;
  o.retry = RetryPolicy::kDisabled;
  o.connect.token.assign(120, 0xa5);
  Pair pair(o);
  ASSERT_TRUE(pair.handshake());
  EXPECT_EQ(stats(pair).tokens_rejected, 1u);
  EXPECT_EQ(stats(pair).tokens_accepted, 0u);
}

// Runs the client up to its second Initial (carrying the Retry token), which the caller sends.
void answer_first_flight_with_retry(Pair& pair) {
  client_to_server(pair, pair.client_addr());
  ASSERT_EQ(stats(pair).retries_sent, 1u);
  server_to_client(pair);
  ASSERT_TRUE(pair.client().stats().retry_received);
}

// A Retry token proves one address: the client's Initial carrying it from another IP is not
// accepted (RFC 9000 §8.1.3); from the right address the same token is.
TEST(HostileTokens, RetryTokenFromAnotherAddressIsRefused) {
  PairOptions o;
  o.retry = RetryPolicy::kAlways;
  Pair pair(o);
  answer_first_flight_with_retry(pair);
  auto second_flight = pair.poll_client();
  ASSERT_FALSE(second_flight.empty());
  const SocketAddress elsewhere = SocketAddress::v4(203, 0, 113, 9, 50000);
  for (auto& d : second_flight) {
    pair.server_endpoint().on_datagram(pair.now(), pair.server_addr(), elsewhere, 0, d);
  }
  EXPECT_EQ(stats(pair).tokens_rejected, 1u);
  EXPECT_EQ(stats(pair).connections_accepted, 0u);
  for (auto& d : second_flight) pair.deliver_to_server(d);
  EXPECT_EQ(stats(pair).tokens_accepted, 1u);
  EXPECT_EQ(stats(pair).connections_accepted, 1u);
}

// A Retry token older than kRetryTokenLifetime is refused: no connection.
TEST(HostileTokens, ExpiredRetryTokenIsRefused) {
  PairOptions o;
  o.retry = RetryPolicy::kAlways;
  Pair pair(o);
  answer_first_flight_with_retry(pair);
  auto second_flight = pair.poll_client();
  ASSERT_FALSE(second_flight.empty());
  pair.advance(kRetryTokenLifetime + std::chrono::seconds(1));
  for (auto& d : second_flight) pair.deliver_to_server(d);
  EXPECT_EQ(stats(pair).tokens_rejected, 1u);
  EXPECT_EQ(stats(pair).tokens_accepted, 0u);
  EXPECT_EQ(stats(pair).connections_accepted, 0u);
}

}  // namespace
}  // namespace quic::hostile

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

// A client presenting a forged token: our marker of `kind`, garbage behind it.
PairOptions forged_marked_token(TokenType kind, RetryPolicy policy) {
  PairOptions o;
  o.retry = policy;
  o.connect.token.assign(97, 0x5a);
  o.connect.token[0] = kTokenMarkerPrefix;
  o.connect.token[1] = static_cast<uint8_t>(kind);
  return o;
}

// The same with a forged token that carries our NEW_TOKEN marker: still no token (§8.1.3
// closes only for Retry tokens), so a Retry, not INVALID_TOKEN.
TEST(HostileTokens, ForgedTokenMarkedNewTokenIsTreatedAsNoToken) {
  PairOptions o = forged_marked_token(TokenType::kNewToken, RetryPolicy::kAlways);
  Pair pair(o);
  client_to_server(pair, pair.client_addr());
  EXPECT_EQ(stats(pair).tokens_rejected, 1u);
  EXPECT_EQ(stats(pair).retries_sent, 1u);
  EXPECT_EQ(stats(pair).invalid_token_closes, 0u);
  ASSERT_TRUE(pair.handshake());
  EXPECT_EQ(pair.server_endpoint().connection_count(), 1u);
}

// The server's answer to an Initial with an invalid Retry token: exactly one datagram, an
// Initial carrying CONNECTION_CLOSE(INVALID_TOKEN), much smaller than the trigger; no
// connection, no Retry. The real client, given it, closes with INVALID_TOKEN.
void expect_invalid_token_close(Pair& pair, bool client_accepts_it = true) {
  EXPECT_EQ(stats(pair).invalid_token_closes, 1u);
  EXPECT_EQ(stats(pair).connections_accepted, 0u);
  EXPECT_EQ(pair.server_endpoint().connection_count(), 0u);
  auto sent = pair.poll_server();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_LT(sent[0].size(), 200u);
  auto packets = decode_datagram(sent[0], 8);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_TRUE(packets[0].long_header);
  EXPECT_EQ(packets[0].type, LongType::kInitial);
  auto close = find_close(sent[0], 8);
  ASSERT_TRUE(close.has_value());
  EXPECT_FALSE(close->application);
  EXPECT_EQ(close->error_code, err::kInvalidToken);
  if (!client_accepts_it) return;
  pair.deliver_to_client(std::move(sent[0]));
  ASSERT_TRUE(pair.client().close_error().has_value());
  EXPECT_TRUE(pair.client().closed_by_peer());
  EXPECT_EQ(pair.client().close_error()->code, err::kInvalidToken);
}

// A forged token that claims to be a Retry token (our marker, garbage behind it) is an
// invalid Retry token: INVALID_TOKEN (RFC 9000 §8.1.3), not a Retry the client could not
// follow (it has seen none) nor an unvalidated connection.
TEST(HostileTokens, ForgedTokenMarkedRetryIsClosedWithInvalidToken) {
  for (RetryPolicy policy : {RetryPolicy::kAlways, RetryPolicy::kDisabled}) {
    PairOptions o = forged_marked_token(TokenType::kRetry, policy);
    Pair pair(o);
    client_to_server(pair, pair.client_addr());
    EXPECT_EQ(stats(pair).tokens_rejected, 1u);
    EXPECT_EQ(stats(pair).retries_sent, 0u);
    expect_invalid_token_close(pair);
  }
}

// "Otherwise valid" (§8.1.3): an Initial carrying a Retry-marked token whose packet does not
// open under its Initial keys (here: a wrong AEAD tag) gets nothing back at all.
TEST(HostileTokens, RetryMarkedTokenOnAnInitialThatDoesNotOpenIsDropped) {
  PairOptions o = forged_marked_token(TokenType::kRetry, RetryPolicy::kAlways);
  Pair pair(o);
  auto flight = pair.poll_client();
  ASSERT_FALSE(flight.empty());
  auto hdr = parse_header(flight[0], 8);
  ASSERT_TRUE(hdr.has_value());
  ASSERT_LE(hdr->packet_size, flight[0].size());
  flight[0][hdr->packet_size - 1] ^= 0x01;  // the last byte of the first packet's tag
  const uint64_t dropped = stats(pair).datagrams_dropped;
  pair.server_endpoint().on_datagram(pair.now(), pair.server_addr(), pair.client_addr(), 0,
                                     flight[0]);
  EXPECT_EQ(stats(pair).tokens_rejected, 1u);
  EXPECT_EQ(stats(pair).invalid_token_closes, 0u);
  EXPECT_EQ(stats(pair).datagrams_dropped, dropped + 1);
  EXPECT_TRUE(pair.poll_server().empty());
  EXPECT_EQ(pair.server_endpoint().connection_count(), 0u);
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
  {
    // INVALID_TOKEN goes back to where the Initial came from, and nothing else is sent.
    auto sent = pair.poll_server_addressed();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].first, elsewhere);
    auto close = find_close(sent[0].second, 8);
    ASSERT_TRUE(close.has_value());
    EXPECT_EQ(close->error_code, err::kInvalidToken);
    EXPECT_EQ(pair.server_endpoint().connection_count(), 0u);
  }
  for (auto& d : second_flight) pair.deliver_to_server(d);
  EXPECT_EQ(stats(pair).tokens_accepted, 1u);
  EXPECT_EQ(stats(pair).connections_accepted, 1u);
}

// The client's second flight (its Initial with the Retry token), held until the token expired.
std::vector<Datagram> flight_with_expired_retry_token(Pair& pair) {
  answer_first_flight_with_retry(pair);
  auto flight = pair.poll_client();
  pair.advance(kRetryTokenLifetime + std::chrono::seconds(1));
  return flight;
}

// A Retry token older than kRetryTokenLifetime is refused: no connection.
TEST(HostileTokens, ExpiredRetryTokenIsRefused) {
  PairOptions o;
  o.retry = RetryPolicy::kAlways;
  Pair pair(o);
  auto second_flight = flight_with_expired_retry_token(pair);
  ASSERT_FALSE(second_flight.empty());
  for (auto& d : second_flight) pair.deliver_to_server(d);
  EXPECT_EQ(stats(pair).tokens_rejected, 1u);
  EXPECT_EQ(stats(pair).tokens_accepted, 0u);
  expect_invalid_token_close(pair);
}

// A genuine Retry token is bound to the connection IDs of its Retry: another connection at the
// same address presenting it (its own DCID, not the Retry's SCID) gets INVALID_TOKEN.
TEST(HostileTokens, RetryTokenOfAnotherConnectionIsClosedWithInvalidToken) {
  PairOptions o;
  o.retry = RetryPolicy::kAlways;
  Pair pair(o);
  client_to_server(pair, pair.client_addr());
  auto retry_datagrams = pair.poll_server();
  ASSERT_EQ(retry_datagrams.size(), 1u);
  auto retry = parse_retry(retry_datagrams[0]);
  ASSERT_TRUE(retry.has_value());
  ASSERT_EQ(TokenKey::marked_type(retry->token), TokenType::kRetry);
  ConnectionConfig cfg;
  cfg.aead = AeadBackend::kNull;
  ConnectOptions opts;
  opts.token.assign(retry->token.begin(), retry->token.end());
  SeededRandom random(21);
  auto other = Connection::connect(cfg, test_tls_context(false, {"hq-interop"}),
                                   pair.client_addr(), pair.server_addr(), pair.now(), random,
                                   opts);
  ASSERT_TRUE(other.has_value());
  Datagram buf(1500);
  while (auto t = (*other)->poll_transmit(pair.now(), buf)) {
    pair.server_endpoint().on_datagram(pair.now(), pair.server_addr(), pair.client_addr(), 0,
                                       MutBytes(buf.data(), t->size));
  }
  EXPECT_EQ(stats(pair).tokens_rejected, 1u);
  EXPECT_EQ(stats(pair).retries_sent, 1u);
  expect_invalid_token_close(pair, /*client_accepts_it=*/false);
}

// Many Initials with invalid Retry tokens: each close waits in the bounded stateless queue,
// the rest are dropped; no connection state at any point.
TEST(HostileTokens, InvalidRetryTokenFloodIsBounded) {
  PairOptions o;
  o.retry = RetryPolicy::kAlways;
  Pair pair(o);
  auto second_flight = flight_with_expired_retry_token(pair);
  ASSERT_FALSE(second_flight.empty());
  const int64_t base = live_heap_bytes();
  const EndpointConfig defaults;
  for (size_t i = 0; i < 4 * defaults.max_stateless_queue; ++i) {
    for (auto& d : second_flight) pair.deliver_to_server(d);
  }
  EXPECT_EQ(stats(pair).invalid_token_closes, defaults.max_stateless_queue);
  EXPECT_EQ(pair.server_endpoint().connection_count(), 0u);
  EXPECT_LT(live_heap_bytes() - base, 64 * 1024);
  EXPECT_EQ(pair.poll_server().size(), defaults.max_stateless_queue);
}

}  // namespace
}  // namespace quic::hostile

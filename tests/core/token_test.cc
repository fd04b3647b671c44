// Address-validation tokens (core/token.h, RFC 9000 §8.1.3-8.1.4) against a client that forges,
// alters, replays from elsewhere or keeps them too long. TokenKey::validate is what the Endpoint
// trusts before it skips Retry and the anti-amplification limit.
#include <gtest/gtest.h>

#include "core/token.h"

namespace quic {
namespace {

class Tokens : public ::testing::Test {
 protected:
  TokenData retry_data() const {
    TokenData d;
    d.type = TokenType::kRetry;
    d.issued = t0_;
    d.client = client_;
    d.original_dcid = ConnectionId::from(Bytes(odcid_, sizeof(odcid_)));
    d.retry_scid = ConnectionId::from(Bytes(scid_, sizeof(scid_)));
    return d;
  }
  TokenData new_token_data() const {
    TokenData d;
    d.type = TokenType::kNewToken;
    d.issued = t0_;
    d.client = client_;
    return d;
  }
  SeededRandom random_{7};
  TokenKey key_{random_};
  Instant t0_ = instant_from_ns(5'000'000'000);
  SocketAddress client_ = SocketAddress::v4(198, 51, 100, 7, 40000);
  uint8_t odcid_[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint8_t scid_[8] = {9, 9, 9, 9, 9, 9, 9, 9};
};

TEST_F(Tokens, GenuineTokensValidateWithTheirContents) {
  auto retry = key_.mint(retry_data(), random_);
  auto d = key_.validate(retry, client_, t0_ + std::chrono::seconds(1));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->type, TokenType::kRetry);
  EXPECT_EQ(d->original_dcid, retry_data().original_dcid);
  EXPECT_EQ(d->retry_scid, retry_data().retry_scid);
  auto nt = key_.validate(key_.mint(new_token_data(), random_), client_, t0_);
  ASSERT_TRUE(nt.has_value());
  EXPECT_EQ(nt->type, TokenType::kNewToken);
}

// Random bytes of every plausible length, and a genuine token with any one bit flipped.
TEST_F(Tokens, ForgedAndAlteredTokensAreRefused) {
  for (size_t len = 0; len <= kMaxTokenLength + 1; ++len) {
    std::vector<uint8_t> forged(len);
    random_.fill(forged);
    EXPECT_FALSE(key_.validate(forged, client_, t0_).has_value()) << len;
  }
  const auto genuine = key_.mint(new_token_data(), random_);
  for (size_t i = 0; i < genuine.size(); ++i) {
    auto t = genuine;
    t[i] ^= 0x10;
    EXPECT_FALSE(key_.validate(t, client_, t0_).has_value()) << "byte " << i;
  }
  auto truncated = genuine;
  truncated.pop_back();
  EXPECT_FALSE(key_.validate(truncated, client_, t0_).has_value());
}

// Another endpoint's key (e.g. a restarted server) does not accept our tokens.
// The kind is readable without the key (RFC 9000 §8.1.3 needs it for tokens that do not
// validate), and relabelling a token makes it fail: the marker is authenticated.
TEST_F(Tokens, MarkerTellsTheKindAndIsAuthenticated) {
  auto retry = key_.mint(retry_data(), random_);
  auto nt = key_.mint(new_token_data(), random_);
  EXPECT_EQ(TokenKey::marked_type(retry), TokenType::kRetry);
  EXPECT_EQ(TokenKey::marked_type(nt), TokenType::kNewToken);
  std::vector<uint8_t> foreign(retry.size(), 0x01);
  EXPECT_FALSE(TokenKey::marked_type(foreign).has_value());
  EXPECT_FALSE(TokenKey::marked_type({}).has_value());
  auto relabelled = retry;
  relabelled[1] = static_cast<uint8_t>(TokenType::kNewToken);
  EXPECT_EQ(TokenKey::marked_type(relabelled), TokenType::kNewToken);
  EXPECT_FALSE(key_.validate(relabelled, client_, t0_).has_value());
}

TEST_F(Tokens, TokenFromAnotherKeyIsRefused) {
  SeededRandom other_random{8};
  TokenKey other{other_random};
  EXPECT_FALSE(other.validate(key_.mint(new_token_data(), random_), client_, t0_).has_value());
}

TEST_F(Tokens, ExpiredTokensAreRefused) {
  auto retry = key_.mint(retry_data(), random_);
  EXPECT_TRUE(key_.validate(retry, client_, t0_ + kRetryTokenLifetime).has_value());
  EXPECT_FALSE(key_.validate(retry, client_, t0_ + kRetryTokenLifetime + std::chrono::nanoseconds(1)).has_value());
  auto nt = key_.mint(new_token_data(), random_);
  EXPECT_TRUE(key_.validate(nt, client_, t0_ + kNewTokenLifetime).has_value());
  EXPECT_FALSE(key_.validate(nt, client_, t0_ + kNewTokenLifetime + std::chrono::nanoseconds(1)).has_value());
  // Issued "in the future" (a clock that went backwards): not trusted either.
  EXPECT_FALSE(key_.validate(nt, client_, t0_ - std::chrono::nanoseconds(1)).has_value());
}

// A token proves one address (RFC 9000 §8.1.3-8.1.4): replayed from another IP it is refused;
// from another port of the same IP (a NAT rebinding) it is accepted.
TEST_F(Tokens, TokenFromAnotherAddressIsRefused) {
  for (const TokenData& data : {retry_data(), new_token_data()}) {
    auto t = key_.mint(data, random_);
    EXPECT_FALSE(key_.validate(t, SocketAddress::v4(198, 51, 100, 8, 40000), t0_).has_value());
    SocketAddress v6;
    v6.v6 = true;
    v6.ip = client_.ip;
    v6.port = client_.port;
    EXPECT_FALSE(key_.validate(t, v6, t0_).has_value());
    EXPECT_TRUE(key_.validate(t, SocketAddress::v4(198, 51, 100, 7, 1234), t0_).has_value());
  }
}

}  // namespace
}  // namespace quic

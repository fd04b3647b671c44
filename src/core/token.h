// Address-validation tokens (RFC 9000 §8.1.2-8.1.4): the Retry token and NEW_TOKEN tokens.
// A token is sealed with AES-128-GCM under a key only this endpoint knows, so its contents (the
// client address, the time it was issued and, for Retry, the connection IDs) cannot be forged
// or read by the client. Only the endpoint that minted a token can validate it.
//
// Layout: a 2-byte marker in the clear ('Q' and 'R' for Retry, 'Q' and 'N' for NEW_TOKEN),
// the AEAD nonce, the sealed contents and the tag; marker and nonce are the additional data,
// so a marker cannot be changed without the token failing. The marker lets the endpoint tell
// the two kinds apart before (and whether or not) the token validates: RFC 9000 §8.1.3 closes
// an Initial with an invalid Retry token with INVALID_TOKEN, while an invalid NEW_TOKEN token
// (or one from another server) is treated as no token.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "common/address.h"
#include "common/time.h"
#include "core/random.h"
#include "crypto/aead.h"
#include "wire/packet.h"

namespace quic {

inline constexpr size_t kMaxTokenLength = 256;  // what we accept in an Initial
inline constexpr Duration kRetryTokenLifetime = std::chrono::seconds(10);
inline constexpr Duration kNewTokenLifetime = std::chrono::hours(24);

enum class TokenType : uint8_t { kRetry = 'R', kNewToken = 'N' };
inline constexpr uint8_t kTokenMarkerPrefix = 'Q';
inline constexpr size_t kTokenMarkerLength = 2;

struct TokenData {
  TokenType type = TokenType::kRetry;
  Instant issued{};
  SocketAddress client;        // the port is ignored when validating (NATs rebind ports)
  ConnectionId original_dcid;  // Retry only: the DCID of the client's first Initial
  ConnectionId retry_scid;     // Retry only: the SCID of our Retry packet
};

class TokenKey {
 public:
  explicit TokenKey(Random& random);
  std::vector<uint8_t> mint(const TokenData& data, Random& random) const;
  // The token's contents if it is ours, unexpired at `now` and bound to `client`'s address.
  std::optional<TokenData> validate(Bytes token, const SocketAddress& client, Instant now) const;
  // The kind a token claims by its marker, without validating it; nullopt: not one of ours.
  static std::optional<TokenType> marked_type(Bytes token);

 private:
  std::unique_ptr<Aead> aead_;
};

}  // namespace quic

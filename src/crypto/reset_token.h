// Stateless reset tokens (RFC 9000 §10.3.2): HMAC-SHA256 of a connection ID under a static key,
// truncated to 16 bytes, so an endpoint that lost all state can still compute the token for a
// CID it issued and reset the connection.
#pragma once

#include <array>
#include <cstdint>

#include "wire/varint.h"

namespace quic {

inline constexpr size_t kResetTokenSize = 16;
inline constexpr size_t kResetKeySize = 32;

std::array<uint8_t, kResetTokenSize> stateless_reset_token(
    const std::array<uint8_t, kResetKeySize>& key, Bytes cid);

// Constant-time comparison of two tokens.
bool reset_token_equal(const uint8_t* a, const uint8_t* b);

}  // namespace quic

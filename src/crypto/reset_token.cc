#include "crypto/reset_token.h"

#include <algorithm>

#include <gnutls/crypto.h>

namespace quic {

std::array<uint8_t, kResetTokenSize> stateless_reset_token(
    const std::array<uint8_t, kResetKeySize>& key, Bytes cid) {
  uint8_t mac[32] = {};
  gnutls_hmac_fast(GNUTLS_MAC_SHA256, key.data(), key.size(), cid.data(), cid.size(), mac);
  std::array<uint8_t, kResetTokenSize> out;
  std::copy_n(mac, kResetTokenSize, out.begin());
  return out;
}

bool reset_token_equal(const uint8_t* a, const uint8_t* b) {
  uint8_t diff = 0;
  for (size_t i = 0; i < kResetTokenSize; ++i) diff |= a[i] ^ b[i];
  return diff == 0;
}

}  // namespace quic

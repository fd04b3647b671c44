#include "crypto/retry.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

#include "crypto/hkdf.h"

namespace quic {
namespace {

// RFC 9001 §5.8.
constexpr uint8_t kKeyV1[16] = {0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a,
                                0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e};
constexpr uint8_t kNonceV1[12] = {0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63,
                                  0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb};
// RFC 9369 §3.3.3.
constexpr uint8_t kKeyV2[16] = {0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2,
                                0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92};
constexpr uint8_t kNonceV2[12] = {0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c,
                                  0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a};

using Tag = std::array<uint8_t, kRetryIntegrityTagSize>;

// Tag over the concatenation of aad pieces. GCM accepts AAD in several updates, so the
// pseudo-packet never needs to be materialised.
bool compute_tag(uint32_t version, std::initializer_list<Bytes> aad, Tag* out) {
  struct Free {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
  };
  std::unique_ptr<EVP_CIPHER_CTX, Free> ctx(EVP_CIPHER_CTX_new());
  bool v2 = is_quic_v2(version);
  int n = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, v2 ? kKeyV2 : kKeyV1,
                                 v2 ? kNonceV2 : kNonceV1) != 1) {
    return false;
  }
  for (Bytes piece : aad) {
    if (piece.size() > 0x7fffffff) return false;
    if (!piece.empty() &&
        EVP_EncryptUpdate(ctx.get(), nullptr, &n, piece.data(), int(piece.size())) != 1) {
      return false;
    }
  }
  uint8_t none[1];
  return EVP_EncryptFinal_ex(ctx.get(), none, &n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, int(out->size()), out->data()) == 1;
}

}  // namespace

Tag retry_integrity_tag(uint32_t version, Bytes pseudo_packet) {
  Tag t{};
  if (!compute_tag(version, {pseudo_packet}, &t)) t.fill(0);
  return t;
}

std::optional<Tag> retry_integrity_tag(uint32_t version, Bytes odcid, Bytes retry_without_tag) {
  if (odcid.size() > kMaxRetryOdcidLen) return std::nullopt;
  const uint8_t len = static_cast<uint8_t>(odcid.size());
  Tag t{};
  if (!compute_tag(version, {Bytes(&len, 1), odcid, retry_without_tag}, &t)) return std::nullopt;
  return t;
}

bool verify_retry_integrity_tag(uint32_t version, Bytes odcid, Bytes retry_packet) {
  if (retry_packet.size() < kRetryIntegrityTagSize) return false;
  Bytes body = retry_packet.first(retry_packet.size() - kRetryIntegrityTagSize);
  auto t = retry_integrity_tag(version, odcid, body);
  if (!t) return false;
  return CRYPTO_memcmp(t->data(), body.data() + body.size(), t->size()) == 0;
}

}  // namespace quic

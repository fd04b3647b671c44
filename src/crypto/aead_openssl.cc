// OpenSSL libcrypto (EVP) backend. One EVP_CIPHER_CTX per key and direction is keyed once;
// per packet only the nonce is reset (EVP_*Init_ex with null cipher and key keeps the key
// schedule), then AAD, data and final.
#include <openssl/evp.h>

#include "crypto/backends.h"

namespace quic::backend {
namespace {

const EVP_CIPHER* aead_cipher(CipherSuite s) {
  switch (s) {
    case CipherSuite::kAes128Gcm:
      return EVP_aes_128_gcm();
    case CipherSuite::kAes256Gcm:
      return EVP_aes_256_gcm();
    case CipherSuite::kChaCha20Poly1305:
      return EVP_chacha20_poly1305();
  }
  return nullptr;
}

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

CtxPtr keyed_ctx(const EVP_CIPHER* cipher, Bytes key, int enc) {
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || cipher == nullptr) return nullptr;
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr, enc) != 1) return nullptr;
  if (static_cast<size_t>(EVP_CIPHER_CTX_get_key_length(ctx.get())) != key.size()) return nullptr;
  if (EVP_CIPHER_get_mode(cipher) == EVP_CIPH_GCM_MODE ||
      EVP_CIPHER_get_nid(cipher) == NID_chacha20_poly1305) {
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, kAeadNonceSize, nullptr) != 1) {
      return nullptr;
    }
  }
  if (EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), nullptr, enc) != 1) {
    return nullptr;
  }
  return ctx;
}

class OpenSslAead final : public Aead {
 public:
  OpenSslAead(CtxPtr enc, CtxPtr dec) : enc_(std::move(enc)), dec_(std::move(dec)) {}

  bool seal(const uint8_t* nonce, Bytes aad, uint8_t* data, size_t len) override {
    EVP_CIPHER_CTX* c = enc_.get();
    int n = 0;
    if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, nonce) != 1) return false;
    if (!aad.empty() && EVP_EncryptUpdate(c, nullptr, &n, aad.data(), int(aad.size())) != 1) {
      return false;
    }
    if (len != 0 && EVP_EncryptUpdate(c, data, &n, data, int(len)) != 1) return false;
    if (EVP_EncryptFinal_ex(c, data + len, &n) != 1) return false;
    return EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, kAeadTagSize, data + len) == 1;
  }

  bool open(const uint8_t* nonce, Bytes aad, uint8_t* data, size_t len_with_tag) override {
    EVP_CIPHER_CTX* c = dec_.get();
    size_t len = len_with_tag - kAeadTagSize;
    int n = 0;
    if (EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, nonce) != 1) return false;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, kAeadTagSize, data + len) != 1) {
      return false;
    }
    if (!aad.empty() && EVP_DecryptUpdate(c, nullptr, &n, aad.data(), int(aad.size())) != 1) {
      return false;
    }
    if (len != 0 && EVP_DecryptUpdate(c, data, &n, data, int(len)) != 1) return false;
    return EVP_DecryptFinal_ex(c, data + len, &n) == 1;
  }

 private:
  CtxPtr enc_, dec_;
};

// AES: RFC 9001 §5.4.3, mask = AES-ECB(hp_key, sample). ChaCha20: §5.4.4, the 16-byte sample is
// exactly OpenSSL's ChaCha20 IV layout (32-bit little-endian counter, then the 96-bit nonce).
class OpenSslHp final : public HeaderProtector {
 public:
  OpenSslHp(CtxPtr ctx, bool chacha) : ctx_(std::move(ctx)), chacha_(chacha) {}

  bool mask(const uint8_t* sample, uint8_t* out) override {
    int n = 0;
    if (chacha_) {
      static constexpr uint8_t kZeros[kHpMaskSize] = {};
      if (EVP_EncryptInit_ex(ctx_.get(), nullptr, nullptr, nullptr, sample) != 1) return false;
      return EVP_EncryptUpdate(ctx_.get(), out, &n, kZeros, kHpMaskSize) == 1;
    }
    uint8_t block[kHpSampleSize];
    if (EVP_EncryptUpdate(ctx_.get(), block, &n, sample, kHpSampleSize) != 1) return false;
    std::memcpy(out, block, kHpMaskSize);
    return true;
  }

 private:
  CtxPtr ctx_;
  bool chacha_;
};

}  // namespace

std::unique_ptr<Aead> openssl_aead(CipherSuite suite, Bytes key) {
  CtxPtr enc = keyed_ctx(aead_cipher(suite), key, 1);
  CtxPtr dec = keyed_ctx(aead_cipher(suite), key, 0);
  if (!enc || !dec) return nullptr;
  return std::make_unique<OpenSslAead>(std::move(enc), std::move(dec));
}

std::unique_ptr<HeaderProtector> openssl_hp(CipherSuite suite, Bytes hp_key) {
  const EVP_CIPHER* cipher = suite == CipherSuite::kAes128Gcm   ? EVP_aes_128_ecb()
                             : suite == CipherSuite::kAes256Gcm ? EVP_aes_256_ecb()
                                                                : EVP_chacha20();
  CtxPtr ctx = keyed_ctx(cipher, hp_key, 1);
  if (!ctx) return nullptr;
  if (EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) return nullptr;
  return std::make_unique<OpenSslHp>(std::move(ctx), suite == CipherSuite::kChaCha20Poly1305);
}

}  // namespace quic::backend

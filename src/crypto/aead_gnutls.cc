// GnuTLS backend. The AEAD handle is keyed once; gnutls_aead_cipher_encrypt/decrypt take the
// nonce per call and work in place (ciphertext and tag contiguous, as in a QUIC packet).
// Header protection: GnuTLS 3.7.9 exposes no AES-ECB, and one CBC block under a zero IV is
// the same function; ChaCha20 uses GNUTLS_CIPHER_CHACHA20_32 whose 16-byte IV is the sample.
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "crypto/backends.h"

namespace quic::backend {
namespace {

gnutls_datum_t datum(Bytes b) {
  return gnutls_datum_t{const_cast<uint8_t*>(b.data()), static_cast<unsigned>(b.size())};
}

class GnuTlsAead final : public Aead {
 public:
  explicit GnuTlsAead(gnutls_aead_cipher_hd_t h) : h_(h) {}
  ~GnuTlsAead() override { gnutls_aead_cipher_deinit(h_); }
  GnuTlsAead(const GnuTlsAead&) = delete;
  GnuTlsAead& operator=(const GnuTlsAead&) = delete;

  bool seal(const uint8_t* nonce, Bytes aad, uint8_t* data, size_t len) override {
    size_t out_len = len + kAeadTagSize;
    return gnutls_aead_cipher_encrypt(h_, nonce, kAeadNonceSize, aad.data(), aad.size(),
                                      kAeadTagSize, data, len, data, &out_len) == 0 &&
           out_len == len + kAeadTagSize;
  }

  bool open(const uint8_t* nonce, Bytes aad, uint8_t* data, size_t len_with_tag) override {
    size_t out_len = len_with_tag - kAeadTagSize;
    return gnutls_aead_cipher_decrypt(h_, nonce, kAeadNonceSize, aad.data(), aad.size(),
                                      kAeadTagSize, data, len_with_tag, data, &out_len) == 0;
  }

 private:
  gnutls_aead_cipher_hd_t h_;
};

class GnuTlsHp final : public HeaderProtector {
 public:
  GnuTlsHp(gnutls_cipher_hd_t h, bool chacha) : h_(h), chacha_(chacha) {}
  ~GnuTlsHp() override { gnutls_cipher_deinit(h_); }
  GnuTlsHp(const GnuTlsHp&) = delete;
  GnuTlsHp& operator=(const GnuTlsHp&) = delete;

  bool mask(const uint8_t* sample, uint8_t* out) override {
    uint8_t iv[kHpSampleSize] = {};
    if (chacha_) {
      static constexpr uint8_t kZeros[kHpMaskSize] = {};
      std::memcpy(iv, sample, kHpSampleSize);
      gnutls_cipher_set_iv(h_, iv, sizeof iv);
      return gnutls_cipher_encrypt2(h_, kZeros, kHpMaskSize, out, kHpMaskSize) == 0;
    }
    uint8_t block[kHpSampleSize];
    gnutls_cipher_set_iv(h_, iv, sizeof iv);
    if (gnutls_cipher_encrypt2(h_, sample, kHpSampleSize, block, sizeof block) != 0) return false;
    std::memcpy(out, block, kHpMaskSize);
    return true;
  }

 private:
  gnutls_cipher_hd_t h_;
  bool chacha_;
};

}  // namespace

std::unique_ptr<Aead> gnutls_aead(CipherSuite suite, Bytes key) {
  gnutls_cipher_algorithm_t alg = suite == CipherSuite::kAes128Gcm ? GNUTLS_CIPHER_AES_128_GCM
                                  : suite == CipherSuite::kAes256Gcm
                                      ? GNUTLS_CIPHER_AES_256_GCM
                                      : GNUTLS_CIPHER_CHACHA20_POLY1305;
  gnutls_aead_cipher_hd_t h = nullptr;
  gnutls_datum_t k = datum(key);
  if (gnutls_aead_cipher_init(&h, alg, &k) != 0) return nullptr;
  return std::make_unique<GnuTlsAead>(h);
}

std::unique_ptr<HeaderProtector> gnutls_hp(CipherSuite suite, Bytes hp_key) {
  bool chacha = suite == CipherSuite::kChaCha20Poly1305;
  gnutls_cipher_algorithm_t alg = suite == CipherSuite::kAes128Gcm   ? GNUTLS_CIPHER_AES_128_CBC
                                  : suite == CipherSuite::kAes256Gcm ? GNUTLS_CIPHER_AES_256_CBC
                                                                     : GNUTLS_CIPHER_CHACHA20_32;
  uint8_t zero_iv[kHpSampleSize] = {};
  gnutls_datum_t k = datum(hp_key);
  gnutls_datum_t iv{zero_iv, sizeof zero_iv};
  gnutls_cipher_hd_t h = nullptr;
  if (gnutls_cipher_init(&h, alg, &k, &iv) != 0) return nullptr;
  return std::make_unique<GnuTlsHp>(h, chacha);
}

}  // namespace quic::backend

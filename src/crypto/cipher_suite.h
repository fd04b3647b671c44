// Cipher suites, backends and secrets shared by every part of QUIC packet protection
// (RFC 9001 §5). Pure value types: nothing here touches a crypto library.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wire/varint.h"

namespace quic {

// The TLS 1.3 AEADs QUIC can use (RFC 9001 §5.3). AES-128-CCM is deliberately absent: neither
// backend is fast at it and no deployed peer insists on it.
enum class CipherSuite : uint8_t { kAes128Gcm, kAes256Gcm, kChaCha20Poly1305 };

// Which library does the per-packet work. kAuto picks the measured-faster library per cipher
// (default_backend() in aead.cc). kNull is NOT encryption: a 16-byte zero tag, plaintext left
// as is and a zero header-protection mask, for very large simulations and fuzzing only.
enum class AeadBackend : uint8_t { kAuto, kOpenSsl, kGnuTls, kNull };

inline constexpr size_t kAeadTagSize = 16;  // all three suites (RFC 9001 §5.3)
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kHpSampleSize = 16;  // RFC 9001 §5.4.2
inline constexpr size_t kHpMaskSize = 5;
inline constexpr size_t kMaxSecretSize = 48;  // SHA-384
inline constexpr size_t kMaxKeySize = 32;

// A TLS traffic secret (32 bytes for SHA-256 suites, 48 for SHA-384).
struct Secret {
  std::array<uint8_t, kMaxSecretSize> bytes{};
  uint8_t len = 0;

  Bytes view() const { return Bytes(bytes.data(), len); }
  // Copies up to kMaxSecretSize bytes; a longer input yields an empty (len 0) secret, which
  // every consumer rejects.
  static Secret from(Bytes b) {
    Secret s;
    if (b.size() > kMaxSecretSize) return s;
    if (!b.empty()) std::memcpy(s.bytes.data(), b.data(), b.size());
    s.len = static_cast<uint8_t>(b.size());
    return s;
  }
  friend bool operator==(const Secret& a, const Secret& b) {
    return a.len == b.len && std::memcmp(a.bytes.data(), b.bytes.data(), a.len) == 0;
  }
};

enum class HashAlg : uint8_t { kSha256, kSha384 };

constexpr HashAlg suite_hash(CipherSuite s) {
  return s == CipherSuite::kAes256Gcm ? HashAlg::kSha384 : HashAlg::kSha256;
}
constexpr size_t hash_size(HashAlg h) {
  return h == HashAlg::kSha384 ? 48 : 32;
}
constexpr size_t suite_key_size(CipherSuite s) {
  return s == CipherSuite::kAes128Gcm ? 16 : 32;
}
// The HP key has the AEAD key's length (RFC 9001 §5.4.3, §5.4.4).
constexpr size_t suite_hp_key_size(CipherSuite s) {
  return suite_key_size(s);
}

const char* suite_name(CipherSuite s);
const char* backend_name(AeadBackend b);

// RFC 9001 §6.6 (and Appendix B): packets that may be protected with one key before it must
// be updated, and forged packets that may fail to open before the connection must close with
// AEAD_LIMIT_REACHED.
constexpr uint64_t confidentiality_limit(CipherSuite s) {
  return s == CipherSuite::kChaCha20Poly1305 ? (uint64_t{1} << 62) : (uint64_t{1} << 23);
}
constexpr uint64_t integrity_limit(CipherSuite s) {
  return s == CipherSuite::kChaCha20Poly1305 ? (uint64_t{1} << 36) : (uint64_t{1} << 52);
}

}  // namespace quic

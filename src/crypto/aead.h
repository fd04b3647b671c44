// The two per-packet primitives of RFC 9001 §5, each behind a small virtual interface so the
// library doing the work (OpenSSL libcrypto, GnuTLS, or the null stand-in) is chosen at key
// installation time. Instances hold their initialised library context for the key's lifetime:
// the per-packet path allocates nothing and never re-expands the key schedule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/error.h"
#include "crypto/cipher_suite.h"
#include "wire/varint.h"

namespace quic {

// Largest plaintext one seal/open accepts: a UDP datagram cannot carry more.
inline constexpr size_t kMaxAeadPayload = 65535;
// Longest associated data (a QUIC header is far shorter; a Retry pseudo-packet is the longest
// user and stays below one datagram).
inline constexpr size_t kMaxAeadAad = 65535;

class Aead {
 public:
  virtual ~Aead() = default;
  // Encrypts data[0, len) in place and writes the tag to data[len, len + kAeadTagSize).
  virtual bool seal(const uint8_t* nonce, Bytes aad, uint8_t* data, size_t len) = 0;
  // Verifies the tag at data[len_with_tag - kAeadTagSize, len_with_tag) and decrypts the rest in
  // place. False on authentication failure; the plaintext area is then unspecified.
  virtual bool open(const uint8_t* nonce, Bytes aad, uint8_t* data, size_t len_with_tag) = 0;
};

class HeaderProtector {
 public:
  virtual ~HeaderProtector() = default;
  // RFC 9001 §5.4.3/§5.4.4: writes the first kHpMaskSize bytes of the mask for a 16-byte sample.
  virtual bool mask(const uint8_t* sample, uint8_t* out) = 0;
};

// The backend kAuto resolves to for `suite` (chosen by bench/aead_bench.cc, see aead.cc).
AeadBackend default_backend(CipherSuite suite);

// `key` must be suite_key_size(suite) bytes; `hp_key` suite_hp_key_size(suite) bytes.
Result<std::unique_ptr<Aead>> make_aead(CipherSuite suite, AeadBackend backend, Bytes key);
Result<std::unique_ptr<HeaderProtector>> make_header_protector(CipherSuite suite,
                                                               AeadBackend backend, Bytes hp_key);

}  // namespace quic

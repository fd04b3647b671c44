#include "crypto/aead.h"

#include "crypto/backends.h"

namespace quic {

const char* suite_name(CipherSuite s) {
  switch (s) {
    case CipherSuite::kAes128Gcm: return "AES-128-GCM";
    case CipherSuite::kAes256Gcm: return "AES-256-GCM";
    case CipherSuite::kChaCha20Poly1305: return "ChaCha20-Poly1305";
  }
  return "?";
}

const char* backend_name(AeadBackend b) {
  switch (b) {
    case AeadBackend::kAuto: return "auto";
    case AeadBackend::kOpenSsl: return "openssl";
    case AeadBackend::kGnuTls: return "gnutls";
    case AeadBackend::kNull: return "null";
  }
  return "?";
}

// DEFAULT_BACKEND_CHOICE (placeholder until measured).
AeadBackend default_backend(CipherSuite suite) {
  switch (suite) {
    case CipherSuite::kAes128Gcm: return AeadBackend::kOpenSsl;
    case CipherSuite::kAes256Gcm: return AeadBackend::kOpenSsl;
    case CipherSuite::kChaCha20Poly1305: return AeadBackend::kOpenSsl;
  }
  return AeadBackend::kOpenSsl;
}

Result<std::unique_ptr<Aead>> make_aead(CipherSuite suite, AeadBackend backend, Bytes key) {
  if (backend == AeadBackend::kAuto) backend = default_backend(suite);
  if (backend == AeadBackend::kNull) return backend::null_aead();
  if (key.size() != suite_key_size(suite)) return fail(err::kInternalError, "AEAD key length");
  std::unique_ptr<Aead> a = backend == AeadBackend::kGnuTls ? backend::gnutls_aead(suite, key)
                                                            : backend::openssl_aead(suite, key);
  if (!a) return fail(err::kInternalError, std::string("AEAD init failed: ") + suite_name(suite));
  return a;
}

Result<std::unique_ptr<HeaderProtector>> make_header_protector(CipherSuite suite,
                                                               AeadBackend backend, Bytes hp_key) {
  if (backend == AeadBackend::kAuto) backend = default_backend(suite);
  if (backend == AeadBackend::kNull) return backend::null_hp();
  if (hp_key.size() != suite_hp_key_size(suite)) return fail(err::kInternalError, "HP key length");
  std::unique_ptr<HeaderProtector> h = backend == AeadBackend::kGnuTls
                                           ? backend::gnutls_hp(suite, hp_key)
                                           : backend::openssl_hp(suite, hp_key);
  if (!h) return fail(err::kInternalError, std::string("HP init failed: ") + suite_name(suite));
  return h;
}

}  // namespace quic

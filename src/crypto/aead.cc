#include "crypto/aead.h"

#include "crypto/backends.h"

namespace quic {

const char* suite_name(CipherSuite s) {
  switch (s) {
    case CipherSuite::kAes128Gcm:
      return "AES-128-GCM";
    case CipherSuite::kAes256Gcm:
      return "AES-256-GCM";
    case CipherSuite::kChaCha20Poly1305:
      return "ChaCha20-Poly1305";
  }
  return "?";
}

const char* backend_name(AeadBackend b) {
  switch (b) {
    case AeadBackend::kAuto:
      return "auto";
    case AeadBackend::kOpenSsl:
      return "openssl";
    case AeadBackend::kGnuTls:
      return "gnutls";
    case AeadBackend::kNull:
      return "null";
  }
  return "?";
}

// Chosen by measurement (docs/BENCHMARKS.md "Packet protection (AEAD)", bench/aead_bench.cc,
// Release build, AMD EPYC with AES-NI/VAES/AVX-512, OpenSSL 3.0.19, GnuTLS 3.7.9, 2026-11-25).
// Seal of a 1350-byte payload, CPU time, median of 5, GiB/s:
//   AES-128-GCM        GnuTLS 4.14  vs OpenSSL 3.30 -> GnuTLS
//   AES-256-GCM        GnuTLS 3.86  vs OpenSSL 3.17 -> GnuTLS
//   ChaCha20-Poly1305  OpenSSL 1.49 vs GnuTLS 0.27  -> OpenSSL
// OpenSSL 3.0 loses on AES-GCM through its fixed per-packet cost (re-init with a new IV and
// the OSSL_PARAM round trips of EVP, ~150 ns); GnuTLS 3.7.9's ChaCha20-Poly1305 is ~5x
// slower than OpenSSL's on this machine. Re-run the benchmark before changing these on other
// hardware.
AeadBackend default_backend(CipherSuite suite) {
  switch (suite) {
    case CipherSuite::kAes128Gcm:
      return AeadBackend::kGnuTls;
    case CipherSuite::kAes256Gcm:
      return AeadBackend::kGnuTls;
    case CipherSuite::kChaCha20Poly1305:
      return AeadBackend::kOpenSsl;
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

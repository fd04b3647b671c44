#include "tls/cert_mint.h"

#include <gnutls/x509.h>

namespace quic {

Result<PemCertKey> mint_hash_certificate(const std::string& host, time_t now, time_t validity) {
  if (validity <= kHashCertBackdate || validity > kMaxHashCertValidity) {
    return fail(err::kInternalError, "certificate validity must be 1 hour to 14 days");
  }
  TestCertOptions o;
  o.name = host;
  o.chain_length = 1;  // self-signed: the hash is the trust, not a chain
  o.not_before = now - kHashCertBackdate;
  o.not_after = o.not_before + validity;
  return make_test_cert(o);
}

Result<std::array<uint8_t, 32>> spki_sha256(const std::string& cert_pem) {
  gnutls_x509_crt_t crt = nullptr;
  if (gnutls_x509_crt_init(&crt) < 0) return fail(err::kInternalError, "crt_init");
  gnutls_datum_t d{reinterpret_cast<unsigned char*>(const_cast<char*>(cert_pem.data())),
                   static_cast<unsigned>(cert_pem.size())};
  std::array<uint8_t, 32> out{};
  size_t len = out.size();
  int rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
  // GnuTLS's key ID is the hash of the DER SubjectPublicKeyInfo.
  if (rc >= 0) rc = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, out.data(), &len);
  gnutls_x509_crt_deinit(crt);
  if (rc < 0 || len != out.size()) {
    return fail(err::kInternalError, std::string("certificate key: ") + gnutls_strerror(rc));
  }
  return out;
}

}  // namespace quic

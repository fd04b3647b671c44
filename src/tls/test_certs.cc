#include "tls/test_certs.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <array>
#include <memory>
#include <vector>

namespace quic {
namespace {

struct CrtDeleter {
  void operator()(gnutls_x509_crt_int* c) const { gnutls_x509_crt_deinit(c); }
};
struct KeyDeleter {
  void operator()(gnutls_x509_privkey_int* k) const { gnutls_x509_privkey_deinit(k); }
};
using Crt = std::unique_ptr<gnutls_x509_crt_int, CrtDeleter>;
using Key = std::unique_ptr<gnutls_x509_privkey_int, KeyDeleter>;

Result<Key> new_key() {
  gnutls_x509_privkey_t k = nullptr;
  if (gnutls_x509_privkey_init(&k) < 0) return fail(err::kInternalError, "privkey_init");
  Key key(k);
  int rc = gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
                                        GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
  if (rc < 0) return fail(err::kInternalError, std::string("keygen: ") + gnutls_strerror(rc));
  return key;
}

std::string export_pem(gnutls_x509_crt_t crt) {
  gnutls_datum_t out{};
  if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out) < 0) return {};
  std::string s(reinterpret_cast<const char*>(out.data), out.size);
  gnutls_free(out.data);
  return s;
}

// Builds one certificate for `key`, signed by issuer (self-signed when issuer is null).
Result<Crt> new_cert(const std::string& cn, const TestCertOptions& o, bool ca,
                     gnutls_x509_privkey_t key, gnutls_x509_crt_t issuer,
                     gnutls_x509_privkey_t issuer_key) {
  gnutls_x509_crt_t c = nullptr;
  if (gnutls_x509_crt_init(&c) < 0) return fail(err::kInternalError, "crt_init");
  Crt crt(c);
  std::array<uint8_t, 16> serial{};
  gnutls_rnd(GNUTLS_RND_NONCE, serial.data(), serial.size());
  serial[0] &= 0x7f;  // positive INTEGER
  serial[0] |= 0x01;  // and no leading zero byte
  int rc = 0;
  auto step = [&](int r) {
    if (rc >= 0 && r < 0) rc = r;
  };
  step(gnutls_x509_crt_set_version(c, 3));
  step(gnutls_x509_crt_set_serial(c, serial.data(), serial.size()));
  step(gnutls_x509_crt_set_activation_time(c, o.not_before));
  step(gnutls_x509_crt_set_expiration_time(c, o.not_after));
  step(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, cn.data(),
                                     static_cast<unsigned>(cn.size())));
  step(gnutls_x509_crt_set_key(c, key));
  step(gnutls_x509_crt_set_basic_constraints(c, ca ? 1 : 0, -1));
  if (ca) {
    step(gnutls_x509_crt_set_key_usage(
        c, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE));
  } else if (o.client) {
    step(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE));
    step(gnutls_x509_crt_set_key_purpose_oid(c, GNUTLS_KP_TLS_WWW_CLIENT, 0));
  } else {
    step(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE));
    step(gnutls_x509_crt_set_key_purpose_oid(c, GNUTLS_KP_TLS_WWW_SERVER, 0));
    step(gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, o.name.data(),
                                              static_cast<unsigned>(o.name.size()),
                                              GNUTLS_FSAN_SET));
  }
  std::array<uint8_t, 64> kid{};
  size_t kid_len = kid.size();
  step(gnutls_x509_crt_get_key_id(c, 0, kid.data(), &kid_len));
  step(gnutls_x509_crt_set_subject_key_id(c, kid.data(), kid_len));
  if (rc < 0) return fail(err::kInternalError, std::string("certificate: ") + gnutls_strerror(rc));
  rc = gnutls_x509_crt_sign2(c, issuer ? issuer : c, issuer ? issuer_key : key, GNUTLS_DIG_SHA256,
                             0);
  if (rc < 0) return fail(err::kInternalError, std::string("sign: ") + gnutls_strerror(rc));
  return crt;
}

}  // namespace

Result<PemCertKey> make_self_signed(const std::string& host) {
  return make_cert_chain(host, 1);
}

Result<PemCertKey> make_cert_chain(const std::string& host, int chain_length) {
  TestCertOptions o;
  o.name = host;
  o.chain_length = chain_length;
  return make_test_cert(o);
}

Result<PemCertKey> make_test_cert(const TestCertOptions& o) {
  const int chain_length = o.chain_length;
  if (o.name.empty() || chain_length < 1 || chain_length > kMaxTestChainLength) {
    return fail(err::kInternalError, "make_test_cert: need a name and 1..16 certificates");
  }
  // CA names differ between calls, as real CAs' do: a chain under another test CA then fails
  // with "signer not found" (unknown_ca) rather than with a signature mismatch against a
  // same-named anchor (bad_certificate).
  std::array<uint8_t, 4> tag_bytes{};
  gnutls_rnd(GNUTLS_RND_NONCE, tag_bytes.data(), tag_bytes.size());
  std::string tag;
  for (uint8_t b : tag_bytes) {
    tag += "0123456789abcdef"[b >> 4];
    tag += "0123456789abcdef"[b & 15];
  }
  // Index 0 is the root; the last one is the leaf.
  std::vector<Key> keys;
  std::vector<Crt> crts;
  for (int i = 0; i < chain_length; ++i) {
    auto key = new_key();
    if (!key) return std::unexpected(key.error());
    const bool leaf = i == chain_length - 1;
    std::string cn =
        leaf ? o.name
             : (i == 0 ? "TQUIC test root CA " : "TQUIC test CA " + std::to_string(i) + " ") + tag;
    // A single certificate is both leaf and anchor: self-signed, end-entity.
    auto crt = new_cert(cn, o, !leaf, key->get(), i == 0 ? nullptr : crts.back().get(),
                        i == 0 ? nullptr : keys.back().get());
    if (!crt) return std::unexpected(crt.error());
    keys.push_back(std::move(*key));
    crts.push_back(std::move(*crt));
  }
  PemCertKey out;
  // The root is sent too (RFC 8446 §4.4.2 allows it): the amplification-limit scenario wants
  // every certificate of the chain on the wire.
  for (int i = chain_length - 1; i >= 0; --i) {
    out.cert_pem += export_pem(crts[static_cast<size_t>(i)].get());
  }
  out.ca_pem = export_pem(crts[0].get());
  gnutls_datum_t k{};
  if (gnutls_x509_privkey_export2(keys.back().get(), GNUTLS_X509_FMT_PEM, &k) < 0) {
    return fail(err::kInternalError, "key export");
  }
  out.key_pem.assign(reinterpret_cast<const char*>(k.data), k.size);
  gnutls_free(k.data);
  if (out.cert_pem.empty() || out.ca_pem.empty()) return fail(err::kInternalError, "PEM export");
  return out;
}

Result<TestTlsPair> make_test_tls_pair(const std::vector<std::string>& alpn) {
  auto cert = make_self_signed("localhost");
  if (!cert) return std::unexpected(cert.error());
  TlsConfig s;
  s.server = true;
  s.alpn = alpn;
  s.cert_pem = cert->cert_pem;
  s.key_pem = cert->key_pem;
  TlsConfig c;
  c.alpn = alpn;
  c.ca_pem = cert->ca_pem;
  c.server_name = "localhost";
  auto sc = make_tls_context(s);
  if (!sc) return std::unexpected(sc.error());
  auto cc = make_tls_context(c);
  if (!cc) return std::unexpected(cc.error());
  return TestTlsPair{*sc, *cc};
}

}  // namespace quic

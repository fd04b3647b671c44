// The certificate `tquic serve --webtransport-echo` mints for serverCertificateHashes: what
// browsers check (X.509v3, ECDSA P-256, valid now, validity at most 14 days) read back with
// GnuTLS, the 14-day bound refused, and the SPKI hash matching the key's.
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>

#include <array>

#include "tls/cert_mint.h"

namespace {

struct Crt {
  gnutls_x509_crt_t c = nullptr;
  explicit Crt(const std::string& pem) {
    gnutls_x509_crt_init(&c);
    gnutls_datum_t d{reinterpret_cast<unsigned char*>(const_cast<char*>(pem.data())),
                     static_cast<unsigned>(pem.size())};
    ok = gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM) >= 0;
  }
  ~Crt() { gnutls_x509_crt_deinit(c); }
  bool ok = false;
};

TEST(CertMint, ShortLivedEcdsaP256SelfSigned) {
  time_t now = 1'800'000'000;
  auto pem = quic::mint_hash_certificate("localhost", now, 10 * 24 * 3600);
  ASSERT_TRUE(pem);
  Crt crt(pem->cert_pem);
  ASSERT_TRUE(crt.ok);
  EXPECT_EQ(gnutls_x509_crt_get_version(crt.c), 3);
  unsigned bits = 0;
  EXPECT_EQ(gnutls_x509_crt_get_pk_algorithm(crt.c, &bits), GNUTLS_PK_ECDSA);
  gnutls_ecc_curve_t curve{};
  gnutls_datum_t x{}, y{};
  ASSERT_GE(gnutls_x509_crt_get_pk_ecc_raw(crt.c, &curve, &x, &y), 0);
  gnutls_free(x.data);
  gnutls_free(y.data);
  EXPECT_EQ(curve, GNUTLS_ECC_CURVE_SECP256R1);
  time_t from = gnutls_x509_crt_get_activation_time(crt.c);
  time_t to = gnutls_x509_crt_get_expiration_time(crt.c);
  EXPECT_LE(from, now);  // valid now, despite clock skew of up to the backdate
  EXPECT_GT(to, now);
  EXPECT_LE(to - from, quic::kMaxHashCertValidity);
  EXPECT_EQ(to - from, 10 * 24 * 3600);
  // Self-signed: its own issuer.
  EXPECT_NE(gnutls_x509_crt_check_issuer(crt.c, crt.c), 0);
}

TEST(CertMint, ValidityAboveTwoWeeksOrNotCoveringNowIsRefused) {
  EXPECT_FALSE(quic::mint_hash_certificate("localhost", 1'800'000'000, 15 * 24 * 3600));
  EXPECT_FALSE(quic::mint_hash_certificate("localhost", 1'800'000'000, quic::kHashCertBackdate));
  EXPECT_TRUE(quic::mint_hash_certificate("localhost", 1'800'000'000, quic::kMaxHashCertValidity));
}

TEST(CertMint, SpkiHashIsTheHashOfTheSubjectPublicKeyInfo) {
  auto pem = quic::mint_hash_certificate("localhost", 1'800'000'000, 24 * 3600 * 2);
  ASSERT_TRUE(pem);
  auto spki = quic::spki_sha256(pem->cert_pem);
  ASSERT_TRUE(spki);
  // Independently: export the public key as DER SubjectPublicKeyInfo and hash it.
  Crt crt(pem->cert_pem);
  gnutls_pubkey_t pub = nullptr;
  ASSERT_GE(gnutls_pubkey_init(&pub), 0);
  ASSERT_GE(gnutls_pubkey_import_x509(pub, crt.c, 0), 0);
  gnutls_datum_t der{};
  ASSERT_GE(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der), 0);
  std::array<uint8_t, 32> want{};
  ASSERT_GE(gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, want.data()), 0);
  gnutls_free(der.data);
  gnutls_pubkey_deinit(pub);
  EXPECT_EQ(*spki, want);
  EXPECT_FALSE(quic::spki_sha256("not a certificate"));
}

}  // namespace

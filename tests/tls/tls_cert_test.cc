// Server certificate verification on the client: CA chains, pinning, insecure mode, and the
// large chain that makes the server's first flight exceed the anti-amplification limit.
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include <cstdio>
#include <fstream>

#include "tls_test_util.h"

namespace quic::test {
namespace {

const std::vector<uint8_t> kTp = {0x0e, 0x01, 0x04};

Exchange run(const TlsConfig& cc, const TlsConfig& sc,
             std::unique_ptr<TlsSession>* client_out = nullptr) {
  auto c = session(context(cc), kTp);
  auto s = session(context(sc), kTp);
  Exchange r = handshake(*c, *s);
  if (client_out) *client_out = std::move(c);
  return r;
}

std::array<uint8_t, 32> leaf_sha256(const std::string& pem) {
  gnutls_x509_crt_t crt = nullptr;
  gnutls_x509_crt_init(&crt);
  gnutls_datum_t in{reinterpret_cast<unsigned char*>(const_cast<char*>(pem.data())),
                    static_cast<unsigned>(pem.size())};
  EXPECT_GE(gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM), 0);  // first = leaf
  gnutls_datum_t der{};
  EXPECT_GE(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
  std::array<uint8_t, 32> out{};
  gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, out.data());
  gnutls_free(der.data);
  gnutls_x509_crt_deinit(crt);
  return out;
}

TEST(TlsCert, SelfSignedCertificateVerifiesAgainstItselfAsCa) {
  Exchange r = run(client_config(), server_config());
  EXPECT_TRUE(r.ok()) << (r.client ? "" : r.client.error().reason);
}

TEST(TlsCert, CaFileOnDiskIsUsedForVerification) {
  std::string path = ::testing::TempDir() + "tquic_ca_test.pem";
  std::ofstream(path) << localhost_cert().ca_pem;
  auto cc = client_config();
  cc.ca_pem.clear();
  cc.ca_file = path;
  EXPECT_TRUE(run(cc, server_config()).ok());
  std::remove(path.c_str());
}

TEST(TlsCert, WrongCaFailsWithBadCertificate0x12a) {
  auto other = make_self_signed("localhost");
  ASSERT_TRUE(other);
  Exchange r = run(client_config(*other), server_config());
  ASSERT_FALSE(r.client);
  // GnuTLS maps GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR to bad_certificate (42), not unknown_ca.
  EXPECT_EQ(r.client.error().code, 0x12au) << r.client.error().reason;
  EXPECT_NE(r.client.error().reason.find("NOT trusted"), std::string::npos)
      << r.client.error().reason;
}

TEST(TlsCert, WrongServerNameFailsVerification) {
  auto cc = client_config();
  cc.server_name = "example.com";
  Exchange r = run(cc, server_config());
  ASSERT_FALSE(r.client);
  EXPECT_EQ(r.client.error().code, 0x12au);
}

TEST(TlsCert, PinnedLeafHashIsAccepted) {
  auto cc = client_config();
  cc.ca_pem.clear();  // pinning replaces chain verification
  cc.pinned_sha256 = leaf_sha256(localhost_cert().cert_pem);
  EXPECT_TRUE(run(cc, server_config()).ok());
}

TEST(TlsCert, PinnedHashOfAnotherCertificateIsRejected) {
  auto other = make_self_signed("localhost");
  ASSERT_TRUE(other);
  auto cc = client_config();
  cc.pinned_sha256 = leaf_sha256(other->cert_pem);
  Exchange r = run(cc, server_config());
  ASSERT_FALSE(r.client);
  EXPECT_EQ(r.client.error().code, 0x12au);
}

TEST(TlsCert, InsecureModeAcceptsAnUntrustedCertificate) {
  auto cc = client_config();
  cc.ca_pem.clear();
  cc.server_name = "not-the-cert-name.example";
  cc.insecure_skip_verify = true;
  EXPECT_TRUE(run(cc, server_config()).ok());
}

TEST(TlsCert, NineCertificateChainVerifiesAndMakesALargeFirstFlight) {
  auto chain = make_cert_chain("localhost", 9);
  ASSERT_TRUE(chain) << chain.error().reason;
  Exchange r = run(client_config(*chain), server_config(*chain));
  ASSERT_TRUE(r.ok()) << (r.client ? r.server.error().reason : r.client.error().reason);
  size_t server_flight = 0;
  for (const auto& o : r.server_sent) server_flight += o.data.size();
  // RFC 9000 §8.1: more than three times a 1200-byte client Initial, so an unvalidated server
  // must stop and wait (the amplification-limit scenario).
  EXPECT_GT(server_flight, 3u * 1200u);
  // One Certificate message carries all nine certificates.
  for (const auto& o : r.server_sent) {
    if (o.level == EncryptionLevel::kHandshake) {
      EXPECT_EQ(message_types(o.data), (std::vector<uint8_t>{8, 11, 15, 20}));
    }
  }
}

TEST(TlsCert, ChainWithoutItsRootIsNotTrusted) {
  auto chain = make_cert_chain("localhost", 3);
  ASSERT_TRUE(chain);
  auto other = make_cert_chain("localhost", 3);
  ASSERT_TRUE(other);
  Exchange r = run(client_config(*other), server_config(*chain));
  ASSERT_FALSE(r.client);
  EXPECT_EQ(r.client.error().code, 0x12au);
}

TEST(TlsCert, ChainLengthOutsideLimitsIsRefused) {
  EXPECT_FALSE(make_cert_chain("localhost", 0));
  EXPECT_FALSE(make_cert_chain("localhost", kMaxTestChainLength + 1));
  EXPECT_FALSE(make_cert_chain("", 1));
}

}  // namespace
}  // namespace quic::test

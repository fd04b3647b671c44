// Server certificate verification on the client: CA chains, pinning, insecure mode, and the
// large chain that makes the server's first flight exceed the anti-amplification limit.
#include <cstdio>
#include <fstream>

#include "tls_test_util.h"

namespace quic::test {
namespace {

Exchange run_handshake(const TlsConfig& cc, const TlsConfig& sc,
                       std::unique_ptr<TlsSession>* client_out = nullptr) {
  auto c = session(context(cc), kTp);
  auto s = session(context(sc), kTp);
  Exchange r = handshake(*c, *s);
  if (client_out) *client_out = std::move(c);
  return r;
}

TEST(TlsCert, SelfSignedCertificateVerifiesAgainstItselfAsCa) {
  Exchange r = run_handshake(client_config(), server_config());
  EXPECT_TRUE(r.ok()) << (r.client ? "" : r.client.error().reason);
}

TEST(TlsCert, CaFileOnDiskIsUsedForVerification) {
  std::string path = ::testing::TempDir() + "tquic_ca_test.pem";
  std::ofstream(path) << localhost_cert().ca_pem;
  auto cc = client_config();
  cc.ca_pem.clear();
  cc.ca_file = path;
  EXPECT_TRUE(run_handshake(cc, server_config()).ok());
  std::remove(path.c_str());
}

TEST(TlsCert, WrongSelfSignedCertificateFailsWithBadCertificate0x12a) {
  auto other = make_self_signed("localhost");
  ASSERT_TRUE(other);
  Exchange r = run_handshake(client_config(*other), server_config());
  ASSERT_FALSE(r.client);
  // Same subject as the trusted one: GnuTLS finds the anchor by name and the signature fails.
  EXPECT_EQ(r.client.error().code, 0x12au) << r.client.error().reason;
  EXPECT_NE(r.client.error().reason.find("NOT trusted"), std::string::npos)
      << r.client.error().reason;
}

TEST(TlsCert, WrongServerNameFailsVerification) {
  auto cc = client_config();
  cc.server_name = "example.com";
  Exchange r = run_handshake(cc, server_config());
  ASSERT_FALSE(r.client);
  EXPECT_EQ(r.client.error().code, 0x12au);
}

TEST(TlsCert, PinnedLeafHashIsAccepted) {
  auto cc = client_config();
  cc.ca_pem.clear();  // pinning replaces chain verification
  cc.pinned_sha256 = leaf_sha256(localhost_cert().cert_pem);
  EXPECT_TRUE(run_handshake(cc, server_config()).ok());
}

TEST(TlsCert, PinnedHashOfAnotherCertificateIsRejected) {
  auto other = make_self_signed("localhost");
  ASSERT_TRUE(other);
  auto cc = client_config();
  cc.pinned_sha256 = leaf_sha256(other->cert_pem);
  Exchange r = run_handshake(cc, server_config());
  ASSERT_FALSE(r.client);
  EXPECT_EQ(r.client.error().code, 0x12au);
}

TEST(TlsCert, InsecureModeAcceptsAnUntrustedCertificate) {
  auto cc = client_config();
  cc.ca_pem.clear();
  cc.server_name = "not-the-cert-name.example";
  cc.insecure_skip_verify = true;
  EXPECT_TRUE(run_handshake(cc, server_config()).ok());
}

TEST(TlsCert, NineCertificateChainVerifiesAndMakesALargeFirstFlight) {
  auto chain = make_cert_chain("localhost", 9);
  ASSERT_TRUE(chain) << chain.error().reason;
  Exchange r = run_handshake(client_config(*chain), server_config(*chain));
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
  Exchange r = run_handshake(client_config(*other), server_config(*chain));
  ASSERT_FALSE(r.client);
  EXPECT_EQ(r.client.error().code, 0x130u);  // unknown_ca
}

TEST(TlsCert, ChainLengthOutsideLimitsIsRefused) {
  EXPECT_FALSE(make_cert_chain("localhost", 0));
  EXPECT_FALSE(make_cert_chain("localhost", kMaxTestChainLength + 1));
  EXPECT_FALSE(make_cert_chain("", 1));
}

}  // namespace
}  // namespace quic::test

// Client certificates end to end: two Connections over the in-process harness (tests/core
// hostile fixture: real TLS, null packet protection). What the application sees: the peer's
// certificate fingerprint on both Connections, and the CONNECTION_CLOSE code a refused client
// receives (CRYPTO_ERROR 0x100 + alert, RFC 9001 §4.8).
#include "core/hostile_fixture.h"
#include "tls_test_util.h"

namespace quic::test {
namespace {

struct Certs {
  PemCertKey server = *make_self_signed("localhost");
  PemCertKey alice = make_client("alice");

  static PemCertKey make_client(const std::string& name) {
    TestCertOptions o;
    o.name = name;
    o.client = true;
    o.chain_length = 2;
    return *make_test_cert(o);
  }
};

hostile::PairOptions options(const Certs& certs, const PemCertKey* client_cert) {
  TlsConfig s = server_config(certs.server);
  s.alpn = {"hq-interop"};
  s.client_auth = ClientAuth::kRequire;
  s.ca_pem = certs.alice.ca_pem;
  TlsConfig c = client_config(certs.server);
  c.alpn = {"hq-interop"};
  if (client_cert) {
    c.cert_pem = client_cert->cert_pem;
    c.key_pem = client_cert->key_pem;
  }
  hostile::PairOptions o;
  o.server_tls = context(s);
  o.client_tls = context(c);
  return o;
}

TEST(ClientAuthE2e, BothConnectionsExposeThePeerFingerprint) {
  Certs certs;
  hostile::Pair p(options(certs, &certs.alice));
  ASSERT_TRUE(p.handshake());
  ASSERT_NE(p.server(), nullptr);
  EXPECT_EQ(p.server()->peer_certificate_sha256(), leaf_sha256(certs.alice.cert_pem));
  EXPECT_EQ(p.server()->peer_certificate_subject(), "CN=alice");
  EXPECT_EQ(p.client().peer_certificate_sha256(), leaf_sha256(certs.server.cert_pem));
  EXPECT_FALSE(p.client().close_error());
}

TEST(ClientAuthE2e, MissingRequiredCertificateClosesWithCertificateRequired) {
  Certs certs;
  hostile::Pair p(options(certs, nullptr));
  p.run();
  const auto& err = p.client().close_error();
  ASSERT_TRUE(err);
  EXPECT_TRUE(p.client().closed_by_peer());
  EXPECT_EQ(err->code, 0x100u + 116) << err->reason;  // certificate_required
}

TEST(ClientAuthE2e, UntrustedCertificateClosesWithUnknownCa) {
  Certs certs;
  const PemCertKey mallory = Certs::make_client("alice");  // same name, another CA
  hostile::Pair p(options(certs, &mallory));
  p.run();
  const auto& err = p.client().close_error();
  ASSERT_TRUE(err);
  EXPECT_TRUE(p.client().closed_by_peer());
  EXPECT_EQ(err->code, 0x100u + 48) << err->reason;  // unknown_ca
}

}  // namespace
}  // namespace quic::test

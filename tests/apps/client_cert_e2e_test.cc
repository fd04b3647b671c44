// Client certificates through the tools, as real processes over loopback: `tquic serve
// --client-ca` and `tquic get --client-cert/--client-key`. The server's per-connection line
// names the client certificate's SHA-256; a client without one is refused.
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>

#include "support/child_process.h"
#include "tls/test_certs.h"

namespace {

using namespace test_support;

std::string leaf_sha256_hex(const std::string& pem) {
  gnutls_x509_crt_t crt = nullptr;
  gnutls_x509_crt_init(&crt);
  gnutls_datum_t in{reinterpret_cast<unsigned char*>(const_cast<char*>(pem.data())),
                    static_cast<unsigned>(pem.size())};
  uint8_t digest[32];
  size_t len = sizeof(digest);
  EXPECT_GE(gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM), 0);
  EXPECT_GE(gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, digest, &len), 0);
  gnutls_x509_crt_deinit(crt);
  std::string hex;
  for (uint8_t b : digest) {
    hex += "0123456789abcdef"[b >> 4];
    hex += "0123456789abcdef"[b & 15];
  }
  return hex;
}

TEST(ClientCertTools, ServeRequiresAndLogsTheClientCertificate) {
  char tmpl[] = "/tmp/tquic_clientcert_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  quic::TestCertOptions o;
  o.name = "alice";
  o.client = true;
  o.chain_length = 2;
  auto alice = quic::make_test_cert(o);
  ASSERT_TRUE(alice);
  std::ofstream(dir + "/alice.pem") << alice->cert_pem;
  std::ofstream(dir + "/alice.key") << alice->key_pem;
  std::ofstream(dir + "/ca.pem") << alice->ca_pem;
  std::ofstream(dir + "/hello.txt") << "hello, alice\n";

  // stderr (where the per-connection line goes) joins stdout, which the Daemon reads.
  Server server;
  ASSERT_TRUE(
      server.start_server({"/bin/sh", "-c",
                           std::string("exec ") + TQUIC_BINARY + " serve " + dir +
                               " --listen 127.0.0.1:0 --client-ca " + dir + "/ca.pem 2>&1"}))
      << server.log;
  const std::string url = "https://127.0.0.1:" + server.port() + "/hello.txt";
  const std::vector<std::string> get{TQUIC_BINARY, "get", "--pin", server.sha256};

  std::vector<std::string> with_cert = get;
  with_cert.insert(with_cert.end(),
                   {"--client-cert", dir + "/alice.pem", "--client-key", dir + "/alice.key", url});
  Outcome ok = run(with_cert, std::chrono::seconds(30));
  EXPECT_EQ(ok.rc, 0);
  EXPECT_EQ(ok.out, "hello, alice\n");
  std::vector<std::string> without_cert = get;
  without_cert.push_back(url);
  Outcome refused = run(without_cert, std::chrono::seconds(30), /*merge_stderr=*/true);
  EXPECT_EQ(refused.rc, 1);
  // 0x100 + 116, named (RFC 8446 §6).
  EXPECT_NE(refused.out.find("CRYPTO_ERROR 0x174 (certificate_required)"), std::string::npos)
      << refused.out;

  // Half a client certificate is a usage error (exit 2), caught before any connection.
  std::vector<std::string> half = get;
  half.insert(half.end(), {"--client-cert", dir + "/alice.pem", url});
  EXPECT_EQ(run(half, std::chrono::seconds(30)).rc, 2);

  // A connection's line appears when it is reaped, at the latest when the server stops.
  server.stop();
  EXPECT_NE(server.log.find("client_cert=" + leaf_sha256_hex(alice->cert_pem) + "\n"),
            std::string::npos)
      << server.log;
  EXPECT_NE(server.log.find("client_cert=none\n"), std::string::npos) << server.log;
  (void)std::system(("rm -rf " + dir).c_str());
}

// `tquic client` names the TLS alert of a CRYPTO_ERROR close, not just "CRYPTO_ERROR".
TEST(ClientCertTools, HqClientNamesTheAlertOfARefusal) {
  char tmpl[] = "/tmp/tquic_clientcert_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  quic::TestCertOptions o;
  o.name = "bob";
  o.client = true;
  auto bob = quic::make_test_cert(o);
  ASSERT_TRUE(bob);
  std::ofstream(dir + "/ca.pem") << bob->ca_pem;
  std::ofstream(dir + "/hello.txt") << "hello\n";
  Server server;
  ASSERT_TRUE(server.start_server({TQUIC_BINARY, "server", "--listen", "127.0.0.1:0", "--root",
                                   dir, "--client-ca", dir + "/ca.pem"}))
      << server.log;
  Outcome refused = run({TQUIC_BINARY, "client", "--pin", server.sha256,
                         "https://127.0.0.1:" + server.port() + "/hello.txt"},
                        std::chrono::seconds(30), /*merge_stderr=*/true);
  EXPECT_EQ(refused.rc, 1);
  EXPECT_NE(refused.out.find("CRYPTO_ERROR 0x174 (certificate_required)"), std::string::npos)
      << refused.out;
  server.stop();
  (void)std::system(("rm -rf " + dir).c_str());
}

}  // namespace

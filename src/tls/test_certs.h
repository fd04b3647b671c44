// Test and demo certificates generated in memory with GnuTLS (never for production use).
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "tls/tls_config.h"

namespace quic {

struct PemCertKey {
  std::string cert_pem;  // leaf first, then intermediates and root (what a server sends)
  std::string key_pem;   // the leaf's private key
  std::string ca_pem;    // the trust anchor a client needs
};

// What make_test_cert builds: a chain of `chain_length` ECDSA P-256 certificates, root CA ->
// intermediates -> leaf (chain_length 1: a self-signed end-entity certificate, its own anchor).
struct TestCertOptions {
  std::string name = "localhost";  // leaf CN; a server leaf also gets it as SAN dNSName
  bool client = false;             // leaf purpose clientAuth (else serverAuth)
  int chain_length = 1;
  // Validity of every certificate. The default never depends on a clock: from the epoch to
  // "no well-defined expiration" (RFC 5280 §4.1.2.5), so virtual-time simulations verify too.
  time_t not_before = 0;
  time_t not_after = static_cast<time_t>(-1);
};
Result<PemCertKey> make_test_cert(const TestCertOptions& o);

// A self-signed ECDSA P-256 certificate for `host` (SAN dNSName); it is its own trust anchor.
Result<PemCertKey> make_self_signed(const std::string& host);

// A chain of `chain_length` ECDSA P-256 certificates: root CA -> intermediates -> leaf for
// `host`. cert_pem holds the whole chain leaf first (root last), ca_pem the root alone.
// chain_length 1 is the self-signed case. Used to make the server's first flight large.
inline constexpr int kMaxTestChainLength = 16;
Result<PemCertKey> make_cert_chain(const std::string& host, int chain_length);

// A server context presenting a fresh self-signed certificate for "localhost" and a client
// context trusting it, both offering `alpn`: the simulator scenarios and fuzz drivers.
struct TestTlsPair {
  std::shared_ptr<const TlsContext> server, client;
};
Result<TestTlsPair> make_test_tls_pair(const std::vector<std::string>& alpn);

}  // namespace quic

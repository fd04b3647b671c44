// In-memory client/server driver for TlsSession tests: handshake bytes leaving one side at a
// level are fed to the other side at the same level, as a connection would after reassembly.
#pragma once

#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tls/test_certs.h"
#include "tls/tls_session.h"

namespace quic::test {

// Transport parameters of both sides where their content does not matter:
// active_connection_id_limit = 4.
inline const std::vector<uint8_t> kTp = {0x0e, 0x01, 0x04};

inline const PemCertKey& localhost_cert() {
  static PemCertKey pem = *make_self_signed("localhost");
  return pem;
}

inline TlsConfig server_config(const PemCertKey& pem = localhost_cert()) {
  TlsConfig c;
  c.server = true;
  c.alpn = {"h3"};
  c.cert_pem = pem.cert_pem;
  c.key_pem = pem.key_pem;
  return c;
}

inline TlsConfig client_config(const PemCertKey& pem = localhost_cert()) {
  TlsConfig c;
  c.alpn = {"h3"};
  c.ca_pem = pem.ca_pem;
  c.server_name = "localhost";
  return c;
}

// SHA-256 of the DER encoding of the first certificate in `pem` (the leaf).
inline std::array<uint8_t, 32> leaf_sha256(const std::string& pem) {
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

inline TlsConfig with_clock(TlsConfig c, TlsClock clock) {
  c.clock = std::move(clock);
  return c;
}

inline std::shared_ptr<const TlsContext> context(const TlsConfig& c) {
  auto ctx = make_tls_context(c);
  EXPECT_TRUE(ctx.has_value()) << (ctx ? "" : ctx.error().reason);
  return ctx ? *ctx : nullptr;
}

inline std::unique_ptr<TlsSession> session(std::shared_ptr<const TlsContext> ctx,
                                           std::vector<uint8_t> tp) {
  auto s = TlsSession::create(std::move(ctx));
  EXPECT_TRUE(s.has_value());
  if (!s) return nullptr;
  if (!tp.empty()) (*s)->set_local_transport_params(std::move(tp));
  return std::move(*s);
}

struct Exchange {
  Status client = {};
  Status server = {};
  std::vector<TlsSession::SecretEvent> client_secrets, server_secrets;
  std::vector<TlsSession::Output> client_sent, server_sent;
  bool ok() const { return client.has_value() && server.has_value(); }
};

inline void collect(TlsSession& s, std::vector<TlsSession::SecretEvent>& secrets,
                    std::vector<TlsSession::Output>* sent, std::vector<TlsSession::Output>& out) {
  for (auto& e : s.take_secrets()) secrets.push_back(e);
  out = s.take_handshake_data();
  if (sent) sent->insert(sent->end(), out.begin(), out.end());
}

// Moves bytes both ways until neither side has anything to send or one side fails.
inline void pump(TlsSession& c, TlsSession& s, Exchange& r) {
  for (int round = 0; round < 16; ++round) {
    std::vector<TlsSession::Output> from_client, from_server;
    collect(c, r.client_secrets, &r.client_sent, from_client);
    for (auto& o : from_client) {
      r.server = s.provide_data(o.level, o.data);
      if (!r.server) return;
    }
    collect(s, r.server_secrets, &r.server_sent, from_server);
    for (auto& o : from_server) {
      r.client = c.provide_data(o.level, o.data);
      if (!r.client) return;
    }
    if (from_client.empty() && from_server.empty()) return;
  }
}

inline Exchange handshake(TlsSession& c, TlsSession& s) {
  Exchange r;
  r.client = c.start();
  if (!r.client) return r;
  pump(c, s, r);
  return r;
}

// The secret a side installed at `level` for writing (`write`) or reading; null when none.
inline const TlsSession::SecretEvent* find(const std::vector<TlsSession::SecretEvent>& v,
                                           EncryptionLevel level, bool write) {
  for (const auto& e : v) {
    if (e.level == level && e.write == write) return &e;
  }
  return nullptr;
}

// Handshake message types in a CRYPTO stream (4-byte headers: type, uint24 length).
inline std::vector<uint8_t> message_types(const std::vector<uint8_t>& stream) {
  std::vector<uint8_t> types;
  size_t pos = 0;
  while (pos + 4 <= stream.size()) {
    size_t len = (size_t{stream[pos + 1]} << 16) | (size_t{stream[pos + 2]} << 8) | stream[pos + 3];
    types.push_back(stream[pos]);
    pos += 4 + len;
  }
  return types;
}

inline std::vector<uint8_t> message_types(const std::vector<TlsSession::Output>& outs) {
  std::vector<uint8_t> all;
  for (const auto& o : outs) {
    auto t = message_types(o.data);
    all.insert(all.end(), t.begin(), t.end());
  }
  return all;
}

}  // namespace quic::test

// TlsSession handshake, key schedule hand-off, transport parameters, ALPN and error mapping
// (RFC 9001 §4, §8).
#include <fstream>
#include <sstream>

#include "tls_test_util.h"

namespace quic::test {
namespace {

const std::vector<uint8_t> kSessionClientTp = {0x04, 0x02, 0x40, 0x00, 0x0f, 0x01, 0x07};
const std::vector<uint8_t> kSessionServerTp = {0x03, 0x02, 0x45, 0xc0, 0x0e, 0x01, 0x04};

struct Pair {
  std::unique_ptr<TlsSession> client, server;
};

Pair make_pair(const TlsConfig& cc, const TlsConfig& sc,
               std::vector<uint8_t> ctp = kSessionClientTp,
               std::vector<uint8_t> stp = kSessionServerTp) {
  return {session(context(cc), std::move(ctp)), session(context(sc), std::move(stp))};
}

std::vector<uint8_t> bytes_of(const TlsSecret& s) {
  return std::vector<uint8_t>(s.bytes.begin(), s.bytes.begin() + s.len);
}

TEST(TlsSession, HandshakeCompletesOnBothSides) {
  auto p = make_pair(client_config(), server_config());
  Exchange r = handshake(*p.client, *p.server);
  ASSERT_TRUE(r.ok()) << (r.client ? r.server.error().reason : r.client.error().reason);
  EXPECT_TRUE(p.client->handshake_complete());
  EXPECT_TRUE(p.server->handshake_complete());
  EXPECT_FALSE(p.client->resumed());
  EXPECT_EQ(p.client->alpn(), "h3");
  EXPECT_EQ(p.server->alpn(), "h3");
}

TEST(TlsSession, EachWriteSecretEqualsThePeersReadSecret) {
  auto p = make_pair(client_config(), server_config());
  Exchange r = handshake(*p.client, *p.server);
  ASSERT_TRUE(r.ok());
  for (auto level : {EncryptionLevel::kHandshake, EncryptionLevel::kApplication}) {
    for (bool client_writes : {true, false}) {
      auto* w = find(client_writes ? r.client_secrets : r.server_secrets, level, true);
      auto* rd = find(client_writes ? r.server_secrets : r.client_secrets, level, false);
      ASSERT_NE(w, nullptr);
      ASSERT_NE(rd, nullptr);
      EXPECT_EQ(w->secret.len, 32);  // TLS_AES_128_GCM_SHA256 → SHA-256
      EXPECT_EQ(bytes_of(w->secret), bytes_of(rd->secret));
      EXPECT_EQ(w->cipher, TlsCipher::kAes128Gcm);
      EXPECT_EQ(rd->cipher, TlsCipher::kAes128Gcm);
    }
  }
  // Client and server secrets differ from each other.
  EXPECT_NE(bytes_of(find(r.client_secrets, EncryptionLevel::kHandshake, true)->secret),
            bytes_of(find(r.client_secrets, EncryptionLevel::kHandshake, false)->secret));
  EXPECT_EQ(find(r.client_secrets, EncryptionLevel::kEarly, true), nullptr);
}

TEST(TlsSession, HandshakeBytesLeaveAtTheRightLevels) {
  auto p = make_pair(client_config(), server_config());
  Exchange r = handshake(*p.client, *p.server);
  ASSERT_TRUE(r.ok());
  ASSERT_GE(r.server_sent.size(), 2u);
  EXPECT_EQ(r.server_sent[0].level, EncryptionLevel::kInitial);
  EXPECT_EQ(message_types(r.server_sent[0].data), std::vector<uint8_t>{2});  // ServerHello
  EXPECT_EQ(r.server_sent[1].level, EncryptionLevel::kHandshake);
  // EncryptedExtensions, Certificate, CertificateVerify, Finished.
  EXPECT_EQ(message_types(r.server_sent[1].data), (std::vector<uint8_t>{8, 11, 15, 20}));
  ASSERT_EQ(r.client_sent.size(), 2u);
  EXPECT_EQ(r.client_sent[0].level, EncryptionLevel::kInitial);
  EXPECT_EQ(message_types(r.client_sent[0].data), std::vector<uint8_t>{1});
  // No ChangeCipherSpec / compat-mode session id (RFC 9001 §8.4): legacy_session_id is empty.
  EXPECT_EQ(r.client_sent[0].data[4 + 2 + 32], 0);
  EXPECT_EQ(r.client_sent[1].level, EncryptionLevel::kHandshake);
  EXPECT_EQ(message_types(r.client_sent[1].data), std::vector<uint8_t>{20});
}

TEST(TlsSession, ServerHasItsOneRttWriteKeyAfterTheFirstFlight) {
  // RFC 9001 §4.1.4: the server may send 0.5-RTT data once its Finished is out.
  auto p = make_pair(client_config(), server_config());
  ASSERT_TRUE(p.client->start());
  auto hello = p.client->take_handshake_data();
  ASSERT_EQ(hello.size(), 1u);
  ASSERT_TRUE(p.server->provide_data(hello[0].level, hello[0].data));
  auto secrets = p.server->take_secrets();
  EXPECT_NE(find(secrets, EncryptionLevel::kHandshake, false), nullptr);
  EXPECT_NE(find(secrets, EncryptionLevel::kHandshake, true), nullptr);
  EXPECT_NE(find(secrets, EncryptionLevel::kApplication, true), nullptr);
  EXPECT_EQ(find(secrets, EncryptionLevel::kApplication, false), nullptr);  // after client Finished
  EXPECT_FALSE(p.server->handshake_complete());
  EXPECT_TRUE(p.server->peer_transport_params());
}

TEST(TlsSession, TransportParametersArriveBothWays) {
  auto p = make_pair(client_config(), server_config());
  ASSERT_TRUE(handshake(*p.client, *p.server).ok());
  auto at_server = p.server->peer_transport_params();
  auto at_client = p.client->peer_transport_params();
  ASSERT_TRUE(at_server && at_client);
  EXPECT_EQ(std::vector<uint8_t>(at_server->begin(), at_server->end()), kSessionClientTp);
  EXPECT_EQ(std::vector<uint8_t>(at_client->begin(), at_client->end()), kSessionServerTp);
}

TEST(TlsSession, ServerPicksAlpnByItsOwnPreference) {
  auto cc = client_config();
  cc.alpn = {"hq-interop", "h3"};
  auto sc = server_config();
  sc.alpn = {"h3", "hq-interop"};
  auto p = make_pair(cc, sc);
  ASSERT_TRUE(handshake(*p.client, *p.server).ok());
  EXPECT_EQ(p.client->alpn(), "h3");
}

TEST(TlsSession, AlpnMismatchFailsWithNoApplicationProtocol0x178) {
  auto sc = server_config();
  sc.alpn = {"hq-interop"};
  auto p = make_pair(client_config(), sc);
  Exchange r = handshake(*p.client, *p.server);
  ASSERT_FALSE(r.server);
  EXPECT_EQ(r.server.error().code, 0x178u);
}

TEST(TlsSession, MissingClientTransportParametersFailsWith0x16d) {
  auto p = make_pair(client_config(), server_config(), /*ctp=*/{});
  Exchange r = handshake(*p.client, *p.server);
  ASSERT_FALSE(r.server);
  EXPECT_EQ(r.server.error().code, 0x16du);
}

TEST(TlsSession, MissingServerTransportParametersFailsWith0x16d) {
  auto p = make_pair(client_config(), server_config(), kSessionClientTp, /*stp=*/{});
  Exchange r = handshake(*p.client, *p.server);
  ASSERT_TRUE(r.server);
  ASSERT_FALSE(r.client);
  EXPECT_EQ(r.client.error().code, 0x16du);
}

TEST(TlsSession, OversizedPeerTransportParametersGiveTransportParameterError) {
  std::vector<uint8_t> big(kMaxPeerTransportParamsBytes + 1, 0x41);
  auto p = make_pair(client_config(), server_config(), big);
  Exchange r = handshake(*p.client, *p.server);
  ASSERT_FALSE(r.server);
  EXPECT_EQ(r.server.error().code, err::kTransportParameterError);
  // Exactly at the limit is accepted.
  std::vector<uint8_t> max(kMaxPeerTransportParamsBytes, 0x41);
  auto q = make_pair(client_config(), server_config(), max);
  EXPECT_TRUE(handshake(*q.client, *q.server).ok());
}

TEST(TlsSession, ChaCha20OnlyNegotiatesChaCha20Poly1305) {
  auto cc = client_config();
  cc.chacha20_only = true;
  auto p = make_pair(cc, server_config());
  Exchange r = handshake(*p.client, *p.server);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r.client_secrets.empty());
  for (const auto& e : r.client_secrets) EXPECT_EQ(e.cipher, TlsCipher::kChaCha20Poly1305);
  for (const auto& e : r.server_secrets) EXPECT_EQ(e.cipher, TlsCipher::kChaCha20Poly1305);
}

TEST(TlsSession, KeylogFileGetsNssLinesMatchingTheSecrets) {
  std::string path = ::testing::TempDir() + "tquic_keylog_test.txt";
  std::remove(path.c_str());
  auto cc = client_config();
  cc.keylog_file = path;
  auto p = make_pair(cc, server_config());
  Exchange r = handshake(*p.client, *p.server);
  ASSERT_TRUE(r.ok());
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string log = ss.str();
  auto* hs = find(r.client_secrets, EncryptionLevel::kHandshake, true);
  ASSERT_NE(hs, nullptr);
  std::string hex;
  for (uint8_t b : bytes_of(hs->secret)) {
    char buf[3];
    std::snprintf(buf, sizeof(buf), "%02x", b);
    hex += buf;
  }
  auto pos = log.find("CLIENT_HANDSHAKE_TRAFFIC_SECRET ");
  ASSERT_NE(pos, std::string::npos) << log;
  std::string line = log.substr(pos, log.find('\n', pos) - pos);
  // Label, 32-byte client random (64 hex), then the secret.
  EXPECT_EQ(line.size(), std::string("CLIENT_HANDSHAKE_TRAFFIC_SECRET ").size() + 64 + 1 + 64);
  EXPECT_EQ(line.substr(line.size() - 64), hex);
  EXPECT_NE(log.find("SERVER_HANDSHAKE_TRAFFIC_SECRET "), std::string::npos);
  EXPECT_NE(log.find("CLIENT_TRAFFIC_SECRET_0 "), std::string::npos);
  EXPECT_NE(log.find("SERVER_TRAFFIC_SECRET_0 "), std::string::npos);
  std::remove(path.c_str());
}

TEST(TlsSession, TlsKeyUpdateIsRefusedWithUnexpectedMessage0x10a) {
  auto p = make_pair(client_config(), server_config());
  ASSERT_TRUE(handshake(*p.client, *p.server).ok());
  const std::vector<uint8_t> key_update = {24, 0, 0, 1, 0};  // update_not_requested
  auto st = p.client->provide_data(EncryptionLevel::kApplication, key_update);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, 0x10au);
  // Sticky: later input gets the same error.
  auto again = p.client->provide_data(EncryptionLevel::kApplication, key_update);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, 0x10au);
}

TEST(TlsSession, CryptoDataAtTheWrongLevelIsAProtocolViolation) {
  auto p = make_pair(client_config(), server_config());
  ASSERT_TRUE(p.client->start());
  // Before ServerHello the client reads Initial only.
  auto st = p.client->provide_data(EncryptionLevel::kHandshake, std::vector<uint8_t>{8, 0, 0, 0});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, err::kProtocolViolation);
  // CRYPTO frames never travel in 0-RTT packets (RFC 9000 §12.4).
  auto q = make_pair(client_config(), server_config());
  st = q.server->provide_data(EncryptionLevel::kEarly, std::vector<uint8_t>{1, 0, 0, 0});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, err::kProtocolViolation);
}

TEST(TlsSession, NewInitialDataAfterHandshakeKeysIsAProtocolViolation) {
  auto p = make_pair(client_config(), server_config());
  ASSERT_TRUE(handshake(*p.client, *p.server).ok());
  auto st = p.server->provide_data(EncryptionLevel::kInitial, std::vector<uint8_t>{1, 0, 0, 0});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, err::kProtocolViolation);
}

std::vector<uint8_t> client_hello_header(size_t len) {
  return {1, static_cast<uint8_t>(len >> 16), static_cast<uint8_t>(len >> 8),
          static_cast<uint8_t>(len)};
}

TEST(TlsSession, HandshakeMessageOverTheLimitIsRefusedFromItsHeader) {
  // GnuTLS alone would buffer an announced 16 MiB message; the header alone must fail.
  auto p = make_pair(client_config(), server_config());
  auto st = p.server->provide_data(EncryptionLevel::kInitial,
                                   client_hello_header(kMaxHandshakeMessageBytes + 1));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, err::kCryptoErrorBase + 50);  // decode_error
  // A header split across calls is still caught.
  auto q = make_pair(client_config(), server_config());
  auto hdr = client_hello_header(0xffffff);
  ASSERT_TRUE(q.server->provide_data(EncryptionLevel::kInitial, Bytes(hdr).first(2)));
  EXPECT_FALSE(q.server->provide_data(EncryptionLevel::kInitial, Bytes(hdr).subspan(2)));
  // Exactly at the limit is buffered (waiting for the body).
  auto r = make_pair(client_config(), server_config());
  EXPECT_TRUE(r.server->provide_data(EncryptionLevel::kInitial,
                                     client_hello_header(kMaxHandshakeMessageBytes)));
}

TEST(TlsSession, GarbageClientHelloGivesACryptoErrorNotACrash) {
  uint32_t x = 12345;
  for (int i = 0; i < 200; ++i) {
    auto server = session(context(server_config()), kSessionServerTp);
    std::vector<uint8_t> junk(4 + (i % 300));
    for (auto& b : junk) b = static_cast<uint8_t>((x = x * 1664525u + 1013904223u) >> 24);
    junk[0] = 1;  // ClientHello
    size_t body = junk.size() - 4;
    junk[1] = 0;
    junk[2] = static_cast<uint8_t>(body >> 8);
    junk[3] = static_cast<uint8_t>(body);
    auto st = server->provide_data(EncryptionLevel::kInitial, junk);
    ASSERT_FALSE(st);
    EXPECT_GE(st.error().code, err::kCryptoErrorBase);
    EXPECT_LT(st.error().code, err::kCryptoErrorBase + 0x100);
  }
}

TEST(TlsSession, NewSessionTicketWithWrongMaxEarlyDataIsAProtocolViolation) {
  auto p = make_pair(client_config(), server_config());
  ASSERT_TRUE(handshake(*p.client, *p.server).ok());
  // RFC 9001 §4.6.1: max_early_data_size other than 0xffffffff.
  std::vector<uint8_t> body = {0, 0, 0x0e, 0x10,                        // lifetime
                               1, 2, 3,    4,                           // age_add
                               1, 0,                                    // nonce
                               0, 2, 0xaa, 0xbb,                        // ticket
                               0, 8, 0,    42,   0, 4, 0, 0, 0x40, 0};  // early_data 16384
  std::vector<uint8_t> msg = {4, 0, 0, static_cast<uint8_t>(body.size())};
  msg.insert(msg.end(), body.begin(), body.end());
  auto st = p.client->provide_data(EncryptionLevel::kApplication, msg);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, err::kProtocolViolation);
}

TEST(TlsSession, ServerPacesTicketsOnlyAfterCompletion) {
  auto p = make_pair(client_config(), server_config());
  EXPECT_FALSE(p.server->send_session_ticket());
  EXPECT_FALSE(p.client->provide_data(EncryptionLevel::kInitial, std::vector<uint8_t>{1}));
}

TEST(TlsContext, ConfigErrorsNameTheReason) {
  TlsConfig c = server_config();
  c.alpn.clear();
  auto r = make_tls_context(c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().reason.find("ALPN"), std::string::npos);

  c = server_config();
  c.cert_pem.clear();
  c.key_pem.clear();
  c.cert_file = "/nonexistent/cert.pem";
  c.key_file = "/nonexistent/key.pem";
  r = make_tls_context(c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().reason.find("/nonexistent/cert.pem"), std::string::npos);

  c = server_config();
  c.key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  EXPECT_FALSE(make_tls_context(c));

  TlsConfig cl = client_config();
  cl.ca_pem.clear();
  cl.ca_file = "/nonexistent/ca.pem";
  r = make_tls_context(cl);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().reason.find("/nonexistent/ca.pem"), std::string::npos);

  cl = client_config();
  cl.alpn = {std::string(256, 'a')};
  EXPECT_FALSE(make_tls_context(cl));
}

}  // namespace
}  // namespace quic::test

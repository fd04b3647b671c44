// Client certificates (RFC 8446 §4.3.2, §4.4.2): a server requesting or requiring one, its
// verification against a CA or a pin, the alerts on refusal, the peer certificate identity on
// both sides; and the per-context clock deciding certificate validity.
#include <chrono>
#include <cstdio>
#include <fstream>

#include "tls_test_util.h"

namespace quic::test {
namespace {

// certificate_required (116), unknown_ca (48), bad_certificate (42), certificate_expired (45).
constexpr uint64_t kCertificateRequired = 0x100 + 116;
constexpr uint64_t kUnknownCa = 0x100 + 48;
constexpr uint64_t kBadCertificate = 0x100 + 42;
constexpr uint64_t kCertificateExpired = 0x100 + 45;

PemCertKey client_cert(const std::string& name = "alice", int chain_length = 2) {
  TestCertOptions o;
  o.name = name;
  o.client = true;
  o.chain_length = chain_length;
  auto pem = make_test_cert(o);
  EXPECT_TRUE(pem) << (pem ? "" : pem.error().reason);
  return pem ? *pem : PemCertKey{};
}

TlsConfig client_with_cert(const PemCertKey& pem) {
  TlsConfig c = client_config();
  c.cert_pem = pem.cert_pem;
  c.key_pem = pem.key_pem;
  return c;
}

TlsConfig server_requiring(const PemCertKey& trusted, ClientAuth auth = ClientAuth::kRequire) {
  TlsConfig s = server_config();
  s.client_auth = auth;
  s.ca_pem = trusted.ca_pem;
  return s;
}

struct Outcome {
  std::unique_ptr<TlsSession> client, server;
  Exchange r;
};

Outcome run(const TlsConfig& cc, const TlsConfig& sc) {
  Outcome out;
  out.client = session(context(cc), kTp);
  out.server = session(context(sc), kTp);
  out.r = handshake(*out.client, *out.server);
  return out;
}

// A full handshake, then the server's NewSessionTicket; the client's stored ticket (empty on
// failure).
std::vector<uint8_t> first_ticket(std::shared_ptr<const TlsContext> client,
                                  std::shared_ptr<const TlsContext> server) {
  auto c = session(std::move(client), kTp), s = session(std::move(server), kTp);
  if (!handshake(*c, *s).ok() || !s->send_session_ticket()) return {};
  for (auto& o : s->take_handshake_data()) {
    if (!c->provide_data(o.level, o.data)) return {};
  }
  return c->take_session_ticket();
}

std::string reason(const Exchange& r) {
  if (!r.client) return "client: " + r.client.error().reason;
  if (!r.server) return "server: " + r.server.error().reason;
  return {};
}

TEST(TlsClientAuth, RequiredCertificateIsVerifiedAndBothSidesSeeTheFingerprints) {
  const PemCertKey alice = client_cert();
  Outcome x = run(client_with_cert(alice), server_requiring(alice));
  ASSERT_TRUE(x.r.ok()) << reason(x.r);
  EXPECT_EQ(x.server->peer_certificate_sha256(), leaf_sha256(alice.cert_pem));
  EXPECT_EQ(x.server->peer_certificate_subject(), "CN=alice");
  EXPECT_EQ(x.client->peer_certificate_sha256(), leaf_sha256(localhost_cert().cert_pem));
  EXPECT_EQ(x.client->peer_certificate_subject(), "CN=localhost");
  // The client's Handshake flight carries Certificate, CertificateVerify, Finished.
  std::vector<TlsSession::Output> hs;
  for (const auto& o : x.r.client_sent) {
    if (o.level == EncryptionLevel::kHandshake) hs.push_back(o);
  }
  EXPECT_EQ(message_types(hs), (std::vector<uint8_t>{11, 15, 20}));
}

TEST(TlsClientAuth, RequiredButMissingFailsWithCertificateRequired) {
  const PemCertKey alice = client_cert();
  Outcome x = run(client_config(), server_requiring(alice));
  ASSERT_FALSE(x.r.server);
  EXPECT_EQ(x.r.server.error().code, kCertificateRequired) << x.r.server.error().reason;
  // The client finished its side; it learns of the refusal from the server's CONNECTION_CLOSE.
  EXPECT_TRUE(x.r.client);
  // An empty Certificate, then (nothing to sign) straight to Finished.
  std::vector<TlsSession::Output> hs;
  for (const auto& o : x.r.client_sent) {
    if (o.level == EncryptionLevel::kHandshake) hs.push_back(o);
  }
  EXPECT_EQ(message_types(hs), (std::vector<uint8_t>{11, 20}));
}

TEST(TlsClientAuth, RequestedAndMissingIsAcceptedWithoutAnIdentity) {
  const PemCertKey alice = client_cert();
  Outcome x = run(client_config(), server_requiring(alice, ClientAuth::kRequest));
  ASSERT_TRUE(x.r.ok()) << reason(x.r);
  EXPECT_FALSE(x.server->peer_certificate_sha256());
  EXPECT_EQ(x.server->peer_certificate_subject(), "");
}

TEST(TlsClientAuth, RequestedAndPresentedIsVerified) {
  const PemCertKey alice = client_cert();
  Outcome ok = run(client_with_cert(alice), server_requiring(alice, ClientAuth::kRequest));
  ASSERT_TRUE(ok.r.ok()) << reason(ok.r);
  EXPECT_EQ(ok.server->peer_certificate_sha256(), leaf_sha256(alice.cert_pem));
  // Optional does not mean unchecked: an untrusted certificate still fails.
  Outcome bad =
      run(client_with_cert(client_cert("mallory")), server_requiring(alice, ClientAuth::kRequest));
  ASSERT_FALSE(bad.r.server);
  EXPECT_EQ(bad.r.server.error().code, kUnknownCa) << bad.r.server.error().reason;
}

TEST(TlsClientAuth, UntrustedCertificateIsRefusedWithUnknownCa) {
  const PemCertKey alice = client_cert();
  const PemCertKey mallory = client_cert("mallory");  // same name, another CA
  Outcome x = run(client_with_cert(mallory), server_requiring(alice));
  ASSERT_FALSE(x.r.server);
  EXPECT_EQ(x.r.server.error().code, kUnknownCa) << x.r.server.error().reason;
  EXPECT_NE(x.r.server.error().reason.find("peer certificate"), std::string::npos);
}

TEST(TlsClientAuth, ServerPurposeCertificateCannotAuthenticateAClient) {
  TestCertOptions o;
  o.name = "alice";
  o.chain_length = 2;  // serverAuth leaf under the trusted CA
  auto server_purpose = make_test_cert(o);
  ASSERT_TRUE(server_purpose);
  Outcome x = run(client_with_cert(*server_purpose), server_requiring(*server_purpose));
  ASSERT_FALSE(x.r.server);
  EXPECT_EQ(x.r.server.error().code, kBadCertificate) << x.r.server.error().reason;
}

TEST(TlsClientAuth, NotRequestedCertificateIsNotSent) {
  Outcome x = run(client_with_cert(client_cert()), server_config());
  ASSERT_TRUE(x.r.ok()) << reason(x.r);
  EXPECT_FALSE(x.server->peer_certificate_sha256());
}

TEST(TlsClientAuth, PinnedClientCertificate) {
  const PemCertKey alice = client_cert();
  TlsConfig s = server_config();
  s.client_auth = ClientAuth::kRequire;
  s.pinned_sha256 = leaf_sha256(alice.cert_pem);  // pin alone: no CA needed
  EXPECT_TRUE(run(client_with_cert(alice), s).r.ok());
  Outcome other = run(client_with_cert(client_cert("bob")), s);
  ASSERT_FALSE(other.r.server);
  EXPECT_EQ(other.r.server.error().code, kBadCertificate);
  // CA and pin together: both must hold. Bob is trusted by the CA but not pinned.
  const PemCertKey bob = client_cert("bob");
  s.pinned_sha256 = leaf_sha256(alice.cert_pem);
  s.ca_pem = bob.ca_pem;
  Outcome both = run(client_with_cert(bob), s);
  ASSERT_FALSE(both.r.server);
  EXPECT_EQ(both.r.server.error().code, kBadCertificate);
  s.pinned_sha256 = leaf_sha256(bob.cert_pem);
  EXPECT_TRUE(run(client_with_cert(bob), s).r.ok());
}

TEST(TlsClientAuth, ClientCertificateAndServerCaFromFiles) {
  const PemCertKey alice = client_cert();
  const std::string dir = ::testing::TempDir();
  const std::string cert = dir + "tquic_client_cert.pem", key = dir + "tquic_client_key.pem",
                    ca = dir + "tquic_client_ca.pem";
  std::ofstream(cert) << alice.cert_pem;
  std::ofstream(key) << alice.key_pem;
  std::ofstream(ca) << alice.ca_pem;
  TlsConfig c = client_config();
  c.cert_file = cert;
  c.key_file = key;
  TlsConfig s = server_config();
  s.client_auth = ClientAuth::kRequire;
  s.ca_file = ca;
  Outcome x = run(c, s);
  EXPECT_TRUE(x.r.ok()) << reason(x.r);
  EXPECT_EQ(x.server->peer_certificate_sha256(), leaf_sha256(alice.cert_pem));
  // Half a client certificate is a configuration error.
  c.key_file.clear();
  EXPECT_FALSE(make_tls_context(c));
  for (const auto& f : {cert, key, ca}) std::remove(f.c_str());
}

TEST(TlsClientAuth, ServerRequiringCertificatesNeedsAnAnchor) {
  TlsConfig s = server_config();
  s.client_auth = ClientAuth::kRequire;
  auto ctx = make_tls_context(s);
  ASSERT_FALSE(ctx);
  EXPECT_NE(ctx.error().reason.find("client_auth"), std::string::npos);
  s.insecure_skip_verify = true;  // explicit: any certificate, but one is still required
  EXPECT_TRUE(make_tls_context(s));
}

TEST(TlsClientAuth, SubjectLongerThanTheLimitIsCut) {
  const PemCertKey big = client_cert(std::string(2 * kMaxPeerSubjectBytes, 'a'), 1);
  ASSERT_FALSE(big.cert_pem.empty());
  Outcome x = run(client_with_cert(big), server_requiring(big));
  ASSERT_TRUE(x.r.ok()) << reason(x.r);
  const std::string subject = x.server->peer_certificate_subject();
  EXPECT_EQ(subject.size(), kMaxPeerSubjectBytes);
  EXPECT_EQ(subject.substr(0, 6), "CN=aaa");
  EXPECT_EQ(x.server->peer_certificate_sha256(), leaf_sha256(big.cert_pem));
}

// A resumed session has no Certificate messages (RFC 8446 §4.3.2: no CertificateRequest with
// a PSK); the identity comes from the ticket, which only an authenticated client received.
TEST(TlsClientAuth, ResumedSessionKeepsTheClientIdentity) {
  const PemCertKey alice = client_cert();
  auto cctx = context(client_with_cert(alice));
  auto sctx = context(server_requiring(alice));
  const std::vector<uint8_t> ticket = first_ticket(cctx, sctx);
  ASSERT_FALSE(ticket.empty());
  auto c2 = session(cctx, kTp), s2 = session(sctx, kTp);
  ASSERT_TRUE(c2->set_resumption_ticket(ticket));
  Exchange r = handshake(*c2, *s2);
  ASSERT_TRUE(r.ok()) << reason(r);
  ASSERT_TRUE(s2->resumed());
  EXPECT_EQ(s2->peer_certificate_sha256(), leaf_sha256(alice.cert_pem));
  EXPECT_EQ(c2->peer_certificate_sha256(), leaf_sha256(localhost_cert().cert_pem));
}

// Server contexts without client authentication share the process's ticket key; one that
// checks client certificates has its own, so a ticket from elsewhere cannot skip the check.
TEST(TlsClientAuth, TicketFromAContextWithoutClientAuthDoesNotResume) {
  const PemCertKey alice = client_cert();
  auto cctx = context(client_with_cert(alice));
  auto open = context(server_config());
  const std::vector<uint8_t> ticket = first_ticket(cctx, open);
  ASSERT_FALSE(ticket.empty());
  auto c2 = session(cctx, kTp), s2 = session(context(server_requiring(alice)), kTp);
  ASSERT_TRUE(c2->set_resumption_ticket(ticket));
  Exchange r = handshake(*c2, *s2);
  ASSERT_TRUE(r.ok()) << reason(r);
  EXPECT_FALSE(s2->resumed());
  EXPECT_EQ(s2->peer_certificate_sha256(), leaf_sha256(alice.cert_pem));  // checked afresh
}

// ---- the per-context clock decides certificate validity ----

using std::chrono::system_clock;

system_clock::time_point at(int year) {
  // 1 January of `year`, close enough (365.25-day years) for validity windows of years.
  return system_clock::time_point{std::chrono::seconds((year - 1970) * 31'557'600LL)};
}

PemCertKey cert_valid_between(system_clock::time_point from, system_clock::time_point to,
                              bool client) {
  TestCertOptions o;
  o.name = client ? "alice" : "localhost";
  o.client = client;
  o.chain_length = 2;
  o.not_before = system_clock::to_time_t(from);
  o.not_after = system_clock::to_time_t(to);
  auto pem = make_test_cert(o);
  EXPECT_TRUE(pem) << (pem ? "" : pem.error().reason);
  return pem ? *pem : PemCertKey{};
}

// A server certificate that expired in 2002: a client context whose clock says 2001 accepts
// it, one on the system clock refuses it (certificate_expired), in one process and with
// their handshakes interleaved.
TEST(TlsClock, ExpiredCertificateIsValidAtTheInjectedTime) {
  const PemCertKey old = cert_valid_between(at(2000), at(2002), false);
  auto in_2001 = context(with_clock(client_config(old), [] { return at(2001); }));
  auto real = context(client_config(old));
  auto server = context(server_config(old));
  auto c1 = session(in_2001, kTp), s1 = session(server, kTp);
  auto c2 = session(real, kTp), s2 = session(server, kTp);
  ASSERT_TRUE(c1->start());
  Exchange r2 = handshake(*c2, *s2);
  Exchange r1;
  pump(*c1, *s1, r1);
  EXPECT_TRUE(r1.ok()) << reason(r1);
  ASSERT_FALSE(r2.client);
  EXPECT_EQ(r2.client.error().code, kCertificateExpired) << r2.client.error().reason;
}

// The other way round: not valid before next year on the real clock.
TEST(TlsClock, FutureCertificateIsValidOnlyWhereTheClockHasReachedIt) {
  const auto now = system_clock::now();
  const auto year = std::chrono::hours(24 * 365);
  const PemCertKey future = cert_valid_between(now + year, now + 3 * year, false);
  Exchange ok = handshake(
      *session(context(with_clock(client_config(future), [&] { return now + 2 * year; })), kTp),
      *session(context(server_config(future)), kTp));
  EXPECT_TRUE(ok.ok()) << reason(ok);
  Exchange bad = handshake(*session(context(client_config(future)), kTp),
                           *session(context(server_config(future)), kTp));
  ASSERT_FALSE(bad.client);
  EXPECT_EQ(bad.client.error().code, kCertificateExpired);
}

// The server's clock decides a client certificate's validity.
TEST(TlsClock, ServerClockDecidesClientCertificateValidity) {
  const PemCertKey old = cert_valid_between(at(2000), at(2002), true);
  Outcome ok =
      run(client_with_cert(old), with_clock(server_requiring(old), [] { return at(2001); }));
  EXPECT_TRUE(ok.r.ok()) << reason(ok.r);
  Outcome late =
      run(client_with_cert(old), with_clock(server_requiring(old), [] { return at(2003); }));
  ASSERT_FALSE(late.r.server);
  EXPECT_EQ(late.r.server.error().code, kCertificateExpired);
}

// Injected randomness makes the server's ticket key reproducible: a ticket from one context
// resumes at another built from the same bytes, not at one built from different bytes.
TEST(TlsRandom, InjectedRandomnessDecidesTheTicketKey) {
  auto fill = [](uint8_t v) { return [v](MutBytes b) { std::fill(b.begin(), b.end(), v); }; };
  auto server_with = [&](uint8_t v) {
    TlsConfig s = server_config();
    s.random = fill(v);
    return context(s);
  };
  auto client = context(client_config());
  const std::vector<uint8_t> ticket = first_ticket(client, server_with(7));
  ASSERT_FALSE(ticket.empty());
  for (auto [v, expect_resumed] : {std::pair{uint8_t{7}, true}, std::pair{uint8_t{8}, false}}) {
    auto c2 = session(client, kTp), s2 = session(server_with(v), kTp);
    ASSERT_TRUE(c2->set_resumption_ticket(ticket));
    Exchange r = handshake(*c2, *s2);
    ASSERT_TRUE(r.ok()) << reason(r);
    EXPECT_EQ(s2->resumed(), expect_resumed) << "random byte " << int{v};
  }
}

}  // namespace
}  // namespace quic::test

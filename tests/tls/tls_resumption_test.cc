// Session tickets, PSK resumption and 0-RTT (RFC 9001 §4.5, §4.6), anti-replay, and the
// per-context clock.
#include "tls_test_util.h"

namespace quic::test {
namespace {

const std::vector<uint8_t> kClientTp = {0x04, 0x02, 0x40, 0x00};
const std::vector<uint8_t> kServerTp = {0x03, 0x02, 0x45, 0xc0, 0x04, 0x02, 0x50, 0x00};

struct Endpoints {
  explicit Endpoints(const TlsClock& clock = {})
      : client(context(with_clock(client_config(), clock))),
        server(context(with_clock(server_config(), clock))) {}
  std::shared_ptr<const TlsContext> client, server;
};

// A full handshake followed by one NewSessionTicket; returns the client's stored ticket.
std::vector<uint8_t> get_ticket(const Endpoints& e) {
  auto c = session(e.client, kClientTp);
  auto s = session(e.server, kServerTp);
  Exchange r = handshake(*c, *s);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(c->take_session_ticket().empty());  // nothing before the server sends one
  EXPECT_TRUE(s->send_session_ticket());
  auto out = s->take_handshake_data();
  EXPECT_EQ(out.size(), 1u);
  for (auto& o : out) {
    EXPECT_EQ(o.level, EncryptionLevel::kApplication);
    EXPECT_EQ(message_types(o.data), std::vector<uint8_t>{4});  // NewSessionTicket
    EXPECT_TRUE(c->provide_data(o.level, o.data));
  }
  return c->take_session_ticket();
}

TEST(TlsResumption, TicketCarriesTheServerTransportParameters) {
  Endpoints e;
  auto ticket = get_ticket(e);
  ASSERT_FALSE(ticket.empty());
  auto c = session(e.client, kClientTp);
  EXPECT_FALSE(c->resumption_transport_params());
  ASSERT_TRUE(c->set_resumption_ticket(ticket));
  EXPECT_EQ(c->resumption_transport_params(), kServerTp);
}

TEST(TlsResumption, ResumedHandshakeSendsNoCertificate) {
  Endpoints e;
  auto ticket = get_ticket(e);
  auto c = session(e.client, kClientTp);
  auto s = session(e.server, kServerTp);
  ASSERT_TRUE(c->set_resumption_ticket(ticket));
  Exchange r = handshake(*c, *s);
  ASSERT_TRUE(r.ok()) << (r.client ? r.server.error().reason : r.client.error().reason);
  EXPECT_TRUE(c->resumed());
  EXPECT_TRUE(s->resumed());
  auto types = message_types(r.server_sent);
  EXPECT_EQ(std::count(types.begin(), types.end(), 11), 0);  // Certificate
  EXPECT_EQ(std::count(types.begin(), types.end(), 15), 0);  // CertificateVerify
  EXPECT_EQ(std::count(types.begin(), types.end(), 20), 1);  // Finished
  EXPECT_EQ(c->alpn(), "h3");
  ASSERT_TRUE(c->peer_transport_params());  // sent again in the resumed handshake
}

TEST(TlsResumption, ZeroRttSecretsMatchAndServerAcceptsEarlyData) {
  Endpoints e;
  auto ticket = get_ticket(e);
  auto c = session(e.client, kClientTp);
  auto s = session(e.server, kServerTp);
  ASSERT_TRUE(c->set_resumption_ticket(ticket));
  ASSERT_TRUE(c->start());
  auto early = c->take_secrets();
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0].level, EncryptionLevel::kEarly);
  EXPECT_TRUE(early[0].write);
  EXPECT_EQ(early[0].cipher, TlsCipher::kAes128Gcm);

  Exchange r;
  pump(*c, *s, r);
  ASSERT_TRUE(r.ok());
  auto* server_early = find(r.server_secrets, EncryptionLevel::kEarly, false);
  ASSERT_NE(server_early, nullptr);
  EXPECT_EQ(std::vector<uint8_t>(server_early->secret.bytes.begin(),
                                 server_early->secret.bytes.begin() + server_early->secret.len),
            std::vector<uint8_t>(early[0].secret.bytes.begin(),
                                 early[0].secret.bytes.begin() + early[0].secret.len));
  EXPECT_TRUE(s->early_data_accepted());
  EXPECT_TRUE(c->early_data_accepted());
  EXPECT_TRUE(c->handshake_complete());
  // RFC 9001 §8.3: no EndOfEarlyData in the client's Handshake flight.
  auto types = message_types(r.client_sent);
  EXPECT_EQ(std::count(types.begin(), types.end(), 5), 0);
}

TEST(TlsResumption, ReplayedClientHelloGetsNoEarlyData) {
  Endpoints e;
  auto ticket = get_ticket(e);
  auto c = session(e.client, kClientTp);
  ASSERT_TRUE(c->set_resumption_ticket(ticket));
  ASSERT_TRUE(c->start());
  auto hello = c->take_handshake_data();
  ASSERT_EQ(hello.size(), 1u);

  auto first = session(e.server, kServerTp);
  ASSERT_TRUE(first->provide_data(EncryptionLevel::kInitial, hello[0].data));
  EXPECT_TRUE(first->early_data_accepted());

  auto replay = session(e.server, kServerTp);
  ASSERT_TRUE(replay->provide_data(EncryptionLevel::kInitial, hello[0].data));
  EXPECT_FALSE(replay->early_data_accepted());
  EXPECT_EQ(find(replay->take_secrets(), EncryptionLevel::kEarly, false), nullptr);
}

TEST(TlsResumption, ServerWithoutEarlyDataIssuesNoTickets) {
  Endpoints e;
  auto sc = server_config();
  sc.enable_early_data = false;
  e.server = context(sc);
  auto c = session(e.client, kClientTp);
  auto s = session(e.server, kServerTp);
  ASSERT_TRUE(handshake(*c, *s).ok());
  ASSERT_TRUE(s->send_session_ticket());
  EXPECT_TRUE(s->take_handshake_data().empty());
}

TEST(TlsResumption, MalformedTicketIsRefused) {
  Endpoints e;
  auto c = session(e.client, kClientTp);
  EXPECT_FALSE(c->set_resumption_ticket(std::vector<uint8_t>{}));
  EXPECT_FALSE(c->set_resumption_ticket(std::vector<uint8_t>{'T', 'Q', 'T', '1', 1, 5, 0}));
  EXPECT_FALSE(c->set_resumption_ticket(std::vector<uint8_t>(kMaxResumptionTicketBytes + 1, 0)));
  auto ticket = get_ticket(e);
  ticket[0] ^= 0xff;
  EXPECT_FALSE(c->set_resumption_ticket(ticket));
}

TEST(TlsResumption, ServerSessionRefusesTicketCalls) {
  Endpoints e;
  auto s = session(e.server, kServerTp);
  EXPECT_FALSE(s->set_resumption_ticket(std::vector<uint8_t>{1, 2, 3}));
}

// Each context's clock drives ticket lifetime (GnuTLS's default 6 hours): two endpoint pairs
// in one process, one advanced well inside the lifetime, one past it, decide independently.
TEST(TlsResumption, PerContextClocksDecideTicketLifetime) {
  using namespace std::chrono;
  system_clock::time_point now_a{seconds(1'700'000'000)};
  system_clock::time_point now_b = now_a;
  Endpoints a([&] { return now_a; });
  Endpoints b([&] { return now_b; });
  auto ticket_a = get_ticket(a);
  auto ticket_b = get_ticket(b);
  now_a += hours(1);
  now_b += hours(7);
  auto ca = session(a.client, kClientTp), sa = session(a.server, kServerTp);
  auto cb = session(b.client, kClientTp), sb = session(b.server, kServerTp);
  ASSERT_TRUE(ca->set_resumption_ticket(ticket_a));
  ASSERT_TRUE(cb->set_resumption_ticket(ticket_b));
  // Interleaved: b's ClientHello is built between a's and the rest of a's handshake.
  ASSERT_TRUE(ca->start());
  Exchange rb = handshake(*cb, *sb);
  Exchange ra;
  pump(*ca, *sa, ra);
  ASSERT_TRUE(ra.ok()) << (ra.client ? ra.server.error().reason : ra.client.error().reason);
  ASSERT_TRUE(rb.ok()) << (rb.client ? rb.server.error().reason : rb.client.error().reason);
  EXPECT_TRUE(ca->resumed());
  EXPECT_TRUE(sa->resumed());
  EXPECT_FALSE(cb->resumed());
  EXPECT_FALSE(sb->resumed());
}

}  // namespace
}  // namespace quic::test

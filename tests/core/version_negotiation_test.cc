// Version negotiation between a real client and a real server Endpoint in memory, with real
// packet protection (version_pair.h): compatible negotiation v1 -> v2 (RFC 9368 §2.3, RFC 9369
// §4), incompatible negotiation through Version Negotiation packets (RFC 9000 §6.2, RFC 9368
// §2.2) and the downgrade checks (RFC 9368 §4).
#include <gtest/gtest.h>

#include "version_pair.h"

namespace quic::vn_test {
namespace {

constexpr uint32_t kReserved = 0x1a2a3a4a;

ConnectionConfig v2_preferring_server() {
  ConnectionConfig c;
  c.versions = {kVersion2, kVersion1};
  return c;
}

ConnectionConfig reserved_client() {
  ConnectionConfig c;
  c.version = kReserved;
  return c;
}

// --- compatible negotiation

TEST(CompatibleVersionNegotiation, ServerPreferringV2SwitchesTheConnection) {
  EndpointPair p(ConnectionConfig{}, v2_preferring_server());
  ASSERT_TRUE(p.handshake());
  ASSERT_FALSE(p.client_sent().empty());
  ASSERT_FALSE(p.server_sent().empty());
  EXPECT_EQ(version_of(p.client_sent().front().bytes), kVersion1);  // first flight: v1
  EXPECT_EQ(version_of(p.server_sent().front().bytes), kVersion2);  // answered in v2
  EXPECT_EQ(p.client().version(), kVersion2);
  EXPECT_EQ(p.server()->version(), kVersion2);
  EXPECT_EQ(p.client().original_version(), kVersion1);
  EXPECT_EQ(p.server()->original_version(), kVersion1);
  EXPECT_FALSE(p.client().version_negotiation_received());
  // Once the client learnt v2, every long header it sends is v2 (RFC 9369 §4).
  bool seen_v2 = false;
  for (const Sent& s : p.client_sent()) {
    uint32_t v = version_of(s.bytes);
    if (v == kVersion2) seen_v2 = true;
    if (seen_v2 && v != 0) {
      EXPECT_EQ(v, kVersion2);
    }
  }
  EXPECT_TRUE(seen_v2);
  // Data flows in v2.
  auto id = p.client().open_stream(true);
  ASSERT_TRUE(id);
  const char msg[] = "hello v2";
  ASSERT_TRUE(p.client().stream_write(*id, Bytes(reinterpret_cast<const uint8_t*>(msg), 8), true));
  p.run();
  uint8_t buf[16];
  bool fin = false;
  auto n = p.server()->stream_read(*id, buf, &fin);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 8u);
  EXPECT_TRUE(fin);
}

TEST(CompatibleVersionNegotiation, DefaultServerFollowsTheClientsOrder) {
  {
    EndpointPair p(ConnectionConfig{}, ConnectionConfig{});  // client offers v1 then v2
    ASSERT_TRUE(p.handshake());
    EXPECT_EQ(p.client().version(), kVersion1);
    EXPECT_EQ(p.server()->version(), kVersion1);
  }
  ConnectionConfig client;
  client.versions = {kVersion2, kVersion1};  // first flight v1, but v2 preferred
  EndpointPair p(client, ConnectionConfig{});
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(version_of(p.client_sent().front().bytes), kVersion1);
  EXPECT_EQ(p.client().version(), kVersion2);
  EXPECT_EQ(p.server()->version(), kVersion2);
}

TEST(CompatibleVersionNegotiation, NoSwitchToAVersionTheClientDidNotOffer) {
  ConnectionConfig client;
  client.versions = {kVersion1};
  EndpointPair p(client, v2_preferring_server());
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(p.server()->version(), kVersion1);
  EXPECT_EQ(p.client().version(), kVersion1);
  for (const Sent& s : p.server_sent()) EXPECT_NE(version_of(s.bytes), kVersion2);
}

TEST(CompatibleVersionNegotiation, ServerStillOpensTheClientsOriginalVersionInitials) {
  EndpointPair p(ConnectionConfig{}, v2_preferring_server());
  // The server's whole first flight (v2) is lost: the client retransmits its v1 Initial.
  p.to_client = [](Datagram&, uint8_t&) { return false; };
  for (auto& s : p.poll_client()) p.deliver_to_server(std::move(s.bytes));
  ASSERT_NE(p.server(), nullptr);
  EXPECT_EQ(p.server()->version(), kVersion2);
  for (auto& s : p.poll_server()) p.deliver_to_client(std::move(s.bytes));
  p.to_client = nullptr;
  uint64_t received = p.server()->stats().packets_received;
  p.advance(2s);  // the client's PTO fires
  p.client_endpoint().on_timeout(p.now());
  auto retransmit = p.poll_client();
  ASSERT_FALSE(retransmit.empty());
  EXPECT_EQ(version_of(retransmit.front().bytes), kVersion1);  // it has not seen v2 yet
  for (auto& s : retransmit) p.deliver_to_server(std::move(s.bytes));
  EXPECT_GT(p.server()->stats().packets_received, received);  // opened with the v1 key
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(p.client().version(), kVersion2);
}

TEST(CompatibleVersionNegotiation, UnauthenticatedInitialOfAnotherVersionDoesNotSwitch) {
  EndpointPair p(ConnectionConfig{}, ConnectionConfig{});
  auto first = p.poll_client();
  ASSERT_FALSE(first.empty());
  auto hdr = parse_header(first.front().bytes, 8);
  ASSERT_TRUE(hdr);
  // A forged v2 Initial (garbage payload, zero tag) from an off-path attacker.
  std::vector<uint8_t> junk(60, 0x5a);
  p.deliver_to_client(hostile::long_packet(kVersion2, LongType::kInitial, hdr->scid, hdr->dcid, 0,
                                           junk, 1200));
  EXPECT_EQ(p.client().version(), kVersion1);
  for (auto& s : first) p.deliver_to_server(std::move(s.bytes));
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(p.client().version(), kVersion1);
}

// --- incompatible negotiation (Version Negotiation packets)

TEST(IncompatibleVersionNegotiation, ReservedFirstVersionRestartsInV1) {
  EndpointPair p(reserved_client(), ConnectionConfig{});
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(version_of(p.client_sent().front().bytes), kReserved);
  EXPECT_EQ(p.server_endpoint().stats().version_negotiations_sent, 1u);
  EXPECT_EQ(p.server_endpoint().stats().connections_accepted, 1u);
  EXPECT_TRUE(p.client().version_negotiation_received());
  EXPECT_EQ(p.client().original_version(), kReserved);
  EXPECT_EQ(p.client().version(), kVersion1);
  EXPECT_EQ(p.server()->version(), kVersion1);
}

TEST(IncompatibleVersionNegotiation, ThenCompatibleNegotiationToV2) {
  EndpointPair p(reserved_client(), v2_preferring_server());
  ASSERT_TRUE(p.handshake());
  EXPECT_TRUE(p.client().version_negotiation_received());
  EXPECT_EQ(p.client().version(), kVersion2);
  EXPECT_EQ(p.server()->version(), kVersion2);
}

TEST(IncompatibleVersionNegotiation, PicksTheClientsPreferredCommonVersion) {
  ConnectionConfig client = reserved_client();
  client.versions = {kVersion2, kVersion1};
  EndpointPair p(client, ConnectionConfig{});
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(p.client().version(), kVersion2);
  // The restarted first flight was v2 from its first packet.
  bool after_vn = false;
  for (const Sent& s : p.client_sent()) {
    uint32_t v = version_of(s.bytes);
    if (v != kReserved && v != 0 && !after_vn) {
      after_vn = true;
      EXPECT_EQ(v, kVersion2);
    }
  }
  EXPECT_TRUE(after_vn);
}

// A hand-made VN packet for the client's first flight.
struct FirstFlight {
  std::vector<Sent> datagrams;
  std::vector<uint8_t> dcid, scid;  // as the client sent them
};

FirstFlight first_flight(EndpointPair& p) {
  FirstFlight f;
  f.datagrams = p.poll_client();
  if (f.datagrams.empty()) return f;
  auto hdr = parse_header(f.datagrams.front().bytes, 8);
  if (!hdr) return f;
  f.dcid.assign(hdr->dcid_raw.begin(), hdr->dcid_raw.end());
  f.scid.assign(hdr->scid_raw.begin(), hdr->scid_raw.end());
  return f;
}

Datagram vn_packet(Bytes dcid, Bytes scid, std::vector<uint32_t> versions) {
  Datagram d(1500);
  size_t n = build_version_negotiation(d, dcid, scid, versions, 0x2a);
  d.resize(n);
  return d;
}

TEST(IncompatibleVersionNegotiation, IgnoredWhenItListsTheOriginalVersion) {
  EndpointPair p(reserved_client(), ConnectionConfig{});
  auto f = first_flight(p);
  ASSERT_FALSE(f.scid.empty());
  p.deliver_to_client(vn_packet(f.scid, f.dcid, {kVersion1, kReserved}));
  EXPECT_FALSE(p.client().version_negotiation_received());
  EXPECT_FALSE(p.client().is_closed());
}

TEST(IncompatibleVersionNegotiation, IgnoredWhenTheConnectionIdsDoNotEchoOurs) {
  EndpointPair p(reserved_client(), ConnectionConfig{});
  auto f = first_flight(p);
  ASSERT_FALSE(f.scid.empty());
  std::vector<uint8_t> wrong = f.dcid;
  wrong[0] ^= 1;
  p.deliver_to_client(vn_packet(f.scid, wrong, {kVersion1}));  // SCID is not our DCID
  EXPECT_FALSE(p.client().version_negotiation_received());
  // A DCID that is not our SCID does not even reach the connection through the endpoint;
  // deliver it straight to the connection to check the connection's own test.
  Datagram bad = vn_packet(wrong, f.dcid, {kVersion1});
  p.client().on_datagram(p.now(), SocketAddress::v4(192, 0, 2, 1, 50000),
                         SocketAddress::v4(192, 0, 2, 2, 443), 0, bad);
  EXPECT_FALSE(p.client().version_negotiation_received());
  // The genuine one still works afterwards.
  p.deliver_to_client(vn_packet(f.scid, f.dcid, {kVersion1}));
  EXPECT_TRUE(p.client().version_negotiation_received());
}

TEST(IncompatibleVersionNegotiation, OnlyTheFirstIsActedOn) {
  ConnectionConfig client = reserved_client();
  client.versions = {kVersion2, kVersion1};
  EndpointPair p(client, ConnectionConfig{});
  auto f = first_flight(p);
  ASSERT_FALSE(f.scid.empty());
  p.deliver_to_client(vn_packet(f.scid, f.dcid, {kVersion1, kVersion2}));
  ASSERT_TRUE(p.client().version_negotiation_received());
  EXPECT_EQ(p.client().version(), kVersion2);
  p.deliver_to_client(vn_packet(f.scid, f.dcid, {kVersion1}));  // a second one: ignored
  EXPECT_EQ(p.client().version(), kVersion2);
  EXPECT_FALSE(p.client().is_closed());
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(p.client().version(), kVersion2);
}

TEST(IncompatibleVersionNegotiation, IgnoredOnceAPacketWasProcessed) {
  EndpointPair p(ConnectionConfig{}, ConnectionConfig{});
  auto f = first_flight(p);
  ASSERT_TRUE(p.handshake());
  p.deliver_to_client(vn_packet(f.scid, f.dcid, {kVersion2}));
  EXPECT_FALSE(p.client().version_negotiation_received());
  EXPECT_EQ(p.client().version(), kVersion1);
  EXPECT_FALSE(p.client().is_draining_or_closing());
}

TEST(IncompatibleVersionNegotiation, ServersIgnoreVersionNegotiation) {
  EndpointPair p(ConnectionConfig{}, ConnectionConfig{});
  ASSERT_TRUE(p.handshake());
  auto hdr = parse_header(p.server_sent().front().bytes, 8);
  ASSERT_TRUE(hdr);
  // Routed to the server connection by its CID; it must not react (RFC 9368 §2.2).
  p.deliver_to_server(vn_packet(hdr->scid.view(), hdr->dcid.view(), {kVersion2}));
  EXPECT_FALSE(p.server()->is_draining_or_closing());
  EXPECT_EQ(p.server()->version(), kVersion1);
  EXPECT_EQ(p.server_endpoint().stats().version_negotiations_sent, 0u);
}

TEST(IncompatibleVersionNegotiation, NoCommonVersionClosesWithAClearError) {
  EndpointPair p(reserved_client(), ConnectionConfig{});
  auto f = first_flight(p);
  ASSERT_FALSE(f.scid.empty());
  p.deliver_to_client(vn_packet(f.scid, f.dcid, {0xff00001d, 0x5a6a7a8a}));
  EXPECT_TRUE(p.client().is_closed());
  ASSERT_TRUE(p.client().close_error().has_value());
  EXPECT_EQ(p.client().close_error()->code, err::kVersionNegotiationError);
  std::optional<Event> closed;
  while (auto e = p.client().poll_event()) {
    if (e->kind == EventKind::kClosed) closed = e;
  }
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->error_code, err::kVersionNegotiationError);
  EXPECT_NE(closed->reason.find("no common QUIC version"), std::string::npos);
  EXPECT_TRUE(p.poll_client().empty());  // nothing to tell a server that kept no state
}

// --- downgrade protection (RFC 9368 §4)

TEST(DowngradeProtection, ForgedVersionNegotiationIsDetected) {
  // The client prefers v2; an attacker's VN claims the server speaks only v1. The server
  // (which prefers v1 but supports v2) lists both in its version_information: the client
  // would have chosen v2, so the VN was forged.
  ConnectionConfig client = reserved_client();
  client.versions = {kVersion2, kVersion1};
  ConnectionConfig server;
  server.versions = {kVersion1, kVersion2};
  EndpointPair p(client, server);
  auto f = first_flight(p);
  ASSERT_FALSE(f.scid.empty());
  p.deliver_to_client(vn_packet(f.scid, f.dcid, {kVersion1}));
  ASSERT_TRUE(p.client().version_negotiation_received());
  EXPECT_EQ(p.client().version(), kVersion1);
  p.run();
  ASSERT_TRUE(p.client().close_error().has_value());
  EXPECT_EQ(p.client().close_error()->code, err::kVersionNegotiationError);
  EXPECT_FALSE(p.client().handshake_complete());
  ASSERT_NE(p.server(), nullptr);
  ASSERT_TRUE(p.server()->close_error().has_value());  // told with CONNECTION_CLOSE 0x11
  EXPECT_EQ(p.server()->close_error()->code, err::kVersionNegotiationError);
  EXPECT_TRUE(p.server()->closed_by_peer());
}

TEST(DowngradeProtection, GenuineVersionNegotiationToAV1OnlyServerSucceeds) {
  ConnectionConfig client = reserved_client();
  client.versions = {kVersion2, kVersion1};
  ConnectionConfig server;
  server.versions = {kVersion1};
  EndpointPair p(client, server);
  ASSERT_TRUE(p.handshake());
  EXPECT_TRUE(p.client().version_negotiation_received());
  EXPECT_EQ(p.client().version(), kVersion1);
}

TEST(DowngradeProtection, ServerSupportingOnlyV2AnswersV1WithVersionNegotiation) {
  ConnectionConfig server;
  server.versions = {kVersion2};
  EndpointPair p(ConnectionConfig{}, server);
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(p.server_endpoint().stats().version_negotiations_sent, 1u);
  EXPECT_TRUE(p.client().version_negotiation_received());
  EXPECT_EQ(p.client().version(), kVersion2);
}

TEST(VersionConfig, UnknownNonReservedFirstVersionIsRefused) {
  ConnectionConfig c;
  c.version = 0xff00001d;
  SeededRandom random(3);
  auto conn = Connection::connect(c, hostile::test_tls_context(false, {"hq-interop"}),
                                  SocketAddress::v4(192, 0, 2, 1, 1), SocketAddress::v4(192, 0, 2, 2, 2),
                                  instant_from_ns(1), random);
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error().code, err::kInternalError);
}

}  // namespace
}  // namespace quic::vn_test

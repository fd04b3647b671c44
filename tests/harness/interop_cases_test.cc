// The quic-interop-runner test cases, run in virtual time through the simulator with real
// TLS (GnuTLS) and real packet protection. Each test checks the case's own criteria; every
// transfer is verified byte for byte by the client application.
#include <gtest/gtest.h>

#include <memory>

#include "harness/scenario.h"
#include "wire/packet.h"

namespace harness {
namespace {

using namespace std::chrono_literals;
constexpr uint32_t kVersion1Value = 0x00000001;  // RFC 9000
constexpr uint32_t kVersion2Value = 0x6b3343cf;  // RFC 9369 §3.1

ScenarioResult run(const std::string& name) {
  auto s = named_scenario(name);
  EXPECT_TRUE(s.has_value()) << name;
  auto r = run_scenario(*s);
  EXPECT_TRUE(r.ok) << name << ": " << r.error;
  return r;
}

TEST(InteropCase, Handshake) {
  auto r = run("handshake");
  EXPECT_EQ(r.bytes, 1024u);
  EXPECT_EQ(r.handshakes, 1u);
  EXPECT_EQ(r.server_connections, 1u);  // exactly one handshake, no Retry
  // One round trip of 30 ms each way plus serialisation: well under 3 RTTs.
  EXPECT_LT(r.first_handshake, 200ms);
}

TEST(InteropCase, Transfer) {
  auto r = run("transfer");
  EXPECT_EQ(r.bytes, 10u * 1024 * 1024);
  EXPECT_EQ(r.handshakes, 1u);
  // Both sides advertise grease_quic_bit (RFC 9287), so about half the 1-RTT packets go out
  // with the QUIC bit cleared, and the client still reads every byte.
  EXPECT_GT(r.server_greased_quic_bit, 1000u);
}

TEST(InteropCase, Multiplexing) {
  auto r = run("multiplexing");
  EXPECT_EQ(r.bytes, 1999u * 32);
}

TEST(InteropCase, LongRtt) {
  auto r = run("longrtt");
  EXPECT_EQ(r.bytes, 1024u);
  // 1.5 s RTT exceeds the initial PTO (RFC 9002: 3 x 333 ms), so the ClientHello is resent.
  EXPECT_GE(r.client_initial_datagrams, 2u);
}

TEST(InteropCase, ChaCha20) {
  auto r = run("chacha20");
  EXPECT_EQ(r.bytes, 1024u * 1024);
}

TEST(InteropCase, HandshakeLoss) {
  auto r = run("handshakeloss");
  EXPECT_EQ(r.handshakes, 50u);
  EXPECT_EQ(r.bytes, 50u * 1024);
  EXPECT_GT(r.link_dropped_loss, 10u);  // the impairment really happened
}

TEST(InteropCase, TransferLoss) {
  auto r = run("transferloss");
  EXPECT_EQ(r.bytes, 2u * 1024 * 1024);
  EXPECT_GT(r.server_packets_lost, 0u);  // the loss really happened and was repaired
  EXPECT_GT(r.link_dropped_loss, 10u);
}

TEST(InteropCase, HandshakeCorruption) {
  auto r = run("handshakecorruption");
  EXPECT_EQ(r.handshakes, 50u);
  EXPECT_EQ(r.bytes, 50u * 1024);
  EXPECT_GT(r.link_corrupted, 10u);  // the impairment really happened
}

TEST(InteropCase, TransferCorruption) {
  auto r = run("transfercorruption");
  EXPECT_EQ(r.bytes, 2u * 1024 * 1024);
  EXPECT_GT(r.link_corrupted, 10u);  // the impairment really happened
}

TEST(InteropCase, Blackhole) {
  auto r = run("blackhole");
  EXPECT_EQ(r.bytes, 10u * 1024 * 1024);
  EXPECT_GT(r.link_dropped_blackhole, 10u);  // the impairment really happened
}

TEST(InteropCase, AmplificationLimit) {
  auto r = run("amplificationlimit");
  EXPECT_EQ(r.bytes, 1024u);
  EXPECT_GT(r.client_bytes_before_validation, 0u);
  // RFC 9000 §8.1: at most three times the bytes received before the address is validated.
  EXPECT_LE(r.server_bytes_before_validation, 3 * r.client_bytes_before_validation);
}

TEST(InteropCase, Goodput) {
  auto r = run("goodput");
  EXPECT_EQ(r.bytes, 10u * 1024 * 1024);
  // Virtual time is deterministic, so this is a property of the stack, not of the machine.
  EXPECT_GE(r.capacity_share, 0.90) << "goodput " << r.goodput_bps / 1e6 << " Mbit/s";
}

TEST(InteropCase, KeyUpdate) {
  auto r = run("keyupdate");
  EXPECT_EQ(r.bytes, 3u * 1024 * 1024);
  // Both sides received packets of a new key phase: the client's updates were followed.
  EXPECT_GE(r.client_key_updates, 1u);
  EXPECT_GE(r.server_key_updates, 1u);
}

TEST(InteropCase, Retry) {
  auto r = run("retry");
  EXPECT_EQ(r.bytes, 1024u);
  EXPECT_EQ(r.server_retries_sent, 1u);
  EXPECT_EQ(r.retries_received, 1u);
  // The token proved the address: no amplification limit applied after the Retry.
  EXPECT_TRUE(r.server_validated_client);
}

TEST(InteropCase, Resumption) {
  auto r = run("resumption");
  EXPECT_EQ(r.handshakes, 2u);
  EXPECT_EQ(r.resumed, 1u);  // the second handshake used the ticket: no Certificate message
  // The first connection was sent a Retry; the second presented its NEW_TOKEN token instead.
  EXPECT_EQ(r.server_retries_sent, 1u);
  EXPECT_EQ(r.retries_received, 1u);
}

// quic-interop-runner "zerortt": the second connection sends its requests as 0-RTT; the
// runner wants 0-RTT payload and little 1-RTT payload from the client.
TEST(InteropCase, ZeroRtt) {
  auto r = run("zerortt");
  EXPECT_EQ(r.bytes, 2u * 40 * 32);
  EXPECT_EQ(r.handshakes, 2u);
  EXPECT_EQ(r.resumed, 1u);
  // (The client has every response before its Finished leaves, and closes at once.)
  EXPECT_EQ(r.zero_rtt_accepted, 1u);
  EXPECT_EQ(r.zero_rtt_rejected, 0u);
  EXPECT_GT(r.last_client_0rtt_bytes, 40u * 8);  // all 40 "GET 32\r\n" requests
  EXPECT_LE(r.last_client_1rtt_bytes, 5000u);
  EXPECT_GT(r.server_0rtt_packets_received, 0u);
}

// The ticket allows 0-RTT but the server has turned it off: the 0-RTT packets are dropped,
// the client learns of the rejection at handshake completion and resends in 1-RTT.
TEST(InteropCase, ZeroRttRejectedStillDeliversEverything) {
  auto r = run("zerortt-reject");
  EXPECT_EQ(r.bytes, 2u * 40 * 32);
  EXPECT_EQ(r.resumed, 1u);
  EXPECT_EQ(r.server_handshakes_completed, 2u);
  EXPECT_EQ(r.zero_rtt_accepted, 0u);
  EXPECT_EQ(r.zero_rtt_rejected, 1u);
  EXPECT_GT(r.last_client_0rtt_bytes, 0u);       // it was attempted...
  EXPECT_EQ(r.server_0rtt_packets_received, 0u);  // ...and never processed
  EXPECT_GT(r.last_client_1rtt_bytes, 40u * 8);   // the requests went again in 1-RTT
}

// Loss of the second connection's first datagram (Initial + all 0-RTT requests): the
// Initial is resent by PTO and the requests are repaired in 1-RTT once the handshake completes.
TEST(InteropCase, ZeroRttFirstFlightLost) {
  auto s = *named_scenario("zerortt");
  auto first_dcid = std::make_shared<std::optional<quic::ConnectionId>>();
  auto dropped = std::make_shared<int>(0);
  s.client_to_server.drop_filter = [first_dcid, dropped](const sim::Datagram& d, uint64_t) {
    auto h = quic::parse_header(quic::Bytes(d.payload), 8);
    if (!h || !h->long_header || h->type != quic::LongType::kInitial) return false;
    if (!*first_dcid) *first_dcid = h->dcid;
    if (h->dcid == **first_dcid || *dropped > 0) return false;
    ++*dropped;
    return true;
  };
  auto r = run_scenario(s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(*dropped, 1);
  EXPECT_EQ(r.bytes, 2u * 40 * 32);
  EXPECT_EQ(r.resumed, 1u);
  EXPECT_EQ(r.zero_rtt_accepted, 1u);
  // An ACK of a 0-RTT packet must not confirm the handshake (and drop the Handshake keys)
  // before the client's Finished is out: the server completes its handshake.
  EXPECT_EQ(r.server_handshakes_completed, 2u);
}

// The quic-interop-runner's v2 criterion: the client's first Initial is v1 (carrying
// version_information that offers v2), the server answers in v2 and the transfer completes
// in v2 (RFC 9368 §2.3, RFC 9369 §4).
TEST(InteropCase, Version2) {
  auto r = run("v2");
  EXPECT_EQ(r.bytes, 1024u * 1024);
  EXPECT_EQ(r.client_first_version, kVersion1Value);
  EXPECT_EQ(r.server_first_version, kVersion2Value);
  EXPECT_EQ(r.server_version, kVersion2Value);
  EXPECT_EQ(r.client_version, kVersion2Value);
  EXPECT_FALSE(r.client_version_negotiated);  // no extra round trip
  EXPECT_EQ(r.server_version_negotiations, 0u);
}

TEST(InteropCase, Version2FromTheFirstFlight) {
  auto s = *named_scenario("v2");
  s.client.version = kVersion2Value;  // a client that starts in v2 stays there
  s.server.versions.clear();
  auto r = run_scenario(s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.client_first_version, kVersion2Value);
  EXPECT_EQ(r.server_first_version, kVersion2Value);
  EXPECT_EQ(r.server_version, kVersion2Value);
}

TEST(InteropCase, Version2NotOfferedStaysV1) {
  auto s = *named_scenario("v2");
  s.client.versions = {kVersion1Value};  // the client offers only v1: the server must not switch
  auto r = run_scenario(s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.server_first_version, kVersion1Value);
  EXPECT_EQ(r.server_version, kVersion1Value);
  EXPECT_EQ(r.client_version, kVersion1Value);
}

TEST(InteropCase, Version2AfterRetry) {
  // RFC 9369 §4: the Retry is in the original version (v1); the switch to v2 follows, and v2
  // Initial keys derive from the Retry's connection ID on both sides.
  auto s = *named_scenario("v2");
  s.server_retry = quic::RetryPolicy::kAlways;
  auto r = run_scenario(s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.server_retries_sent, 1u);
  EXPECT_EQ(r.retries_received, 1u);
  EXPECT_EQ(r.client_version, kVersion2Value);
  EXPECT_EQ(r.server_version, kVersion2Value);
}

// Incompatible negotiation (RFC 9000 §6, RFC 9368 §2.2): a reserved first version draws one
// Version Negotiation packet; the client restarts in v1 and the transfer completes.
TEST(InteropCase, VersionNegotiation) {
  auto r = run("versionnegotiation");
  EXPECT_EQ(r.bytes, 1024u);
  EXPECT_EQ(r.client_first_version, 0x1a2a3a4au);
  EXPECT_EQ(r.server_version_negotiations, 1u);
  EXPECT_TRUE(r.client_version_negotiated);
  EXPECT_EQ(r.client_version, kVersion1Value);
  EXPECT_EQ(r.server_version, kVersion1Value);
  EXPECT_EQ(r.server_connections, 1u);  // the first flight created no server state
}

TEST(InteropCase, VersionNegotiationThenCompatibleV2) {
  // RFC 9368 §2.3's combined example: VN first, then the server switches the new flight to v2.
  auto s = *named_scenario("versionnegotiation");
  s.server.versions = {kVersion2Value, kVersion1Value};
  auto r = run_scenario(s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.client_version_negotiated);
  EXPECT_EQ(r.client_version, kVersion2Value);
  EXPECT_EQ(r.server_version, kVersion2Value);
}

TEST(InteropCase, Ecn) {
  auto r = run("ecn");
  EXPECT_EQ(r.bytes, 2u * 1024 * 1024);
  EXPECT_TRUE(r.server_ecn_capable);  // ACK_ECN counts covered every marked packet
  EXPECT_GT(r.server_ecn_ce, 0u);     // CE marks travelled back as ACK_ECN counts
}

TEST(InteropCase, EcnEct1) {
  auto r = run("ecnect1");
  EXPECT_EQ(r.bytes, 2u * 1024 * 1024);
  EXPECT_TRUE(r.server_ecn_capable);  // validated against the ECT(1) counts
  EXPECT_GT(r.server_ecn_ce, 0u);
  EXPECT_GT(r.server_datagrams_ect1, 100u);
  EXPECT_EQ(r.server_datagrams_ect0, 0u);
}

TEST(InteropCase, EcnDefaultMarksEct0) {
  auto r = run("ecn");
  EXPECT_GT(r.server_datagrams_ect0, 100u);
  EXPECT_EQ(r.server_datagrams_ect1, 0u);
}

TEST(InteropCase, EcnBleachingDisablesMarking) {
  auto s = *named_scenario("ecn");
  s.server_to_client.ecn_capable = s.client_to_server.ecn_capable = false;  // bits cleared
  s.server_to_client.ce_mark = 0;
  auto r = run_scenario(s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.bytes, 2u * 1024 * 1024);
  EXPECT_FALSE(r.server_ecn_capable);  // validation failed: no counts for marked packets
}

TEST(Simulator, SameSeedSameRun) {
  auto s = *named_scenario("transferloss");
  auto a = run_scenario(s);
  auto b = run_scenario(s);
  ASSERT_TRUE(a.ok && b.ok);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.elapsed, b.elapsed);
  s.seed = 2;
  auto c = run_scenario(s);
  EXPECT_NE(a.trace_hash, c.trace_hash);
}

}  // namespace
}  // namespace harness

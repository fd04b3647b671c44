// Hostile peers and version negotiation (RFC 9368 §4): a client or server whose authenticated
// version_information contradicts the version its packets use (a downgrade attempt) is closed
// with VERSION_NEGOTIATION_ERROR (0x11); a ClientHello too large for the server to buffer is
// handed to TLS unread (kMaxBufferedClientHello). Null packet protection (hostile_fixture.h)
// lets the test rewrite long headers without breaking authentication.
#include <gtest/gtest.h>

#include "core/version_negotiation.h"
#include "hostile_fixture.h"

namespace quic::hostile {
namespace {

// Rewrites every long header of `d` from version `from` to `to`, packet types kept (the type
// bits differ between v1 and v2, RFC 9369 §3.2).
void rewrite_versions(Datagram& d, uint32_t from, uint32_t to) {
  CoalescedPackets packets(d, 8);
  while (auto pkt = packets.next()) {
    if (!pkt->header.long_header || pkt->header.version != from) continue;
    uint8_t* p = d.data() + pkt->offset;
    LongType type = long_type_from_bits(from, static_cast<uint8_t>((p[0] >> 4) & 3));
    p[0] = static_cast<uint8_t>((p[0] & ~0x30) | long_type_bits(to, type) << 4);
    for (int i = 0; i < 4; ++i) p[1 + i] = static_cast<uint8_t>(to >> (24 - 8 * i));
  }
}

TEST(HostileVersion, ClientWhoseChosenVersionIsNotItsInitialsVersionGets0x11) {
  // The client's parameters say "chosen v2" but its Initials arrive as v1: the server must
  // not believe either and closes (RFC 9368 §4, "the server MUST close").
  PairOptions o;
  o.client.version = kVersion2;
  Pair pair(o);
  auto ds = pair.poll_client();
  ASSERT_FALSE(ds.empty());
  for (auto& d : ds) {
    rewrite_versions(d, kVersion2, kVersion1);
    pair.deliver_to_server(std::move(d));
  }
  ASSERT_NE(pair.server(), nullptr);
  EXPECT_EQ(pair.server()->version(), kVersion1);  // no switch on a lie
  EXPECT_EQ(pair.server_close_code(), err::kVersionNegotiationError);
  auto close = pair.server_close_frame();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->error_code, err::kVersionNegotiationError);
}

TEST(HostileVersion, ServerWhoseChosenVersionIsNotTheVersionInUseGets0x11) {
  // The server negotiated v2 (its parameters say so) but an attacker relabels its packets v1:
  // the client checks the chosen version against the version in use and closes.
  PairOptions o;
  o.server.versions = {kVersion2, kVersion1};
  Pair pair(o);
  for (auto& d : pair.poll_client()) pair.deliver_to_server(std::move(d));
  ASSERT_NE(pair.server(), nullptr);
  ASSERT_EQ(pair.server()->version(), kVersion2);
  for (auto& d : pair.poll_server()) {
    rewrite_versions(d, kVersion2, kVersion1);
    pair.deliver_to_client(std::move(d));
  }
  EXPECT_EQ(pair.client().version(), kVersion1);
  ASSERT_TRUE(pair.client().close_error().has_value());
  EXPECT_EQ(pair.client().close_error()->code, err::kVersionNegotiationError);
  EXPECT_FALSE(pair.client().handshake_complete());
}

TEST(HostileVersion, UnrelabelledV2HandshakeSucceedsUnderTheSameFixture) {
  // The control for the two tests above: the same pair, untouched, completes in v2.
  PairOptions o;
  o.server.versions = {kVersion2, kVersion1};
  Pair pair(o);
  ASSERT_TRUE(pair.handshake());
  EXPECT_EQ(pair.client().version(), kVersion2);
  EXPECT_EQ(pair.server()->version(), kVersion2);
}

Datagram initial_with_crypto(Bytes crypto) {
  ConnectionId dcid, scid;
  dcid.len = 8;
  scid.len = 8;
  for (uint8_t i = 0; i < 8; ++i) {
    dcid.bytes[i] = static_cast<uint8_t>(0xd0 + i);
    scid.bytes[i] = static_cast<uint8_t>(0x50 + i);
  }
  auto payload = encode_frames({CryptoFrame{0, crypto}});
  return long_packet(kVersion1, LongType::kInitial, dcid, scid, 0, payload, 1200);
}

std::vector<uint8_t> client_hello_prefix(size_t announced, size_t present) {
  std::vector<uint8_t> ch{0x01, static_cast<uint8_t>(announced >> 16),
                          static_cast<uint8_t>(announced >> 8), static_cast<uint8_t>(announced)};
  ch.resize(4 + present, 0x03);
  return ch;
}

TEST(HostileVersion, ClientHelloAboveTheBufferLimitGoesToTlsUnbuffered) {
  // Announced beyond kMaxBufferedClientHello: the server does not wait for (or hold) it; TLS
  // refuses the oversized message at once.
  Pair pair;
  auto ch = client_hello_prefix(kMaxBufferedClientHello + 1, 900);
  pair.deliver_to_server(initial_with_crypto(ch));
  ASSERT_NE(pair.server(), nullptr);
  auto code = pair.server_close_code();
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, err::kNoError);
}

TEST(HostileVersion, ClientHelloWithinTheLimitIsBufferedUntilComplete) {
  Pair pair;
  auto ch = client_hello_prefix(kMaxBufferedClientHello - 4, 900);
  pair.deliver_to_server(initial_with_crypto(ch));
  ASSERT_NE(pair.server(), nullptr);
  EXPECT_FALSE(pair.server_close_code().has_value());  // still waiting for the rest
  EXPECT_FALSE(pair.server()->is_draining_or_closing());
}

}  // namespace
}  // namespace quic::hostile

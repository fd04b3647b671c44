// Client addresses a server sees change (RFC 9000 §9): probing packets from a new address are
// answered there without moving the connection; only the newest non-probing packet moves it.
#include <gtest/gtest.h>

#include "hostile_fixture.h"

namespace quic::hostile {
namespace {

constexpr size_t kCidLen = 8;

struct Seen {
  size_t responses = 0, challenges = 0;
  std::optional<ConnectionId> dcid;
};

Seen inspect(const std::vector<std::pair<SocketAddress, Datagram>>& ds, const SocketAddress& to,
             const std::array<uint8_t, frame_limits::kPathDataLength>* answer = nullptr) {
  Seen s;
  for (const auto& [addr, d] : ds) {
    if (addr != to) continue;
    for (const PlainPacket& p : decode_datagram(d, kCidLen)) {
      if (!p.long_header) s.dcid = p.dcid;
      for (const Frame& f : decode_frames(p.payload)) {
        if (const auto* r = std::get_if<PathResponseFrame>(&f)) {
          s.responses += answer == nullptr || r->data == *answer ? 1 : 0;
        }
        s.challenges += std::holds_alternative<PathChallengeFrame>(f) ? 1 : 0;
      }
    }
  }
  return s;
}

class HostileMigration : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pair.handshake());
    elsewhere = pair.client_addr();
    elsewhere.port = static_cast<uint16_t>(elsewhere.port + 7);
  }
  Pair pair;
  SocketAddress elsewhere;
};

// §9.1, §8.2.2: a PATH_CHALLENGE alone from another address is answered to that address, with
// a CID not used towards the current one (§9.5), and the connection stays where it is.
TEST_F(HostileMigration, ProbingPacketIsAnsweredThereAndDoesNotMove) {
  PathChallengeFrame ch;
  ch.data.fill(0x42);
  pair.inject_frames_from(elsewhere, {ch});
  auto out = pair.poll_server_addressed();
  Seen there = inspect(out, elsewhere, &ch.data);
  EXPECT_EQ(there.responses, 1u);
  EXPECT_EQ(pair.server()->path().remote, pair.client_addr());
  EXPECT_EQ(pair.server()->stats().migrations, 0u);
  // The probe's answer used another CID than the connection's 1-RTT packets so far.
  std::optional<ConnectionId> home;
  for (const Datagram& d : pair.server_sent()) {
    for (const PlainPacket& p : decode_datagram(d, kCidLen)) {
      if (!p.long_header && !home) home = p.dcid;
    }
  }
  ASSERT_TRUE(there.dcid && home);
  EXPECT_NE(*there.dcid, *home);
}

// §9.3: a non-probing packet from the probed address moves the connection there and starts
// validating it; a reordered older non-probing packet from the old address does not move it
// back.
TEST_F(HostileMigration, NewestNonProbingPacketMovesTheConnection) {
  uint64_t old_pn = pair.next_injected_pn();
  pair.inject_frames({PingFrame{}});
  PathChallengeFrame ch;
  ch.data.fill(0x43);
  pair.inject_frames_from(elsewhere, {ch});
  pair.inject_frames_from(elsewhere, {PingFrame{}});
  EXPECT_EQ(pair.server()->path().remote, elsewhere);
  EXPECT_EQ(pair.server()->stats().migrations, 1u);
  Seen there = inspect(pair.poll_server_addressed(), elsewhere);
  EXPECT_GE(there.challenges, 1u);  // validating the new address
  EXPECT_GE(there.responses, 1u);   // the probe's challenge answered too
  // An older packet (lower number) from the old address arrives late: no move back.
  pair.inject_frames_from(pair.client_addr(), {PingFrame{}}, old_pn + 1);
  EXPECT_EQ(pair.server()->path().remote, elsewhere);
  EXPECT_EQ(pair.server()->stats().migrations, 1u);
}

// Probes from many addresses: one probe tuple at a time, each answered from its own fresh CID
// while spares last; the connection never moves and nothing grows without bound.
TEST_F(HostileMigration, ProbesFromManyAddressesStayBounded) {
  int64_t heap_before = live_heap_bytes();
  for (uint16_t i = 0; i < 300; ++i) {
    SocketAddress a = pair.client_addr();
    a.port = static_cast<uint16_t>(1000 + i);
    PathChallengeFrame ch;
    ch.data.fill(static_cast<uint8_t>(i));
    pair.inject_frames_from(a, {ch});
    (void)pair.poll_server_addressed();
    ASSERT_FALSE(pair.server_close_code().has_value());
  }
  EXPECT_EQ(pair.server()->path().remote, pair.client_addr());
  EXPECT_EQ(pair.server()->stats().migrations, 0u);
  EXPECT_LT(live_heap_bytes() - heap_before, 1 << 20);
}

}  // namespace
}  // namespace quic::hostile

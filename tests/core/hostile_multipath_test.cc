// Multipath (draft-ietf-quic-multipath-21) rules a malicious peer can break, after a real
// handshake that negotiated multipath (initial_max_path_id 7 on both sides).
#include <gtest/gtest.h>

#include "hostile_fixture.h"

namespace quic::hostile {
namespace {

PairOptions multipath_options() {
  PairOptions o;
  o.client.multipath = o.server.multipath = true;
  return o;
}

class HostileMultipath : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pair.handshake());
    ASSERT_TRUE(pair.server()->multipath());
    ASSERT_TRUE(pair.client().multipath());
  }
  void expect_closed_with(uint64_t code) {
    auto c = pair.server_close_code();
    ASSERT_TRUE(c.has_value()) << "server did not close";
    EXPECT_EQ(*c, code) << pair.server()->close_error()->reason;
  }
  Pair pair{multipath_options()};
};

// §4: a path ID above the announced maximum is a PROTOCOL_VIOLATION, for every path frame.
TEST_F(HostileMultipath, PathAbandonAboveMaxPathIdIsProtocolViolation) {
  pair.inject_frames({PathAbandonFrame{1000, 0}});
  expect_closed_with(err::kProtocolViolation);
}

TEST_F(HostileMultipath, PathNewConnectionIdAboveMaxPathIdIsProtocolViolation) {
  NewConnectionIdFrame f;
  f.path_frame = true;
  f.path_id = 8;
  f.sequence = 0;
  const uint8_t cid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  f.cid = Bytes(cid, 8);
  pair.inject_frames({f});
  expect_closed_with(err::kProtocolViolation);
}

TEST_F(HostileMultipath, PathAckAboveMaxPathIdIsProtocolViolation) {
  AckRange r{0, 0};
  pair.inject_frames({AckFrame::from_ranges(9, true, std::span<const AckRange>(&r, 1), 0, {})});
  expect_closed_with(err::kProtocolViolation);
}

// §4.6: MAX_PATH_ID must not lower the limit.
TEST_F(HostileMultipath, MaxPathIdDecreaseIsProtocolViolation) {
  pair.inject_frames({MaxPathIdFrame{3}});
  expect_closed_with(err::kProtocolViolation);
}

// §4: frames for a path ID within the limit that has no state are ignored.
TEST_F(HostileMultipath, PathAckForUnopenedPathIsIgnored) {
  AckRange r{0, 5};
  pair.inject_frames({AckFrame::from_ranges(3, true, std::span<const AckRange>(&r, 1), 0, {})});
  pair.run();
  EXPECT_FALSE(pair.server_close_code().has_value());
}

// §3.3: PATH_STATUS_* share one sequence space; older news is ignored.
TEST_F(HostileMultipath, StalePathStatusIsIgnored) {
  pair.inject_frames({PathStatusFrame{true, 0, 5}});
  ASSERT_NE(pair.server()->find_path(0), nullptr);
  EXPECT_TRUE(pair.server()->find_path(0)->role.peer_backup());
  pair.inject_frames({PathStatusFrame{false, 0, 4}});
  EXPECT_TRUE(pair.server()->find_path(0)->role.peer_backup());
  pair.inject_frames({PathStatusFrame{false, 0, 6}});
  EXPECT_FALSE(pair.server()->find_path(0)->role.peer_backup());
  EXPECT_FALSE(pair.server_close_code().has_value());
}

// §3.4: a PATH_ABANDON for the only open path: the receiver closes the connection.
TEST_F(HostileMultipath, AbandoningTheOnlyPathClosesTheConnection) {
  pair.inject_frames({PathAbandonFrame{0, err::kApplicationAbandonPath}});
  expect_closed_with(err::kNoError);
}

// The path-ID-carrying frames of every 1-RTT packet the server sent.
struct PathFrameUse {
  size_t path_acks = 0, plain_acks = 0, path_ncids = 0, plain_ncids = 0;
};
PathFrameUse server_frame_use(Pair& pair) {
  PathFrameUse u;
  for (const Datagram& d : pair.server_sent()) {
    for (const PlainPacket& p : decode_datagram(d, pair.client_cid().len)) {
      if (p.long_header) continue;
      for (const Frame& f : decode_frames(p.payload)) {
        if (const auto* a = std::get_if<AckFrame>(&f)) ++(a->path_ack ? u.path_acks : u.plain_acks);
        if (const auto* n = std::get_if<NewConnectionIdFrame>(&f)) {
          ++(n->path_frame ? u.path_ncids : u.plain_ncids);
        }
      }
    }
  }
  return u;
}

// multipath-21 §2.3 and §3.2: once multipath is negotiated, path 0 too is acknowledged with
// PATH_ACK and given CIDs with PATH_NEW_CONNECTION_ID ("SHOULD"); plain ACK and
// NEW_CONNECTION_ID are still accepted (the client below acknowledges with either).
TEST_F(HostileMultipath, PathZeroUsesPathAckAndPathNewConnectionId) {
  // (The server's answer is only recorded: it acknowledges a packet number the real client
  // never used.)
  pair.inject_frames({PingFrame{}});
  (void)pair.poll_server();
  PathFrameUse u = server_frame_use(pair);
  EXPECT_GT(u.path_acks, 0u);
  EXPECT_EQ(u.plain_acks, 0u);
  EXPECT_GT(u.path_ncids, 0u);
  EXPECT_EQ(u.plain_ncids, 0u);
  EXPECT_FALSE(pair.server_close_code().has_value()) << pair.server()->close_error()->reason;
}

TEST(HostileNoMultipath, PathZeroUsesPlainAckAndNewConnectionIdWithoutMultipath) {
  Pair pair;
  ASSERT_TRUE(pair.handshake());
  pair.inject_frames({PingFrame{}});
  (void)pair.poll_server();
  PathFrameUse u = server_frame_use(pair);
  EXPECT_GT(u.plain_acks, 0u);
  EXPECT_EQ(u.path_acks, 0u);
  EXPECT_GT(u.plain_ncids, 0u);
  EXPECT_EQ(u.path_ncids, 0u);
}

// Without multipath negotiated, every multipath frame is a PROTOCOL_VIOLATION (§2).
TEST(HostileNoMultipath, PathFramesWithoutNegotiationAreProtocolViolation) {
  for (int which = 0; which < 3; ++which) {
    Pair pair;
    ASSERT_TRUE(pair.handshake());
    AckRange r{0, 0};
    switch (which) {
      case 0: pair.inject_frames({MaxPathIdFrame{4}}); break;
      case 1: pair.inject_frames({PathStatusFrame{true, 0, 1}}); break;
      default:
        pair.inject_frames(
            {AckFrame::from_ranges(0, true, std::span<const AckRange>(&r, 1), 0, {})});
    }
    auto c = pair.server_close_code();
    ASSERT_TRUE(c.has_value()) << which;
    EXPECT_EQ(*c, err::kProtocolViolation) << which;
  }
}

}  // namespace
}  // namespace quic::hostile

namespace quic::hostile {
namespace {

// A peer retiring every CID we issue as fast as we issue them: each retired CID stays routed
// for 3 PTO (packets sent with it may still be in flight), but that list is bounded.
TEST_F(HostileMultipath, RetireFloodKeepsRetiredRoutesBounded) {
  // From sequence 1: the injected packets use the handshake CID (sequence 0).
  for (uint64_t seq = 1; seq <= 200; ++seq) {
    pair.inject_frames({RetireConnectionIdFrame{0, false, seq}});
    ASSERT_FALSE(pair.server_close_code().has_value())
        << seq << ": " << pair.server()->close_error()->reason;
  }
  EXPECT_EQ(pair.server()->stats().local_cids_retired, 200u);
  EXPECT_LE(pair.server()->local_cids().size(), 8u + 32u + 16u);
}

// Rotation is refused, not improvised, when it cannot be done.
TEST_F(HostileMultipath, CidRotationNeedsASpareAndAnOpenPath) {
  EXPECT_FALSE(pair.client().rotate_peer_cid(5).has_value());   // no such path
  EXPECT_FALSE(pair.client().retire_local_cids(5).has_value());
  ASSERT_TRUE(pair.client().rotate_peer_cid(0).has_value());    // the server issued spares
  ASSERT_TRUE(pair.client().retire_local_cids(0).has_value());
  pair.run();
  EXPECT_GE(pair.client().stats().local_cids_retired, 1u);      // the server moved off them
  EXPECT_EQ(pair.server()->stats().local_cids_retired, 1u);
}

}  // namespace
}  // namespace quic::hostile

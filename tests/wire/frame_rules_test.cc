// Per-frame-type rules: RFC 9000 §12.4 Table 3, §9.1, §13.2, RFC 9002 §2 and the extensions.
#include "wire/frame_rules.h"

#include <gtest/gtest.h>

#include "wire/frame.h"

namespace quic {
namespace {

namespace ft = frame_type;
using K = PacketKind;

// "IH01" style string for a type, to compare against Table 3 directly.
std::string pkts(uint64_t type) {
  std::string s;
  s += frame_allowed_in(type, K::kInitial) ? 'I' : '_';
  s += frame_allowed_in(type, K::kHandshake) ? 'H' : '_';
  s += frame_allowed_in(type, K::kZeroRtt) ? '0' : '_';
  s += frame_allowed_in(type, K::kOneRtt) ? '1' : '_';
  return s;
}

TEST(FrameRules, PacketTypesMatchRfc9000Table3) {
  EXPECT_EQ(pkts(ft::kPadding), "IH01");
  EXPECT_EQ(pkts(ft::kPing), "IH01");
  EXPECT_EQ(pkts(ft::kAck), "IH_1");
  EXPECT_EQ(pkts(ft::kAckEcn), "IH_1");
  EXPECT_EQ(pkts(ft::kResetStream), "__01");
  EXPECT_EQ(pkts(ft::kStopSending), "__01");
  EXPECT_EQ(pkts(ft::kCrypto), "IH_1");
  EXPECT_EQ(pkts(ft::kNewToken), "___1");
  for (uint64_t t = ft::kStream; t <= ft::kStreamMax; ++t) EXPECT_EQ(pkts(t), "__01");
  for (uint64_t t = ft::kMaxData; t <= ft::kRetireConnectionId; ++t) EXPECT_EQ(pkts(t), "__01");
  EXPECT_EQ(pkts(ft::kPathChallenge), "__01");
  EXPECT_EQ(pkts(ft::kPathResponse), "___1");
  // "ih01": only the transport CONNECTION_CLOSE (0x1c) in Initial/Handshake.
  EXPECT_EQ(pkts(ft::kConnectionClose), "IH01");
  EXPECT_EQ(pkts(ft::kConnectionCloseApp), "__01");
  EXPECT_EQ(pkts(ft::kHandshakeDone), "___1");
}

TEST(FrameRules, ExtensionFramePacketTypes) {
  EXPECT_EQ(pkts(ft::kDatagram), "__01");  // RFC 9221 §4
  EXPECT_EQ(pkts(ft::kDatagramLen), "__01");
  EXPECT_EQ(pkts(ft::kAckFrequency), "___1");  // ack-frequency: not in 0-RTT
  EXPECT_EQ(pkts(ft::kImmediateAck), "___1");
  EXPECT_EQ(pkts(ft::kResetStreamAt), "__01");
  // multipath-21 §4: every multipath frame only in 1-RTT.
  for (uint64_t t :
       {ft::kPathAck, ft::kPathAckEcn, ft::kPathAbandon, ft::kPathStatusBackup,
        ft::kPathStatusAvailable, ft::kPathNewConnectionId, ft::kPathRetireConnectionId,
        ft::kMaxPathId, ft::kPathsBlocked, ft::kPathCidsBlocked}) {
    EXPECT_EQ(pkts(t), "___1") << frame_type_name(t);
    EXPECT_EQ(frame_extension(t), FrameExtension::kMultipath);
  }
  EXPECT_EQ(pkts(0x20), "____");  // unknown
}

TEST(FrameRules, AckElicitingExcludesAckPaddingAndClose) {
  for (uint64_t t : {ft::kAck, ft::kAckEcn, ft::kPathAck, ft::kPathAckEcn, ft::kPadding,
                     ft::kConnectionClose, ft::kConnectionCloseApp}) {
    EXPECT_FALSE(is_ack_eliciting(t)) << frame_type_name(t);
  }
  for (uint64_t t : {ft::kPing, ft::kCrypto, ft::kStream, ft::kStreamMax, ft::kHandshakeDone,
                     ft::kDatagram, ft::kImmediateAck, ft::kAckFrequency, ft::kPathAbandon,
                     ft::kPathStatusBackup, ft::kMaxPathId, ft::kNewConnectionId}) {
    EXPECT_TRUE(is_ack_eliciting(t)) << frame_type_name(t);
  }
}

TEST(FrameRules, ProbingFramesAreRfc9000Section9_1) {
  for (uint64_t t : {ft::kPathChallenge, ft::kPathResponse, ft::kNewConnectionId, ft::kPadding}) {
    EXPECT_TRUE(is_probing(t)) << frame_type_name(t);
  }
  for (uint64_t t : {ft::kPing, ft::kAck, ft::kStream, ft::kPathNewConnectionId, ft::kDatagram}) {
    EXPECT_FALSE(is_probing(t)) << frame_type_name(t);
  }
}

TEST(FrameRules, InFlightExcludesOnlyAcksAndClose) {
  for (uint64_t t : {ft::kAck, ft::kAckEcn, ft::kPathAck, ft::kPathAckEcn, ft::kConnectionClose,
                     ft::kConnectionCloseApp}) {
    EXPECT_FALSE(counts_in_flight(t)) << frame_type_name(t);
  }
  EXPECT_TRUE(counts_in_flight(ft::kPadding));  // RFC 9002 §2: padding counts in flight
  EXPECT_TRUE(counts_in_flight(ft::kPing));
  EXPECT_TRUE(counts_in_flight(ft::kStream));
}

TEST(FrameRules, ExtensionOfEachFrameType) {
  EXPECT_EQ(frame_extension(ft::kStream), FrameExtension::kNone);
  EXPECT_EQ(frame_extension(ft::kHandshakeDone), FrameExtension::kNone);
  EXPECT_EQ(frame_extension(ft::kDatagram), FrameExtension::kDatagram);
  EXPECT_EQ(frame_extension(ft::kDatagramLen), FrameExtension::kDatagram);
  EXPECT_EQ(frame_extension(ft::kAckFrequency), FrameExtension::kAckFrequency);
  EXPECT_EQ(frame_extension(ft::kImmediateAck), FrameExtension::kAckFrequency);
  EXPECT_EQ(frame_extension(ft::kResetStreamAt), FrameExtension::kResetStreamAt);
}

}  // namespace
}  // namespace quic

#include "wire/frame_rules.h"

#include "wire/frame.h"

namespace quic {
namespace {

namespace ft = frame_type;

// Bits of the "Pkts" column of RFC 9000 §12.4 Table 3.
enum : unsigned { kI = 1, kH = 2, k0 = 4, k1 = 8 };

unsigned kind_bit(PacketKind kind) {
  switch (kind) {
    case PacketKind::kInitial:
      return kI;
    case PacketKind::kHandshake:
      return kH;
    case PacketKind::kZeroRtt:
      return k0;
    case PacketKind::kOneRtt:
      return k1;
  }
  return 0;
}

// 0 for unknown types.
unsigned allowed_kinds(uint64_t type) {
  if (type >= ft::kStream && type <= ft::kStreamMax) return k0 | k1;
  switch (type) {
    case ft::kPadding:
    case ft::kPing:
    case ft::kConnectionClose:  // "ih01": only type 0x1c in Initial/Handshake
      return kI | kH | k0 | k1;
    case ft::kAck:
    case ft::kAckEcn:
    case ft::kCrypto:
      return kI | kH | k1;
    case ft::kResetStream:
    case ft::kStopSending:
    case ft::kMaxData:
    case ft::kMaxStreamData:
    case ft::kMaxStreamsBidi:
    case ft::kMaxStreamsUni:
    case ft::kDataBlocked:
    case ft::kStreamDataBlocked:
    case ft::kStreamsBlockedBidi:
    case ft::kStreamsBlockedUni:
    case ft::kNewConnectionId:
    case ft::kRetireConnectionId:
    case ft::kPathChallenge:
    case ft::kConnectionCloseApp:
    case ft::kDatagram:  // RFC 9221 §4: 0-RTT or 1-RTT
    case ft::kDatagramLen:
    case ft::kResetStreamAt:  // like RESET_STREAM; its transport parameter is remembered for 0-RTT
      return k0 | k1;
    case ft::kNewToken:
    case ft::kPathResponse:
    case ft::kHandshakeDone:
    // ack-frequency §3: min_ack_delay is not remembered, so neither frame can be in 0-RTT.
    case ft::kAckFrequency:
    case ft::kImmediateAck:
    // multipath-21 §4: all multipath frames only in 1-RTT packets.
    case ft::kPathAck:
    case ft::kPathAckEcn:
    case ft::kPathAbandon:
    case ft::kPathStatusBackup:
    case ft::kPathStatusAvailable:
    case ft::kPathNewConnectionId:
    case ft::kPathRetireConnectionId:
    case ft::kMaxPathId:
    case ft::kPathsBlocked:
    case ft::kPathCidsBlocked:
      return k1;
    default:
      return 0;
  }
}

bool is_ack_type(uint64_t type) {
  return type == ft::kAck || type == ft::kAckEcn || type == ft::kPathAck || type == ft::kPathAckEcn;
}

bool is_close_type(uint64_t type) {
  return type == ft::kConnectionClose || type == ft::kConnectionCloseApp;
}

}  // namespace

bool frame_allowed_in(uint64_t type, PacketKind kind) {
  return (allowed_kinds(type) & kind_bit(kind)) != 0;
}

bool is_ack_eliciting(uint64_t type) {
  return !is_ack_type(type) && !is_close_type(type) && type != ft::kPadding;
}

bool is_probing(uint64_t type) {
  return type == ft::kPathChallenge || type == ft::kPathResponse || type == ft::kNewConnectionId ||
         type == ft::kPadding;
}

bool counts_in_flight(uint64_t type) {
  return !is_ack_type(type) && !is_close_type(type);
}

FrameExtension frame_extension(uint64_t type) {
  switch (type) {
    case ft::kDatagram:
    case ft::kDatagramLen:
      return FrameExtension::kDatagram;
    case ft::kAckFrequency:
    case ft::kImmediateAck:
      return FrameExtension::kAckFrequency;
    case ft::kResetStreamAt:
      return FrameExtension::kResetStreamAt;
    case ft::kPathAck:
    case ft::kPathAckEcn:
    case ft::kPathAbandon:
    case ft::kPathStatusBackup:
    case ft::kPathStatusAvailable:
    case ft::kPathNewConnectionId:
    case ft::kPathRetireConnectionId:
    case ft::kMaxPathId:
    case ft::kPathsBlocked:
    case ft::kPathCidsBlocked:
      return FrameExtension::kMultipath;
    default:
      return FrameExtension::kNone;
  }
}

}  // namespace quic

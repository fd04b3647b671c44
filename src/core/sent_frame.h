// What a sent packet carried, kept until the packet is acknowledged or declared lost, so the
// information (not the packet) can be retransmitted (RFC 9000 §13.3).
#pragma once

#include <cstdint>

#include "common/small_vec.h"
#include "core/stream_map.h"

namespace quic {

struct SentFrame {
  enum class Kind : uint8_t {
    kAck,                 // a: largest acknowledged (for ack-of-ack trimming); offset: path
    kPathAbandon,         // a: path ID
    kPathStatus,          // a: path ID, offset: status sequence number
    kMaxPathId,           // a: the limit sent
    kCrypto,              // offset, length
    kStream,              // a: stream id; offset, length, fin
    kControl,             // control: a stream/connection flow-control or lifecycle frame
    kHandshakeDone,
    kNewToken,
    kNewConnectionId,     // a: sequence number, offset: path ID
    kRetireConnectionId,  // a: sequence number, offset: path ID
    kMtuProbe,            // length: probed datagram size
    kDatagram,            // a: sequence number of the kept copy, offset: path ID, length
    kPing,
    kAckFrequency,        // a: sequence number, offset: path ID, length: delay (us)
  };
  Kind kind;
  bool fin = false;
  uint64_t a = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  ControlFrame control{};
};

// What one packet carried: the frames part of its record in the loss detector
// (recovery/loss_detector.h). Two in place cover the common packets (ACK + STREAM, or one
// control frame and STREAM) without a heap allocation.
using SentFrames = SmallVec<SentFrame, 2>;

}  // namespace quic

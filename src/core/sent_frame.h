// What a sent packet carried, kept until the packet is acknowledged or declared lost, so the
// information (not the packet) can be retransmitted (RFC 9000 §13.3). One record type per
// kind of retransmittable frame; what happens to each when its packet is acknowledged or lost
// is written next to the other in conn_sent.cc. Adding a frame: a record here, its two
// handlers there, and its writer pushing the record.
#pragma once

#include <cstdint>
#include <variant>

#include "common/small_vec.h"
#include "core/stream_map.h"

namespace quic {
namespace sent {

struct Ack {  // ACK or PATH_ACK: its largest, for ack-of-ack trimming (RFC 9000 §13.2.4)
  uint64_t largest = 0;
  uint64_t path = 0;
};
struct Crypto {
  uint64_t offset = 0, length = 0;
};
struct Stream {
  uint64_t id = 0, offset = 0, length = 0;
  bool fin = false;
};
struct Control {  // a stream/connection flow-control or lifecycle frame
  ControlFrame frame;
};
struct HandshakeDone {};
struct NewToken {};
struct NewConnectionId {  // PATH_NEW_CONNECTION_ID with multipath
  uint64_t seq = 0, path = 0;
};
struct RetireConnectionId {
  uint64_t seq = 0, path = 0;
};
struct PathAbandon {
  uint64_t path = 0;
};
struct PathStatus {
  uint64_t path = 0, seq = 0;
};
struct MaxPathId {
  uint64_t limit = 0;
};
struct MtuProbe {  // the packet was a PMTU probe of this datagram size
  uint64_t path = 0;
  uint16_t size = 0;
};
struct Datagram {  // copy: the kept copy's sequence number (kCopyHandled once re-sent)
  uint64_t copy = 0, path = 0, length = 0;
};
struct AckFrequency {
  uint64_t seq = 0, path = 0, delay_us = 0;
};

}  // namespace sent

using SentFrame =
    std::variant<sent::Ack, sent::Crypto, sent::Stream, sent::Control, sent::HandshakeDone,
                 sent::NewToken, sent::NewConnectionId, sent::RetireConnectionId,
                 sent::PathAbandon, sent::PathStatus, sent::MaxPathId, sent::MtuProbe,
                 sent::Datagram, sent::AckFrequency>;

// What one packet carried: the frames part of its record in the loss detector
// (recovery/loss_detector.h). Two in place cover the common packets (ACK + STREAM, or one
// control frame and STREAM) without a heap allocation.
using SentFrames = SmallVec<SentFrame, 2>;

}  // namespace quic

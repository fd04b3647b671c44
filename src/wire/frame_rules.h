// Per-frame-type rules the connection applies around the codec: which packet types may carry a
// frame (RFC 9000 §12.4 Table 3, RFC 9221 §4, draft-ietf-quic-ack-frequency §3,
// draft-ietf-quic-multipath-21 §4), and how a frame counts for acknowledgement (§13.2),
// probing (§9.1) and bytes in flight (RFC 9002 §2).
#pragma once

#include <cstdint>

namespace quic {

enum class PacketKind { kInitial, kZeroRtt, kHandshake, kOneRtt };

// False means: receipt is a connection error of type PROTOCOL_VIOLATION (§12.4). Unknown types
// are never allowed.
bool frame_allowed_in(uint64_t type, PacketKind kind);

// All frames except ACK/ACK_ECN, PATH_ACK/PATH_ACK_ECN, PADDING and CONNECTION_CLOSE.
bool is_ack_eliciting(uint64_t type);

// PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and PADDING (RFC 9000 §9.1).
bool is_probing(uint64_t type);

// All frames except ACK/ACK_ECN, PATH_ACK/PATH_ACK_ECN and CONNECTION_CLOSE (RFC 9002 §2).
bool counts_in_flight(uint64_t type);

// The extension that must have been negotiated (by transport parameter) before a peer may send
// this frame type. Receipt without it is a connection error: PROTOCOL_VIOLATION for DATAGRAM
// (RFC 9221 §3) and the multipath frames (multipath-21 §2); the connection picks the code.
enum class FrameExtension { kNone, kDatagram, kAckFrequency, kResetStreamAt, kMultipath };
FrameExtension frame_extension(uint64_t type);

}  // namespace quic

// qlog representation of QUIC frames and packet types (draft-ietf-quic-qlog-quic-events,
// "QUIC Frames" and "PacketType"; field names as in the 0.3 schema: STREAM/CRYPTO log offset and
// length, ACK logs acked_ranges and ack_delay in ms). Multipath frames
// (draft-ietf-quic-multipath-21) use the same style: lower-case frame name plus path_id.
#pragma once

#include <cstddef>
#include <cstdint>

#include "obs/json_out.h"
#include "wire/frame_rules.h"
#include "wire/varint.h"

namespace obs {

// A peer's ACK may carry hundreds of ranges; a trace only needs the newest ones. Ranges beyond
// this are left out and the frame says "ranges_truncated": true.
inline constexpr size_t kMaxLoggedAckRanges = 64;
// Frames logged per packet (PADDING runs count as one). A payload of 1-byte PINGs could hold
// over a thousand; the rest are summarised by the caller.
inline constexpr size_t kMaxLoggedFrames = 256;

// "initial", "0RTT", "handshake", "1RTT".
const char* packet_type_name(quic::PacketKind kind);

struct FramesSummary {
  size_t logged = 0;
  bool truncated = false;  // kMaxLoggedFrames reached
  bool malformed = false;  // decode_frame failed; an "unknown" frame ends the list
};

// Writes the payload's frames as a JSON array (the caller has written the key). The payload is
// the plaintext of a packet we built or accepted, but a dropped or fuzzed payload may be
// malformed: decoding stops at the first error. ack_delay_exponent converts ACK Delay to ms
// (the sender's exponent: ours for sent packets, the peer's for received ones).
FramesSummary write_frames(JsonOut& j, quic::Bytes payload, uint64_t ack_delay_exponent);

}  // namespace obs

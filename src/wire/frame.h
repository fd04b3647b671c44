// QUIC frame codec: every frame of RFC 9000 §19, DATAGRAM (RFC 9221 §4), ACK_FREQUENCY and
// IMMEDIATE_ACK (draft-ietf-quic-ack-frequency), RESET_STREAM_AT
// (draft-ietf-quic-reliable-stream-reset) and the multipath frames of
// draft-ietf-quic-multipath-21 §4.
//
// Decoding never allocates on success: every variable-length field (stream data, tokens,
// CIDs, reason phrases, ACK ranges) stays a view into the caller's packet buffer, so a frame
// must not outlive the buffer it was decoded from. Decoding checks only what a frame can say
// about itself (lengths, ranges, limits of §19); anything that needs connection state
// (negotiated extensions, stream limits, which packet type carried it) is the caller's job;
// see frame_rules.h for the per-packet-type rules.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <variant>

#include "common/error.h"
#include "wire/varint.h"

namespace quic {

namespace frame_type {
inline constexpr uint64_t kPadding = 0x00;
inline constexpr uint64_t kPing = 0x01;
inline constexpr uint64_t kAck = 0x02;
inline constexpr uint64_t kAckEcn = 0x03;
inline constexpr uint64_t kResetStream = 0x04;
inline constexpr uint64_t kStopSending = 0x05;
inline constexpr uint64_t kCrypto = 0x06;
inline constexpr uint64_t kNewToken = 0x07;
inline constexpr uint64_t kStream = 0x08;  // 0x08..0x0f, low bits below
inline constexpr uint64_t kStreamMax = 0x0f;
inline constexpr uint64_t kStreamFinBit = 0x01;
inline constexpr uint64_t kStreamLenBit = 0x02;
inline constexpr uint64_t kStreamOffBit = 0x04;
inline constexpr uint64_t kMaxData = 0x10;
inline constexpr uint64_t kMaxStreamData = 0x11;
inline constexpr uint64_t kMaxStreamsBidi = 0x12;
inline constexpr uint64_t kMaxStreamsUni = 0x13;
inline constexpr uint64_t kDataBlocked = 0x14;
inline constexpr uint64_t kStreamDataBlocked = 0x15;
inline constexpr uint64_t kStreamsBlockedBidi = 0x16;
inline constexpr uint64_t kStreamsBlockedUni = 0x17;
inline constexpr uint64_t kNewConnectionId = 0x18;
inline constexpr uint64_t kRetireConnectionId = 0x19;
inline constexpr uint64_t kPathChallenge = 0x1a;
inline constexpr uint64_t kPathResponse = 0x1b;
inline constexpr uint64_t kConnectionClose = 0x1c;
inline constexpr uint64_t kConnectionCloseApp = 0x1d;
inline constexpr uint64_t kHandshakeDone = 0x1e;
inline constexpr uint64_t kImmediateAck = 0x1f;   // draft-ietf-quic-ack-frequency
inline constexpr uint64_t kResetStreamAt = 0x24;  // draft-ietf-quic-reliable-stream-reset
inline constexpr uint64_t kDatagram = 0x30;       // RFC 9221: no length, runs to packet end
inline constexpr uint64_t kDatagramLen = 0x31;    // RFC 9221: with length
inline constexpr uint64_t kAckFrequency = 0xaf;   // draft-ietf-quic-ack-frequency
inline constexpr uint64_t kPathAck = 0x3e;        // draft-ietf-quic-multipath-21 §4.1
inline constexpr uint64_t kPathAckEcn = 0x3f;
inline constexpr uint64_t kPathAbandon = 0x3e75;
inline constexpr uint64_t kPathStatusBackup = 0x3e76;
inline constexpr uint64_t kPathStatusAvailable = 0x3e77;
inline constexpr uint64_t kPathNewConnectionId = 0x3e78;
inline constexpr uint64_t kPathRetireConnectionId = 0x3e79;
inline constexpr uint64_t kMaxPathId = 0x3e7a;
inline constexpr uint64_t kPathsBlocked = 0x3e7b;
inline constexpr uint64_t kPathCidsBlocked = 0x3e7c;
}  // namespace frame_type

// Limits the decoder enforces on peer-controlled fields.
namespace frame_limits {
inline constexpr size_t kMinCidLength = 1;   // RFC 9000 §19.15: 0 is invalid in NEW_CONNECTION_ID
inline constexpr size_t kMaxCidLength = 20;  // RFC 9000 §19.15
inline constexpr size_t kResetTokenLength = 16;
inline constexpr size_t kPathDataLength = 8;  // PATH_CHALLENGE / PATH_RESPONSE
// RFC 9000 §19.11/§19.14: stream counts above 2^60 cannot be expressed as stream IDs.
inline constexpr uint64_t kMaxStreamCount = uint64_t{1} << 60;
// RFC 9000 §19.6/§19.8: offset + length must stay addressable, i.e. <= 2^62-1.
inline constexpr uint64_t kMaxStreamOffset = kMaxVarint;
// draft-ietf-quic-multipath-21 §4.6: path IDs never exceed 2^32-1 (nonce construction), so a
// larger value is above any MAX_PATH_ID and therefore a PROTOCOL_VIOLATION.
inline constexpr uint64_t kMaxPathId = (uint64_t{1} << 32) - 1;
// Each additional ACK range is a Gap and a Length varint, at least 2 bytes: a range count
// larger than remaining/2 cannot be genuine and is rejected before looping over it.
inline constexpr size_t kMinAckRangeBytes = 2;
}  // namespace frame_limits

struct AckRange {
  uint64_t smallest = 0;  // inclusive
  uint64_t largest = 0;   // inclusive
  friend bool operator==(const AckRange&, const AckRange&) = default;
};

struct EcnCounts {
  uint64_t ect0 = 0, ect1 = 0, ce = 0;
  friend bool operator==(const EcnCounts&, const EcnCounts&) = default;
};

// ACK / ACK_ECN / PATH_ACK / PATH_ACK_ECN (RFC 9000 §19.3, multipath-21 §4.1).
// A decoded frame keeps its additional ranges as a view of the encoded Gap/Length pairs, already
// validated by decode_frame (no underflow); ranges() walks them in descending order. A frame built
// for sending with from_ranges() instead refers to the caller's range array.
struct AckFrame {
  uint64_t path_id = 0;
  bool path_ack = false;  // PATH_ACK carries a path id; a plain ACK is path 0
  uint64_t largest = 0;
  uint64_t ack_delay = 0;  // as encoded (before the ack_delay_exponent)
  std::optional<EcnCounts> ecn;
  uint64_t first_range = 0;                 // First ACK Range field: largest - smallest of range 0
  uint64_t extra_range_count = 0;           // ACK Range Count field
  Bytes encoded_ranges;                     // decoded frames: the Gap/ACK Range Length pairs
  std::span<const AckRange> source_ranges;  // from_ranges(): descending, caller-owned

  class RangeIter {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = AckRange;
    using difference_type = std::ptrdiff_t;
    using reference = AckRange;
    using pointer = void;
    RangeIter() = default;
    AckRange operator*() const { return cur_; }
    RangeIter& operator++();
    RangeIter operator++(int) {
      RangeIter t = *this;
      ++*this;
      return t;
    }
    bool operator==(std::default_sentinel_t) const { return left_ == 0; }
    // Any two exhausted iterators compare equal; this makes RangeView a common range.
    bool operator==(const RangeIter& o) const { return left_ == o.left_; }

   private:
    friend struct AckFrame;
    AckRange cur_;
    uint64_t left_ = 0;                   // ranges not yet consumed, including cur_
    Reader reader_;                       // decoded mode
    const AckRange* next_src_ = nullptr;  // source mode
  };
  struct RangeView {
    RangeIter first;
    RangeIter begin() const { return first; }
    RangeIter end() const { return {}; }
  };

  RangeView ranges() const;
  size_t range_count() const { return static_cast<size_t>(extra_range_count) + 1; }
  uint64_t smallest_acked() const;  // smallest packet number of the last range

  // Builds a frame for encode_frame/encoded_size from ranges in descending order. The ranges
  // must be non-empty, disjoint and non-adjacent (a gap of at least one packet); otherwise
  // encoded_size() returns 0 and encoding fails.
  static AckFrame from_ranges(uint64_t path_id, bool path_ack,
                              std::span<const AckRange> ranges_desc, uint64_t ack_delay_encoded,
                              const std::optional<EcnCounts>& ecn);

  friend bool operator==(const AckFrame& a, const AckFrame& b);
};

struct PaddingFrame {
  size_t length = 1;  // consecutive PADDING bytes, coalesced by the decoder
  friend bool operator==(const PaddingFrame&, const PaddingFrame&) = default;
};
struct PingFrame {
  friend bool operator==(const PingFrame&, const PingFrame&) = default;
};
struct ResetStreamFrame {
  uint64_t stream_id = 0, error_code = 0, final_size = 0;
  friend bool operator==(const ResetStreamFrame&, const ResetStreamFrame&) = default;
};
struct StopSendingFrame {
  uint64_t stream_id = 0, error_code = 0;
  friend bool operator==(const StopSendingFrame&, const StopSendingFrame&) = default;
};
struct CryptoFrame {
  uint64_t offset = 0;
  Bytes data;
  friend bool operator==(const CryptoFrame& a, const CryptoFrame& b);
};
struct NewTokenFrame {
  Bytes token;
  friend bool operator==(const NewTokenFrame& a, const NewTokenFrame& b);
};
struct StreamFrame {
  uint64_t stream_id = 0;
  uint64_t offset = 0;
  Bytes data;  // a view
  bool fin = false;
  // false: no Length field, the data runs to the end of the packet (must then be the last
  // frame). Encoding sets the OFF bit only when offset != 0.
  bool explicit_length = true;
  friend bool operator==(const StreamFrame& a, const StreamFrame& b);
};
struct MaxDataFrame {
  uint64_t max = 0;
  friend bool operator==(const MaxDataFrame&, const MaxDataFrame&) = default;
};
struct MaxStreamDataFrame {
  uint64_t stream_id = 0, max = 0;
  friend bool operator==(const MaxStreamDataFrame&, const MaxStreamDataFrame&) = default;
};
struct MaxStreamsFrame {
  bool bidi = true;
  uint64_t max = 0;
  friend bool operator==(const MaxStreamsFrame&, const MaxStreamsFrame&) = default;
};
struct DataBlockedFrame {
  uint64_t limit = 0;
  friend bool operator==(const DataBlockedFrame&, const DataBlockedFrame&) = default;
};
struct StreamDataBlockedFrame {
  uint64_t stream_id = 0, limit = 0;
  friend bool operator==(const StreamDataBlockedFrame&, const StreamDataBlockedFrame&) = default;
};
struct StreamsBlockedFrame {
  bool bidi = true;
  uint64_t limit = 0;
  friend bool operator==(const StreamsBlockedFrame&, const StreamsBlockedFrame&) = default;
};
// NEW_CONNECTION_ID, or PATH_NEW_CONNECTION_ID when path_frame (multipath-21 §4.4).
struct NewConnectionIdFrame {
  uint64_t path_id = 0;
  bool path_frame = false;
  uint64_t sequence = 0;
  uint64_t retire_prior_to = 0;
  Bytes cid;
  std::array<uint8_t, frame_limits::kResetTokenLength> reset_token{};
  friend bool operator==(const NewConnectionIdFrame& a, const NewConnectionIdFrame& b);
};
// RETIRE_CONNECTION_ID, or PATH_RETIRE_CONNECTION_ID when path_frame (multipath-21 §4.5).
struct RetireConnectionIdFrame {
  uint64_t path_id = 0;
  bool path_frame = false;
  uint64_t sequence = 0;
  friend bool operator==(const RetireConnectionIdFrame&, const RetireConnectionIdFrame&) = default;
};
struct PathChallengeFrame {
  std::array<uint8_t, frame_limits::kPathDataLength> data{};
  friend bool operator==(const PathChallengeFrame&, const PathChallengeFrame&) = default;
};
struct PathResponseFrame {
  std::array<uint8_t, frame_limits::kPathDataLength> data{};
  friend bool operator==(const PathResponseFrame&, const PathResponseFrame&) = default;
};
struct ConnectionCloseFrame {
  bool application = false;  // 0x1d: no Frame Type field
  uint64_t error_code = 0;
  uint64_t frame_type = 0;  // transport close only
  Bytes reason;
  friend bool operator==(const ConnectionCloseFrame& a, const ConnectionCloseFrame& b);
};
struct HandshakeDoneFrame {
  friend bool operator==(const HandshakeDoneFrame&, const HandshakeDoneFrame&) = default;
};
struct DatagramFrame {
  Bytes data;
  bool explicit_length = true;  // false: type 0x30, runs to the end of the packet
  friend bool operator==(const DatagramFrame& a, const DatagramFrame& b);
};
struct AckFrequencyFrame {
  uint64_t sequence = 0;
  uint64_t ack_eliciting_threshold = 0;
  uint64_t request_max_ack_delay = 0;  // microseconds
  uint64_t reordering_threshold = 0;
  friend bool operator==(const AckFrequencyFrame&, const AckFrequencyFrame&) = default;
};
struct ImmediateAckFrame {
  friend bool operator==(const ImmediateAckFrame&, const ImmediateAckFrame&) = default;
};
struct ResetStreamAtFrame {
  uint64_t stream_id = 0, error_code = 0, final_size = 0, reliable_size = 0;
  friend bool operator==(const ResetStreamAtFrame&, const ResetStreamAtFrame&) = default;
};
struct PathAbandonFrame {
  uint64_t path_id = 0, error_code = 0;
  friend bool operator==(const PathAbandonFrame&, const PathAbandonFrame&) = default;
};
// PATH_STATUS_BACKUP (backup) or PATH_STATUS_AVAILABLE.
struct PathStatusFrame {
  bool backup = false;
  uint64_t path_id = 0, sequence = 0;
  friend bool operator==(const PathStatusFrame&, const PathStatusFrame&) = default;
};
struct MaxPathIdFrame {
  uint64_t max_path_id = 0;
  friend bool operator==(const MaxPathIdFrame&, const MaxPathIdFrame&) = default;
};
struct PathsBlockedFrame {
  uint64_t max_path_id = 0;
  friend bool operator==(const PathsBlockedFrame&, const PathsBlockedFrame&) = default;
};
struct PathCidsBlockedFrame {
  uint64_t path_id = 0, next_sequence = 0;
  friend bool operator==(const PathCidsBlockedFrame&, const PathCidsBlockedFrame&) = default;
};

using Frame =
    std::variant<PaddingFrame, PingFrame, AckFrame, ResetStreamFrame, StopSendingFrame, CryptoFrame,
                 NewTokenFrame, StreamFrame, MaxDataFrame, MaxStreamDataFrame, MaxStreamsFrame,
                 DataBlockedFrame, StreamDataBlockedFrame, StreamsBlockedFrame,
                 NewConnectionIdFrame, RetireConnectionIdFrame, PathChallengeFrame,
                 PathResponseFrame, ConnectionCloseFrame, HandshakeDoneFrame, DatagramFrame,
                 AckFrequencyFrame, ImmediateAckFrame, ResetStreamAtFrame, PathAbandonFrame,
                 PathStatusFrame, MaxPathIdFrame, PathsBlockedFrame, PathCidsBlockedFrame>;

// Decodes one frame at r and advances r past it. Errors: FRAME_ENCODING_ERROR (with frame_type
// set) for truncation, unknown types and §19 field violations; PROTOCOL_VIOLATION for a frame
// type not in shortest form (§12.4) and for path IDs above 2^32-1. On error r's position is
// unspecified. Never allocates on success.
[[nodiscard]] Result<Frame> decode_frame(Reader& r);

// The wire type encode_frame will write. For a decoded frame this is the type it arrived with,
// except a STREAM frame whose OFF bit carried a zero offset (re-encoded without OFF).
uint64_t frame_type_of(const Frame& f);

// Exact number of bytes encode_frame writes, or 0 when the frame cannot be encoded (a field above
// 2^62-1, a CID length outside 1..20, PADDING of length 0, malformed from_ranges() input, a
// path_id on a non-path frame).
size_t encoded_size(const Frame& f);

// Writes f in shortest form. Returns false without writing anything when f is not encodable or
// does not fit in w.room(), so a packet builder can try something smaller; w stays usable.
bool encode_frame(Writer& w, const Frame& f);

// ACK / PATH_ACK straight from the caller's ranges (descending, see AckFrame::from_ranges).
bool encode_ack(Writer& w, uint64_t path_id, bool path_ack, std::span<const AckRange> ranges_desc,
                uint64_t ack_delay_encoded, const std::optional<EcnCounts>& ecn);

// How many of the leading (newest) ranges of ranges_desc fit in an ACK of at most budget bytes;
// 0 when not even the first range fits. Lets the packet builder drop the oldest ranges.
size_t ack_ranges_that_fit(uint64_t path_id, bool path_ack, std::span<const AckRange> ranges_desc,
                           uint64_t ack_delay_encoded, const std::optional<EcnCounts>& ecn,
                           size_t budget);

// Bytes of a STREAM frame header (type + stream id + offset if non-zero + length if with_length).
size_t stream_frame_overhead(uint64_t stream_id, uint64_t offset, size_t data_len,
                             bool with_length);
// Bytes of a CRYPTO frame header (type + offset + length).
size_t crypto_frame_overhead(uint64_t offset, size_t data_len);

// "STREAM", "PATH_ACK", ... for logs and qlog; "UNKNOWN" otherwise.
const char* frame_type_name(uint64_t type);

}  // namespace quic

#include "wire/frame_rules.h"  // IWYU pragma: export

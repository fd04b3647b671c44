// Frame encoder. One emit() per frame, written against a "sink" so that the same code both
// measures (SizeSink) and writes (Writer): encoded_size() can never disagree with encode_frame().
// emit() returns false for frames that must not go on the wire (see encoded_size in frame.h);
// they are checked with the same limits the decoder enforces, so anything encoded decodes.
#include <type_traits>

#include "wire/frame.h"

namespace quic {
namespace {

namespace ft = frame_type;
namespace lim = frame_limits;

class SizeSink {
 public:
  bool varint(uint64_t v) {
    size_t n = varint_size(v);
    if (n == 0) ok_ = false;
    size_ += n;
    return ok_;
  }
  bool u8(uint8_t) { return add(1); }
  bool bytes(Bytes b) { return add(b.size()); }
  bool zeros(size_t n) { return add(n); }
  bool ok() const { return ok_; }
  size_t size() const { return ok_ ? size_ : 0; }

 private:
  bool add(size_t n) {
    size_ += n;
    return ok_;
  }
  size_t size_ = 0;
  bool ok_ = true;
};

bool path_id_ok(bool path_frame, uint64_t path_id) {
  return path_frame ? path_id <= lim::kMaxPathId : path_id == 0;
}

uint64_t type_of(const PaddingFrame&) {
  return ft::kPadding;
}
uint64_t type_of(const PingFrame&) {
  return ft::kPing;
}
uint64_t type_of(const AckFrame& f) {
  if (f.path_ack) return f.ecn ? ft::kPathAckEcn : ft::kPathAck;
  return f.ecn ? ft::kAckEcn : ft::kAck;
}
uint64_t type_of(const ResetStreamFrame&) {
  return ft::kResetStream;
}
uint64_t type_of(const StopSendingFrame&) {
  return ft::kStopSending;
}
uint64_t type_of(const CryptoFrame&) {
  return ft::kCrypto;
}
uint64_t type_of(const NewTokenFrame&) {
  return ft::kNewToken;
}
uint64_t type_of(const StreamFrame& f) {
  return ft::kStream | (f.offset != 0 ? ft::kStreamOffBit : 0) |
         (f.explicit_length ? ft::kStreamLenBit : 0) | (f.fin ? ft::kStreamFinBit : 0);
}
uint64_t type_of(const MaxDataFrame&) {
  return ft::kMaxData;
}
uint64_t type_of(const MaxStreamDataFrame&) {
  return ft::kMaxStreamData;
}
uint64_t type_of(const MaxStreamsFrame& f) {
  return f.bidi ? ft::kMaxStreamsBidi : ft::kMaxStreamsUni;
}
uint64_t type_of(const DataBlockedFrame&) {
  return ft::kDataBlocked;
}
uint64_t type_of(const StreamDataBlockedFrame&) {
  return ft::kStreamDataBlocked;
}
uint64_t type_of(const StreamsBlockedFrame& f) {
  return f.bidi ? ft::kStreamsBlockedBidi : ft::kStreamsBlockedUni;
}
uint64_t type_of(const NewConnectionIdFrame& f) {
  return f.path_frame ? ft::kPathNewConnectionId : ft::kNewConnectionId;
}
uint64_t type_of(const RetireConnectionIdFrame& f) {
  return f.path_frame ? ft::kPathRetireConnectionId : ft::kRetireConnectionId;
}
uint64_t type_of(const PathChallengeFrame&) {
  return ft::kPathChallenge;
}
uint64_t type_of(const PathResponseFrame&) {
  return ft::kPathResponse;
}
uint64_t type_of(const ConnectionCloseFrame& f) {
  return f.application ? ft::kConnectionCloseApp : ft::kConnectionClose;
}
uint64_t type_of(const HandshakeDoneFrame&) {
  return ft::kHandshakeDone;
}
uint64_t type_of(const DatagramFrame& f) {
  return f.explicit_length ? ft::kDatagramLen : ft::kDatagram;
}
uint64_t type_of(const AckFrequencyFrame&) {
  return ft::kAckFrequency;
}
uint64_t type_of(const ImmediateAckFrame&) {
  return ft::kImmediateAck;
}
uint64_t type_of(const ResetStreamAtFrame&) {
  return ft::kResetStreamAt;
}
uint64_t type_of(const PathAbandonFrame&) {
  return ft::kPathAbandon;
}
uint64_t type_of(const PathStatusFrame& f) {
  return f.backup ? ft::kPathStatusBackup : ft::kPathStatusAvailable;
}
uint64_t type_of(const MaxPathIdFrame&) {
  return ft::kMaxPathId;
}
uint64_t type_of(const PathsBlockedFrame&) {
  return ft::kPathsBlocked;
}
uint64_t type_of(const PathCidsBlockedFrame&) {
  return ft::kPathCidsBlocked;
}

template <class S, class... V>
bool varints(S& s, V... v) {
  return (s.varint(v) && ...);
}

// Frames without variable-length data: the type followed by their varint fields.
template <class S>
bool emit(S& s, const PingFrame&) {
  return s.varint(ft::kPing);
}
template <class S>
bool emit(S& s, const HandshakeDoneFrame&) {
  return s.varint(ft::kHandshakeDone);
}
template <class S>
bool emit(S& s, const ImmediateAckFrame&) {
  return s.varint(ft::kImmediateAck);
}
template <class S>
bool emit(S& s, const ResetStreamFrame& f) {
  return varints(s, type_of(f), f.stream_id, f.error_code, f.final_size);
}
template <class S>
bool emit(S& s, const StopSendingFrame& f) {
  return varints(s, type_of(f), f.stream_id, f.error_code);
}
template <class S>
bool emit(S& s, const MaxDataFrame& f) {
  return varints(s, type_of(f), f.max);
}
template <class S>
bool emit(S& s, const MaxStreamDataFrame& f) {
  return varints(s, type_of(f), f.stream_id, f.max);
}
template <class S>
bool emit(S& s, const MaxStreamsFrame& f) {
  return f.max <= lim::kMaxStreamCount && varints(s, type_of(f), f.max);
}
template <class S>
bool emit(S& s, const DataBlockedFrame& f) {
  return varints(s, type_of(f), f.limit);
}
template <class S>
bool emit(S& s, const StreamDataBlockedFrame& f) {
  return varints(s, type_of(f), f.stream_id, f.limit);
}
template <class S>
bool emit(S& s, const StreamsBlockedFrame& f) {
  return f.limit <= lim::kMaxStreamCount && varints(s, type_of(f), f.limit);
}
template <class S>
bool emit(S& s, const RetireConnectionIdFrame& f) {
  if (!path_id_ok(f.path_frame, f.path_id)) return false;
  if (f.path_frame) return varints(s, type_of(f), f.path_id, f.sequence);
  return varints(s, type_of(f), f.sequence);
}
template <class S>
bool emit(S& s, const AckFrequencyFrame& f) {
  return varints(s, type_of(f), f.sequence, f.ack_eliciting_threshold, f.request_max_ack_delay,
                 f.reordering_threshold);
}
template <class S>
bool emit(S& s, const ResetStreamAtFrame& f) {
  return f.reliable_size <= f.final_size &&
         varints(s, type_of(f), f.stream_id, f.error_code, f.final_size, f.reliable_size);
}
template <class S>
bool emit(S& s, const PathAbandonFrame& f) {
  return f.path_id <= lim::kMaxPathId && varints(s, type_of(f), f.path_id, f.error_code);
}
template <class S>
bool emit(S& s, const PathStatusFrame& f) {
  return f.path_id <= lim::kMaxPathId && varints(s, type_of(f), f.path_id, f.sequence);
}
template <class S>
bool emit(S& s, const MaxPathIdFrame& f) {
  return f.max_path_id <= lim::kMaxPathId && varints(s, type_of(f), f.max_path_id);
}
template <class S>
bool emit(S& s, const PathsBlockedFrame& f) {
  return f.max_path_id <= lim::kMaxPathId && varints(s, type_of(f), f.max_path_id);
}
template <class S>
bool emit(S& s, const PathCidsBlockedFrame& f) {
  return f.path_id <= lim::kMaxPathId && varints(s, type_of(f), f.path_id, f.next_sequence);
}

template <class S>
bool emit(S& s, const PaddingFrame& f) {
  return f.length != 0 && s.zeros(f.length);
}
template <class S>
bool emit(S& s, const PathChallengeFrame& f) {
  return s.varint(type_of(f)) && s.bytes(f.data);
}
template <class S>
bool emit(S& s, const PathResponseFrame& f) {
  return s.varint(type_of(f)) && s.bytes(f.data);
}
template <class S>
bool emit(S& s, const CryptoFrame& f) {
  return f.offset <= lim::kMaxStreamOffset && f.data.size() <= lim::kMaxStreamOffset - f.offset &&
         varints(s, type_of(f), f.offset, uint64_t{f.data.size()}) && s.bytes(f.data);
}
template <class S>
bool emit(S& s, const NewTokenFrame& f) {
  return !f.token.empty() && varints(s, type_of(f), uint64_t{f.token.size()}) && s.bytes(f.token);
}
template <class S>
bool emit(S& s, const StreamFrame& f) {
  if (f.offset > lim::kMaxStreamOffset || f.data.size() > lim::kMaxStreamOffset - f.offset) {
    return false;
  }
  if (!varints(s, type_of(f), f.stream_id)) return false;
  if (f.offset != 0 && !s.varint(f.offset)) return false;
  if (f.explicit_length && !s.varint(f.data.size())) return false;
  return s.bytes(f.data);
}
template <class S>
bool emit(S& s, const NewConnectionIdFrame& f) {
  if (!path_id_ok(f.path_frame, f.path_id) || f.cid.size() < lim::kMinCidLength ||
      f.cid.size() > lim::kMaxCidLength || f.retire_prior_to > f.sequence) {
    return false;
  }
  if (!s.varint(type_of(f))) return false;
  if (f.path_frame && !s.varint(f.path_id)) return false;
  return varints(s, f.sequence, f.retire_prior_to) && s.u8(static_cast<uint8_t>(f.cid.size())) &&
         s.bytes(f.cid) && s.bytes(f.reset_token);
}
template <class S>
bool emit(S& s, const ConnectionCloseFrame& f) {
  if (!varints(s, type_of(f), f.error_code)) return false;
  if (!f.application && !s.varint(f.frame_type)) return false;
  return s.varint(f.reason.size()) && s.bytes(f.reason);
}
template <class S>
bool emit(S& s, const DatagramFrame& f) {
  if (!s.varint(type_of(f))) return false;
  if (f.explicit_length && !s.varint(f.data.size())) return false;
  return s.bytes(f.data);
}

// RFC 9000 §19.3.1: each range after the first is (Gap, Length) relative to the previous one.
// Validates the caller's ranges (descending, disjoint, non-adjacent, smallest <= largest).
template <class S>
bool emit_ack_ranges(S& s, const AckFrame& f) {
  bool first = true;
  uint64_t prev_smallest = 0;
  uint64_t emitted = 0;
  for (AckRange r : f.ranges()) {
    if (r.smallest > r.largest) return false;
    if (!first) {
      if (prev_smallest < 2 || r.largest > prev_smallest - 2) return false;
      if (!varints(s, prev_smallest - r.largest - 2, r.largest - r.smallest)) return false;
      ++emitted;
    } else if (r.largest != f.largest || r.largest - r.smallest != f.first_range) {
      return false;
    }
    first = false;
    prev_smallest = r.smallest;
  }
  return emitted == f.extra_range_count;
}

template <class S>
bool emit(S& s, const AckFrame& f) {
  if (!path_id_ok(f.path_ack, f.path_id) || f.first_range > f.largest) return false;
  if (!s.varint(type_of(f))) return false;
  if (f.path_ack && !s.varint(f.path_id)) return false;
  if (!varints(s, f.largest, f.ack_delay, f.extra_range_count, f.first_range)) return false;
  if (!emit_ack_ranges(s, f)) return false;
  if (f.ecn && !varints(s, f.ecn->ect0, f.ecn->ect1, f.ecn->ce)) return false;
  return true;
}

}  // namespace

uint64_t frame_type_of(const Frame& f) {
  return std::visit([](const auto& x) { return type_of(x); }, f);
}

size_t encoded_size(const Frame& f) {
  SizeSink s;
  bool valid = std::visit([&s](const auto& x) { return emit(s, x); }, f);
  return valid ? s.size() : 0;
}

bool encode_frame(Writer& w, const Frame& f) {
  size_t n = encoded_size(f);
  if (n == 0 || !w.ok() || n > w.room()) return false;
  size_t before = w.written();
  bool valid = std::visit([&w](const auto& x) { return emit(w, x); }, f);
  return !TQUIC_BUG_IF(!valid || !w.ok() || w.written() - before != n);
}

bool encode_ack(Writer& w, uint64_t path_id, bool path_ack, std::span<const AckRange> ranges_desc,
                uint64_t ack_delay_encoded, const std::optional<EcnCounts>& ecn) {
  return encode_frame(
      w, AckFrame::from_ranges(path_id, path_ack, ranges_desc, ack_delay_encoded, ecn));
}

size_t ack_ranges_that_fit(uint64_t path_id, bool path_ack, std::span<const AckRange> ranges_desc,
                           uint64_t ack_delay_encoded, const std::optional<EcnCounts>& ecn,
                           size_t budget) {
  if (ranges_desc.empty()) return 0;
  // Everything but the ACK Range Count field and the additional ranges, measured once; then
  // ranges are added one by one (linear, not one encoded_size() per prefix).
  size_t fixed = encoded_size(
      AckFrame::from_ranges(path_id, path_ack, ranges_desc.first(1), ack_delay_encoded, ecn));
  if (fixed == 0 || fixed > budget) return 0;
  fixed -= 1;  // the one-byte range count of zero
  size_t extra = 0;
  size_t fit = 1;
  for (size_t n = 1; n < ranges_desc.size(); ++n) {
    const AckRange& prev = ranges_desc[n - 1];
    const AckRange& r = ranges_desc[n];
    if (r.smallest > r.largest || prev.smallest < 2 || r.largest > prev.smallest - 2) break;
    extra += varint_size(prev.smallest - r.largest - 2) + varint_size(r.largest - r.smallest);
    if (fixed + varint_size(n) + extra > budget) break;
    fit = n + 1;
  }
  return fit;
}

}  // namespace quic

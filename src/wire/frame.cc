// Frame value helpers shared by the decoder and encoder: ACK range iteration, equality of
// frames holding views, type names and header-size helpers for the packet builder.
#include "wire/frame.h"

#include <algorithm>

namespace quic {
namespace {

bool same_bytes(Bytes a, Bytes b) {
  return std::ranges::equal(a, b);
}

}  // namespace

AckFrame::RangeIter& AckFrame::RangeIter::operator++() {
  if (left_ == 0 || --left_ == 0) return *this;
  if (next_src_ != nullptr) {
    cur_ = *next_src_++;
    return *this;
  }
  // decode_frame validated these pairs; value_or only keeps a hand-built frame from reading
  // garbage (unsigned arithmetic then wraps, which is defined).
  uint64_t gap = reader_.varint().value_or(0);
  uint64_t len = reader_.varint().value_or(0);
  uint64_t hi = cur_.smallest - gap - 2;
  cur_ = AckRange{hi - len, hi};
  return *this;
}

AckFrame::RangeView AckFrame::ranges() const {
  RangeIter it;
  if (!source_ranges.empty()) {
    it.cur_ = source_ranges.front();
    it.next_src_ = source_ranges.data() + 1;
    it.left_ = source_ranges.size();
  } else {
    it.cur_ = AckRange{largest - first_range, largest};
    it.reader_ = Reader(encoded_ranges);
    it.left_ = extra_range_count + 1;
  }
  return RangeView{it};
}

uint64_t AckFrame::smallest_acked() const {
  uint64_t smallest = largest - first_range;
  for (AckRange r : ranges()) smallest = r.smallest;
  return smallest;
}

AckFrame AckFrame::from_ranges(uint64_t path_id, bool path_ack,
                               std::span<const AckRange> ranges_desc, uint64_t ack_delay_encoded,
                               const std::optional<EcnCounts>& ecn) {
  AckFrame f;
  f.path_id = path_id;
  f.path_ack = path_ack;
  f.ack_delay = ack_delay_encoded;
  f.ecn = ecn;
  f.source_ranges = ranges_desc;
  if (ranges_desc.empty()) {
    f.first_range = 1;  // first_range > largest: encoded_size() reports "not encodable"
    return f;
  }
  f.largest = ranges_desc.front().largest;
  f.first_range = ranges_desc.front().largest - ranges_desc.front().smallest;
  f.extra_range_count = ranges_desc.size() - 1;
  return f;
}

bool operator==(const AckFrame& a, const AckFrame& b) {
  if (a.path_id != b.path_id || a.path_ack != b.path_ack || a.largest != b.largest ||
      a.ack_delay != b.ack_delay || a.ecn != b.ecn || a.range_count() != b.range_count()) {
    return false;
  }
  auto ia = a.ranges().begin();
  auto ib = b.ranges().begin();
  for (; ia != std::default_sentinel; ++ia, ++ib) {
    if (*ia != *ib) return false;
  }
  return true;
}

bool operator==(const CryptoFrame& a, const CryptoFrame& b) {
  return a.offset == b.offset && same_bytes(a.data, b.data);
}
bool operator==(const NewTokenFrame& a, const NewTokenFrame& b) {
  return same_bytes(a.token, b.token);
}
bool operator==(const StreamFrame& a, const StreamFrame& b) {
  return a.stream_id == b.stream_id && a.offset == b.offset && a.fin == b.fin &&
         a.explicit_length == b.explicit_length && same_bytes(a.data, b.data);
}
bool operator==(const NewConnectionIdFrame& a, const NewConnectionIdFrame& b) {
  return a.path_id == b.path_id && a.path_frame == b.path_frame && a.sequence == b.sequence &&
         a.retire_prior_to == b.retire_prior_to && same_bytes(a.cid, b.cid) &&
         a.reset_token == b.reset_token;
}
bool operator==(const ConnectionCloseFrame& a, const ConnectionCloseFrame& b) {
  return a.application == b.application && a.error_code == b.error_code &&
         a.frame_type == b.frame_type && same_bytes(a.reason, b.reason);
}
bool operator==(const DatagramFrame& a, const DatagramFrame& b) {
  return a.explicit_length == b.explicit_length && same_bytes(a.data, b.data);
}

size_t stream_frame_overhead(uint64_t stream_id, uint64_t offset, size_t data_len,
                             bool with_length) {
  return 1 + varint_size(stream_id) + (offset != 0 ? varint_size(offset) : 0) +
         (with_length ? varint_size(data_len) : 0);
}

size_t crypto_frame_overhead(uint64_t offset, size_t data_len) {
  return 1 + varint_size(offset) + varint_size(data_len);
}

const char* frame_type_name(uint64_t type) {
  namespace ft = frame_type;
  if (type >= ft::kStream && type <= ft::kStreamMax) return "STREAM";
  switch (type) {
    case ft::kPadding:
      return "PADDING";
    case ft::kPing:
      return "PING";
    case ft::kAck:
      return "ACK";
    case ft::kAckEcn:
      return "ACK_ECN";
    case ft::kResetStream:
      return "RESET_STREAM";
    case ft::kStopSending:
      return "STOP_SENDING";
    case ft::kCrypto:
      return "CRYPTO";
    case ft::kNewToken:
      return "NEW_TOKEN";
    case ft::kMaxData:
      return "MAX_DATA";
    case ft::kMaxStreamData:
      return "MAX_STREAM_DATA";
    case ft::kMaxStreamsBidi:
      return "MAX_STREAMS_BIDI";
    case ft::kMaxStreamsUni:
      return "MAX_STREAMS_UNI";
    case ft::kDataBlocked:
      return "DATA_BLOCKED";
    case ft::kStreamDataBlocked:
      return "STREAM_DATA_BLOCKED";
    case ft::kStreamsBlockedBidi:
      return "STREAMS_BLOCKED_BIDI";
    case ft::kStreamsBlockedUni:
      return "STREAMS_BLOCKED_UNI";
    case ft::kNewConnectionId:
      return "NEW_CONNECTION_ID";
    case ft::kRetireConnectionId:
      return "RETIRE_CONNECTION_ID";
    case ft::kPathChallenge:
      return "PATH_CHALLENGE";
    case ft::kPathResponse:
      return "PATH_RESPONSE";
    case ft::kConnectionClose:
      return "CONNECTION_CLOSE";
    case ft::kConnectionCloseApp:
      return "CONNECTION_CLOSE_APP";
    case ft::kHandshakeDone:
      return "HANDSHAKE_DONE";
    case ft::kImmediateAck:
      return "IMMEDIATE_ACK";
    case ft::kResetStreamAt:
      return "RESET_STREAM_AT";
    case ft::kDatagram:
    case ft::kDatagramLen:
      return "DATAGRAM";
    case ft::kAckFrequency:
      return "ACK_FREQUENCY";
    case ft::kPathAck:
      return "PATH_ACK";
    case ft::kPathAckEcn:
      return "PATH_ACK_ECN";
    case ft::kPathAbandon:
      return "PATH_ABANDON";
    case ft::kPathStatusBackup:
      return "PATH_STATUS_BACKUP";
    case ft::kPathStatusAvailable:
      return "PATH_STATUS_AVAILABLE";
    case ft::kPathNewConnectionId:
      return "PATH_NEW_CONNECTION_ID";
    case ft::kPathRetireConnectionId:
      return "PATH_RETIRE_CONNECTION_ID";
    case ft::kMaxPathId:
      return "MAX_PATH_ID";
    case ft::kPathsBlocked:
      return "PATHS_BLOCKED";
    case ft::kPathCidsBlocked:
      return "PATH_CIDS_BLOCKED";
    default:
      return "UNKNOWN";
  }
}

}  // namespace quic

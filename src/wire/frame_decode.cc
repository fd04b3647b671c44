// Frame decoder (RFC 9000 §12.4, §19 and the extension drafts named in frame.h). Every field is
// bounds-checked by Reader; variable-length data is returned as a view, so a hostile length can
// at most make the frame fail as truncated, never allocate.
#include <algorithm>

#include "wire/frame.h"

namespace quic {
namespace {

namespace ft = frame_type;
namespace lim = frame_limits;

std::unexpected<Error> encoding_error(uint64_t type, const char* why) {
  return fail(err::kFrameEncodingError, why, type);
}
std::unexpected<Error> truncated(uint64_t type) {
  return encoding_error(type, "truncated frame");
}

bool read(Reader& r, uint64_t& out) {
  auto v = r.varint();
  if (!v) return false;
  out = *v;
  return true;
}

template <class... T>
bool read_all(Reader& r, T&... out) {
  return (read(r, out) && ...);
}

// Path IDs above 2^32-1 exceed any MAX_PATH_ID (multipath-21 §4.6): PROTOCOL_VIOLATION.
bool bad_path_id(uint64_t path_id) {
  return path_id > lim::kMaxPathId;
}
std::unexpected<Error> path_id_error(uint64_t type) {
  return fail(err::kProtocolViolation, "path id above 2^32-1", type);
}

template <size_t N>
bool read_array(Reader& r, std::array<uint8_t, N>& out) {
  auto b = r.bytes(N);
  if (!b) return false;
  std::ranges::copy(*b, out.begin());
  return true;
}

Result<Frame> decode_padding(Reader& r) {
  // Coalesce the run of PADDING bytes: a padded Initial carries hundreds of them.
  Bytes rest = r.rest();
  size_t run = static_cast<size_t>(std::ranges::find_if(rest, [](uint8_t b) { return b != 0; }) -
                                   rest.begin());
  r.skip(run);
  return PaddingFrame{run + 1};
}

// RFC 9000 §19.3 and multipath-21 §4.1.
Result<Frame> decode_ack(Reader& r, uint64_t type) {
  AckFrame f;
  f.path_ack = type == ft::kPathAck || type == ft::kPathAckEcn;
  if (f.path_ack) {
    if (!read(r, f.path_id)) return truncated(type);
    if (bad_path_id(f.path_id)) return path_id_error(type);
  }
  if (!read_all(r, f.largest, f.ack_delay, f.extra_range_count, f.first_range)) {
    return truncated(type);
  }
  if (f.first_range > f.largest) return encoding_error(type, "first ACK range exceeds largest");
  if (f.extra_range_count > r.remaining() / lim::kMinAckRangeBytes) return truncated(type);

  Bytes ranges_start = r.rest();
  uint64_t smallest = f.largest - f.first_range;
  for (uint64_t i = 0; i < f.extra_range_count; ++i) {
    uint64_t gap, len;
    if (!read_all(r, gap, len)) return truncated(type);
    // §19.3.1: largest = previous smallest - gap - 2, smallest = largest - length; a negative
    // packet number is a FRAME_ENCODING_ERROR.
    if (smallest < gap + 2) return encoding_error(type, "ACK gap underflows packet number 0");
    uint64_t hi = smallest - gap - 2;
    if (len > hi) return encoding_error(type, "ACK range underflows packet number 0");
    smallest = hi - len;
  }
  f.encoded_ranges = ranges_start.first(ranges_start.size() - r.remaining());

  if (type == ft::kAckEcn || type == ft::kPathAckEcn) {
    EcnCounts e;
    if (!read_all(r, e.ect0, e.ect1, e.ce)) return truncated(type);
    f.ecn = e;
  }
  return f;
}

Result<Frame> decode_stream(Reader& r, uint64_t type) {
  StreamFrame f;
  f.fin = (type & ft::kStreamFinBit) != 0;
  f.explicit_length = (type & ft::kStreamLenBit) != 0;
  if (!read(r, f.stream_id)) return truncated(type);
  if ((type & ft::kStreamOffBit) != 0 && !read(r, f.offset)) return truncated(type);
  if (f.explicit_length) {
    uint64_t len;
    if (!read(r, len)) return truncated(type);
    auto data = r.bytes(len);
    if (!data) return truncated(type);
    f.data = *data;
  } else {
    f.data = r.rest();  // §19.8: no Length field, the data runs to the end of the packet
    r.skip(f.data.size());
  }
  // §19.8: offset + length must not exceed 2^62-1.
  if (f.data.size() > lim::kMaxStreamOffset - f.offset) {
    return encoding_error(type, "stream offset + length exceeds 2^62-1");
  }
  return f;
}

Result<Frame> decode_crypto(Reader& r, uint64_t type) {
  CryptoFrame f;
  uint64_t len;
  if (!read_all(r, f.offset, len)) return truncated(type);
  auto data = r.bytes(len);
  if (!data) return truncated(type);
  f.data = *data;
  // §19.6: same 2^62-1 bound as STREAM.
  if (f.data.size() > lim::kMaxStreamOffset - f.offset) {
    return encoding_error(type, "crypto offset + length exceeds 2^62-1");
  }
  return f;
}

// NEW_CONNECTION_ID (§19.15) and PATH_NEW_CONNECTION_ID (multipath-21 §4.4).
Result<Frame> decode_new_cid(Reader& r, uint64_t type) {
  NewConnectionIdFrame f;
  f.path_frame = type == ft::kPathNewConnectionId;
  if (f.path_frame) {
    if (!read(r, f.path_id)) return truncated(type);
    if (bad_path_id(f.path_id)) return path_id_error(type);
  }
  if (!read_all(r, f.sequence, f.retire_prior_to)) return truncated(type);
  auto len = r.u8();
  if (!len) return truncated(type);
  if (*len < lim::kMinCidLength || *len > lim::kMaxCidLength) {
    return encoding_error(type, "connection id length outside 1..20");
  }
  auto cid = r.bytes(*len);
  if (!cid || !read_array(r, f.reset_token)) return truncated(type);
  f.cid = *cid;
  if (f.retire_prior_to > f.sequence) {
    return encoding_error(type, "retire prior to exceeds sequence number");
  }
  return f;
}

Result<Frame> decode_close(Reader& r, uint64_t type) {
  ConnectionCloseFrame f;
  f.application = type == ft::kConnectionCloseApp;
  if (!read(r, f.error_code)) return truncated(type);
  if (!f.application && !read(r, f.frame_type)) return truncated(type);
  uint64_t len;
  if (!read(r, len)) return truncated(type);
  auto reason = r.bytes(len);
  if (!reason) return encoding_error(type, "reason phrase runs past the packet");
  f.reason = *reason;
  return f;
}

Result<Frame> decode_datagram(Reader& r, uint64_t type) {
  DatagramFrame f;
  f.explicit_length = type == ft::kDatagramLen;
  if (f.explicit_length) {
    uint64_t len;
    if (!read(r, len)) return truncated(type);
    auto data = r.bytes(len);
    if (!data) return truncated(type);
    f.data = *data;
  } else {
    f.data = r.rest();  // RFC 9221 §4: runs to the end of the packet
    r.skip(f.data.size());
  }
  return f;
}

// Frames that are nothing but varints, plus their §19 value checks.
Result<Frame> decode_simple(Reader& r, uint64_t type) {
  switch (type) {
    case ft::kPing:
      return PingFrame{};
    case ft::kHandshakeDone:
      return HandshakeDoneFrame{};
    case ft::kImmediateAck:
      return ImmediateAckFrame{};
    case ft::kResetStream: {
      ResetStreamFrame f;
      if (!read_all(r, f.stream_id, f.error_code, f.final_size)) return truncated(type);
      return f;
    }
    case ft::kStopSending: {
      StopSendingFrame f;
      if (!read_all(r, f.stream_id, f.error_code)) return truncated(type);
      return f;
    }
    case ft::kNewToken: {
      uint64_t len;
      if (!read(r, len)) return truncated(type);
      auto token = r.bytes(len);
      if (!token) return truncated(type);
      // §19.7: an empty token is a FRAME_ENCODING_ERROR.
      if (token->empty()) return encoding_error(type, "empty NEW_TOKEN");
      return NewTokenFrame{*token};
    }
    case ft::kMaxData: {
      MaxDataFrame f;
      if (!read(r, f.max)) return truncated(type);
      return f;
    }
    case ft::kMaxStreamData: {
      MaxStreamDataFrame f;
      if (!read_all(r, f.stream_id, f.max)) return truncated(type);
      return f;
    }
    case ft::kMaxStreamsBidi:
    case ft::kMaxStreamsUni: {
      MaxStreamsFrame f{type == ft::kMaxStreamsBidi, 0};
      if (!read(r, f.max)) return truncated(type);
      // §19.11
      if (f.max > lim::kMaxStreamCount) return encoding_error(type, "MAX_STREAMS above 2^60");
      return f;
    }
    case ft::kDataBlocked: {
      DataBlockedFrame f;
      if (!read(r, f.limit)) return truncated(type);
      return f;
    }
    case ft::kStreamDataBlocked: {
      StreamDataBlockedFrame f;
      if (!read_all(r, f.stream_id, f.limit)) return truncated(type);
      return f;
    }
    case ft::kStreamsBlockedBidi:
    case ft::kStreamsBlockedUni: {
      StreamsBlockedFrame f{type == ft::kStreamsBlockedBidi, 0};
      if (!read(r, f.limit)) return truncated(type);
      // §19.14
      if (f.limit > lim::kMaxStreamCount) {
        return encoding_error(type, "STREAMS_BLOCKED above 2^60");
      }
      return f;
    }
    case ft::kRetireConnectionId: {
      RetireConnectionIdFrame f;
      if (!read(r, f.sequence)) return truncated(type);
      return f;
    }
    case ft::kPathChallenge: {
      PathChallengeFrame f;
      if (!read_array(r, f.data)) return truncated(type);
      return f;
    }
    case ft::kPathResponse: {
      PathResponseFrame f;
      if (!read_array(r, f.data)) return truncated(type);
      return f;
    }
    case ft::kAckFrequency: {
      AckFrequencyFrame f;
      if (!read_all(r, f.sequence, f.ack_eliciting_threshold, f.request_max_ack_delay,
                    f.reordering_threshold)) {
        return truncated(type);
      }
      return f;
    }
    case ft::kResetStreamAt: {
      ResetStreamAtFrame f;
      if (!read_all(r, f.stream_id, f.error_code, f.final_size, f.reliable_size)) {
        return truncated(type);
      }
      if (f.reliable_size > f.final_size) {
        return encoding_error(type, "reliable size exceeds final size");
      }
      return f;
    }
    default:
      break;
  }
  return encoding_error(type, "unknown frame type");
}

// Multipath-21 §4.2-§4.7 frames other than PATH_ACK and PATH_NEW_CONNECTION_ID.
Result<Frame> decode_path_frame(Reader& r, uint64_t type) {
  uint64_t a, b;
  switch (type) {
    case ft::kPathAbandon:
      if (!read_all(r, a, b)) return truncated(type);
      if (bad_path_id(a)) return path_id_error(type);
      return PathAbandonFrame{a, b};
    case ft::kPathStatusBackup:
    case ft::kPathStatusAvailable:
      if (!read_all(r, a, b)) return truncated(type);
      if (bad_path_id(a)) return path_id_error(type);
      return PathStatusFrame{type == ft::kPathStatusBackup, a, b};
    case ft::kPathRetireConnectionId:
      if (!read_all(r, a, b)) return truncated(type);
      if (bad_path_id(a)) return path_id_error(type);
      return RetireConnectionIdFrame{a, true, b};
    case ft::kMaxPathId:
    case ft::kPathsBlocked:
      if (!read(r, a)) return truncated(type);
      if (bad_path_id(a)) return path_id_error(type);
      if (type == ft::kMaxPathId) return MaxPathIdFrame{a};
      return PathsBlockedFrame{a};
    case ft::kPathCidsBlocked:
      if (!read_all(r, a, b)) return truncated(type);
      if (bad_path_id(a)) return path_id_error(type);
      return PathCidsBlockedFrame{a, b};
    default:
      return encoding_error(type, "unknown frame type");
  }
}

}  // namespace

Result<Frame> decode_frame(Reader& r) {
  auto first = r.peek_u8();
  if (!first) return encoding_error(0, "empty frame");
  size_t encoded_len = size_t{1} << (*first >> 6);
  auto type_v = r.varint();
  if (!type_v) return encoding_error(0, "truncated frame type");
  uint64_t type = *type_v;
  // §12.4: frame types must use the shortest encoding.
  if (varint_size(type) != encoded_len) {
    return fail(err::kProtocolViolation, "frame type not in shortest form", type);
  }
  if (type >= ft::kStream && type <= ft::kStreamMax) return decode_stream(r, type);
  switch (type) {
    case ft::kPadding:
      return decode_padding(r);
    case ft::kAck:
    case ft::kAckEcn:
    case ft::kPathAck:
    case ft::kPathAckEcn:
      return decode_ack(r, type);
    case ft::kCrypto:
      return decode_crypto(r, type);
    case ft::kNewConnectionId:
    case ft::kPathNewConnectionId:
      return decode_new_cid(r, type);
    case ft::kConnectionClose:
    case ft::kConnectionCloseApp:
      return decode_close(r, type);
    case ft::kDatagram:
    case ft::kDatagramLen:
      return decode_datagram(r, type);
    case ft::kPathAbandon:
    case ft::kPathStatusBackup:
    case ft::kPathStatusAvailable:
    case ft::kPathRetireConnectionId:
    case ft::kMaxPathId:
    case ft::kPathsBlocked:
    case ft::kPathCidsBlocked:
      return decode_path_frame(r, type);
    default:
      return decode_simple(r, type);
  }
}

}  // namespace quic

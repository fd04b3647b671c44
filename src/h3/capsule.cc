#include "h3/capsule.h"

#include <algorithm>

namespace h3 {

void append_capsule(std::vector<uint8_t>& out, uint64_t type, Bytes payload) {
  append_varint(out, type);
  append_varint(out, payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
}

void append_datagram_capsule(std::vector<uint8_t>& out, Bytes payload) {
  append_capsule(out, capsule::kDatagram, payload);
}

quic::Result<std::optional<Capsule>> CapsuleReader::next(Bytes& in) {
  for (;;) {
    switch (state_) {
      case State::kHeader: {
        // Gather type and length; they may straddle DATA frames (at most 16 bytes).
        std::optional<uint64_t> type, length;
        size_t used = 0;
        if (header_len_ == 0) {
          quic::Reader r(in);
          type = r.varint();
          length = type ? r.varint() : std::nullopt;
          if (length) used = r.offset();
        }
        if (used != 0) {
          in = in.subspan(used);
        } else {
          for (;;) {
            if (in.empty()) return std::nullopt;
            header_[header_len_++] = in[0];
            in = in.subspan(1);
            quic::Reader r(Bytes(header_, header_len_));
            type = r.varint();
            length = type ? r.varint() : std::nullopt;
            if (length) break;
          }
          header_len_ = 0;
        }
        type_ = *type;
        remaining_ = *length;
        if (type_ != capsule::kDatagram) {
          state_ = remaining_ == 0 ? State::kHeader : State::kSkip;
          break;
        }
        if (remaining_ > max_payload_) {
          return fail(err::kGeneralProtocolError, "DATAGRAM capsule exceeds our limit");
        }
        if (remaining_ <= in.size()) {
          Capsule c{type_, in.first(static_cast<size_t>(remaining_))};
          in = in.subspan(static_cast<size_t>(remaining_));
          return c;
        }
        buf_.assign(in.begin(), in.end());
        remaining_ -= in.size();
        in = {};
        state_ = State::kBuffer;
        return std::nullopt;
      }
      case State::kBuffer: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        buf_.insert(buf_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
        in = in.subspan(take);
        remaining_ -= take;
        if (remaining_ != 0) return std::nullopt;
        state_ = State::kHeader;
        return Capsule{type_, Bytes(buf_)};
      }
      case State::kSkip: {
        if (in.empty()) return std::nullopt;
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        in = in.subspan(take);
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kHeader;
        break;
      }
    }
  }
}

quic::Status CapsuleReader::finish() const {
  if (state_ != State::kHeader || header_len_ != 0) {
    return fail(err::kGeneralProtocolError, "stream ended inside a capsule");
  }
  return {};
}

quic::Result<std::vector<uint8_t>> encode_http_datagram(uint64_t stream_id, Bytes payload) {
  if (stream_id % 4 != 0 || stream_id / 4 > kMaxQuarterStreamId) {
    return fail(err::kInternalError, "not a client-initiated bidirectional stream");
  }
  std::vector<uint8_t> out;
  out.reserve(8 + payload.size());
  append_varint(out, stream_id / 4);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

quic::Result<HttpDatagram> decode_http_datagram(Bytes datagram) {
  quic::Reader r(datagram);
  auto q = r.varint();
  if (!q) return fail(err::kDatagramError, "HTTP datagram without quarter stream ID");
  if (*q > kMaxQuarterStreamId) return fail(err::kDatagramError, "quarter stream ID too large");
  return HttpDatagram{*q * 4, r.rest()};
}

void append_context_payload(std::vector<uint8_t>& out, uint64_t context_id, Bytes payload) {
  append_varint(out, context_id);
  out.insert(out.end(), payload.begin(), payload.end());
}

std::optional<ContextPayload> parse_context_payload(Bytes payload) {
  quic::Reader r(payload);
  auto id = r.varint();
  if (!id) return std::nullopt;
  return ContextPayload{*id, r.rest()};
}

}  // namespace h3

#include "h3/frames.h"

#include <algorithm>

namespace h3 {

namespace {

// Every frame whose payload is exactly one varint (§7.2.3, §7.2.6, §7.2.7).
bool is_single_varint_frame(uint64_t type) {
  return type == frame::kCancelPush || type == frame::kGoaway || type == frame::kMaxPushId;
}

bool is_known_setting(uint64_t id) {
  return id == setting::kQpackMaxTableCapacity || id == setting::kMaxFieldSectionSize ||
         id == setting::kQpackBlockedStreams || id == setting::kEnableConnectProtocol ||
         id == setting::kH3Datagram;
}

bool is_known_buffered_frame(uint64_t type) {
  return type == frame::kHeaders || type == frame::kSettings || type == frame::kPushPromise ||
         type == frame::kPriorityUpdateRequest || type == frame::kPriorityUpdatePush ||
         is_single_varint_frame(type);
}

}  // namespace

const char* error_name(uint64_t code) {
  switch (code) {
    case err::kNoError:
      return "H3_NO_ERROR";
    case err::kGeneralProtocolError:
      return "H3_GENERAL_PROTOCOL_ERROR";
    case err::kInternalError:
      return "H3_INTERNAL_ERROR";
    case err::kStreamCreationError:
      return "H3_STREAM_CREATION_ERROR";
    case err::kClosedCriticalStream:
      return "H3_CLOSED_CRITICAL_STREAM";
    case err::kFrameUnexpected:
      return "H3_FRAME_UNEXPECTED";
    case err::kFrameError:
      return "H3_FRAME_ERROR";
    case err::kExcessiveLoad:
      return "H3_EXCESSIVE_LOAD";
    case err::kIdError:
      return "H3_ID_ERROR";
    case err::kSettingsError:
      return "H3_SETTINGS_ERROR";
    case err::kMissingSettings:
      return "H3_MISSING_SETTINGS";
    case err::kRequestRejected:
      return "H3_REQUEST_REJECTED";
    case err::kRequestCancelled:
      return "H3_REQUEST_CANCELLED";
    case err::kRequestIncomplete:
      return "H3_REQUEST_INCOMPLETE";
    case err::kMessageError:
      return "H3_MESSAGE_ERROR";
    case err::kConnectError:
      return "H3_CONNECT_ERROR";
    case err::kVersionFallback:
      return "H3_VERSION_FALLBACK";
    case err::kQpackDecompressionFailed:
      return "QPACK_DECOMPRESSION_FAILED";
    case err::kQpackEncoderStreamError:
      return "QPACK_ENCODER_STREAM_ERROR";
    case err::kQpackDecoderStreamError:
      return "QPACK_DECODER_STREAM_ERROR";
    case err::kDatagramError:
      return "H3_DATAGRAM_ERROR";
    default:
      return "UNKNOWN_H3_ERROR";
  }
}

bool is_http2_only_frame(uint64_t type) {
  // PRIORITY, PING, WINDOW_UPDATE, CONTINUATION (RFC 9114 §7.2.8, §11.2.1).
  return type == 0x02 || type == 0x06 || type == 0x08 || type == 0x09;
}

void append_varint(std::vector<uint8_t>& out, uint64_t v) {
  size_t n = quic::varint_size(v);
  size_t at = out.size();
  out.resize(at + n);
  quic::Writer w(quic::MutBytes(out.data() + at, n));
  w.varint(v);
}

void append_frame_header(std::vector<uint8_t>& out, uint64_t type, uint64_t length) {
  append_varint(out, type);
  append_varint(out, length);
}

void append_data_header(std::vector<uint8_t>& out, uint64_t length) {
  append_frame_header(out, frame::kData, length);
}

void append_data(std::vector<uint8_t>& out, Bytes payload) {
  append_data_header(out, payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
}

void append_headers(std::vector<uint8_t>& out, Bytes field_section) {
  append_frame_header(out, frame::kHeaders, field_section.size());
  out.insert(out.end(), field_section.begin(), field_section.end());
}

void append_settings(std::vector<uint8_t>& out, const Settings& s) {
  std::vector<uint8_t> p;
  auto pair = [&](uint64_t id, uint64_t v) {
    append_varint(p, id);
    append_varint(p, v);
  };
  if (s.qpack_max_table_capacity) pair(setting::kQpackMaxTableCapacity, s.qpack_max_table_capacity);
  if (s.max_field_section_size) pair(setting::kMaxFieldSectionSize, *s.max_field_section_size);
  if (s.qpack_blocked_streams) pair(setting::kQpackBlockedStreams, s.qpack_blocked_streams);
  if (s.enable_connect_protocol) pair(setting::kEnableConnectProtocol, 1);
  if (s.h3_datagram) pair(setting::kH3Datagram, 1);
  // A known ID is sent once, above; an extension ID listed twice once (the first value): a
  // duplicate would be the peer's H3_SETTINGS_ERROR (§7.2.4).
  for (size_t i = 0; i < s.extensions.size(); ++i) {
    const auto& [id, value] = s.extensions[i];
    bool repeated =
        std::any_of(s.extensions.begin(), s.extensions.begin() + static_cast<std::ptrdiff_t>(i),
                    [&](const auto& e) { return e.first == id; });
    if (!is_known_setting(id) && !repeated) pair(id, value);
  }
  if (s.grease) pair(s.grease->first, s.grease->second);
  append_frame_header(out, frame::kSettings, p.size());
  out.insert(out.end(), p.begin(), p.end());
}

namespace {
void append_single_varint(std::vector<uint8_t>& out, uint64_t type, uint64_t v) {
  append_frame_header(out, type, quic::varint_size(v));
  append_varint(out, v);
}
}  // namespace

void append_goaway(std::vector<uint8_t>& out, uint64_t id) {
  append_single_varint(out, frame::kGoaway, id);
}
void append_max_push_id(std::vector<uint8_t>& out, uint64_t push_id) {
  append_single_varint(out, frame::kMaxPushId, push_id);
}
void append_cancel_push(std::vector<uint8_t>& out, uint64_t push_id) {
  append_single_varint(out, frame::kCancelPush, push_id);
}

void append_push_promise(std::vector<uint8_t>& out, uint64_t push_id, Bytes field_section) {
  append_frame_header(out, frame::kPushPromise, quic::varint_size(push_id) + field_section.size());
  append_varint(out, push_id);
  out.insert(out.end(), field_section.begin(), field_section.end());
}

void append_priority_update(std::vector<uint8_t>& out, uint64_t type, uint64_t element_id,
                            std::string_view field_value) {
  append_frame_header(out, type, quic::varint_size(element_id) + field_value.size());
  append_varint(out, element_id);
  out.insert(out.end(), field_value.begin(), field_value.end());
}

quic::Result<Settings> parse_settings(Bytes payload) {
  if (payload.size() > kMaxSettingsPayload) {
    return fail(err::kExcessiveLoad, "SETTINGS frame too large", frame::kSettings);
  }
  Settings s;
  quic::Reader r(payload);
  std::vector<uint64_t> seen;
  while (!r.empty()) {
    auto id = r.varint();
    auto value = id ? r.varint() : std::nullopt;
    if (!value) return fail(err::kFrameError, "truncated SETTINGS entry", frame::kSettings);
    if (seen.size() >= kMaxSettingsEntries) {
      return fail(err::kExcessiveLoad, "too many SETTINGS entries", frame::kSettings);
    }
    if (std::find(seen.begin(), seen.end(), *id) != seen.end()) {
      return fail(err::kSettingsError, "duplicate setting", frame::kSettings);
    }
    seen.push_back(*id);
    switch (*id) {
      case setting::kQpackMaxTableCapacity:
        s.qpack_max_table_capacity = *value;
        break;
      case setting::kMaxFieldSectionSize:
        s.max_field_section_size = *value;
        break;
      case setting::kQpackBlockedStreams:
        s.qpack_blocked_streams = *value;
        break;
      case setting::kEnableConnectProtocol:
      case setting::kH3Datagram:
        if (*value > 1)
          return fail(err::kSettingsError, "boolean setting above 1", frame::kSettings);
        (*id == setting::kH3Datagram ? s.h3_datagram : s.enable_connect_protocol) = *value == 1;
        break;
      case 0x02:
      case 0x03:
      case 0x04:
      case 0x05:  // HTTP/2 only (§7.2.4.1)
        return fail(err::kSettingsError, "HTTP/2 setting in HTTP/3", frame::kSettings);
      default:
        // Unknown and reserved settings have no effect here (§7.2.4.1), but extensions
        // read theirs (bounded by kMaxSettingsEntries above).
        s.extensions.emplace_back(*id, *value);
        break;
    }
  }
  return s;
}

std::optional<uint64_t> Settings::get(uint64_t id) const {
  switch (id) {
    case setting::kQpackMaxTableCapacity:
      return qpack_max_table_capacity;
    case setting::kMaxFieldSectionSize:
      return max_field_section_size;
    case setting::kQpackBlockedStreams:
      return qpack_blocked_streams;
    case setting::kEnableConnectProtocol:
      return uint64_t{enable_connect_protocol};
    case setting::kH3Datagram:
      return uint64_t{h3_datagram};
    default:
      for (const auto& [k, v] : extensions) {
        if (k == id) return v;
      }
      return std::nullopt;
  }
}

quic::Result<uint64_t> parse_single_varint(uint64_t type, Bytes payload) {
  quic::Reader r(payload);
  auto v = r.varint();
  if (!v || !r.empty()) return fail(err::kFrameError, "malformed frame payload", type);
  return *v;
}

quic::Result<PushPromise> parse_push_promise(Bytes payload) {
  quic::Reader r(payload);
  auto id = r.varint();
  if (!id) return fail(err::kFrameError, "truncated PUSH_PROMISE", frame::kPushPromise);
  return PushPromise{*id, r.rest()};
}

quic::Result<PriorityUpdate> parse_priority_update(uint64_t type, Bytes payload) {
  quic::Reader r(payload);
  auto id = r.varint();
  if (!id) return fail(err::kFrameError, "truncated PRIORITY_UPDATE", type);
  Bytes v = r.rest();
  if (v.size() > kMaxPriorityFieldValue) {
    return fail(err::kExcessiveLoad, "PRIORITY_UPDATE value too long", type);
  }
  return PriorityUpdate{*id, std::string_view(reinterpret_cast<const char*>(v.data()), v.size())};
}

quic::Status FrameReader::check_length(uint64_t type, uint64_t length) const {
  if (is_single_varint_frame(type)) {
    if (length == 0 || length > 8) return fail(err::kFrameError, "bad frame length", type);
    return {};
  }
  uint64_t limit = max_payload_;
  if (type == frame::kSettings) limit = kMaxSettingsPayload;
  if (type == frame::kPriorityUpdateRequest || type == frame::kPriorityUpdatePush) {
    limit = 8 + kMaxPriorityFieldValue;
  }
  if (length > limit) return fail(err::kExcessiveLoad, "frame exceeds our limit", type);
  return {};
}

quic::Result<std::optional<FrameItem>> FrameReader::next(Bytes& in) {
  using Kind = FrameItem::Kind;
  using Mode = TlvReader::Mode;
  while (auto item = tlv_.next(in)) {
    switch (item->kind) {
      case TlvReader::Item::Kind::kHeader: {
        uint64_t type = item->type, length = item->length;
        if (is_http2_only_frame(type)) {
          return fail(err::kFrameUnexpected, "HTTP/2 frame type in HTTP/3", type);
        }
        if (type == frame::kData) {
          tlv_.set_mode(Mode::kStream);
          return FrameItem{Kind::kDataBegin, type, length, {}, length == 0};
        }
        if (!is_known_buffered_frame(type)) {
          tlv_.set_mode(Mode::kSkip);
          return FrameItem{Kind::kUnknownFrame, type, length};
        }
        if (auto s = check_length(type, length); !s) return std::unexpected(s.error());
        tlv_.set_mode(Mode::kBuffer);
        break;
      }
      case TlvReader::Item::Kind::kWhole:
        return FrameItem{Kind::kFrame, item->type, item->length, item->payload};
      case TlvReader::Item::Kind::kChunk:
        return FrameItem{Kind::kDataChunk, frame::kData, item->payload.size(), item->payload,
                         item->last};
    }
  }
  return std::nullopt;
}

quic::Status FrameReader::finish() const {
  if (!at_boundary()) return fail(err::kFrameError, "stream ended inside a frame", tlv_.type());
  return {};
}

}  // namespace h3

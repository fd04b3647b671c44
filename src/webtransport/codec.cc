#include "webtransport/codec.h"

#include <algorithm>

#include "h3/frames.h"
#include "wire/varint.h"

namespace webtransport {

const char* version_name(Version v) {
  switch (v) {
    case Version::kDraft02:
      return "draft-02";
    case Version::kDraft07:
      return "draft-07";
    case Version::kDraft15:
      return "draft-15";
    case Version::kNone:
      break;
  }
  return "none";
}

std::string_view upgrade_token(Version v) {
  return v == Version::kDraft15 ? kTokenDraft15 : kTokenLegacy;
}

// "Resetting Data Streams": first + n + floor(n / 0x1e) skips one reserved codepoint in every
// 0x1f (the range's start is chosen so the first reserved one follows 0x1e codes).
uint64_t app_error_to_h3(uint32_t code) {
  return err::kFirstAppError + code + code / 0x1e;
}

std::optional<uint32_t> h3_to_app_error(uint64_t h3_code) {
  if (h3_code < err::kFirstAppError || h3_code > err::kLastAppError) return std::nullopt;
  if (h3::is_reserved_codepoint(h3_code)) return std::nullopt;
  uint64_t shifted = h3_code - err::kFirstAppError;
  return static_cast<uint32_t>(shifted - shifted / 0x1f);
}

namespace {

// Flow-control capsules carry one varint (at most 8 bytes); a longer one is malformed.
constexpr size_t kMaxVarintBody = 8;
constexpr h3::CapsuleType kTable[] = {
    {h3::capsule::kDatagram, "DATAGRAM", h3::kMaxCapsulePayload, h3::Oversize::kDiscard},
    {capsule::kCloseSession, "WT_CLOSE_SESSION", h3::kMaxWtCloseSession, h3::Oversize::kMalformed},
    {capsule::kDrainSession, "WT_DRAIN_SESSION", 0, h3::Oversize::kMalformed},
    {capsule::kMaxData, "WT_MAX_DATA", kMaxVarintBody, h3::Oversize::kMalformed},
    {capsule::kMaxStreamsBidi, "WT_MAX_STREAMS", kMaxVarintBody, h3::Oversize::kMalformed},
    {capsule::kMaxStreamsUni, "WT_MAX_STREAMS", kMaxVarintBody, h3::Oversize::kMalformed},
    {capsule::kDataBlocked, "WT_DATA_BLOCKED", kMaxVarintBody, h3::Oversize::kMalformed},
    {capsule::kStreamsBlockedBidi, "WT_STREAMS_BLOCKED", kMaxVarintBody, h3::Oversize::kMalformed},
    {capsule::kStreamsBlockedUni, "WT_STREAMS_BLOCKED", kMaxVarintBody, h3::Oversize::kMalformed},
    // Prohibited over HTTP/3: delivered (their body unread) so the session can end.
    {capsule::kMaxStreamDataH2, "WT_MAX_STREAM_DATA", kMaxVarintBody * 2, h3::Oversize::kMalformed},
    {capsule::kStreamDataBlockedH2, "WT_STREAM_DATA_BLOCKED", kMaxVarintBody * 2,
     h3::Oversize::kMalformed},
};

}  // namespace

std::span<const h3::CapsuleType> capsule_table() {
  return kTable;
}

bool valid_utf8(Bytes s) {
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  for (size_t i = 0; i < s.size();) {
    uint8_t c = s[i];
    size_t n = 0;  // continuation bytes
    if (c >= 0x80) {
      if ((c & 0xe0) == 0xc0) {
        n = 1;
      } else if ((c & 0xf0) == 0xe0) {
        n = 2;
      } else if ((c & 0xf8) == 0xf0) {
        n = 3;
      } else {
        return false;
      }
    }
    if (s.size() - i <= n) return false;
    uint32_t cp = n == 0 ? c : c & (0x7fu >> (n + 1));
    for (size_t k = 1; k <= n; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3fu);
    }
    // Overlong forms, surrogates and code points above U+10FFFF are not UTF-8 (RFC 3629 §3).
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

std::string_view utf8_prefix(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  // Step back over continuation bytes to the start of the character that would be cut.
  while (end > 0 && (static_cast<uint8_t>(s[end]) & 0xc0) == 0x80) --end;
  return s.substr(0, end);
}

quic::Result<CloseSession> parse_close_session(Bytes value) {
  quic::Reader r(value);
  auto code = r.u32();
  if (!code) return h3::fail(h3::err::kMessageError, "WT_CLOSE_SESSION shorter than its code");
  Bytes msg = r.rest();
  if (msg.size() > kMaxCloseReason) {
    return h3::fail(h3::err::kMessageError, "WT_CLOSE_SESSION message above 1024 bytes");
  }
  if (!valid_utf8(msg)) return h3::fail(h3::err::kMessageError, "WT_CLOSE_SESSION not UTF-8");
  return CloseSession{*code, std::string(msg.begin(), msg.end())};
}

std::vector<uint8_t> encode_close_session(uint32_t code, std::string_view reason) {
  std::string_view cut = utf8_prefix(reason, kMaxCloseReason);
  std::vector<uint8_t> out(4 + cut.size());
  for (size_t i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(code >> (24 - 8 * i));
  std::copy(cut.begin(), cut.end(), out.begin() + 4);
  return out;
}

quic::Result<uint64_t> parse_flow_capsule(uint64_t type, Bytes value) {
  quic::Reader r(value);
  auto v = r.varint();
  if (!v || !r.empty()) return h3::fail(h3::err::kMessageError, "flow-control capsule malformed");
  bool streams = type == capsule::kMaxStreamsBidi || type == capsule::kMaxStreamsUni ||
                 type == capsule::kStreamsBlockedBidi || type == capsule::kStreamsBlockedUni;
  if (streams && *v > kMaxStreamCount) {
    return h3::fail(err::kFlowControlError, "stream count above 2^60");
  }
  return *v;
}

namespace {

// RFC 9651 §4.2.5 sf-string at the front of `in` (consumed); nullopt when malformed.
std::optional<std::string> take_sf_string(std::string_view& in) {
  if (in.empty() || in.front() != '"') return std::nullopt;
  std::string out;
  for (size_t i = 1; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\') {
      if (++i == in.size() || (in[i] != '"' && in[i] != '\\')) return std::nullopt;
      out.push_back(in[i]);
    } else if (c == '"') {
      in.remove_prefix(i + 1);
      return out;
    } else if (c < 0x20 || c > 0x7e) {
      return std::nullopt;
    } else {
      out.push_back(c);
    }
  }
  return std::nullopt;  // no closing quote
}

void skip_spaces(std::string_view& in) {
  while (!in.empty() && (in.front() == ' ' || in.front() == '\t')) in.remove_prefix(1);
}

// Parameters (";key=value" ...) follow an item; they carry no meaning here (§3.3) and are
// skipped up to the next member separator. A quoted value may hold a comma.
bool skip_parameters(std::string_view& in) {
  while (!in.empty() && in.front() == ';') {
    size_t end = in.find_first_of(",\"");
    if (end != std::string_view::npos && in[end] == '"') {
      in.remove_prefix(end);
      if (!take_sf_string(in)) return false;
      continue;
    }
    in.remove_prefix(end == std::string_view::npos ? in.size() : end);
  }
  return true;
}

}  // namespace

std::optional<std::vector<std::string>> parse_protocol_list(std::string_view field) {
  std::vector<std::string> out;
  skip_spaces(field);
  while (!field.empty()) {
    auto item = take_sf_string(field);
    if (!item || !skip_parameters(field) || out.size() == kMaxProtocols) return std::nullopt;
    out.push_back(std::move(*item));
    skip_spaces(field);
    if (field.empty()) break;
    if (field.front() != ',') return std::nullopt;
    field.remove_prefix(1);
    skip_spaces(field);
    if (field.empty()) return std::nullopt;  // a trailing comma
  }
  return out;
}

std::optional<std::string> parse_protocol_item(std::string_view field) {
  skip_spaces(field);
  auto item = take_sf_string(field);
  if (!item || !skip_parameters(field)) return std::nullopt;
  skip_spaces(field);
  if (!field.empty()) return std::nullopt;
  return item;
}

std::optional<std::string> format_protocol(std::string_view protocol) {
  std::string out = "\"";
  for (char c : protocol) {
    if (c < 0x20 || c > 0x7e) return std::nullopt;
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::vector<uint8_t> encode_varint_body(uint64_t v) {
  std::vector<uint8_t> out;
  h3::append_varint(out, v);
  return out;
}

}  // namespace webtransport

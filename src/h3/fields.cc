#include "h3/fields.h"

#include "h3/frames.h"

namespace h3 {

namespace {

bool is_tchar(char c) {
  // RFC 9110 §5.6.2 token characters, upper case excluded (HTTP/3 names are lowercase).
  if (c >= 'a' && c <= 'z') return true;
  if (c >= '0' && c <= '9') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

auto malformed(std::string why) {
  return fail(err::kMessageError, std::move(why));
}

bool is_connection_specific(std::string_view name, std::string_view value) {
  if (name == "te") return value != "trailers";
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade";
}

// Regular-field checks shared by requests, responses and trailers; collects content-length.
quic::Status check_regular(const Field& f, std::optional<uint64_t>& content_length) {
  if (is_connection_specific(f.name, f.value)) {
    return malformed("connection-specific field " + f.name);
  }
  if (f.name == "content-length") {
    // Repeated or comma-joined values must all agree (RFC 9110 §8.6).
    std::string_view v = f.value;
    for (;;) {
      size_t comma = v.find(',');
      std::string_view part = v.substr(0, comma);
      while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
      while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
      auto n = parse_content_length(part);
      if (!n) return malformed("bad content-length");
      if (content_length && *content_length != *n) return malformed("conflicting content-length");
      content_length = n;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return {};
}

}  // namespace

std::optional<uint64_t> parse_content_length(std::string_view v) {
  if (v.empty() || v.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > quic::kMaxVarint) return std::nullopt;
  return n;
}

quic::Status validate_field_line(std::string_view name, std::string_view value) {
  std::string_view n = name;
  if (!n.empty() && n.front() == ':') n.remove_prefix(1);
  if (n.empty()) return malformed("empty field name");
  for (char c : n) {
    if (c >= 'A' && c <= 'Z') return malformed("uppercase field name");
    if (!is_tchar(c)) return malformed("invalid character in field name");
  }
  for (char c : value) {
    if (c == '\0' || c == '\r' || c == '\n') return malformed("invalid character in field value");
  }
  if (!value.empty()) {
    auto ws = [](char c) { return c == ' ' || c == '\t'; };
    if (ws(value.front()) || ws(value.back())) return malformed("field value has outer whitespace");
  }
  return {};
}

quic::Result<RequestHead> validate_request(std::span<const Field> fields,
                                           bool allow_extended_connect) {
  RequestHead h;
  bool seen_method = false, seen_scheme = false, seen_authority = false, seen_path = false,
       seen_protocol = false, regular = false;
  std::optional<std::string> host;
  for (const Field& f : fields) {
    if (auto s = validate_field_line(f.name, f.value); !s) return std::unexpected(s.error());
    if (!f.name.empty() && f.name[0] == ':') {
      if (regular) return malformed("pseudo-header after regular field");
      auto take = [&](bool& seen, std::string& into) -> quic::Status {
        if (seen) return malformed("duplicate " + f.name);
        seen = true;
        into = f.value;
        return {};
      };
      quic::Status s;
      if (f.name == ":method")
        s = take(seen_method, h.method);
      else if (f.name == ":scheme")
        s = take(seen_scheme, h.scheme);
      else if (f.name == ":authority")
        s = take(seen_authority, h.authority);
      else if (f.name == ":path")
        s = take(seen_path, h.path);
      else if (f.name == ":protocol")
        s = take(seen_protocol, h.protocol);
      else
        return malformed("unknown or response pseudo-header " + f.name);
      if (!s) return std::unexpected(s.error());
      continue;
    }
    regular = true;
    if (auto s = check_regular(f, h.content_length); !s) return std::unexpected(s.error());
    if (f.name == "host") {
      if (host) return malformed("duplicate host");
      host = f.value;
    }
  }
  if (!seen_method || h.method.empty()) return malformed("missing :method");
  if (seen_protocol) {
    // Extended CONNECT (RFC 9220 §3, RFC 8441 §4).
    if (!allow_extended_connect) return malformed(":protocol without ENABLE_CONNECT_PROTOCOL");
    if (!h.is_connect()) return malformed(":protocol on a non-CONNECT request");
    if (h.protocol.empty()) return malformed("empty :protocol");
    if (!seen_scheme || !seen_path || !seen_authority || h.path.empty()) {
      return malformed("extended CONNECT needs :scheme, :path and :authority");
    }
  } else if (h.is_connect()) {
    // Classic CONNECT (§4.4): authority only.
    if (seen_scheme || seen_path) return malformed("CONNECT with :scheme or :path");
    if (!seen_authority || h.authority.empty()) return malformed("CONNECT without :authority");
  } else {
    if (!seen_scheme || h.scheme.empty()) return malformed("missing :scheme");
    if (!seen_path || h.path.empty()) return malformed("missing or empty :path");
    if (h.scheme == "http" || h.scheme == "https") {
      // §4.3.1: an authority is mandatory for these schemes, and host must not contradict it.
      if ((!seen_authority || h.authority.empty()) && (!host || host->empty())) {
        return malformed("no :authority or host");
      }
    }
  }
  if (seen_authority && host && *host != h.authority)
    return malformed("host differs from :authority");
  return h;
}

quic::Result<ResponseHead> validate_response(std::span<const Field> fields) {
  ResponseHead h;
  bool seen_status = false, regular = false;
  for (const Field& f : fields) {
    if (auto s = validate_field_line(f.name, f.value); !s) return std::unexpected(s.error());
    if (!f.name.empty() && f.name[0] == ':') {
      if (regular) return malformed("pseudo-header after regular field");
      if (f.name != ":status") return malformed("unknown or request pseudo-header " + f.name);
      if (seen_status) return malformed("duplicate :status");
      seen_status = true;
      const std::string& v = f.value;
      if (v.size() != 3 || v[0] < '1' || v[0] > '5' || v[1] < '0' || v[1] > '9' || v[2] < '0' ||
          v[2] > '9') {
        return malformed("bad :status");
      }
      h.status = static_cast<uint16_t>((v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0'));
      continue;
    }
    regular = true;
    if (auto s = check_regular(f, h.content_length); !s) return std::unexpected(s.error());
  }
  if (!seen_status) return malformed("missing :status");
  if (h.status == 101) return malformed("101 is not allowed in HTTP/3");  // §4.5
  return h;
}

quic::Status validate_trailers(std::span<const Field> fields) {
  std::optional<uint64_t> ignored;
  for (const Field& f : fields) {
    if (auto s = validate_field_line(f.name, f.value); !s) return s;
    if (!f.name.empty() && f.name[0] == ':') return malformed("pseudo-header in trailers");
    if (auto s = check_regular(f, ignored); !s) return s;
  }
  return {};
}

quic::Status ContentLengthCheck::on_data(uint64_t n) {
  received_ += n;
  if (declared_ && received_ > *declared_) return malformed("more DATA than content-length");
  return {};
}

quic::Status ContentLengthCheck::on_end() const {
  if (declared_ && received_ != *declared_) return malformed("less DATA than content-length");
  return {};
}

}  // namespace h3

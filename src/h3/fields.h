// HTTP message validation for HTTP/3 (RFC 9114 §4.1-4.3, RFC 9220 §3 for :protocol):
// pseudo-header rules, field name/value syntax, connection-specific fields and content-length.
// A violation makes the message malformed: a stream error of type H3_MESSAGE_ERROR (§4.1.2).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/error.h"
#include "h3/qpack/field.h"

namespace h3 {

using Field = qpack::Field;

struct RequestHead {
  std::string method, scheme, authority, path;
  std::string protocol;  // extended CONNECT (RFC 9220): non-empty when :protocol was sent
  std::optional<uint64_t> content_length;
  bool is_connect() const { return method == "CONNECT"; }
  bool is_extended_connect() const { return !protocol.empty(); }
};

struct ResponseHead {
  uint16_t status = 0;
  std::optional<uint64_t> content_length;
  bool informational() const { return status >= 100 && status < 200; }
};

// One field line: lowercase token name (RFC 9110 §5.1), value without NUL/CR/LF and without
// leading or trailing whitespace (RFC 9114 §4.2, RFC 9110 §5.5).
quic::Status validate_field_line(std::string_view name, std::string_view value);

// allow_extended_connect: both endpoints sent SETTINGS_ENABLE_CONNECT_PROTOCOL=1.
quic::Result<RequestHead> validate_request(std::span<const Field> fields,
                                           bool allow_extended_connect);
quic::Result<ResponseHead> validate_response(std::span<const Field> fields);
quic::Status validate_trailers(std::span<const Field> fields);

// Parses one content-length value (digits only, no sign or whitespace, fits 62 bits).
std::optional<uint64_t> parse_content_length(std::string_view v);

// Checks the DATA received against a declared content-length (RFC 9114 §4.1.2).
class ContentLengthCheck {
 public:
  explicit ContentLengthCheck(std::optional<uint64_t> declared = std::nullopt)
      : declared_(declared) {}
  quic::Status on_data(uint64_t n);
  quic::Status on_end() const;  // the message ended (FIN)
  uint64_t received() const { return received_; }

 private:
  std::optional<uint64_t> declared_;
  uint64_t received_ = 0;
};

}  // namespace h3

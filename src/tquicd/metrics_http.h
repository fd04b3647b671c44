// A minimal, bounded HTTP/1.1 request parser (RFC 9112) for the metrics/dashboard endpoint,
// sans-I/O. Only what a GET needs: the request line and header fields; no bodies, no
// keep-alive (every response closes the connection), no obs-fold.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bond {

// The request line and header section together, terminating empty line included.
inline constexpr size_t kMaxHttpHead = 8192;
inline constexpr size_t kMaxHttpFields = 64;

struct HttpRequest {
  std::string method, target;  // target: origin-form path (and query), e.g. "/api/status"
  std::string path, query;     // target split at '?'
};

enum class HttpParseState {
  kIncomplete,  // no end of head yet, under the limit
  kDone,        // request parsed
  kBad,         // 400: malformed request line or field, a body, HTTP version other than 1.x
  kTooLarge,    // 431: head over kMaxHttpHead or more than kMaxHttpFields fields
  kNotAllowed,  // 405: a well-formed request whose method is not GET or HEAD
};

struct HttpParseResult {
  HttpParseState state = HttpParseState::kIncomplete;
  HttpRequest request;
};

// Parses the bytes received so far (from the start of the connection).
HttpParseResult parse_http_request(std::string_view data);

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  bool head_only = false;  // HEAD: headers with the body's length, no body
};

// Serializes with Content-Length, Connection: close and no-cache headers.
std::string serialize_http_response(const HttpResponse& r);
const char* http_reason(int status);

}  // namespace bond

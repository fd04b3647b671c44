#include "tquicd/metrics_http.h"

#include <algorithm>
#include <cctype>

namespace bond {
namespace {

// RFC 9110 §5.6.2 tchar.
bool tchar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), tchar); }

// Visible ASCII only in the target (RFC 9112 §3.2: no whitespace or controls).
bool target_ok(std::string_view s) {
  if (s.empty() || s[0] != '/') return false;  // origin-form only
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

bool field_value_ok(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Next line ending in LF (a preceding CR is stripped; RFC 9112 §2.2 lets a recipient accept a
// bare LF). A CR elsewhere is left in and rejected by the callers' character checks.
bool next_line(std::string_view& data, std::string_view& line) {
  size_t nl = data.find('\n');
  if (nl == std::string_view::npos) return false;
  line = data.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  data.remove_prefix(nl + 1);
  return true;
}

HttpParseState parse_request_line(std::string_view line, HttpRequest& r) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return HttpParseState::kBad;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return HttpParseState::kBad;
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                   version = line.substr(sp2 + 1);
  if (!token(method) || !target_ok(target)) return HttpParseState::kBad;
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return HttpParseState::kBad;
  r.method = method;
  r.target = target;
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string_view::npos) r.query = target.substr(q + 1);
  return HttpParseState::kDone;
}

// A field line "name: value"; a request with a body is refused (GET/HEAD carry none here).
HttpParseState parse_field(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return HttpParseState::kBad;
  std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
  if (!token(name) || !field_value_ok(value)) return HttpParseState::kBad;  // also obs-fold
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  if (iequal(name, "transfer-encoding")) return HttpParseState::kBad;
  if (iequal(name, "content-length") && value != "0") return HttpParseState::kBad;
  return HttpParseState::kDone;
}

}  // namespace

HttpParseResult parse_http_request(std::string_view data) {
  HttpParseResult res;
  bool over = data.size() > kMaxHttpHead;
  if (over) data = data.substr(0, kMaxHttpHead);
  std::string_view line;
  // RFC 9112 §2.2: empty lines before the request line may be ignored; we allow none.
  if (!next_line(data, line)) {
    res.state = over ? HttpParseState::kTooLarge : HttpParseState::kIncomplete;
    return res;
  }
  if ((res.state = parse_request_line(line, res.request)) != HttpParseState::kDone) return res;
  for (size_t fields = 0;; ++fields) {
    if (!next_line(data, line)) {
      res.state = over ? HttpParseState::kTooLarge : HttpParseState::kIncomplete;
      return res;
    }
    if (line.empty()) break;
    if (fields == kMaxHttpFields) {
      res.state = HttpParseState::kTooLarge;
      return res;
    }
    if ((res.state = parse_field(line)) != HttpParseState::kDone) return res;
  }
  if (res.request.method != "GET" && res.request.method != "HEAD")
    res.state = HttpParseState::kNotAllowed;
  else
    res.state = HttpParseState::kDone;
  return res;
}

const char* http_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
  }
  return "Error";
}

std::string serialize_http_response(const HttpResponse& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + http_reason(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "Cache-Control: no-store\r\nConnection: close\r\n";
  if (r.status == 405) out += "Allow: GET, HEAD\r\n";
  out += "\r\n";
  if (!r.head_only) out += r.body;
  return out;
}

}  // namespace bond

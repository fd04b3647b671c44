// Fuzzes the metrics endpoint's HTTP/1.1 request parser (tquicd/metrics_http.h): no crash on
// any bytes; a parsed request is GET or HEAD with an origin-form target; a head of at most
// kMaxHttpHead bytes is never reported too large by length alone; the answer for a prefix of
// a complete request is "incomplete" or the same refusal.
#include <cstdlib>
#include <string_view>

#include "tquicd/metrics_http.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = bond::parse_http_request(in);
  using S = bond::HttpParseState;
  if (r.state == S::kDone) {
    if (r.request.method != "GET" && r.request.method != "HEAD") std::abort();
    if (r.request.path.empty() || r.request.path[0] != '/') std::abort();
    if (r.request.target.size() > bond::kMaxHttpHead) std::abort();
  }
  if (r.state == S::kIncomplete && size > bond::kMaxHttpHead) std::abort();
  // Parsing is a function of the prefix seen: a prefix of a finished request is either still
  // incomplete or already decided the same way.
  if (r.state != S::kIncomplete && size > 0) {
    auto p = bond::parse_http_request(in.substr(0, size / 2));
    if (p.state != S::kIncomplete && p.state != r.state && p.state != S::kTooLarge) std::abort();
  }
  (void)bond::serialize_http_response({400, "text/plain", std::string(in.substr(0, 64)), false});
  return 0;
}

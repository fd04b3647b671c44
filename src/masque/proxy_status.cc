#include "masque/proxy_status.h"

#include <array>
#include <cctype>

namespace masque {

namespace {

struct ErrorInfo {
  ProxyError error;
  std::string_view token;
  uint16_t status;
};
// Tokens from RFC 9209 §2.3; statuses are its recommendations except where status_for says.
constexpr std::array<ErrorInfo, 8> kErrors{{
    {ProxyError::kDnsTimeout, "dns_timeout", 504},
    {ProxyError::kDnsError, "dns_error", 502},
    {ProxyError::kDestinationIpProhibited, "destination_ip_prohibited", 403},
    {ProxyError::kDestinationIpUnroutable, "destination_ip_unroutable", 502},
    {ProxyError::kConnectionLimitReached, "connection_limit_reached", 503},
    {ProxyError::kHttpRequestError, "http_request_error", 400},
    {ProxyError::kHttpRequestDenied, "http_request_denied", 403},
    {ProxyError::kProxyInternalError, "proxy_internal_error", 500},
}};

const ErrorInfo& info(ProxyError e) {
  for (const auto& i : kErrors) {
    if (i.error == e) return i;
  }
  return kErrors.back();
}

bool is_tchar(char c) {
  // RFC 9110 §5.6.2 tchar, plus ':' and '/' which sf-token allows after the first character.
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~:/").find(c) != std::string_view::npos;
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
         c == '*';
}

void skip_ows(std::string_view& in) {
  while (!in.empty() && (in.front() == ' ' || in.front() == '\t')) in.remove_prefix(1);
}

// An sf-string at the front of `in` (opening quote included); nullopt when malformed.
std::optional<std::string> take_string(std::string_view& in) {
  if (in.empty() || in.front() != '"') return std::nullopt;
  std::string out;
  for (size_t i = 1; i < in.size(); ++i) {
    char c = in[i];
    if (c == '"') {
      in.remove_prefix(i + 1);
      return out;
    }
    if (c == '\\') {
      if (++i == in.size() || (in[i] != '"' && in[i] != '\\')) return std::nullopt;
      c = in[i];
    } else if (c < 0x20 || c > 0x7e) {
      return std::nullopt;
    }
    out.push_back(c);
  }
  return std::nullopt;
}

// A bare item that is not a string: token, integer, decimal or boolean, taken as text.
std::optional<std::string> take_bare(std::string_view& in) {
  size_t n = 0;
  if (!in.empty() && in.front() == '?') n = 1;
  while (n < in.size() && is_tchar(in[n])) ++n;
  if (n == 0) return std::nullopt;
  std::string out(in.substr(0, n));
  in.remove_prefix(n);
  return out;
}

std::optional<std::string> take_item(std::string_view& in) {
  if (!in.empty() && in.front() == '"') return take_string(in);
  return take_bare(in);
}

}  // namespace

std::string_view error_token(ProxyError e) {
  return info(e).token;
}

uint16_t status_for(ProxyError e) {
  return info(e).status;
}

Refusal refuse(ProxyError e, std::string details) {
  return Refusal{status_for(e), ProxyStatus{e, std::move(details), std::nullopt}};
}

bool is_sf_token(std::string_view s) {
  if (s.empty()) return false;
  char first = s.front();
  if (std::isalpha(static_cast<unsigned char>(first)) == 0 && first != '*') return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

std::string sf_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c < 0x20 || c > 0x7e) {
      out.push_back('?');
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string format_proxy_status(std::string_view proxy_name, const ProxyStatus& s) {
  std::string out = is_sf_token(proxy_name) ? std::string(proxy_name) : sf_string(proxy_name);
  out += "; error=";
  out += error_token(s.error);
  if (s.rcode) out += "; rcode=" + sf_string(*s.rcode);
  if (!s.details.empty()) out += "; details=" + sf_string(s.details);
  return out;
}

std::optional<ParsedProxyStatus> parse_proxy_status(std::string_view in) {
  ParsedProxyStatus out;
  skip_ows(in);
  auto proxy = take_item(in);
  if (!proxy) return std::nullopt;
  out.proxy = *proxy;
  for (;;) {
    skip_ows(in);
    if (in.empty() || in.front() == ',') break;
    if (in.front() != ';') return std::nullopt;
    in.remove_prefix(1);
    skip_ows(in);
    size_t n = 0;
    while (n < in.size() && is_key_char(in[n])) ++n;
    if (n == 0) return std::nullopt;
    std::string_view key = in.substr(0, n);
    in.remove_prefix(n);
    std::string value = "?1";  // a parameter without a value is boolean true (RFC 8941 §3.1.2)
    if (!in.empty() && in.front() == '=') {
      in.remove_prefix(1);
      auto v = take_item(in);
      if (!v) return std::nullopt;
      value = std::move(*v);
    }
    if (key == "error") out.error = value;
    if (key == "details") out.details = value;
    if (key == "rcode") out.rcode = value;
  }
  if (out.error.empty()) return std::nullopt;
  return out;
}

}  // namespace masque

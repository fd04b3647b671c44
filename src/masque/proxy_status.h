// The Proxy-Status response field (RFC 9209 §2): how a MASQUE proxy tells a client why it
// refused a tunnel. One list member naming this proxy, with an `error` parameter (an RFC 9209
// §2.3 proxy error type) and `details` (free text), plus `rcode` for DNS errors (§2.3.2).
// Serialized as an RFC 8941 structured field: tokens and strings only, strings escaped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace masque {

// The RFC 9209 §2.3 error types this proxy produces.
enum class ProxyError : uint8_t {
  kDnsTimeout,                // §2.3.1
  kDnsError,                  // §2.3.2 (with rcode)
  kDestinationIpProhibited,   // §2.3.5: our access policy refuses the (resolved) address
  kDestinationIpUnroutable,   // §2.3.6: no route to it (ENETUNREACH and friends)
  kConnectionLimitReached,    // §2.3.12: flow or resolver bounds reached
  kHttpRequestError,          // §2.3.18: a malformed UDP proxying request
  kHttpRequestDenied,         // §2.3.19: refused for another policy reason
  kProxyInternalError,        // §2.3.27
};

// The error type's token, e.g. "dns_timeout".
std::string_view error_token(ProxyError e);
// The HTTP status we answer with. RFC 9209 recommends 502 for destination_ip_prohibited; a
// refusal by policy is answered 403 here (as for http_request_denied) so a client can tell
// "not allowed" from "could not reach".
uint16_t status_for(ProxyError e);

struct ProxyStatus {
  ProxyError error = ProxyError::kProxyInternalError;
  std::string details;              // human-readable, any bytes (escaped when serialized)
  std::optional<std::string> rcode;  // dns_error: the DNS RCODE name, e.g. "NXDOMAIN"
};

// A refusal: the status code plus the Proxy-Status member that explains it.
struct Refusal {
  uint16_t status = 500;
  ProxyStatus proxy_status;
};
Refusal refuse(ProxyError e, std::string details);

// `name; error=dns_error; rcode="NXDOMAIN"; details="..."`. The proxy name is a token when it
// is one (RFC 8941 §3.3.4) and a string otherwise.
std::string format_proxy_status(std::string_view proxy_name, const ProxyStatus& s);

// RFC 8941 §3.3.3 sf-string: printable ASCII with `"` and `\` escaped; other bytes become '?'
// (an sf-string cannot carry them).
std::string sf_string(std::string_view s);
bool is_sf_token(std::string_view s);

// The client's side: the first member's `error` token and `details` string, for messages.
// nullopt when the value is not a list member we can read.
struct ParsedProxyStatus {
  std::string proxy, error, details, rcode;
};
std::optional<ParsedProxyStatus> parse_proxy_status(std::string_view value);

}  // namespace masque

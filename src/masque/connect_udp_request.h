// CONNECT-UDP requests (RFC 9298 §3, over HTTP/3 with extended CONNECT, RFC 9220 §3): the
// client builds one from the proxy's URI template and a target; the proxy validates one and
// extracts the target. Pure functions over header fields: no I/O.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "h3/fields.h"
#include "h3/uri_template.h"
#include "masque/proxy_status.h"

namespace masque {

inline constexpr std::string_view kConnectUdpProtocol = "connect-udp";
// RFC 9298 §3: the default path of the well-known URI template.
inline constexpr std::string_view kDefaultUdpPathTemplate =
    "/.well-known/masque/udp/{target_host}/{target_port}/";
// Peer-controlled bounds: a DNS name is at most 253 characters (RFC 1035 §2.3.4 in text form),
// a label at most 63; an IPv6 literal at most 45.
inline constexpr size_t kMaxTargetHost = 253;
inline constexpr size_t kMaxHostLabel = 63;
// The largest UDP payload (RFC 9298 §5: a UDP payload is at most 65527 bytes over IPv4's
// 65535-byte datagram, minus the 8-byte UDP header).
inline constexpr size_t kMaxUdpPayload = 65527;

struct UdpTarget {
  std::string host;  // a DNS name, or the literal's text
  uint16_t port = 0;
  // Set when host is an IPv4 or IPv6 literal (no resolution needed); its port is `port`.
  std::optional<quic::SocketAddress> literal;
};

// target_host (RFC 9298 §2: IPv6address / IPv4address / reg-name, already percent-decoded).
// A reg-name must be a DNS name here: letters, digits, '-', '_' in labels of 1-63 characters,
// an optional final dot, and a last label that is not all digits (so "127.1" never reaches a
// resolver that would read it as an IPv4 shorthand). IPv6 zone identifiers and brackets are
// refused (§2 supports neither).
std::expected<UdpTarget, std::string> parse_target(std::string_view host, std::string_view port);
// An IPv4 (dotted quad) or IPv6 literal, port 0; nullopt for anything else (zone IDs too).
std::optional<quic::SocketAddress> parse_ip_literal(std::string_view text);
// 1-65535, decimal, no sign or leading zero.
std::optional<uint16_t> parse_port(std::string_view text);

// A path-only template ("/.well-known/...") is made absolute with `authority` ("https://"
// authority path); a full one is taken as is.
quic::Result<h3::UriTemplate> make_udp_template(std::string_view text, std::string_view authority);

// The proxy's check of a request whose :protocol is connect-udp: the target, or the refusal
// (404 when the path does not match the template; 400 + http_request_error when the method,
// scheme, capsule-protocol or target is wrong).
std::expected<UdpTarget, Refusal> validate_connect_udp(std::span<const h3::Field> fields,
                                                       const h3::UriTemplate& tmpl);

// Whether a Capsule-Protocol value is the sf-boolean true (RFC 9297 §3.4), parameters allowed.
bool capsule_protocol_true(std::string_view value);

// The request fields for a target through `tmpl` (RFC 9298 §3.4).
std::vector<h3::Field> connect_udp_request(const h3::UriTemplate& tmpl, std::string_view host,
                                           uint16_t port);

}  // namespace masque

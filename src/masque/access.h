// The proxy's access policy for CONNECT-UDP (and other MASQUE) targets, applied to the
// RESOLVED address so a name that resolves to an internal address cannot reach it (no
// DNS-rebinding SSRF; RFC 9298 §7 asks proxies to restrict targets).
//
//   --allow CIDR[:PORTS]   allow-list entry, repeatable: 192.0.2.0/24, 192.0.2.1:53,
//                          198.51.100.0/24:1000-2000, [2001:db8::/32]:443, 2001:db8::1
//   --allow-private        also allow the special-purpose ranges below
//
// Decision: an address that matches an allow rule (prefix and port) is allowed. Otherwise, with
// any --allow given, it is refused (the list is exhaustive). Without one, public addresses are
// allowed and special-purpose ones (loopback, RFC 1918 / CGNAT private, ULA fc00::/7,
// link-local, multicast, unspecified, broadcast, reserved 240/4) are refused unless
// --allow-private. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "common/error.h"
#include "masque/proxy_status.h"

namespace masque {

// Bound on configured rules (local configuration, but each check walks them all).
inline constexpr size_t kMaxAllowRules = 1024;

struct AllowRule {
  quic::SocketAddress prefix;  // network address (port unused)
  uint8_t prefix_len = 0;      // 0-32 (IPv4) or 0-128 (IPv6)
  uint16_t port_lo = 1, port_hi = 65535;
  bool matches(const quic::SocketAddress& a) const;
};
// Parses one --allow value; the error says what is wrong with it.
quic::Result<AllowRule> parse_allow_rule(std::string_view text);

enum class AddressClass : uint8_t {
  kPublic,
  kLoopback,     // 127/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fc00::/7
  kLinkLocal,    // 169.254/16, fe80::/10
  kMulticast,    // 224/4, ff00::/8
  kUnspecified,  // 0/8, ::
  kBroadcast,    // 255.255.255.255
  kReserved,     // 240/4
};
AddressClass classify(const quic::SocketAddress& a);
const char* class_name(AddressClass c);

class AccessPolicy {
 public:
  AccessPolicy() = default;
  AccessPolicy(std::vector<AllowRule> rules, bool allow_private)
      : rules_(std::move(rules)), allow_private_(allow_private) {}
  // nullopt: allowed; else 403 destination_ip_prohibited with the reason.
  std::optional<Refusal> check(const quic::SocketAddress& target) const;
  size_t rule_count() const { return rules_.size(); }

 private:
  std::vector<AllowRule> rules_;
  bool allow_private_ = false;
};

}  // namespace masque

#include "masque/access.h"

#include <charconv>
#include <cstring>
#include <string>

#include "masque/connect_udp_request.h"

namespace masque {

namespace {

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it carries.
quic::SocketAddress unmapped(const quic::SocketAddress& a) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!a.v6 || std::memcmp(a.ip.data(), kMapped, sizeof(kMapped)) != 0) return a;
  quic::SocketAddress v4 = quic::SocketAddress::v4(a.ip[12], a.ip[13], a.ip[14], a.ip[15], a.port);
  return v4;
}

bool prefix_match(const quic::SocketAddress& a, const quic::SocketAddress& net, unsigned len) {
  if (a.v6 != net.v6) return false;
  for (unsigned i = 0; i < len / 8; ++i) {
    if (a.ip[i] != net.ip[i]) return false;
  }
  if (len % 8 == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - len % 8));
  return (a.ip[len / 8] & mask) == (net.ip[len / 8] & mask);
}

struct Range {
  bool v6;
  uint8_t bytes[16];
  unsigned len;
  AddressClass cls;
};

bool in(const quic::SocketAddress& a, const Range& r) {
  quic::SocketAddress net;
  net.v6 = r.v6;
  std::memcpy(net.ip.data(), r.bytes, sizeof(r.bytes));
  return prefix_match(a, net, r.len);
}

constexpr Range kRanges[] = {
    {false, {0}, 8, AddressClass::kUnspecified},
    {false, {127}, 8, AddressClass::kLoopback},
    {false, {10}, 8, AddressClass::kPrivate},
    {false, {172, 16}, 12, AddressClass::kPrivate},
    {false, {192, 168}, 16, AddressClass::kPrivate},
    {false, {100, 64}, 10, AddressClass::kPrivate},
    {false, {169, 254}, 16, AddressClass::kLinkLocal},
    {false, {224}, 4, AddressClass::kMulticast},
    {false, {255, 255, 255, 255}, 32, AddressClass::kBroadcast},
    {false, {240}, 4, AddressClass::kReserved},
    {true, {0}, 128, AddressClass::kUnspecified},
    {true, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, AddressClass::kLoopback},
    {true, {0xfc}, 7, AddressClass::kPrivate},
    {true, {0xfe, 0x80}, 10, AddressClass::kLinkLocal},
    {true, {0xff}, 8, AddressClass::kMulticast},
};

quic::Status parse_ports(std::string_view text, AllowRule& r) {
  size_t dash = text.find('-');
  auto lo = parse_port(text.substr(0, dash));
  auto hi = dash == std::string_view::npos ? lo : parse_port(text.substr(dash + 1));
  if (!lo || !hi || *hi < *lo) {
    return quic::fail(quic::err::kInternalError, "ports must be N or N-M within 1-65535");
  }
  r.port_lo = *lo;
  r.port_hi = *hi;
  return {};
}

}  // namespace

bool AllowRule::matches(const quic::SocketAddress& a) const {
  quic::SocketAddress x = unmapped(a);
  return x.port >= port_lo && x.port <= port_hi && prefix_match(x, prefix, prefix_len);
}

quic::Result<AllowRule> parse_allow_rule(std::string_view text) {
  AllowRule r;
  std::string_view cidr = text, ports;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return quic::fail(quic::err::kInternalError, "missing ]");
    cidr = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return quic::fail(quic::err::kInternalError, "expected :PORTS after ]");
      ports = rest.substr(1);
    }
  } else if (size_t colon = text.find(':'); colon != std::string_view::npos &&
                                           text.find(':', colon + 1) == std::string_view::npos) {
    cidr = text.substr(0, colon);  // one colon: IPv4 with ports (IPv6 with ports needs [])
    ports = text.substr(colon + 1);
  }
  size_t slash = cidr.find('/');
  auto ip = parse_ip_literal(cidr.substr(0, slash));
  if (!ip) return quic::fail(quic::err::kInternalError, "not an IP address or CIDR");
  unsigned max_len = ip->v6 ? 128 : 32, len = max_len;
  if (slash != std::string_view::npos) {
    std::string_view l = cidr.substr(slash + 1);
    auto res = std::from_chars(l.data(), l.data() + l.size(), len);
    if (l.empty() || res.ec != std::errc() || res.ptr != l.data() + l.size() || len > max_len) {
      return quic::fail(quic::err::kInternalError, "bad prefix length");
    }
  }
  r.prefix = *ip;
  r.prefix_len = static_cast<uint8_t>(len);
  if (!ports.empty() || text.ends_with(":")) {
    if (auto st = parse_ports(ports, r); !st) return std::unexpected(st.error());
  }
  return r;
}

AddressClass classify(const quic::SocketAddress& a) {
  quic::SocketAddress x = unmapped(a);
  for (const Range& r : kRanges) {
    if (in(x, r)) return r.cls;
  }
  return AddressClass::kPublic;
}

const char* class_name(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic: return "public";
    case AddressClass::kLoopback: return "loopback";
    case AddressClass::kPrivate: return "private";
    case AddressClass::kLinkLocal: return "link-local";
    case AddressClass::kMulticast: return "multicast";
    case AddressClass::kUnspecified: return "unspecified";
    case AddressClass::kBroadcast: return "broadcast";
    case AddressClass::kReserved: return "reserved";
  }
  return "?";
}

std::optional<Refusal> AccessPolicy::check(const quic::SocketAddress& target) const {
  for (const AllowRule& r : rules_) {
    if (r.matches(target)) return std::nullopt;
  }
  std::string addr = target.to_string();
  if (!rules_.empty()) {
    return refuse(ProxyError::kDestinationIpProhibited, addr + " is not in the allow-list");
  }
  AddressClass c = classify(target);
  if (c == AddressClass::kPublic || allow_private_) return std::nullopt;
  return refuse(ProxyError::kDestinationIpProhibited,
                addr + " is a " + class_name(c) + " address");
}

}  // namespace masque

// A minimal, bounded IPv4/IPv6 header reader for the tunnel's inner packets: what the flow
// classifier and the ingress queue need (addresses, protocol, ports, DSCP, ECN) and the ECN
// CE mark. Every read is bounds-checked; the IPv6 extension-header walk is capped. (The
// CONNECT-IP layer has its own reader in src/masque; the two may be unified later.)
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "wire/varint.h"

namespace bond {

// IPv6 extension headers walked before giving up on finding the transport header.
inline constexpr size_t kMaxIpv6ExtensionHeaders = 8;

namespace ipproto {
inline constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kIcmpv6 = 58;
}

enum class Ecn : uint8_t { kNotEct = 0, kEct1 = 1, kEct0 = 2, kCe = 3 };

struct IpPacketInfo {
  bool v6 = false;
  std::array<uint8_t, 16> src{}, dst{};  // IPv4 in the first 4 bytes
  uint8_t protocol = 0;   // the transport protocol after any IPv6 extension headers
  uint8_t dscp = 0;
  Ecn ecn = Ecn::kNotEct;
  bool has_ports = false;  // TCP/UDP ports, or the ICMP echo identifier in src_port
  uint16_t src_port = 0, dst_port = 0;
  bool later_fragment = false;  // a non-first fragment: no transport header
  size_t length = 0;            // the IP packet's own length (header + payload)
};

enum class IpError : uint8_t {
  kTruncated,        // shorter than its headers or its length field says
  kBadVersion,
  kBadHeaderLength,  // IPv4 IHL below 5 or past the packet
  kTooManyExtensions,
  kTruncatedTransport,  // TCP/UDP/ICMP header cut short
};
const char* to_string(IpError e);

struct IpParse {
  std::optional<IpPacketInfo> info;
  IpError error = IpError::kTruncated;  // when !info
};
IpParse parse_ip_packet(quic::Bytes packet);

// The packet's ECN field (kNotEct for anything unparsable).
Ecn packet_ecn(quic::Bytes packet);
// Sets CE on an ECT(0)/ECT(1) packet: IPv4's TOS byte with the header checksum updated
// incrementally (RFC 1624 eqn. 3), IPv6's traffic class. False (packet untouched) when it is
// not ECN-capable, already CE, or unparsable.
bool set_ce(quic::MutBytes packet);

}  // namespace bond

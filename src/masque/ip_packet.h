// IP addresses, prefixes and a validating parser for the IPv4/IPv6 packets a CONNECT-IP tunnel
// (RFC 9484 §8) carries in context-0 HTTP datagrams and reads from a TUN device.
//
// Sans-I/O: spans in, plain values out; nothing here allocates per packet. The parser checks
// what a forwarder must trust before acting on a packet (version, header length, total length
// against the buffer, the IPv4 header checksum, a bounded IPv6 extension-header walk) and
// reports the outermost upper-layer protocol (RFC 9484 §4.8) and whether the packet is an ICMP
// error, so that no ICMP error is ever answered with another (RFC 1122 §3.2.2, RFC 4443 §2.4).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "wire/varint.h"

namespace masque {

using quic::Bytes;
using quic::MutBytes;

// An IPv4 or IPv6 address; IPv4 uses the first 4 bytes, the rest stay zero.
struct IpAddress {
  uint8_t version = 4;  // 4 or 6
  std::array<uint8_t, 16> bytes{};

  size_t size() const { return version == 4 ? 4 : 16; }
  size_t bits() const { return size() * 8; }
  bool is_zero() const;
  Bytes view() const { return Bytes(bytes.data(), size()); }
  static IpAddress from(uint8_t version, Bytes b);  // b.size() >= 4 or 16
  // "198.18.0.1" or "2001:db8::1"; nullopt when neither.
  static std::optional<IpAddress> parse(std::string_view text);
  std::string to_string() const;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

// An address and a prefix length; valid() when the length fits the version and every bit
// past the prefix is zero (RFC 9484 §4.7.1).
struct IpPrefix {
  IpAddress address;
  uint8_t length = 32;

  bool valid() const;
  bool contains(const IpAddress& a) const;
  IpAddress last() const;  // the highest address covered
  // "198.18.0.0/15", "2001:db8::/32"; a bare address is a full-length prefix. Host bits set:
  // nullopt (a configuration mistake, said loudly rather than masked).
  static std::optional<IpPrefix> parse(std::string_view text);
  std::string to_string() const;
  friend auto operator<=>(const IpPrefix&, const IpPrefix&) = default;
};

// True when bit i (0 = most significant) of the address is set.
bool address_bit(const IpAddress& a, size_t i);

namespace ipproto {
inline constexpr uint8_t kHopByHop = 0;
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
inline constexpr uint8_t kRouting = 43;
inline constexpr uint8_t kFragment = 44;
inline constexpr uint8_t kEsp = 50;
inline constexpr uint8_t kAh = 51;
inline constexpr uint8_t kIcmpv6 = 58;
inline constexpr uint8_t kNoNext = 59;
inline constexpr uint8_t kDestOptions = 60;
inline constexpr uint8_t kMobility = 135;
inline constexpr uint8_t kHip = 139;
inline constexpr uint8_t kShim6 = 140;
}  // namespace ipproto

// A bound on the IPv6 extension-header walk: a chain longer than this is refused rather than
// walked (each header costs a bounds check; a hostile packet could chain hundreds).
inline constexpr size_t kMaxExtensionHeaders = 8;
inline constexpr size_t kIpv4MinHeader = 20;
inline constexpr size_t kIpv6Header = 40;

enum class PacketError : uint8_t {
  kEmpty,
  kBadVersion,          // neither 4 nor 6 in the first nibble
  kTruncatedHeader,     // fewer bytes than the fixed header
  kBadHeaderLength,     // IPv4 IHL < 5 or past the total length
  kBadTotalLength,      // total / payload length disagrees with the buffer
  kBadChecksum,         // IPv4 header checksum
  kTooManyExtensions,   // IPv6 chain longer than kMaxExtensionHeaders
  kTruncatedExtension,  // an IPv6 extension header runs past the packet
};
const char* packet_error_name(PacketError e);

struct IpPacketInfo {
  uint8_t version = 4;
  IpAddress src, dst;
  // The outermost non-extension protocol number (RFC 9484 §4.8); for a non-first fragment
  // the protocol named in its header (its upper-layer header is not in this packet).
  uint8_t protocol = 0;
  size_t total_length = 0;      // the whole packet as its header says (== buffer size)
  size_t transport_offset = 0;  // where the upper-layer header starts
  uint8_t hop_limit = 0;        // TTL / Hop Limit
  bool dont_fragment = false;   // IPv4 DF; IPv6 routers never fragment, so always true there
  bool non_first_fragment = false;
  // ICMP/ICMPv6 error message, or a packet whose kind cannot be known (a non-first fragment,
  // or an ICMP header cut short): never to be answered with an ICMP error.
  bool no_icmp_reply = false;
};

// Validates one whole packet; the buffer must be exactly the packet (a datagram or TUN read).
std::expected<IpPacketInfo, PacketError> parse_ip_packet(Bytes packet);

// The Internet checksum (RFC 1071) of `data`, folded, starting from a partial sum.
uint32_t checksum_add(uint32_t sum, Bytes data);
uint16_t checksum_fold(uint32_t sum);

}  // namespace masque

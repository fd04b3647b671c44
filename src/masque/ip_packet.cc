#include "masque/ip_packet.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>

namespace masque {

bool IpAddress::is_zero() const {
  return std::all_of(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size()),
                     [](uint8_t b) { return b == 0; });
}

IpAddress IpAddress::from(uint8_t version, Bytes b) {
  IpAddress a;
  a.version = version;
  std::copy_n(b.begin(), a.size(), a.bytes.begin());
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  std::copy(text.begin(), text.end(), buf);
  IpAddress a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) return a;
  a.version = 6;
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) return a;
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(version == 4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

bool address_bit(const IpAddress& a, size_t i) {
  return (a.bytes[i / 8] >> (7 - i % 8)) & 1;
}

bool IpPrefix::valid() const {
  if (address.version != 4 && address.version != 6) return false;
  if (length > address.bits()) return false;
  for (size_t i = length; i < address.bits(); ++i) {
    if (address_bit(address, i)) return false;
  }
  return true;
}

bool IpPrefix::contains(const IpAddress& a) const {
  if (a.version != address.version) return false;
  for (size_t i = 0; i < length; ++i) {
    if (address_bit(a, i) != address_bit(address, i)) return false;
  }
  return true;
}

IpAddress IpPrefix::last() const {
  IpAddress a = address;
  for (size_t i = length; i < a.bits(); ++i)
    a.bytes[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
  return a;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  size_t slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  IpPrefix p{*addr, static_cast<uint8_t>(addr->bits())};
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    unsigned v = 0;
    auto r = std::from_chars(len.data(), len.data() + len.size(), v);
    if (len.empty() || r.ec != std::errc{} || r.ptr != len.data() + len.size() ||
        v > addr->bits()) {
      return std::nullopt;
    }
    p.length = static_cast<uint8_t>(v);
  }
  if (!p.valid()) return std::nullopt;
  return p;
}

std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

const char* packet_error_name(PacketError e) {
  switch (e) {
    case PacketError::kEmpty:
      return "empty";
    case PacketError::kBadVersion:
      return "bad IP version";
    case PacketError::kTruncatedHeader:
      return "truncated header";
    case PacketError::kBadHeaderLength:
      return "bad header length";
    case PacketError::kBadTotalLength:
      return "total length disagrees with the buffer";
    case PacketError::kBadChecksum:
      return "bad IPv4 header checksum";
    case PacketError::kTooManyExtensions:
      return "too many IPv6 extension headers";
    case PacketError::kTruncatedExtension:
      return "truncated IPv6 extension header";
  }
  return "?";
}

uint32_t checksum_add(uint32_t sum, Bytes data) {
  // The one's-complement sum does not depend on byte order (RFC 1071 §2(B)): add the buffer
  // in native-order 32-bit words (the hot path: every segment the client splits from a TSO
  // read is summed whole), fold, and swap the 16-bit result into network order at the end.
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint64_t acc = 0;  // each step adds < 2^33: no overflow below 2^31 words (8 GiB)
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    acc += (w & 0xffffffffu) + (w >> 32);
  }
  for (; n >= 2; p += 2, n -= 2) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    acc += h;
  }
  if (n == 1) {
    uint8_t last[2] = {*p, 0};  // an odd byte is the high byte of a zero-padded word
    uint16_t h;
    std::memcpy(&h, last, 2);
    acc += h;
  }
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  auto s16 = static_cast<uint16_t>(acc);
  if constexpr (std::endian::native == std::endian::little) {
    s16 = static_cast<uint16_t>(s16 >> 8 | s16 << 8);
  }
  uint64_t total = static_cast<uint64_t>(sum) + s16;
  return static_cast<uint32_t>((total & 0xffff) + (total >> 16));
}

uint16_t checksum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

namespace {

uint16_t be16(Bytes b, size_t at) {
  return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}

bool is_multicast(const IpAddress& a) {
  return a.version == 4 ? (a.bytes[0] & 0xf0) == 0xe0 : a.bytes[0] == 0xff;
}

// ICMP error types: RFC 792 (3, 4, 5, 11, 12) and RFC 4443 §2.1 (below 128).
bool icmp_error_type(uint8_t version, uint8_t type) {
  if (version == 6) return type < 128;
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

// Whether an ICMP error may be sent about this packet (RFC 1122 §3.2.2, RFC 4443 §2.4 (e)).
void classify(Bytes packet, IpPacketInfo& info) {
  uint8_t icmp = info.version == 4 ? ipproto::kIcmp : ipproto::kIcmpv6;
  bool unknown_kind = info.non_first_fragment;
  if (info.protocol == icmp && !unknown_kind) {
    unknown_kind = info.transport_offset >= packet.size() ||
                   icmp_error_type(info.version, packet[info.transport_offset]);
  }
  bool bad_source = info.src.is_zero() || is_multicast(info.src);
  bool v4_group = info.version == 4 &&
                  (is_multicast(info.dst) || info.dst == IpAddress{4, {255, 255, 255, 255}});
  info.no_icmp_reply = unknown_kind || bad_source || v4_group;
}

std::expected<IpPacketInfo, PacketError> parse_v4(Bytes p) {
  if (p.size() < kIpv4MinHeader) return std::unexpected(PacketError::kTruncatedHeader);
  size_t ihl = size_t{p[0] & 0x0fu} * 4;
  size_t total = be16(p, 2);
  if (ihl < kIpv4MinHeader) return std::unexpected(PacketError::kBadHeaderLength);
  if (total != p.size()) return std::unexpected(PacketError::kBadTotalLength);
  if (ihl > total) return std::unexpected(PacketError::kBadHeaderLength);
  if (checksum_fold(checksum_add(0, p.first(ihl))) != 0) {
    return std::unexpected(PacketError::kBadChecksum);
  }
  IpPacketInfo info;
  info.version = 4;
  info.src = IpAddress::from(4, p.subspan(12));
  info.dst = IpAddress::from(4, p.subspan(16));
  info.protocol = p[9];
  info.total_length = total;
  info.transport_offset = ihl;
  info.hop_limit = p[8];
  uint16_t frag = be16(p, 6);
  info.dont_fragment = (frag & 0x4000) != 0;
  info.non_first_fragment = (frag & 0x1fff) != 0;
  return info;
}

bool is_extension(uint8_t nh) {
  return nh == ipproto::kHopByHop || nh == ipproto::kRouting || nh == ipproto::kFragment ||
         nh == ipproto::kAh || nh == ipproto::kDestOptions || nh == ipproto::kMobility ||
         nh == ipproto::kHip || nh == ipproto::kShim6;
}

// Walks the extension-header chain (RFC 8200 §4) to the upper-layer protocol, bounded.
std::expected<void, PacketError> walk_v6(Bytes p, IpPacketInfo& info) {
  uint8_t nh = p[6];
  size_t at = kIpv6Header;
  for (size_t n = 0; is_extension(nh); ++n) {
    if (n == kMaxExtensionHeaders) return std::unexpected(PacketError::kTooManyExtensions);
    if (p.size() - at < 8) return std::unexpected(PacketError::kTruncatedExtension);
    size_t len = nh == ipproto::kFragment ? 8
                 : nh == ipproto::kAh     ? (size_t{p[at + 1]} + 2) * 4
                                          : (size_t{p[at + 1]} + 1) * 8;
    if (len > p.size() - at) return std::unexpected(PacketError::kTruncatedExtension);
    if (nh == ipproto::kFragment && (be16(p, at + 2) & 0xfff8) != 0) {
      info.non_first_fragment = true;
      info.protocol = p[at];
      info.transport_offset = at + len;
      return {};
    }
    nh = p[at];
    at += len;
  }
  info.protocol = nh;
  info.transport_offset = at;
  return {};
}

std::expected<IpPacketInfo, PacketError> parse_v6(Bytes p) {
  if (p.size() < kIpv6Header) return std::unexpected(PacketError::kTruncatedHeader);
  // A zero payload length with a Jumbo option (RFC 2675) cannot fit a datagram: refused.
  if (size_t{be16(p, 4)} + kIpv6Header != p.size()) {
    return std::unexpected(PacketError::kBadTotalLength);
  }
  IpPacketInfo info;
  info.version = 6;
  info.src = IpAddress::from(6, p.subspan(8));
  info.dst = IpAddress::from(6, p.subspan(24));
  info.total_length = p.size();
  info.hop_limit = p[7];
  info.dont_fragment = true;
  if (auto w = walk_v6(p, info); !w) return std::unexpected(w.error());
  return info;
}

}  // namespace

std::expected<IpPacketInfo, PacketError> parse_ip_packet(Bytes packet) {
  if (packet.empty()) return std::unexpected(PacketError::kEmpty);
  std::expected<IpPacketInfo, PacketError> r = std::unexpected(PacketError::kBadVersion);
  if (packet[0] >> 4 == 4) r = parse_v4(packet);
  if (packet[0] >> 4 == 6) r = parse_v6(packet);
  if (r) classify(packet, *r);
  return r;
}

}  // namespace masque

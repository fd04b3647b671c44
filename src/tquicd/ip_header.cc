#include "tquicd/ip_header.h"

#include <algorithm>

namespace bond {

const char* to_string(IpError e) {
  switch (e) {
    case IpError::kTruncated: return "truncated";
    case IpError::kBadVersion: return "bad_version";
    case IpError::kBadHeaderLength: return "bad_header_length";
    case IpError::kTooManyExtensions: return "too_many_extensions";
    case IpError::kTruncatedTransport: return "truncated_transport";
  }
  return "?";
}

namespace {

IpParse fail(IpError e) { return {std::nullopt, e}; }

uint16_t be16(quic::Bytes b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

// Reads the transport header at `at` (ports or ICMP echo identifier).
IpParse transport(quic::Bytes p, size_t at, IpPacketInfo info) {
  if (info.later_fragment) return {info, {}};
  size_t need = 0;
  switch (info.protocol) {
    case ipproto::kTcp: need = 20; break;
    case ipproto::kUdp: need = 8; break;
    case ipproto::kIcmp:
    case ipproto::kIcmpv6: need = 8; break;
    default: return {info, {}};  // other protocols: addresses only
  }
  if (at > info.length || info.length - at < need) return fail(IpError::kTruncatedTransport);
  info.has_ports = true;
  if (info.protocol == ipproto::kTcp || info.protocol == ipproto::kUdp) {
    info.src_port = be16(p, at);
    info.dst_port = be16(p, at + 2);
  } else {
    info.src_port = be16(p, at + 4);  // echo identifier (RFC 792, RFC 4443 §4.1); 0 unless echo
    uint8_t type = p[at];
    bool echo = info.protocol == ipproto::kIcmp ? (type == 0 || type == 8) : (type == 128 || type == 129);
    if (!echo) info.src_port = 0;
  }
  return {info, {}};
}

IpParse parse_v4(quic::Bytes p) {
  if (p.size() < 20) return fail(IpError::kTruncated);
  IpPacketInfo info;
  size_t ihl = size_t{p[0] & 0x0fu} * 4;
  size_t total = be16(p, 2);
  if (ihl < 20) return fail(IpError::kBadHeaderLength);
  if (total > p.size() || total < 20) return fail(IpError::kTruncated);
  if (ihl > total) return fail(IpError::kBadHeaderLength);
  info.length = total;
  info.dscp = p[1] >> 2;
  info.ecn = static_cast<Ecn>(p[1] & 3);
  info.later_fragment = (be16(p, 6) & 0x1fff) != 0;
  info.protocol = p[9];
  std::copy_n(p.begin() + 12, 4, info.src.begin());
  std::copy_n(p.begin() + 16, 4, info.dst.begin());
  return transport(p, ihl, info);
}

IpParse parse_v6(quic::Bytes p) {
  if (p.size() < 40) return fail(IpError::kTruncated);
  IpPacketInfo info;
  info.v6 = true;
  size_t total = 40 + size_t{be16(p, 4)};  // (jumbograms, payload length 0, are not tunnelled)
  if (total > p.size()) return fail(IpError::kTruncated);
  info.length = total;
  uint8_t tc = static_cast<uint8_t>((p[0] & 0x0f) << 4 | p[1] >> 4);
  info.dscp = tc >> 2;
  info.ecn = static_cast<Ecn>(tc & 3);
  std::copy_n(p.begin() + 8, 16, info.src.begin());
  std::copy_n(p.begin() + 24, 16, info.dst.begin());
  uint8_t next = p[6];
  size_t at = 40;
  for (size_t n = 0;; ++n) {
    bool generic = next == 0 || next == 43 || next == 60 || next == 135 || next == 139 || next == 140;
    if (!generic && next != 44 && next != 51) break;  // a transport (or unknown) header
    if (n == kMaxIpv6ExtensionHeaders) return fail(IpError::kTooManyExtensions);
    if (total - at < 8) return fail(IpError::kTruncated);
    size_t len = next == 44 ? 8 : next == 51 ? (size_t{p[at + 1]} + 2) * 4 : (size_t{p[at + 1]} + 1) * 8;
    if (next == 44 && (be16(p, at + 2) & 0xfff8) != 0) info.later_fragment = true;
    if (len > total - at) return fail(IpError::kTruncated);
    next = p[at];
    at += len;
  }
  info.protocol = next;
  return transport(p, at, info);
}

}  // namespace

IpParse parse_ip_packet(quic::Bytes packet) {
  if (packet.empty()) return fail(IpError::kTruncated);
  switch (packet[0] >> 4) {
    case 4: return parse_v4(packet);
    case 6: return parse_v6(packet);
    default: return fail(IpError::kBadVersion);
  }
}

Ecn packet_ecn(quic::Bytes packet) {
  if (packet.size() >= 20 && packet[0] >> 4 == 4) return static_cast<Ecn>(packet[1] & 3);
  if (packet.size() >= 40 && packet[0] >> 4 == 6) return static_cast<Ecn>((packet[1] >> 4) & 3);
  return Ecn::kNotEct;
}

bool set_ce(quic::MutBytes packet) {
  Ecn e = packet_ecn(packet);
  if (e != Ecn::kEct0 && e != Ecn::kEct1) return false;
  if (packet[0] >> 4 == 6) {
    packet[1] |= 0x30;
    return true;
  }
  // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m the 16-bit word holding the TOS byte.
  uint32_t old_word = be16(packet, 0);
  packet[1] |= 0x03;
  uint32_t new_word = be16(packet, 0);
  uint32_t sum = (~uint32_t{be16(packet, 10)} & 0xffff) + (~old_word & 0xffff) + new_word;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  auto checksum = static_cast<uint16_t>(~sum);
  packet[10] = static_cast<uint8_t>(checksum >> 8);
  packet[11] = static_cast<uint8_t>(checksum);
  return true;
}

}  // namespace bond

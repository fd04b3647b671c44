#include "masque/icmp.h"

#include <algorithm>

namespace masque {

namespace {

void put16(std::vector<uint8_t>& out, size_t at, uint32_t v) {
  out[at] = static_cast<uint8_t>(v >> 8);
  out[at + 1] = static_cast<uint8_t>(v);
}

void put32(std::vector<uint8_t>& out, size_t at, uint32_t v) {
  put16(out, at, v >> 16);
  put16(out, at + 2, v & 0xffff);
}

void put_address(std::vector<uint8_t>& out, size_t at, const IpAddress& a) {
  std::copy_n(a.bytes.begin(), a.size(), out.begin() + static_cast<std::ptrdiff_t>(at));
}

// ICMP type and code per version and kind.
std::pair<uint8_t, uint8_t> type_code(uint8_t version, IcmpKind kind) {
  if (version == 4) return kind == IcmpKind::kPacketTooBig ? std::pair{3, 4} : std::pair{3, 0};
  return kind == IcmpKind::kPacketTooBig ? std::pair{2, 0} : std::pair{1, 0};
}

}  // namespace

bool build_icmp_error(IcmpKind kind, Bytes packet, const IpPacketInfo& info, const IpAddress& from,
                      uint32_t mtu, std::vector<uint8_t>& out) {
  out.clear();
  if (info.no_icmp_reply || from.version != info.version) return false;
  bool v4 = info.version == 4;
  size_t ip_header = v4 ? kIpv4MinHeader : kIpv6Header;
  // The answer fits both the protocol's bound and the link it goes back over.
  size_t limit = std::min<size_t>(v4 ? kIcmpv4MaxError : kIcmpv6MaxError, mtu);
  if (limit < ip_header + kIcmpHeader + (v4 ? kIpv4MinHeader : kIpv6Header)) return false;
  size_t quote = std::min(packet.size(), limit - ip_header - kIcmpHeader);
  size_t total = ip_header + kIcmpHeader + quote;
  out.assign(total, 0);

  // IP header: from the router to the offending packet's source.
  if (v4) {
    out[0] = 0x45;
    put16(out, 2, static_cast<uint32_t>(total));
    out[8] = kIcmpTtl;
    out[9] = ipproto::kIcmp;
    put_address(out, 12, from);
    put_address(out, 16, info.src);
    put16(out, 10, checksum_fold(checksum_add(0, Bytes(out).first(kIpv4MinHeader))));
  } else {
    out[0] = 0x60;
    put16(out, 4, static_cast<uint32_t>(total - kIpv6Header));
    out[6] = ipproto::kIcmpv6;
    out[7] = kIcmpTtl;
    put_address(out, 8, from);
    put_address(out, 24, info.src);
  }

  // ICMP header: type, code, checksum, then the MTU word (v4: unused 16 bits + next-hop MTU,
  // RFC 1191 §4; v6: the 32-bit MTU) or zero for "no route"; then the quote.
  auto [type, code] = type_code(info.version, kind);
  out[ip_header] = type;
  out[ip_header + 1] = code;
  if (kind == IcmpKind::kPacketTooBig) {
    put32(out, ip_header + 4, v4 ? std::min<uint32_t>(mtu, 0xffff) : mtu);
  }
  std::copy_n(packet.begin(), quote, out.begin() + static_cast<std::ptrdiff_t>(ip_header + 8));
  Bytes icmp = Bytes(out).subspan(ip_header);
  uint32_t sum = 0;
  if (!v4) {
    // The IPv6 pseudo-header (RFC 8200 §8.1): addresses, upper-layer length, next header.
    sum = checksum_add(sum, Bytes(out).subspan(8, 32));
    uint8_t tail[8] = {static_cast<uint8_t>(icmp.size() >> 24),
                       static_cast<uint8_t>(icmp.size() >> 16),
                       static_cast<uint8_t>(icmp.size() >> 8),
                       static_cast<uint8_t>(icmp.size()),
                       0,
                       0,
                       0,
                       ipproto::kIcmpv6};
    sum = checksum_add(sum, Bytes(tail, sizeof tail));
  }
  put16(out, ip_header + 2, checksum_fold(checksum_add(sum, icmp)));
  return true;
}

}  // namespace masque

// ICMP errors a CONNECT-IP endpoint generates about packets it cannot forward (RFC 9484
// §10.1): "packet too big" carrying the tunnel MTU (ICMPv4 Destination Unreachable code 4 with
// the next-hop MTU, RFC 792 / RFC 1191 §4; ICMPv6 Packet Too Big, RFC 4443 §3.2) and
// "no route" (Destination Unreachable code 0, RFC 792 / RFC 4443 §3.1).
//
// The answer quotes as much of the offending packet as the rules allow (RFC 1812 §4.3.2.3:
// the whole ICMPv4 datagram within 576 bytes; RFC 4443 §2.4 (c): within the IPv6 minimum MTU
// of 1280), never more than the MTU the answer itself must fit. Never an answer to an ICMP
// error, a non-first fragment, or a packet from an unspecified or multicast source
// (IpPacketInfo::no_icmp_reply).
#pragma once

#include <cstdint>
#include <vector>

#include "masque/ip_packet.h"

namespace masque {

inline constexpr size_t kIcmpv4MaxError = 576;   // RFC 1812 §4.3.2.3
inline constexpr size_t kIcmpv6MaxError = 1280;  // RFC 4443 §2.4 (c)
inline constexpr size_t kIcmpHeader = 8;
inline constexpr uint8_t kIcmpTtl = 64;

enum class IcmpKind : uint8_t {
  kPacketTooBig,  // the packet does not fit `mtu`
  kNoRoute,       // no route to the destination
};

// Writes the whole ICMP error packet (IP header included) answering `packet` into `out`
// (replaced), sent from `from` (the answering router's address, same version as the packet)
// to the packet's source. False, with `out` empty, when no answer may be sent.
bool build_icmp_error(IcmpKind kind, Bytes packet, const IpPacketInfo& info, const IpAddress& from,
                      uint32_t mtu, std::vector<uint8_t>& out);

}  // namespace masque

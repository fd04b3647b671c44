// IP packet parser fuzz target: the input is one packet as a tunnel datagram or TUN read
// carries it. Checks: no crash; a parsed packet's offsets lie inside it and its addresses
// have its version; every ICMP error built about it parses back as a valid packet that is
// itself never answered, fits the MTU asked for, and quotes the packet's first bytes.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "masque/icmp.h"
#include "masque/ip_packet.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "ip_packet: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  quic::Bytes packet(data, size);
  auto info = masque::parse_ip_packet(packet);
  if (!info) return 0;
  if (info->total_length != size || info->transport_offset > size) violated("offsets");
  if (info->src.version != info->version || info->dst.version != info->version) {
    violated("address version");
  }
  masque::IpAddress from = info->dst;  // any address of the right version
  std::vector<uint8_t> out;
  for (uint32_t mtu : {68u, 1200u, 1280u, 9000u}) {
    for (auto kind : {masque::IcmpKind::kPacketTooBig, masque::IcmpKind::kNoRoute}) {
      if (!masque::build_icmp_error(kind, packet, *info, from, mtu, out)) continue;
      if (info->no_icmp_reply) violated("answered an unanswerable packet");
      if (out.size() > mtu) violated("answer above the MTU");
      auto back = masque::parse_ip_packet(out);
      if (!back) violated("our ICMP error does not parse");
      if (!back->no_icmp_reply) violated("our ICMP error could be answered");
      size_t header = info->version == 4 ? 28 : 48;
      size_t quoted = out.size() - header;
      if (!std::equal(out.begin() + static_cast<std::ptrdiff_t>(header), out.end(),
                      packet.begin()) ||
          quoted > size) {
        violated("quote");
      }
    }
  }
  return 0;
}

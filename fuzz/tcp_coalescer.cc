// TUN-write GRO fuzz target (masque/tcp_coalescer.h): the input is a burst of packets from a
// tunnel peer, each prefixed by a 2-byte big-endian length. Checks: no crash; every packet
// comes out exactly once (a super-packet counts as its segments); no output exceeds the IPv4
// length or the segment bound; a super-packet's IPv4 header parses and its partial TCP
// checksum completes to a valid one; segment_tcp() splits it back into as many valid packets.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "masque/ip_packet.h"
#include "masque/tcp_coalescer.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "tcp_coalescer: %s\n", what);
  std::abort();
}

void check_super_packet(quic::Bytes p, const masque::GsoInfo& g, size_t& segments) {
  if (p.size() > masque::kMaxCoalescedBytes) violated("above the IPv4 length");
  if (g.gso_size == 0) {
    ++segments;
    return;
  }
  if (g.header_len >= p.size() || g.csum_start != 20 || g.csum_offset != 16) violated("header");
  size_t n = (p.size() - g.header_len + g.gso_size - 1) / g.gso_size;
  if (n < 2 || n > masque::kMaxCoalescedSegments) violated("segment count");
  segments += n;
  if (!masque::parse_ip_packet(p)) violated("super-packet does not parse");
  // Complete the partial checksum as the kernel would; the result must verify.
  std::vector<uint8_t> q(p.begin(), p.end());
  uint16_t c = masque::checksum_fold(masque::checksum_add(0, quic::Bytes(q).subspan(20)));
  q[36] = static_cast<uint8_t>(c >> 8);
  q[37] = static_cast<uint8_t>(c);
  uint32_t pseudo = masque::checksum_add(0, quic::Bytes(q.data() + 12, 8)) + 6 +
                    static_cast<uint32_t>(q.size() - 20);
  if (masque::checksum_fold(masque::checksum_add(pseudo, quic::Bytes(q).subspan(20))) != 0) {
    violated("TCP checksum");
  }
  // The reverse (TSO reads) splits it into as many segments, each a valid packet.
  std::vector<uint8_t> scratch;
  size_t back = 0;
  bool ok = masque::segment_tcp(p, g, scratch, [&](quic::Bytes s) {
    if (!masque::parse_ip_packet(s)) violated("segment does not parse");
    ++back;
  });
  if (!ok || back != n) violated("segment_tcp disagrees");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t in = 0, out = 0;
  masque::TcpCoalescer c(
      [&](quic::Bytes p, const masque::GsoInfo& g) { check_super_packet(p, g, out); });
  for (size_t at = 0; at + 2 <= size;) {
    size_t len = static_cast<size_t>(data[at] << 8 | data[at + 1]);
    at += 2;
    len = std::min(len, size - at);
    c.add(quic::Bytes(data + at, len));
    ++in;
    at += len;
  }
  c.flush();
  if (in != out) violated("packets lost or duplicated");
  return 0;
}

// Fuzzes the inner-packet path of tquicd: the IP header reader, the flow classifier (a small
// table, so eviction runs), CE marking and the ingress queue. The input is a run of records:
// [length: 2 bytes][length bytes of IP packet]. Invariants: parsed lengths lie inside the
// packet, the table and the queue stay within their bounds, and CE marking of an IPv4 packet
// whose header checksum was valid leaves it valid.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tquicd/classifier.h"
#include "tquicd/ingress_queue.h"
#include "tquicd/ip_header.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tquicd_classifier fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

bool ipv4_checksum_ok(const std::vector<uint8_t>& p) {
  size_t ihl = size_t{p[0] & 0x0fu} * 4;
  if (ihl < 20 || ihl > p.size()) return false;
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < ihl; i += 2) sum += uint32_t{p[i]} << 8 | p[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bond::FlowPolicy policy;
  policy.max_flows = 8;
  bond::FlowClassifier classifier(policy, 42);
  bond::IngressQueue queue({std::chrono::milliseconds(5), std::chrono::milliseconds(100), 64 << 10});
  quic::Instant now = quic::instant_from_ns(0);
  size_t pos = 0;
  while (pos + 2 <= size) {
    size_t len = std::min<size_t>(size_t{data[pos]} << 8 | data[pos + 1], size - pos - 2);
    std::vector<uint8_t> packet(data + pos + 2, data + pos + 2 + len);
    pos += 2 + len;
    now += std::chrono::milliseconds(3);
    bond::IpParse parsed = bond::parse_ip_packet(packet);
    if (parsed.info) check(parsed.info->length <= packet.size(), "parsed length past the packet");
    bond::Classification c = classifier.classify(now, packet);
    check(c.error.has_value() != parsed.info.has_value(), "classifier and parser disagree");
    check(classifier.flow_count() <= policy.max_flows, "flow table over its cap");
    bool v4_valid = packet.size() >= 20 && packet[0] >> 4 == 4 && ipv4_checksum_ok(packet);
    std::vector<uint8_t> marked = packet;
    if (bond::set_ce(marked)) {
      check(bond::packet_ecn(marked) == bond::Ecn::kCe, "set_ce without CE");
      if (v4_valid) check(ipv4_checksum_ok(marked), "CE mark broke the IPv4 checksum");
    } else {
      check(marked == packet, "set_ce refused but changed the packet");
    }
    queue.enqueue(now, packet);
    check(queue.bytes() <= (64u << 10), "ingress queue over its byte bound");
    if (len % 3 == 0) (void)queue.dequeue(now);
  }
  while (queue.dequeue(now + std::chrono::seconds(1))) {
  }
  check(queue.bytes() == 0 && queue.packets() == 0, "queue not empty after draining");
  return 0;
}

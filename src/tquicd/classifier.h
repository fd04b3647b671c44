// The flow classifier (docs/tquicd-datapath.md "Flow classifier"): sorts each inner IP packet
// into interactive traffic (DSCP EF/AF4x, configured ports, ICMP, flows of small packets),
// which the scheduler pins to the lowest-RTT path and may duplicate, and bulk traffic, which it
// stripes; and says whether the packet's flow needs in-order delivery (the reorder buffer's
// `ordered` flag). Per-flow byte and packet counters live in a bounded 5-tuple table with LRU
// eviction. Packets it cannot parse are reported by reason for the caller to drop and count.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/time.h"
#include "tquicd/config.h"  // default_interactive_ports/dscp
#include "tquicd/ip_header.h"

namespace bond {

// Hard cap on the table, whatever the configuration says (classifier.max_flows is 64..2^20).
inline constexpr size_t kMaxFlowTableEntries = size_t{1} << 20;
// Weight of a new packet in a flow's mean packet size (1/8, like RFC 6298's smoothing).
inline constexpr uint32_t kFlowSizeGainShift = 3;

enum class FlowClass : uint8_t { kInteractive, kBulk };
const char* to_string(FlowClass c);

struct FlowPolicy {
  std::vector<uint16_t> interactive_ports = default_interactive_ports();
  std::vector<uint8_t> interactive_dscp = default_interactive_dscp();
  uint32_t small_packet_bytes = 256;
  size_t max_flows = 65536;
  bool udp_unordered = true;
};

struct FlowKey {
  std::array<uint8_t, 16> src{}, dst{};
  uint16_t src_port = 0, dst_port = 0;
  uint8_t protocol = 0;
  bool v6 = false;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

struct FlowEntry {
  FlowKey key;
  uint64_t bytes = 0, packets = 0;
  uint32_t mean_size = 0;  // smoothed packet size
  FlowClass last_class = FlowClass::kBulk;
  quic::Instant first_seen{}, last_seen{};
};

struct Classification {
  FlowClass flow_class = FlowClass::kBulk;
  bool ordered = true;             // false: may bypass the reorder buffer
  std::optional<IpError> error;    // set: unparsable, the caller drops it
};

// Whether a packet's flow needs in-order delivery: TCP and protocols we do not know do; UDP and
// ICMP do not when `udp_unordered`.
bool needs_order(const IpPacketInfo& info, bool udp_unordered);

struct ClassifierStats {
  uint64_t packets = 0;
  uint64_t interactive = 0, bulk = 0;
  uint64_t flows_created = 0, evictions = 0;
  std::array<uint64_t, 5> malformed{};  // by IpError
};

class FlowClassifier {
 public:
  // `hash_seed` keys the table's hash so peers cannot aim packets at one bucket; pass a
  // random value (the classifier reads no randomness itself).
  FlowClassifier(FlowPolicy policy, uint64_t hash_seed);
  // Changes the live parts of the policy (ports, DSCP, small-packet size, udp_unordered); the
  // table size stays.
  void set_policy(const FlowPolicy& policy);

  Classification classify(quic::Instant now, quic::Bytes packet);
  // The same for a packet the caller has parsed already.
  Classification classify_parsed(quic::Instant now, const IpPacketInfo& info);

  size_t flow_count() const { return lru_.size(); }
  // Flows, most recently seen first (for `tquicctl flows`).
  const std::list<FlowEntry>& flows() const { return lru_; }
  const FlowEntry* find(const FlowKey& key) const;
  const ClassifierStats& stats() const { return stats_; }

 private:
  struct KeyHash {
    uint64_t seed;
    size_t operator()(const FlowKey& k) const;
  };
  FlowEntry& touch(quic::Instant now, const FlowKey& key);
  bool interactive_by_marking(const IpPacketInfo& info) const;

  FlowPolicy policy_;
  size_t capacity_;
  std::list<FlowEntry> lru_;  // front: most recently seen
  std::unordered_map<FlowKey, std::list<FlowEntry>::iterator, KeyHash> index_;
  ClassifierStats stats_;
};

}  // namespace bond

#include "tquicd/classifier.h"

#include <algorithm>
#include <cstring>

namespace bond {

const char* to_string(FlowClass c) { return c == FlowClass::kInteractive ? "interactive" : "bulk"; }

namespace {
// splitmix64's finaliser: every input bit affects every output bit.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

size_t FlowClassifier::KeyHash::operator()(const FlowKey& k) const {
  uint64_t words[4];
  std::memcpy(words, k.src.data(), 16);
  std::memcpy(words + 2, k.dst.data(), 16);
  uint64_t h = seed;
  for (uint64_t w : words) h = mix(h ^ w);
  uint64_t tail = uint64_t{k.src_port} << 32 | uint64_t{k.dst_port} << 16 | uint64_t{k.protocol} << 8 | k.v6;
  return static_cast<size_t>(mix(h ^ tail));
}

FlowClassifier::FlowClassifier(FlowPolicy policy, uint64_t hash_seed)
    : policy_(std::move(policy)), capacity_(std::clamp<size_t>(policy_.max_flows, 1, kMaxFlowTableEntries)),
      index_(0, KeyHash{hash_seed}) {
  index_.reserve(std::min<size_t>(capacity_, 4096));
}

void FlowClassifier::set_policy(const FlowPolicy& policy) {
  size_t keep = capacity_;
  policy_ = policy;
  capacity_ = keep;
}

const FlowEntry* FlowClassifier::find(const FlowKey& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &*it->second;
}

FlowEntry& FlowClassifier::touch(quic::Instant now, const FlowKey& key) {
  if (auto it = index_.find(key); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return lru_.front();
  }
  if (lru_.size() >= capacity_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
    ++stats_.evictions;
  }
  lru_.push_front(FlowEntry{key, 0, 0, 0, FlowClass::kBulk, now, now});
  index_.emplace(key, lru_.begin());
  ++stats_.flows_created;
  return lru_.front();
}

bool FlowClassifier::interactive_by_marking(const IpPacketInfo& info) const {
  if (std::ranges::find(policy_.interactive_dscp, info.dscp) != policy_.interactive_dscp.end()) return true;
  if (info.protocol == ipproto::kIcmp || info.protocol == ipproto::kIcmpv6) return true;
  if (!info.has_ports || (info.protocol != ipproto::kTcp && info.protocol != ipproto::kUdp)) return false;
  const auto& ports = policy_.interactive_ports;
  return std::ranges::find(ports, info.src_port) != ports.end() ||
         std::ranges::find(ports, info.dst_port) != ports.end();
}

Classification FlowClassifier::classify(quic::Instant now, quic::Bytes packet) {
  IpParse parsed = parse_ip_packet(packet);
  if (!parsed.info) {
    ++stats_.packets;
    ++stats_.malformed[static_cast<size_t>(parsed.error)];
    return {FlowClass::kBulk, true, parsed.error};
  }
  return classify_parsed(now, *parsed.info);
}

bool needs_order(const IpPacketInfo& info, bool udp_unordered) {
  bool unordered_proto = info.protocol == ipproto::kUdp || info.protocol == ipproto::kIcmp ||
                         info.protocol == ipproto::kIcmpv6;
  return !(udp_unordered && unordered_proto);
}

Classification FlowClassifier::classify_parsed(quic::Instant now, const IpPacketInfo& info) {
  ++stats_.packets;
  FlowKey key{info.src, info.dst, info.src_port, info.dst_port, info.protocol, info.v6};
  FlowEntry& flow = touch(now, key);
  auto size = static_cast<uint32_t>(info.length);
  flow.mean_size = flow.packets == 0 ? size
                                     : flow.mean_size - (flow.mean_size >> kFlowSizeGainShift) +
                                           (size >> kFlowSizeGainShift);
  flow.bytes += info.length;
  ++flow.packets;
  flow.last_seen = now;
  bool interactive = interactive_by_marking(info) || flow.mean_size <= policy_.small_packet_bytes;
  flow.last_class = interactive ? FlowClass::kInteractive : FlowClass::kBulk;
  ++(interactive ? stats_.interactive : stats_.bulk);
  return {flow.last_class, needs_order(info, policy_.udp_unordered), std::nullopt};
}

}  // namespace bond

#include "tquicd/settings.h"

namespace bond {

ReorderLimits reorder_limits(const Config& c) {
  return {c.reorder.max_hold, c.reorder.max_packets, static_cast<size_t>(c.reorder.max_bytes)};
}

IngressLimits ingress_limits(const Config& c) {
  return {c.ingress.target, c.ingress.interval, static_cast<size_t>(c.ingress.max_bytes)};
}

FlowPolicy flow_policy(const Config& c) {
  return {c.classifier.interactive_ports, c.classifier.interactive_dscp, c.classifier.small_packet_bytes,
          c.classifier.max_flows, c.classifier.udp_unordered};
}

std::vector<QuotaLink> quota_links(const Config& c) {
  std::vector<QuotaLink> out;
  for (const LinkConfig& l : c.links) {
    // Only a backup link idles on keepalives; others have no budget to spend.
    uint64_t budget = l.role == LinkRole::kBackup ? l.keepalive_budget_bytes : 0;
    out.push_back({l.name, l.quota_bytes, l.quota_reset_day, budget});
  }
  return out;
}

std::string quota_state_path(const Config& c) { return c.state_dir + "/quota.state"; }

}  // namespace bond

#include "tquicd/status.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>

namespace bond {

const char* to_string(BondState s) {
  switch (s) {
    case BondState::kSingle: return "single";
    case BondState::kBonded: return "bonded";
    case BondState::kDegraded: return "degraded";
    case BondState::kDown: return "down";
    case BondState::kReconnecting: return "reconnecting";
  }
  return "?";
}

const char* to_string(LinkHealth s) {
  switch (s) {
    case LinkHealth::kUp: return "up";
    case LinkHealth::kDown: return "down";
    case LinkHealth::kFailed: return "failed";
  }
  return "?";
}

BondState derive_bond_state(const std::vector<LinkStatus>& links) {
  size_t up = 0, up_active = 0, wanted = 0;
  for (const auto& l : links) {
    bool active_role = l.role != LinkRole::kBackup;
    if (active_role) ++wanted;
    if (l.state != LinkHealth::kUp) continue;
    ++up;
    if (active_role) ++up_active;
  }
  if (up == 0) return BondState::kDown;
  if (up_active < wanted) return BondState::kDegraded;  // a working link failed
  return up_active >= 2 ? BondState::kBonded : BondState::kSingle;
}

void RateMeter::update(quic::Instant now, uint64_t counter) {
  if (!last_time_ || counter < last_counter_ || now < *last_time_) {
    last_time_ = now;
    last_counter_ = counter;
    rate_bps_ = 0;
    return;
  }
  double dt = std::chrono::duration<double>(now - *last_time_).count();
  if (dt <= 0) return;  // same instant: wait for time to pass rather than divide by zero
  double sample = static_cast<double>(counter - last_counter_) * 8 / dt;
  // Weight 1 - e^(-dt/window): a sample spanning the whole window counts ~63%.
  double w = 1 - std::exp(-dt / std::chrono::duration<double>(window_).count());
  rate_bps_ += w * (sample - rate_bps_);
  last_time_ = now;
  last_counter_ = counter;
}

namespace {

std::string endpoint_text(const std::array<uint8_t, 16>& ip, bool v6, uint16_t port, bool ports) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, ip.data(), buf, sizeof buf);
  if (!ports) return buf;
  return v6 ? "[" + std::string(buf) + "]:" + std::to_string(port)
            : std::string(buf) + ":" + std::to_string(port);
}

}  // namespace

std::vector<FlowStatus> top_flows(const FlowClassifier& c, size_t max) {
  std::vector<const FlowEntry*> all;
  all.reserve(c.flow_count());
  for (const FlowEntry& f : c.flows()) all.push_back(&f);
  const size_t n = std::min(max, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<long>(n), all.end(),
                    [](const FlowEntry* a, const FlowEntry* b) { return a->bytes > b->bytes; });
  std::vector<FlowStatus> out;
  for (size_t i = 0; i < n; ++i) {
    const FlowEntry& f = *all[i];
    const uint8_t proto = f.key.protocol;
    const bool ports = proto == 6 || proto == 17;
    out.push_back({proto == 6    ? "tcp"
                   : proto == 17 ? "udp"
                   : proto == 1 || proto == 58 ? "icmp"
                                               : std::to_string(proto),
                   endpoint_text(f.key.src, f.key.v6, f.key.src_port, ports),
                   endpoint_text(f.key.dst, f.key.v6, f.key.dst_port, ports),
                   to_string(f.last_class), f.bytes, f.packets});
  }
  return out;
}

}  // namespace bond

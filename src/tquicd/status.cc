#include "tquicd/status.h"

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

}  // namespace bond

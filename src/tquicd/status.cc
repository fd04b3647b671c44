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
  }
  return "?";
}

const char* to_string(LinkState s) {
  switch (s) {
    case LinkState::kUp: return "up";
    case LinkState::kDown: return "down";
    case LinkState::kFailed: return "failed";
  }
  return "?";
}

const char* to_string(EventKind k) {
  switch (k) {
    case EventKind::kPathUp: return "path_up";
    case EventKind::kPathDown: return "path_down";
    case EventKind::kFailover: return "failover";
    case EventKind::kQuotaReached: return "quota_reached";
    case EventKind::kLinkUp: return "link_up";
    case EventKind::kLinkDown: return "link_down";
    case EventKind::kBondState: return "bond_state";
    case EventKind::kClientUp: return "client_up";
    case EventKind::kClientDown: return "client_down";
  }
  return "?";
}

EventLog::EventLog(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

uint64_t EventLog::add(Event e) {
  e.seq = next_seq_++;
  if (events_.size() == capacity_) events_.pop_front();
  events_.push_back(std::move(e));
  return events_.back().seq;
}

std::vector<Event> EventLog::since(uint64_t after, size_t max, uint64_t* missed) const {
  std::vector<Event> out;
  uint64_t first = events_.empty() ? next_seq_ : events_.front().seq;
  if (missed) *missed = first > after + 1 ? first - after - 1 : 0;
  // Sequence numbers in the ring are consecutive, so the start index is arithmetic.
  size_t start = after + 1 > first ? static_cast<size_t>(after + 1 - first) : 0;
  for (size_t i = start; i < events_.size() && out.size() < max; ++i) out.push_back(events_[i]);
  return out;
}

BondState derive_bond_state(const std::vector<LinkStatus>& links) {
  size_t up = 0, up_active = 0, wanted = 0;
  for (const auto& l : links) {
    bool active_role = l.role != LinkRole::kBackup;
    if (active_role) ++wanted;
    if (l.state != LinkState::kUp) continue;
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

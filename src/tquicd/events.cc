#include "tquicd/events.h"

#include <algorithm>

namespace bond {

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
    case EventKind::kLinkAdded: return "link_added";
    case EventKind::kLinkRemoved: return "link_removed";
    case EventKind::kQuotaReset: return "quota_reset";
    case EventKind::kConfigReloaded: return "config_reloaded";
    case EventKind::kDisconnected: return "disconnected";
    case EventKind::kReconnected: return "reconnected";
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

uint64_t EventBus::push(quic::Instant now, EventKind kind, std::string_view link,
                        std::string_view detail) {
  Event e;
  e.time_ms = now > start_ ? static_cast<uint64_t>(
                                 std::chrono::duration_cast<std::chrono::milliseconds>(now - start_)
                                     .count())
                           : 0;
  e.kind = kind;
  e.link = std::string(link.substr(0, kMaxEventLink));
  e.detail = std::string(detail.substr(0, kMaxEventDetail));
  ++counts_[static_cast<size_t>(kind)];
  uint64_t seq = log_.add(e);
  if (dispatching_) return seq;
  e.seq = seq;
  dispatching_ = true;
  // By index: a subscriber may unsubscribe (itself or another) while being called.
  for (size_t i = 0; i < listeners_.size(); ++i) {
    Listener l = listeners_[i].second;
    l(e);
  }
  dispatching_ = false;
  return seq;
}

size_t EventBus::subscribe(Listener listener) {
  if (listeners_.size() >= kMaxListeners) return 0;
  listeners_.emplace_back(next_id_, std::move(listener));
  return next_id_++;
}

void EventBus::unsubscribe(size_t id) {
  std::erase_if(listeners_, [id](const auto& p) { return p.first == id; });
}

}  // namespace bond

#include "core/endpoint_schedule.h"

namespace quic {

void EndpointSchedule::touch(ConnectionHandle h) {
  Slot& s = slots_[h];
  if (s.touched) return;
  s.touched = true;
  touched_.push_back(h);
}

void EndpointSchedule::remove(ConnectionHandle h) {
  auto it = slots_.find(h);
  if (it == slots_.end()) return;
  if (it->second.deadline != kNever) deadlines_.erase({it->second.deadline, h});
  slots_.erase(it);
}

void EndpointSchedule::set_deadline(ConnectionHandle h, Instant at) {
  if (auto it = slots_.find(h); it != slots_.end()) set_deadline(it->second, h, at);
}

void EndpointSchedule::set_deadline(Slot& s, ConnectionHandle h, Instant at) {
  if (s.deadline == at) return;
  if (s.deadline != kNever) deadlines_.erase({s.deadline, h});
  s.deadline = at;
  if (at != kNever) deadlines_.emplace(at, h);
}

Instant EndpointSchedule::next_deadline() const {
  return deadlines_.empty() ? kNever : deadlines_.begin()->first;
}

std::optional<ConnectionHandle> EndpointSchedule::pop_due(Instant now) {
  if (deadlines_.empty() || deadlines_.begin()->first > now) return std::nullopt;
  ConnectionHandle h = deadlines_.begin()->second;
  deadlines_.erase(deadlines_.begin());
  slots_[h].deadline = kNever;
  return h;
}

std::optional<ConnectionHandle> EndpointSchedule::pop_ready() {
  while (!ready_.empty()) {
    ConnectionHandle h = ready_.front();
    ready_.pop_front();
    auto it = slots_.find(h);
    if (it == slots_.end()) continue;  // reaped while it waited
    it->second.ready = false;
    return h;
  }
  return std::nullopt;
}

void EndpointSchedule::requeue(ConnectionHandle h) {
  auto it = slots_.find(h);
  if (it == slots_.end() || it->second.ready) return;
  it->second.ready = true;
  ready_.push_back(h);
}

}  // namespace quic

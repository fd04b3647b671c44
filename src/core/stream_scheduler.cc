#include "core/stream_scheduler.h"

#include <algorithm>
#include <bit>

namespace quic {

void StreamScheduler::insert(uint64_t id, StreamPriority p) {
  p.urgency = std::min(p.urgency, kMaxStreamUrgency);
  if (auto it = ready_.find(id); it != ready_.end()) {
    if (it->second.priority == p) return;
    unlink(id, it->second);
    ready_.erase(it);
  }
  Level& level = levels_[p.urgency];
  Slot slot{p, {}};
  if (p.incremental) {
    slot.pos = level.rotation.insert(level.rotation.end(), id);
  } else {
    level.sequential.insert(id);
  }
  ready_.emplace(id, slot);
  nonempty_ |= 1u << p.urgency;
}

void StreamScheduler::erase(uint64_t id) {
  auto it = ready_.find(id);
  if (it == ready_.end()) return;
  unlink(id, it->second);
  ready_.erase(it);
}

void StreamScheduler::unlink(uint64_t id, const Slot& slot) {
  Level& level = levels_[slot.priority.urgency];
  if (slot.priority.incremental) {
    level.rotation.erase(slot.pos);
  } else {
    level.sequential.erase(id);
  }
  if (level.empty()) nonempty_ &= ~(1u << slot.priority.urgency);
}

std::optional<uint64_t> StreamScheduler::pop() {
  if (nonempty_ == 0) return std::nullopt;
  auto urgency = static_cast<size_t>(std::countr_zero(nonempty_));
  Level& level = levels_[urgency];
  // RFC 9218 §10 leaves the mix of both kinds at one urgency to the server; finishing the
  // non-incremental responses first keeps their completion times short and costs the
  // incremental ones (which can use partial data) little.
  uint64_t id = level.sequential.empty() ? level.rotation.front() : *level.sequential.begin();
  erase(id);
  return id;
}

}  // namespace quic

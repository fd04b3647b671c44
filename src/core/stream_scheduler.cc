#include "core/stream_scheduler.h"

#include <algorithm>
#include <bit>

namespace quic {

void StreamScheduler::insert(uint64_t id, StreamPriority p) {
  p.urgency = std::min(p.urgency, kMaxStreamUrgency);
  if (auto it = ready_.find(id); it != ready_.end()) {
    if (it->second.priority == p) return;
    remove(it);
  }
  Level& level = levels_[p.urgency];
  Slot slot{p, {}};
  if (p.incremental) {
    if (spare_rotation_.empty()) {
      slot.pos = level.rotation.insert(level.rotation.end(), id);
    } else {
      slot.pos = spare_rotation_.begin();
      *slot.pos = id;
      level.rotation.splice(level.rotation.end(), spare_rotation_, slot.pos);
    }
  } else if (spare_sequential_.empty()) {
    level.sequential.insert(id);
  } else {
    auto node = std::move(spare_sequential_.back());
    spare_sequential_.pop_back();
    node.value() = id;
    level.sequential.insert(std::move(node));
  }
  if (spare_slots_.empty()) {
    ready_.emplace(id, slot);
  } else {
    auto node = std::move(spare_slots_.back());
    spare_slots_.pop_back();
    node.key() = id;
    node.mapped() = slot;
    ready_.insert(std::move(node));
  }
  nonempty_ |= 1u << p.urgency;
}

void StreamScheduler::erase(uint64_t id) {
  if (auto it = ready_.find(id); it != ready_.end()) remove(it);
}

void StreamScheduler::remove(Ready::iterator it) {
  unlink(it->first, it->second);
  spare_slots_.push_back(ready_.extract(it));
}

void StreamScheduler::unlink(uint64_t id, const Slot& slot) {
  Level& level = levels_[slot.priority.urgency];
  if (slot.priority.incremental) {
    spare_rotation_.splice(spare_rotation_.end(), level.rotation, slot.pos);
  } else {
    spare_sequential_.push_back(level.sequential.extract(id));
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

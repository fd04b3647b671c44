// Scheduler state kept between packets (scheduler_state.h).
#include "mp/scheduler_state.h"

#include <algorithm>

namespace quic::mp {

void SchedulerState::note_sent(uint64_t stream_id, uint64_t offset, uint64_t length, bool fin) {
  if (!dup_origin_) return;
  if (dup_queue_.size() >= kMaxDuplicateChunks) dup_queue_.pop_front();
  dup_queue_.push_back(DupChunk{stream_id, offset, length, fin, path_bit(*dup_origin_)});
}

bool SchedulerState::chunk_owed_to(uint64_t path_id) const {
  const uint64_t bit = path_bit(path_id);
  return std::any_of(dup_queue_.begin(), dup_queue_.end(),
                     [&](const DupChunk& d) { return (d.served & bit) == 0; });
}

std::optional<Instant> SchedulerState::deadline(uint64_t id) const {
  auto it = deadlines_.find(id);
  if (it == deadlines_.end()) return std::nullopt;
  return it->second;
}

}  // namespace quic::mp

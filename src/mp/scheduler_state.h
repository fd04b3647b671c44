// What the path schedulers (scheduler.h) need remembered between packets, owned by the
// Connection (docs/multipath.md): the redundant scheduler's copies of new STREAM data still owed
// to other paths, and the deadline scheduler's per-stream deadlines and the lane of the packet
// being built. (The redundant DATAGRAM copies are a core DatagramQueue: the Connection keeps
// them next to this, as mp/ does not depend on core/.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "common/error.h"
#include "common/lazy_deque.h"
#include "common/time.h"

namespace quic {

// Copies of new STREAM data the redundant scheduler keeps owed to other paths (about 300 KB):
// a slower path drops the oldest copies rather than fall seconds behind.
inline constexpr size_t kMaxDuplicateChunks = 256;
// DATAGRAM copies the redundant scheduler keeps owed to other paths (each at most a packet).
inline constexpr size_t kMaxDuplicateDatagrams = 256;
// Streams with a deadline at once (set_stream_deadline); entries of freed streams are pruned.
inline constexpr size_t kMaxDeadlineStreams = 256;

// The bit of a path in a "served" mask (path ID mod 64: two paths 64 IDs apart share one, so
// one of them may miss a copy, never get two).
constexpr uint64_t path_bit(uint64_t path_id) { return uint64_t{1} << (path_id & 63); }

}  // namespace quic

namespace quic::mp {

// Deadline scheduling: what the packet being built may carry. kFirst: it goes on the path
// chosen for deadline data, which is served first; kHold: it goes elsewhere, deadline data
// stays queued; kAny: no deadline scheduling.
enum class DeadlineLane : uint8_t { kAny, kFirst, kHold };

// New STREAM data sent on one path, owed as a copy to the others.
struct DupChunk {
  uint64_t stream_id, offset, length;
  bool fin;
  uint64_t served;  // path_bit() of every path that has carried it
};

class SchedulerState {
 public:
  // --- redundant copies
  // While new data is written on path `origin` (a duplicating scheduler, another path to copy
  // to), note_sent() owes a copy of each new chunk to the other paths.
  void begin_copies(uint64_t origin) { dup_origin_ = origin; }
  void end_copies() { dup_origin_.reset(); }
  // New (not retransmitted) data left in a packet; bounded: the oldest copies go first.
  void note_sent(uint64_t stream_id, uint64_t offset, uint64_t length, bool fin);
  bool chunks_queued() const { return !dup_queue_.empty(); }
  bool chunk_owed_to(uint64_t path_id) const;
  // The owed chunks, in order (the connection writes, splits and drops them).
  quic::LazyDeque<DupChunk>& chunks() { return dup_queue_; }

  // --- deadlines (per stream)
  // Sets (nullopt: clears) a stream's deadline. At most kMaxDeadlineStreams at once: when full,
  // entries of streams `is_gone` reports freed are pruned first.
  template <class IsGone>
  Status set_deadline(uint64_t id, std::optional<Instant> deadline, IsGone&& is_gone) {
    if (!deadline) {
      deadlines_.erase(id);
      return {};
    }
    if (!deadlines_.contains(id) && deadlines_.size() >= kMaxDeadlineStreams) {
      std::erase_if(deadlines_, [&](const auto& e) { return is_gone(e.first); });
      if (deadlines_.size() >= kMaxDeadlineStreams) {
        return fail(err::kInternalError, "too many streams with a deadline");
      }
    }
    deadlines_[id] = *deadline;
    return {};
  }
  std::optional<Instant> deadline(uint64_t id) const;
  bool has_deadline(uint64_t id) const { return deadlines_.contains(id); }
  // By stream ID; the connection erases the entries of freed streams as it walks them.
  std::map<uint64_t, Instant>& deadlines() { return deadlines_; }
  const std::map<uint64_t, Instant>& deadlines() const { return deadlines_; }

  // The lane of the packet being built (set per poll_transmit, changed by the path choice).
  DeadlineLane lane = DeadlineLane::kAny;

 private:
  quic::LazyDeque<DupChunk> dup_queue_;
  std::optional<uint64_t> dup_origin_;
  std::map<uint64_t, Instant> deadlines_;
};

}  // namespace quic::mp

// Which stream sends next: the extensible-priority model of RFC 9218 (§4 parameters, §10
// server scheduling) applied by the transport to every stream with data ready to send.
//
// - Lower urgency first (0..7).
// - Within one urgency, non-incremental streams go first, one at a time, lowest stream ID
//   first: the chosen stream keeps being chosen until it has nothing ready (done, or blocked by
//   flow control, in which case its owner takes it out and the next one is served).
// - Then incremental streams of that urgency share the link round robin, one chunk each.
//
// Only streams that can send right now are in the scheduler (StreamMap inserts a stream when it
// gains sendable data and takes it out when it is blocked or finished), so a blocked stream
// never holds others back. Every operation costs O(log n) or O(1) in the number of ready
// streams; picking the next stream is O(1) for the urgency (a bitmask) plus a set/list head.
// Serving a stream takes it out and puts it back once per packet, so the containers' nodes are
// recycled (kept spare, not freed): no heap allocation per packet once as many streams as ever
// before are ready.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

namespace quic {

inline constexpr uint8_t kMaxStreamUrgency = 7;
inline constexpr uint8_t kDefaultStreamUrgency = 3;

struct StreamPriority {
  uint8_t urgency = kDefaultStreamUrgency;
  // Transport default: incremental, so an application that never sets priorities gets plain
  // round robin. HTTP/3 sets RFC 9218's default (non-incremental) on its request streams.
  bool incremental = true;
  friend bool operator==(const StreamPriority&, const StreamPriority&) = default;
};

class StreamScheduler {
 public:
  // Marks `id` ready with priority p; a stream already ready keeps its place unless p changed
  // (then it moves, as if newly inserted, to the back of its new round robin).
  void insert(uint64_t id, StreamPriority p);
  // Takes `id` out of the ready set (no-op when it is not there).
  void erase(uint64_t id);
  // The stream to serve now, taken out of the ready set: the caller inserts it again if it
  // still has data ready, which puts an incremental stream at the back of its round robin and
  // keeps a non-incremental one in front.
  std::optional<uint64_t> pop();

  bool contains(uint64_t id) const { return ready_.contains(id); }
  bool empty() const { return ready_.empty(); }
  size_t size() const { return ready_.size(); }
  // Visits the ready streams (any order) until f returns true; returns whether one did.
  template <class F>
  bool any_of(F&& f) const {
    for (const auto& [id, slot] : ready_) {
      if (f(id)) return true;
    }
    return false;
  }

 private:
  struct Level {
    std::set<uint64_t> sequential;  // non-incremental: lowest stream ID first
    std::list<uint64_t> rotation;   // incremental: front is next
    bool empty() const { return sequential.empty() && rotation.empty(); }
  };
  struct Slot {
    StreamPriority priority;
    std::list<uint64_t>::iterator pos;  // in rotation, when incremental
  };
  using Ready = std::unordered_map<uint64_t, Slot>;
  void unlink(uint64_t id, const Slot& slot);
  void remove(Ready::iterator it);

  std::array<Level, kMaxStreamUrgency + 1> levels_;
  uint32_t nonempty_ = 0;  // bit u: levels_[u] has a ready stream
  Ready ready_;
  // Nodes of streams taken out, reused by the next insert.
  std::vector<Ready::node_type> spare_slots_;
  std::vector<std::set<uint64_t>::node_type> spare_sequential_;
  std::list<uint64_t> spare_rotation_;
};

}  // namespace quic

// A binary min-heap of simulator events ordered by (time, insertion sequence): simultaneous
// events run in the order they were scheduled, which keeps runs bit-for-bit reproducible.
// Entries are small PODs; payloads live in the network's packet pool, not in the heap.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sim {

enum class EventKind : uint8_t {
  kPoll,     // a = node: poll a node without a timeout (added nodes, after scheduled calls)
  kTimer,    // a = node, b = timer generation (stale generations are ignored)
  kTxDone,   // a = direction ref, b = service sequence (stale after a link went down)
  kArrival,  // a = packet slot
  kDown,     // a = link
  kUp,       // a = link
  kChange,   // a = index into the scheduled-change list
  kRebind,   // a = index into the rebind list
  kCall,     // a = index into the scheduled-call list
};

struct Event {
  int64_t time;  // ns since the clock epoch
  uint64_t seq;
  uint64_t b;
  uint32_t a;
  EventKind kind;
};

class EventQueue {
 public:
  void push(int64_t time, EventKind kind, uint32_t a, uint64_t b = 0) {
    heap_.push_back(Event{time, next_seq_++, b, a, kind});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  bool empty() const { return heap_.empty(); }
  const Event& top() const { return heap_.front(); }
  Event pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    Event e = heap_.back();
    heap_.pop_back();
    return e;
  }
  size_t size() const { return heap_.size(); }

 private:
  static bool later(const Event& x, const Event& y) {
    return x.time != y.time ? x.time > y.time : x.seq > y.seq;
  }
  std::vector<Event> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace sim

// A first-in first-out queue in one vector read from a moving head: no allocation until the
// first element, and afterwards only the vector's capacity (the largest backlog seen, a few
// entries for an event queue) instead of std::deque's map and 512-byte block. The vector is
// cleared when drained and compacted once the consumed head is most of it, so a queue that is
// never quite empty still stays within twice its backlog.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace quic {

template <class T>
class Fifo {
 public:
  bool empty() const { return head_ == v_.size(); }
  size_t size() const { return v_.size() - head_; }
  void push_back(T v) { v_.push_back(std::move(v)); }
  // front() and pop_front() need a non-empty queue.
  T& front() { return v_[head_]; }
  const T& front() const { return v_[head_]; }
  void pop_front() {
    v_[head_] = T{};  // what the element held goes now, not at the next compaction
    if (++head_ == v_.size()) {
      v_.clear();
      head_ = 0;
    } else if (head_ >= kCompactAt && head_ * 2 >= v_.size()) {
      v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

 private:
  static constexpr size_t kCompactAt = 16;
  std::vector<T> v_;
  size_t head_ = 0;
};

}  // namespace quic

// A std::deque that allocates nothing until its first element. libstdc++'s deque allocates its
// map and a 512-byte block when constructed, even if it stays empty: ~600 bytes for each of a
// connection's queues that an idle connection never uses (docs/performance.md "Many
// connections"). Once used, the deque is kept (no allocation churn when it empties and fills
// again). Only the operations the queues use are forwarded.
#pragma once

#include <deque>
#include <optional>
#include <utility>

namespace quic {

template <class T>
class LazyDeque {
 public:
  using iterator = typename std::deque<T>::iterator;
  using const_iterator = typename std::deque<T>::const_iterator;

  bool empty() const { return !q_ || q_->empty(); }
  size_t size() const { return q_ ? q_->size() : 0; }
  // front(), back() and pop_front() need a non-empty queue, as std::deque's do.
  T& front() { return q_->front(); }
  const T& front() const { return q_->front(); }
  T& back() { return q_->back(); }
  void pop_front() { q_->pop_front(); }
  void push_back(T v) { used().push_back(std::move(v)); }
  template <class... A>
  T& emplace_back(A&&... a) {
    return used().emplace_back(std::forward<A>(a)...);
  }
  void clear() {
    if (q_) q_->clear();
  }

  // Never used: begin() == end() on an empty deque of our own making. The iterators of a
  // value-initialised std::deque are not comparable in every library mode, so one empty deque
  // per type stands in (allocated once per process, never written).
  iterator begin() { return q_ ? q_->begin() : none().begin(); }
  iterator end() { return q_ ? q_->end() : none().end(); }
  const_iterator begin() const { return q_ ? q_->cbegin() : none().cbegin(); }
  const_iterator end() const { return q_ ? q_->cend() : none().cend(); }
  // `pos` must point into this queue's elements (a non-empty range for erase), so the deque
  // exists.
  iterator erase(iterator pos) { return q_->erase(pos); }
  iterator erase(iterator first, iterator last) {
    return first == last ? last : q_->erase(first, last);
  }
  iterator insert(iterator pos, T v) { return q_->insert(pos, std::move(v)); }

 private:
  std::deque<T>& used() {
    if (!q_) q_.emplace();
    return *q_;
  }
  static std::deque<T>& none() {
    static std::deque<T> empty;
    return empty;
  }

  std::optional<std::deque<T>> q_;
};

}  // namespace quic

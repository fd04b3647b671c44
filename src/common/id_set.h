// A set of stream IDs in one sorted vector: iteration in ascending order like std::set, but no
// allocation per insert. Sets that are filled and drained on every turn of an event loop (the
// HTTP/3 session's readable and dirty streams) keep their capacity instead of allocating and
// freeing a tree node per stream per turn. Insert and erase shift the tail: O(size), meant for
// the tens to low thousands of entries a session has in flight.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace quic {

class IdSet {
 public:
  using const_iterator = std::vector<uint64_t>::const_iterator;

  bool insert(uint64_t id) {
    auto it = std::lower_bound(v_.begin(), v_.end(), id);
    if (it != v_.end() && *it == id) return false;
    v_.insert(it, id);
    return true;
  }
  bool erase(uint64_t id) {
    auto it = std::lower_bound(v_.begin(), v_.end(), id);
    if (it == v_.end() || *it != id) return false;
    v_.erase(it);
    return true;
  }
  bool contains(uint64_t id) const { return std::binary_search(v_.begin(), v_.end(), id); }
  bool empty() const { return v_.empty(); }
  size_t size() const { return v_.size(); }
  void clear() { v_.clear(); }  // keeps the capacity
  void swap(IdSet& o) noexcept { v_.swap(o.v_); }
  const_iterator begin() const { return v_.begin(); }
  const_iterator end() const { return v_.end(); }

 private:
  std::vector<uint64_t> v_;
};

}  // namespace quic

// A set of disjoint, non-adjacent closed intervals [lo, hi] of uint64_t, kept sorted.
// Used for received packet numbers (ACK generation), acknowledged/lost stream byte ranges and
// reassembly. The caller bounds its size (peer-controlled): range_count() is O(1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace quic {

struct Range {
  uint64_t lo = 0;  // inclusive
  uint64_t hi = 0;  // inclusive
  uint64_t length() const { return hi - lo + 1; }
  friend bool operator==(const Range&, const Range&) = default;
};

class RangeSet {
 public:
  // Adds [lo, hi]; merges with overlapping or adjacent ranges. Requires lo <= hi.
  void insert(uint64_t lo, uint64_t hi);
  void insert(uint64_t v) { insert(v, v); }
  // Removes [lo, hi] from the set (may split a range).
  void erase(uint64_t lo, uint64_t hi);
  // Removes everything below v.
  void erase_below(uint64_t v);

  bool contains(uint64_t v) const;
  // True when every value of [lo, hi] is present.
  bool contains(uint64_t lo, uint64_t hi) const;
  bool empty() const { return ranges_.empty(); }
  size_t range_count() const { return ranges_.size(); }
  uint64_t min() const { return ranges_.front().lo; }
  uint64_t max() const { return ranges_.back().hi; }
  // The first range at or after v's range containing v, or nullptr if none contains v.
  const Range* find(uint64_t v) const;
  // Ascending order.
  const std::vector<Range>& ranges() const { return ranges_; }
  void pop_front() { ranges_.erase(ranges_.begin()); }
  void clear() { ranges_.clear(); }

 private:
  std::vector<Range> ranges_;
};

}  // namespace quic

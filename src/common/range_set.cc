#include "common/range_set.h"

#include <algorithm>

namespace quic {

void RangeSet::insert(uint64_t lo, uint64_t hi) {
  // First range whose end reaches lo-1 (adjacent ranges merge).
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), lo,
                             [](const Range& r, uint64_t v) { return r.hi + 1 < v && r.hi < v; });
  if (it == ranges_.end() || (hi != UINT64_MAX && it->lo > hi + 1)) {
    ranges_.insert(it, Range{lo, hi});
    return;
  }
  it->lo = std::min(it->lo, lo);
  it->hi = std::max(it->hi, hi);
  auto next = it + 1;
  auto last = next;
  while (last != ranges_.end() && (it->hi == UINT64_MAX || last->lo <= it->hi + 1)) {
    it->hi = std::max(it->hi, last->hi);
    ++last;
  }
  ranges_.erase(next, last);
}

void RangeSet::erase(uint64_t lo, uint64_t hi) {
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), lo,
                             [](const Range& r, uint64_t v) { return r.hi < v; });
  while (it != ranges_.end() && it->lo <= hi) {
    if (it->lo < lo && it->hi > hi) {  // split
      Range tail{hi + 1, it->hi};
      it->hi = lo - 1;
      ranges_.insert(it + 1, tail);
      return;
    }
    if (it->lo < lo) {
      it->hi = lo - 1;
      ++it;
    } else if (it->hi > hi) {
      it->lo = hi + 1;
      return;
    } else {
      it = ranges_.erase(it);
    }
  }
}

void RangeSet::erase_below(uint64_t v) {
  if (v == 0) return;
  erase(0, v - 1);
}

const Range* RangeSet::find(uint64_t v) const {
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), v,
                             [](const Range& r, uint64_t x) { return r.hi < x; });
  if (it == ranges_.end() || it->lo > v) return nullptr;
  return &*it;
}

bool RangeSet::contains(uint64_t v) const { return find(v) != nullptr; }

bool RangeSet::contains(uint64_t lo, uint64_t hi) const {
  const Range* r = find(lo);
  return r != nullptr && r->hi >= hi;
}

}  // namespace quic

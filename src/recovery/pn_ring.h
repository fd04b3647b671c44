// Per-packet records of one packet-number space, indexed by packet number. Packet numbers are
// ours and only increase (with single skips, RFC 9000 §21.4), and records leave roughly in the
// order they arrived, so a ring of slots replaces a tree: no allocation per packet once the ring
// has grown to the window, O(1) lookup, in-order walks. A slot whose record left (acknowledged
// or lost) stays as a hole until the records before it leave too.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace quic {

template <class T>
class PnRing {
 public:
  // pn must be above every pn pushed before (since the last clear()).
  void push(uint64_t pn, T value) {
    if (live_ == 0) {
      base_ = pn;  // nothing tracked: start afresh, so a gap costs nothing
      span_ = 0;
    }
    const uint64_t need = pn - base_ + 1;
    if (need > slots_.size()) grow(need);
    Slot& s = at(pn);
    s.value = std::move(value);
    s.live = true;
    span_ = need;
    ++live_;
  }

  T* find(uint64_t pn) {
    if (pn < base_ || pn - base_ >= span_) return nullptr;
    Slot& s = at(pn);
    return s.live ? &s.value : nullptr;
  }

  // Removes pn's record and returns it (which must exist: find() first).
  T take(uint64_t pn) {
    Slot& s = at(pn);
    s.live = false;
    --live_;
    T out = std::move(s.value);
    s.value = T{};  // release what the record held (a spilled frame list)
    while (span_ > 0 && !at(base_).live) {
      head_ = (head_ + 1) & (slots_.size() - 1);
      ++base_;
      --span_;
    }
    return out;
  }

  size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }
  // The oldest tracked packet number (requires !empty()).
  uint64_t first() const { return base_; }
  // One past the newest slot in use.
  uint64_t end() const { return base_ + span_; }
  // Slots allocated (a power of two; grows to the widest span of tracked packets).
  size_t capacity() const { return slots_.size(); }

  // Calls f(pn, T&) for each tracked record, oldest first, until f returns false.
  template <class F>
  void for_each(F&& f) {
    for (uint64_t pn = base_; pn < base_ + span_; ++pn) {
      Slot& s = at(pn);
      if (s.live && !f(pn, s.value)) return;
    }
  }

  // Forgets everything and frees the slots.
  void clear() {
    std::vector<Slot>().swap(slots_);
    head_ = 0;
    base_ = span_ = 0;
    live_ = 0;
  }

 private:
  struct Slot {
    T value{};
    bool live = false;
  };

  Slot& at(uint64_t pn) { return slots_[(head_ + (pn - base_)) & (slots_.size() - 1)]; }

  void grow(uint64_t need) {
    const size_t cap = std::bit_ceil(std::max<size_t>(static_cast<size_t>(need), 8));
    std::vector<Slot> next(cap);
    for (uint64_t i = 0; i < span_; ++i) next[i] = std::move(at(base_ + i));
    slots_ = std::move(next);
    head_ = 0;
  }

  std::vector<Slot> slots_;  // size is a power of two (or 0)
  size_t head_ = 0;          // slot of base_
  uint64_t base_ = 0;        // oldest slot's packet number
  uint64_t span_ = 0;        // slots in use from base_ (live or holes)
  size_t live_ = 0;
};

}  // namespace quic

#include "core/datagram_queue.h"

#include <algorithm>
#include <cstring>

namespace quic {

namespace {
constexpr size_t kFirstRingBytes = 16 * 1024;
constexpr size_t kFirstSlots = 16;
}  // namespace

DatagramQueue::DatagramQueue(size_t max_bytes, size_t max_entries)
    : max_bytes_(max_bytes), max_entries_(std::max<size_t>(max_entries, 1)) {}

bool DatagramQueue::fits(size_t length) const {
  return length <= kMaxEntryBytes && count_ < max_entries_ && bytes_ + length <= max_bytes_;
}

std::optional<uint64_t> DatagramQueue::push(std::span<const Bytes> parts, Instant deadline,
                                            uint64_t tag) {
  size_t length = 0;
  for (Bytes p : parts) length += p.size();
  if (!fits(length)) return std::nullopt;
  if (!s_) s_ = std::make_unique<Store>();
  if (count_ == s_->slots.size()) grow_slots();
  const bool was_wrapped = s_->wrapped;
  std::optional<uint32_t> at = place(length);
  if (!at) {
    grow_ring(length);
    at = place(length);
    if (!at) return std::nullopt;  // unreachable: grow_ring leaves room for the entry
  }
  Entry& e = s_->slots[(s_->head + count_) % s_->slots.size()];
  e = Entry{deadline, tag, *at, static_cast<uint32_t>(length), true, s_->wrapped && !was_wrapped};
  uint8_t* to = s_->ring.get() + *at;
  for (Bytes p : parts) {
    if (!p.empty()) std::memcpy(to, p.data(), p.size());
    to += p.size();
  }
  ++count_;
  ++live_;
  bytes_ += length;
  return first_seq_ + count_ - 1;
}

std::optional<uint64_t> DatagramQueue::push_evicting(Bytes data, Instant deadline, uint64_t tag) {
  while (!fits(data.size()) && count_ > 0) evict_oldest();
  return push(data, deadline, tag);
}

// Where `length` contiguous bytes go, if the ring has room for them. The held bytes occupy
// [read, write) or, wrapped, [read, end of the last entry before the wrap) and [0, write).
// With a ring of max_bytes_ + kMaxEntryBytes, anything fits() admits has a place: unwrapped, the
// free bytes (ring - held) exceed length + kMaxEntryBytes, so either the end or the start of
// the ring has `length` of them; wrapped, less than one entry is lost at the end of the ring.
std::optional<uint32_t> DatagramQueue::place(size_t length) {
  Store& s = *s_;
  if (count_ == 0) {
    s.read = s.write = 0;
    s.wrapped = false;
  }
  size_t at = 0;
  if (!s.wrapped && s.cap - s.write >= length) {
    at = s.write;
  } else if (!s.wrapped && s.read >= length) {
    s.wrapped = true;  // the rest of the ring's end stays unused until the reader passes it
  } else if (s.wrapped && s.read - s.write >= length) {
    at = s.write;
  } else {
    return std::nullopt;
  }
  s.write = at + length;
  return static_cast<uint32_t>(at);
}

void DatagramQueue::grow_ring(size_t length) {
  Store& s = *s_;
  const size_t limit = max_bytes_ + kMaxEntryBytes;
  size_t cap = std::min(limit, std::max({s.cap * 2, kFirstRingBytes, bytes_ + length}));
  auto ring = std::make_unique_for_overwrite<uint8_t[]>(cap);
  // Copied compactly in order; removed entries give their bytes back.
  size_t used = 0;
  for (size_t i = 0; i < count_; ++i) {
    Entry& e = s.slots[(s.head + i) % s.slots.size()];
    if (!e.live) {
      bytes_ -= e.length;
      e.length = 0;
    }
    if (e.length > 0) std::memcpy(ring.get() + used, s.ring.get() + e.offset, e.length);
    e.offset = static_cast<uint32_t>(used);
    e.wraps = false;
    used += e.length;
  }
  s.ring = std::move(ring);
  s.cap = cap;
  s.read = 0;
  s.write = used;
  s.wrapped = false;
}

void DatagramQueue::grow_slots() {
  Store& s = *s_;
  size_t n = std::min(max_entries_, std::max(kFirstSlots, s.slots.size() * 2));
  std::vector<Entry> slots(n);
  for (size_t i = 0; i < count_; ++i) slots[i] = s.slots[(s.head + i) % s.slots.size()];
  s.slots = std::move(slots);
  s.head = 0;
}

const DatagramQueue::Entry* DatagramQueue::find(uint64_t seq) const {
  if (seq < first_seq_ || seq >= end_seq()) return nullptr;
  const Entry& e = slot(seq);
  return e.live ? &e : nullptr;
}

DatagramQueue::Entry* DatagramQueue::find(uint64_t seq) {
  if (seq < first_seq_ || seq >= end_seq()) return nullptr;
  Entry& e = slot(seq);
  return e.live ? &e : nullptr;
}

std::optional<uint64_t> DatagramQueue::front_seq() const {
  if (live_ == 0) return std::nullopt;
  return first_seq_;  // reclaim() keeps a live entry in front
}

void DatagramQueue::remove(uint64_t seq) {
  Entry* e = find(seq);
  if (e == nullptr) return;
  e->live = false;
  --live_;
  reclaim();
}

void DatagramQueue::evict_oldest() {
  if (count_ == 0) return;
  Entry& e = s_->slots[s_->head];
  if (e.live) {
    e.live = false;
    --live_;
  }
  reclaim();
}

void DatagramQueue::clear() {
  while (count_ > 0) evict_oldest();
}

// Frees removed entries at the front; the oldest entry left defines where the held bytes start.
void DatagramQueue::reclaim() {
  Store& s = *s_;  // (entries were held)
  while (count_ > 0 && !s.slots[s.head].live) {
    if (s.slots[s.head].wraps) s.wrapped = false;  // the reader passes the end of the ring
    bytes_ -= s.slots[s.head].length;
    s.head = (s.head + 1) % s.slots.size();
    --count_;
    ++first_seq_;
  }
  if (count_ == 0) {
    s.read = s.write = 0;
    s.wrapped = false;
    return;
  }
  Entry& front = s.slots[s.head];
  if (front.wraps) {
    front.wraps = false;
    s.wrapped = false;
  }
  s.read = front.offset;
}

}  // namespace quic

#include "h3/datagram_queue.h"

#include <algorithm>
#include <cstring>

namespace h3 {

void DatagramQueue::drop_front() {
  const Rec& r = recs_.front();
  head_ = ring_.empty() ? 0 : (head_ + r.length) % ring_.size();
  used_ -= r.length;
  recs_.pop_front();
}

void DatagramQueue::grow(size_t need) {
  size_t cap = std::max({need, ring_.size() * 2, size_t{4096}});
  cap = std::min(cap, max_bytes_);
  if (cap <= ring_.size()) return;
  // Linearize: the bytes from head_ move to the front of the new ring.
  std::vector<uint8_t> next(cap);
  size_t first = std::min(used_, ring_.size() - head_);
  if (used_ != 0) {
    std::memcpy(next.data(), ring_.data() + head_, first);
    std::memcpy(next.data() + first, ring_.data(), used_ - first);
  }
  ring_.swap(next);
  head_ = 0;
}

DatagramQueue::Pushed DatagramQueue::push(uint64_t stream_id, quic::Bytes payload) {
  size_t cost = payload.size() + kDatagramRecordCost;
  if (cost > max_bytes_) return {false, 0};
  size_t dropped = 0;
  while (!recs_.empty() && charged_bytes() + cost > max_bytes_) {
    drop_front();
    ++dropped;
  }
  if (used_ + payload.size() > ring_.size()) grow(used_ + payload.size());
  if (!payload.empty()) {
    size_t tail = (head_ + used_) % ring_.size();
    size_t first = std::min(payload.size(), ring_.size() - tail);
    std::memcpy(ring_.data() + tail, payload.data(), first);
    if (first < payload.size()) {
      std::memcpy(ring_.data(), payload.data() + first, payload.size() - first);
    }
  }
  used_ += payload.size();
  recs_.push_back({stream_id, payload.size()});
  return {true, dropped};
}

std::optional<DatagramQueue::Popped> DatagramQueue::pop(quic::MutBytes out) {
  if (recs_.empty()) return std::nullopt;
  const Rec r = recs_.front();
  size_t copied = std::min(out.size(), r.length);
  if (copied != 0) {
    size_t first = std::min(copied, ring_.size() - head_);
    std::memcpy(out.data(), ring_.data() + head_, first);
    std::memcpy(out.data() + first, ring_.data(), copied - first);
  }
  drop_front();
  return Popped{r.stream_id, r.length, copied};
}

}  // namespace h3

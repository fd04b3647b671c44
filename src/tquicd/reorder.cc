#include "tquicd/reorder.h"

#include <algorithm>
#include <bit>


namespace bond {

namespace {
constexpr uint64_t kW = kReorderSeqWindow;
constexpr uint64_t kSlots = 2 * kW;  // one bit per sequence number in [next_ - W, next_ + W)
// Unwrapped sequence numbers start this far up so next_ - W never goes below zero.
constexpr uint64_t kSeqBase = 4 * kSeqModulus;
}  // namespace

ReorderBuffer::ReorderBuffer(ReorderLimits limits)
    : limits_(limits), hold_(limits.max_hold),
      next_(kSeqBase), seen_bits_(kSlots / 64, 0) {
  limits_.max_packets = std::clamp<size_t>(limits_.max_packets, 1, kW);
}

void ReorderBuffer::set_limits(ReorderLimits limits) {
  limits_ = limits;
  limits_.max_packets = std::clamp<size_t>(limits_.max_packets, 1, kW);
  hold_ = std::min(hold_, limits_.max_hold);
}

void ReorderBuffer::set_path_delays(std::span<const PathDelay> paths) {
  if (paths.empty()) return;
  quic::Duration fastest = paths[0].delay, slowest = paths[0].delay + 2 * paths[0].variation;
  for (const PathDelay& p : paths) {
    fastest = std::min(fastest, p.delay);
    slowest = std::max(slowest, p.delay + 2 * p.variation);
  }
  hold_ = std::clamp<quic::Duration>(slowest - fastest + kReorderHoldMargin, quic::Duration::zero(),
                                     limits_.max_hold);
}

uint64_t ReorderBuffer::unwrap(uint32_t wire_seq) const {
  uint64_t diff = (wire_seq + kSeqModulus - next_ % kSeqModulus) % kSeqModulus;
  return diff < kSeqModulus / 2 ? next_ + diff : next_ + diff - kSeqModulus;
}

bool ReorderBuffer::seen(uint64_t s) const {
  uint64_t slot = s % kSlots;
  return (seen_bits_[slot / 64] >> (slot % 64)) & 1;
}

void ReorderBuffer::mark_seen(uint64_t s) {
  uint64_t slot = s % kSlots;
  seen_bits_[slot / 64] |= uint64_t{1} << (slot % 64);
}

void ReorderBuffer::step() {
  // The window moves up by one: the slot of next_ - W now stands for next_ + W.
  uint64_t slot = (next_ + kW) % kSlots;
  seen_bits_[slot / 64] &= ~(uint64_t{1} << (slot % 64));
  ++next_;
}

void ReorderBuffer::release_held(std::map<uint64_t, Held>::iterator it) {
  held_bytes_ -= it->second.bytes.size();
  ready_.push_back(std::move(it->second.bytes));
  held_.erase(it);
  ++stats_.released_held;
}

// Calls f(word index, mask) for the window slots of sequence numbers [a, b) (b - a < kSlots):
// whole words at a time, so walking the window costs at most kSlots / 64 steps.
template <typename F>
static void for_slot_words(uint64_t a, uint64_t b, F f) {
  while (a < b) {
    uint64_t slot = a % kSlots, bit = slot % 64;
    uint64_t n = std::min<uint64_t>(64 - bit, b - a);
    f(slot / 64, (n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1) << bit);
    a += n;
  }
}

void ReorderBuffer::skip_to(uint64_t s) {
  if (s <= next_) return;
  // Sequence numbers at or above next_ + W were never marked seen (they were outside the window).
  uint64_t seen_count = 0;
  for_slot_words(next_, std::min(s, next_ + kW), [&](size_t word, uint64_t mask) {
    seen_count += static_cast<uint64_t>(std::popcount(seen_bits_[word] & mask));
  });
  stats_.lost += s - next_ - seen_count;
  // Held packets below s leave in order (those are held ones, not lost ones: seen_count has them).
  while (!held_.empty() && held_.begin()->first < s) release_held(held_.begin());
  // The window moves up to [s - W, s + W): the slots of the sequence numbers it leaves behind
  // now stand for [next_ + W, s + W) and start unseen.
  if (s - next_ >= kSlots) {
    std::fill(seen_bits_.begin(), seen_bits_.end(), 0);
  } else {
    for_slot_words(next_ + kW, s + kW, [&](size_t word, uint64_t mask) { seen_bits_[word] &= ~mask; });
  }
  next_ = s;
}

void ReorderBuffer::release_in_order() {
  while (seen(next_)) {
    if (auto it = held_.find(next_); it != held_.end()) release_held(it);
    step();
  }
}

void ReorderBuffer::emit(quic::Bytes packet, bool& direct) {
  // Direct delivery only while nothing released earlier waits in ready_: order is kept.
  if (ready_.empty()) {
    direct = true;
  } else {
    ready_.emplace_back(packet.begin(), packet.end());
  }
}

void ReorderBuffer::make_room(uint64_t s, size_t bytes, bool& direct, quic::Bytes packet) {
  while (held_.size() + 1 > limits_.max_packets || held_bytes_ + bytes > limits_.max_bytes) {
    ++stats_.overflows;
    if (held_.empty() || s < held_.begin()->first) {
      // The new packet is the oldest: give up the gap before it and deliver it.
      skip_to(s);
      mark_seen(s);
      emit(packet, direct);
      release_in_order();
      return;
    }
    uint64_t oldest = held_.begin()->first;
    skip_to(oldest);
    release_in_order();
  }
}

ReorderBuffer::Verdict ReorderBuffer::on_packet(quic::Instant now, uint32_t wire_seq, bool ordered,
                                                quic::Bytes packet) {
  uint64_t s = unwrap(wire_seq % kSeqModulus);
  if (s + kW < next_) {
    ++stats_.too_old;
    return Verdict::kTooOld;
  }
  if (s >= next_ + kW) {
    ++stats_.resyncs;
    skip_to(s + 1 - kW);  // keeps s inside the window; the gap below it is given up
  }
  if (seen(s)) {
    ++stats_.duplicates;
    return Verdict::kDuplicate;
  }
  bool direct = false;
  if (ordered && s > next_) make_room(s, packet.size(), direct, packet);  // may deliver s itself
  if (s < next_ && !seen(s)) {
    ++stats_.late;
    mark_seen(s);
    emit(packet, direct);
  } else if (!ordered || s == next_) {
    ++(ordered ? stats_.in_order : stats_.passthrough);
    mark_seen(s);
    emit(packet, direct);
    release_in_order();
  } else if (s > next_) {
    mark_seen(s);
    held_.emplace(s, Held{now, std::vector<uint8_t>(packet.begin(), packet.end())});
    held_bytes_ += packet.size();
    deadlines_.emplace_back(now, s);
  }
  drop_stale_deadlines();
  return direct ? Verdict::kDeliverNow : Verdict::kQueued;
}

void ReorderBuffer::drop_stale_deadlines() {
  while (!deadlines_.empty() && !held_.contains(deadlines_.front().second)) deadlines_.pop_front();
  // Entries of packets released out of arrival order linger until they reach the front; a
  // compaction keeps the queue within a small multiple of the held packets.
  if (deadlines_.size() > 2 * held_.size() + 64) {
    std::erase_if(deadlines_, [&](const auto& d) { return !held_.contains(d.second); });
  }
}

void ReorderBuffer::on_timeout(quic::Instant now) {
  drop_stale_deadlines();
  while (!deadlines_.empty() && deadlines_.front().first + hold_ <= now) {
    ++stats_.gap_timeouts;
    skip_to(deadlines_.front().second);
    release_in_order();
    drop_stale_deadlines();
  }
}

quic::Instant ReorderBuffer::next_timeout() const {
  return deadlines_.empty() ? quic::kNever : deadlines_.front().first + hold_;
}

std::optional<std::vector<uint8_t>> ReorderBuffer::pop_ready() {
  if (ready_.empty()) return std::nullopt;
  std::vector<uint8_t> p = std::move(ready_.front());
  ready_.pop_front();
  return p;
}

}  // namespace bond

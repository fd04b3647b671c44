#include "recovery/ack_tracker.h"

#include <algorithm>

namespace quic {

bool AckTracker::is_duplicate(uint64_t pn) const {
  return pn < forgotten_below_ || received_.contains(pn);
}

bool AckTracker::on_packet_received(uint64_t pn, bool ack_eliciting, Instant now, uint8_t ecn) {
  if (is_duplicate(pn)) return false;

  const bool had_ack_eliciting = has_ack_eliciting_;
  const uint64_t prev_largest = largest_ack_eliciting_;
  received_.insert(pn);
  news_ = true;
  while (received_.range_count() > kMaxTrackedRanges) {
    forgotten_below_ = received_.ranges().front().hi + 1;
    received_.pop_front();
  }
  if (!has_received_ || pn > largest_) {
    largest_ = pn;
    largest_rx_time_ = now;
    has_received_ = true;
  }

  // RFC 9000 §13.4.1: duplicates (rejected above) do not count.
  const bool ce = (ecn & 3) == kEcnCe;
  // ack-frequency §6.3: above threshold 1 only the first CE mark of a run is urgent; at 0 or
  // 1, every CE-marked packet is (RFC 9000 §13.2.1).
  const bool ce_urgent = ce && (ack_eliciting_threshold_ <= 1 || !last_was_ce_);
  last_was_ce_ = ce;
  switch (ecn & 3) {
    case kEcnEct0:
      ++ecn_.ect0;
      break;
    case kEcnEct1:
      ++ecn_.ect1;
      break;
    case kEcnCe:
      ++ecn_.ce;
      break;
    default:
      break;
  }

  if (!ack_eliciting) return true;  // never triggers an ACK by itself (§13.2.1)
  if (!has_ack_eliciting_ || pn > largest_ack_eliciting_) largest_ack_eliciting_ = pn;
  has_ack_eliciting_ = true;
  ++unacked_ack_eliciting_;
  if (first_unacked_rx_time_ == kNever) first_unacked_rx_time_ = now;
  // CE-marked packets are acknowledged immediately (§13.2.1) so the sender reacts within an RTT.
  if (ce_urgent || unacked_ack_eliciting_ > ack_eliciting_threshold_ ||
      reordering_needs_ack(pn, had_ack_eliciting, prev_largest)) {
    immediate_ = true;
  }
  return true;
}

bool AckTracker::reordering_needs_ack(uint64_t pn, bool had_ack_eliciting,
                                      uint64_t prev_largest) const {
  if (reordering_threshold_ == 0) return false;  // §6.2: rely on threshold and delay only
  if (reordering_threshold_ == 1) {
    // RFC 9000 §13.2.1: acknowledge at once when this packet arrived out of order or reveals
    // a gap, so the sender's loss detection learns of it quickly.
    if (!had_ack_eliciting) return false;
    if (pn < prev_largest) return true;
    return pn > prev_largest + 1 && !received_.contains(prev_largest + 1, pn - 1);
  }
  // A packet the sender has (spuriously) declared lost already: report it at once.
  const uint64_t k = reordering_threshold_;
  if (has_ack_sent_ && largest_ack_sent_ >= k && pn <= largest_ack_sent_ - k) return true;
  // The smallest packet missing above the Largest Reported Missing (Largest Acked - k):
  // once the Largest Unacked is k past it, the sender can declare it lost.
  uint64_t missing = forgotten_below_;
  if (has_ack_sent_ && largest_ack_sent_ >= k) missing = std::max(missing, largest_ack_sent_ - k + 1);
  for (const Range& r : received_.ranges()) {
    if (r.hi < missing) continue;
    if (r.lo > missing) break;
    missing = r.hi + 1;
  }
  return missing < largest_ack_eliciting_ && largest_ack_eliciting_ - missing >= k;
}

void AckTracker::apply_ack_frequency(uint64_t ack_eliciting_threshold, Duration max_ack_delay,
                                     uint64_t reordering_threshold) {
  ack_eliciting_threshold_ = ack_eliciting_threshold;
  max_ack_delay_ = max_ack_delay;
  reordering_threshold_ = reordering_threshold;
  // A lower threshold may already be exceeded by what is waiting.
  if (unacked_ack_eliciting_ > ack_eliciting_threshold_) immediate_ = true;
}

bool AckTracker::ack_needed(Instant now) const {
  if (unacked_ack_eliciting_ == 0) return false;
  return immediate_ || now >= ack_deadline();
}

Instant AckTracker::ack_deadline() const {
  if (unacked_ack_eliciting_ == 0) return kNever;
  if (immediate_) return first_unacked_rx_time_;
  return first_unacked_rx_time_ + max_ack_delay_;
}

std::vector<Range> AckTracker::ranges() const {
  std::vector<Range> out;
  const auto& asc = received_.ranges();
  for (auto it = asc.rbegin(); it != asc.rend() && out.size() < kMaxAckRangesSent; ++it) {
    out.push_back(*it);
  }
  return out;
}

Duration AckTracker::ack_delay(Instant now) const {
  if (!has_received_ || now <= largest_rx_time_) return Duration::zero();
  return now - largest_rx_time_;
}

void AckTracker::on_ack_sent(Instant /*now*/) {
  if (has_received_) {
    has_ack_sent_ = true;
    largest_ack_sent_ = largest_;
  }
  unacked_ack_eliciting_ = 0;
  first_unacked_rx_time_ = kNever;
  immediate_ = false;
  news_ = false;
}

void AckTracker::on_ack_of_ack(uint64_t largest_acked_in_our_ack) {
  if (largest_acked_in_our_ack == UINT64_MAX) return;
  // A packet numbered below this arriving now would be over an RTT late: the sender has
  // declared it lost already, so treating it as a duplicate loses nothing (§13.2.3).
  forgotten_below_ = std::max(forgotten_below_, largest_acked_in_our_ack + 1);
  received_.erase_below(forgotten_below_);
}

}  // namespace quic

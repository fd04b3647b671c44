#include "recovery/ack_tracker.h"

#include <algorithm>

namespace quic {

bool AckTracker::is_duplicate(uint64_t pn) const {
  return pn < forgotten_below_ || received_.contains(pn);
}

bool AckTracker::on_packet_received(uint64_t pn, bool ack_eliciting, Instant now, uint8_t ecn) {
  if (is_duplicate(pn)) return false;

  // RFC 9000 §13.2.1: acknowledge at once when this packet arrived out of order or reveals a
  // gap, so the sender's loss detection learns of it quickly.
  bool reordered = false;
  if (ack_eliciting && has_ack_eliciting_) {
    if (pn < largest_ack_eliciting_) {
      reordered = true;
    } else if (pn > largest_ack_eliciting_ + 1 &&
               !received_.contains(largest_ack_eliciting_ + 1, pn - 1)) {
      reordered = true;
    }
  }

  received_.insert(pn);
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
  if (reordered || (ecn & 3) == kEcnCe || unacked_ack_eliciting_ > ack_eliciting_threshold_) {
    immediate_ = true;
  }
  return true;
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
  unacked_ack_eliciting_ = 0;
  first_unacked_rx_time_ = kNever;
  immediate_ = false;
}

void AckTracker::on_ack_of_ack(uint64_t largest_acked_in_our_ack) {
  if (largest_acked_in_our_ack == UINT64_MAX) return;
  // A packet numbered below this arriving now would be over an RTT late: the sender has
  // declared it lost already, so treating it as a duplicate loses nothing (§13.2.3).
  forgotten_below_ = std::max(forgotten_below_, largest_acked_in_our_ack + 1);
  received_.erase_below(forgotten_below_);
}

}  // namespace quic

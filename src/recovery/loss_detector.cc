#include "recovery/loss_detector.h"

#include <algorithm>

#include "recovery/pto.h"

namespace quic {
namespace {

// How many of the (ascending) skipped packet numbers lie in (lo, hi].
uint64_t skipped_in(const std::vector<uint64_t>& skipped, uint64_t lo, uint64_t hi) {
  if (skipped.empty() || lo >= hi) return 0;
  auto first = std::upper_bound(skipped.begin(), skipped.end(), lo);
  auto last = std::upper_bound(first, skipped.end(), hi);
  return static_cast<uint64_t>(last - first);
}

}  // namespace

void LossDetectorCore::note_sent(SentPacket& p) {
  if (last_time_sent_ != kNever && p.time_sent < last_time_sent_) p.time_sent = last_time_sent_;
  last_time_sent_ = p.time_sent;
  if (!has_sent_ || p.pn > largest_sent_) largest_sent_ = p.pn;
  has_sent_ = true;
  if (p.in_flight) {
    bytes_in_flight_ += p.bytes;
    if (p.ack_eliciting) ++ack_eliciting_in_flight_;
  }
  if (p.ack_eliciting) time_of_last_ack_eliciting_ = p.time_sent;
}

void LossDetectorCore::forget(const SentPacket& p) {
  if (!p.in_flight) return;
  bytes_in_flight_ -= std::min<uint64_t>(bytes_in_flight_, p.bytes);
  if (p.ack_eliciting && ack_eliciting_in_flight_ > 0) --ack_eliciting_in_flight_;
}

void LossDetectorCore::skip_packet_number(uint64_t pn) {
  if (!skipped_.empty() && pn <= skipped_.back()) return;  // skips only move forward
  skipped_.push_back(pn);
  if (skipped_.size() > kMaxSkippedPacketNumbers) skipped_.erase(skipped_.begin());
}

bool LossDetectorCore::covers_unsent(std::span<const Range> ranges_desc) const {
  if (!has_sent_ || ranges_desc.front().hi > largest_sent_) return true;
  for (const Range& r : ranges_desc) {
    auto it = std::lower_bound(skipped_.begin(), skipped_.end(), r.lo);
    if (it != skipped_.end() && *it <= r.hi) return true;
  }
  return false;
}

bool LossDetectorCore::begin_ack(std::span<const Range> ranges_desc, AckResult& result) {
  valid_ranges_.clear();
  if (ranges_desc.empty()) return false;
  result.largest_acked = ranges_desc.front().hi;
  if (covers_unsent(ranges_desc)) {
    result.acked_unsent = true;
    return false;
  }
  if (!has_largest_acked_ || result.largest_acked > largest_acked_) {
    largest_acked_ = result.largest_acked;
  }
  has_largest_acked_ = true;
  for (const Range& r : ranges_desc) {
    if (r.lo > r.hi || (!valid_ranges_.empty() && r.hi >= valid_ranges_.back().lo)) {
      continue;  // not descending: ignore
    }
    valid_ranges_.push_back(r);
  }
  return true;
}

RttEstimator LossDetectorCore::finish_ack(AckResult& result, Duration ack_delay, Instant now,
                                          const RttEstimator& rtt, Duration max_ack_delay) const {
  const SentPacket& largest = result.acked.back();
  result.largest_newly_acked_ack_eliciting = largest.ack_eliciting;
  RttEstimator estimate = rtt;
  if (largest.pn != result.largest_acked) return estimate;
  result.largest_acked_time_sent = largest.time_sent;
  bool any_ack_eliciting = std::any_of(result.acked.begin(), result.acked.end(),
                                       [](const SentPacket& p) { return p.ack_eliciting; });
  if (any_ack_eliciting) {
    result.rtt_sample = now - largest.time_sent;
    // The caller's copy is updated after we return; the thresholds need the new sample now
    // (§A.7 updates RTT before detecting losses). Clamping ack_delay as if the handshake were
    // confirmed only makes the threshold larger, i.e. more conservative.
    estimate.update(*result.rtt_sample, ack_delay, /*handshake_confirmed=*/true, max_ack_delay,
                    now);
  }
  return estimate;
}

Duration LossDetectorCore::loss_delay(const RttEstimator& rtt) const {
  Duration d = std::max(rtt.latest(), rtt.smoothed()) * kTimeThresholdNum / kTimeThresholdDen;
  return std::max(d, kGranularity);
}

// The packet threshold counts packets sent after p: a number skipped on purpose (RFC 9000
// §21.4) was never sent, so it must not make p look lost sooner than three real packets
// overtaking it would.
bool LossDetectorCore::is_lost(const SentPacket& p, Instant lost_send_time) const {
  const uint64_t overtaken_by = largest_acked_ - p.pn - skipped_in(skipped_, p.pn, largest_acked_);
  return p.time_sent <= lost_send_time || overtaken_by >= kPacketThreshold;
}

void LossDetectorCore::trim_acked(bool empty, uint64_t oldest) {
  // Only ranges at or above the oldest still-tracked packet can separate two future losses.
  if (empty) {
    acked_.clear();
  } else {
    acked_.erase_below(oldest);
  }
}

void LossDetectorCore::reset_counters() {
  acked_.clear();
  bytes_in_flight_ = 0;
  ack_eliciting_in_flight_ = 0;
  loss_time_ = kNever;
  time_of_last_ack_eliciting_ = kNever;
}

bool LossDetectorCore::acked_between(uint64_t lo, uint64_t hi) const {
  if (lo > hi) return false;
  const auto& rs = acked_.ranges();
  auto it = std::lower_bound(rs.begin(), rs.end(), lo,
                             [](const Range& r, uint64_t v) { return r.hi < v; });
  return it != rs.end() && it->lo <= hi;
}

// RFC 9002 §7.6.2: two ack-eliciting packets, both sent after the first RTT sample, lost with
// nothing acknowledged between them, sent further apart than the persistent congestion
// duration. Only this space's acknowledgments are consulted (allowed by §7.6.2).
bool LossDetectorCore::in_persistent_congestion(std::span<const SentPacket> lost,
                                                const RttEstimator& rtt,
                                                Duration max_ack_delay) const {
  if (!rtt.has_sample()) return false;
  const Duration period = persistent_congestion_duration(rtt, max_ack_delay);
  const SentPacket* start = nullptr;
  const SentPacket* prev = nullptr;
  for (const SentPacket& p : lost) {
    // An MTU probe's loss says nothing about congestion (RFC 9000 §14.4).
    if (!p.ack_eliciting || p.is_mtu_probe || p.time_sent <= rtt.first_sample_time()) continue;
    if (start == nullptr || acked_between(prev->pn + 1, p.pn - 1)) {
      start = &p;
    } else if (p.time_sent - start->time_sent > period) {
      return true;
    }
    prev = &p;
  }
  return false;
}

Instant LossDetectorCore::pto_time(const RttEstimator& rtt, Duration max_ack_delay,
                                   bool include_ack_delay, uint32_t pto_count) const {
  if (!has_ack_eliciting_in_flight() || time_of_last_ack_eliciting_ == kNever) return kNever;
  Duration d = pto_duration(rtt, max_ack_delay, include_ack_delay, pto_count);
  if (time_of_last_ack_eliciting_ > kNever - d) return kNever;
  return time_of_last_ack_eliciting_ + d;
}

}  // namespace quic

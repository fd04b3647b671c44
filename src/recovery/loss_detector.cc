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

void LossDetector::on_packet_sent(const SentPacket& packet) {
  if (!has_sent_ || packet.pn > largest_sent_) largest_sent_ = packet.pn;
  has_sent_ = true;
  auto [it, inserted] = sent_.insert_or_assign(packet.pn, packet);
  (void)it;
  (void)inserted;
  if (packet.in_flight) {
    bytes_in_flight_ += packet.bytes;
    if (packet.ack_eliciting) ++ack_eliciting_in_flight_;
  }
  if (packet.ack_eliciting) time_of_last_ack_eliciting_ = packet.time_sent;
}

void LossDetector::forget(const SentPacket& p) {
  if (!p.in_flight) return;
  bytes_in_flight_ -= std::min<uint64_t>(bytes_in_flight_, p.bytes);
  if (p.ack_eliciting && ack_eliciting_in_flight_ > 0) --ack_eliciting_in_flight_;
}

void LossDetector::skip_packet_number(uint64_t pn) {
  if (!skipped_.empty() && pn <= skipped_.back()) return;  // skips only move forward
  skipped_.push_back(pn);
  if (skipped_.size() > kMaxSkippedPacketNumbers) skipped_.erase(skipped_.begin());
}

bool LossDetector::covers_unsent(std::span<const Range> ranges_desc) const {
  if (!has_sent_ || ranges_desc.front().hi > largest_sent_) return true;
  for (const Range& r : ranges_desc) {
    auto it = std::lower_bound(skipped_.begin(), skipped_.end(), r.lo);
    if (it != skipped_.end() && *it <= r.hi) return true;
  }
  return false;
}

AckResult LossDetector::on_ack_received(std::span<const Range> ranges_desc, Duration ack_delay,
                                        Instant now, const RttEstimator& rtt,
                                        Duration max_ack_delay) {
  AckResult result;
  if (ranges_desc.empty()) return result;
  result.largest_acked = ranges_desc.front().hi;
  if (covers_unsent(ranges_desc)) {
    result.acked_unsent = true;
    return result;
  }
  if (!has_largest_acked_ || result.largest_acked > largest_acked_) {
    largest_acked_ = result.largest_acked;
  }
  has_largest_acked_ = true;

  // Walk the tracked packets inside each range; ranges come newest first, so the acked list is
  // built descending and reversed once at the end.
  bool first = true;
  uint64_t prev_lo = 0;
  for (const Range& r : ranges_desc) {
    if (r.lo > r.hi || (!first && r.hi >= prev_lo)) continue;  // not descending: ignore
    first = false;
    prev_lo = r.lo;
    if (acked_.range_count() < kMaxRememberedAckRanges) acked_.insert(r.lo, r.hi);
    auto it = sent_.lower_bound(r.lo);
    auto end = sent_.upper_bound(r.hi);
    // Within one range packets are ascending; collect them in reverse to keep the list sorted.
    size_t start = result.acked.size();
    for (; it != end; it = sent_.erase(it)) {
      forget(it->second);
      result.acked.push_back(it->second);
    }
    std::reverse(result.acked.begin() + static_cast<std::ptrdiff_t>(start), result.acked.end());
  }
  std::reverse(result.acked.begin(), result.acked.end());
  if (result.acked.empty()) return result;  // RFC 9002 §A.7: nothing newly acked

  const SentPacket& largest = result.acked.back();
  result.largest_newly_acked_ack_eliciting = largest.ack_eliciting;
  RttEstimator estimate = rtt;
  if (largest.pn == result.largest_acked) {
    result.largest_acked_time_sent = largest.time_sent;
    bool any_ack_eliciting = std::any_of(result.acked.begin(), result.acked.end(),
                                         [](const SentPacket& p) { return p.ack_eliciting; });
    if (any_ack_eliciting) {
      result.rtt_sample = now - largest.time_sent;
      // The caller's copy is updated after we return; the thresholds below need the new
      // sample now (§A.7 updates RTT before detecting losses). Clamping ack_delay as if the
      // handshake were confirmed only makes the threshold larger, i.e. more conservative.
      estimate.update(*result.rtt_sample, ack_delay, /*handshake_confirmed=*/true, max_ack_delay,
                      now);
    }
  }

  result.lost = detect_and_remove_lost(now, estimate);
  result.persistent_congestion = in_persistent_congestion(result.lost, estimate, max_ack_delay);

  // Only ranges at or above the oldest still-tracked packet can separate two future losses.
  if (sent_.empty()) {
    acked_.clear();
  } else {
    acked_.erase_below(sent_.begin()->first);
  }
  return result;
}

std::vector<SentPacket> LossDetector::detect_lost(Instant now, const RttEstimator& rtt) {
  return detect_and_remove_lost(now, rtt);
}

std::vector<SentPacket> LossDetector::detect_and_remove_lost(Instant now, const RttEstimator& rtt) {
  std::vector<SentPacket> lost;
  loss_time_ = kNever;
  if (!has_largest_acked_) return lost;
  Duration loss_delay =
      std::max(rtt.latest(), rtt.smoothed()) * kTimeThresholdNum / kTimeThresholdDen;
  loss_delay = std::max(loss_delay, kGranularity);
  Instant lost_send_time = now - loss_delay;

  // Only packets at or below the largest acked can be lost, and each of them is either lost
  // now or sets the timer: the walk costs the packets it judges. The packet threshold counts
  // packets sent after p: a number skipped on purpose (RFC 9000 §21.4) was never sent, so it
  // must not make p look lost sooner than three real packets overtaking it would.
  for (auto it = sent_.begin(); it != sent_.end() && it->first <= largest_acked_;) {
    const SentPacket& p = it->second;
    const uint64_t overtaken_by =
        largest_acked_ - p.pn - skipped_in(skipped_, p.pn, largest_acked_);
    if (p.time_sent <= lost_send_time || overtaken_by >= kPacketThreshold) {
      forget(p);
      lost.push_back(p);
      it = sent_.erase(it);
    } else {
      loss_time_ = std::min(loss_time_, p.time_sent + loss_delay);
      ++it;
    }
  }
  return lost;
}

bool LossDetector::acked_between(uint64_t lo, uint64_t hi) const {
  if (lo > hi) return false;
  const auto& rs = acked_.ranges();
  auto it = std::lower_bound(rs.begin(), rs.end(), lo,
                             [](const Range& r, uint64_t v) { return r.hi < v; });
  return it != rs.end() && it->lo <= hi;
}

// RFC 9002 §7.6.2: two ack-eliciting packets, both sent after the first RTT sample, lost with
// nothing acknowledged between them, sent further apart than the persistent congestion
// duration. Only this space's acknowledgments are consulted (allowed by §7.6.2).
bool LossDetector::in_persistent_congestion(const std::vector<SentPacket>& lost,
                                            const RttEstimator& rtt, Duration max_ack_delay) const {
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

Instant LossDetector::pto_time(const RttEstimator& rtt, Duration max_ack_delay,
                               bool include_ack_delay, uint32_t pto_count) const {
  if (!has_ack_eliciting_in_flight() || time_of_last_ack_eliciting_ == kNever) return kNever;
  Duration d = pto_duration(rtt, max_ack_delay, include_ack_delay, pto_count);
  if (time_of_last_ack_eliciting_ > kNever - d) return kNever;
  return time_of_last_ack_eliciting_ + d;
}

std::vector<SentPacket> LossDetector::discard_all() {
  std::vector<SentPacket> out;
  out.reserve(sent_.size());
  for (auto& [pn, p] : sent_) out.push_back(p);
  sent_.clear();
  acked_.clear();
  bytes_in_flight_ = 0;
  ack_eliciting_in_flight_ = 0;
  loss_time_ = kNever;
  time_of_last_ack_eliciting_ = kNever;
  return out;
}

std::vector<SentPacket> LossDetector::oldest_unacked_ack_eliciting(size_t max_count) const {
  std::vector<SentPacket> out;
  for (auto it = sent_.begin(); it != sent_.end() && out.size() < max_count; ++it) {
    if (it->second.ack_eliciting) out.push_back(it->second);
  }
  return out;
}

}  // namespace quic

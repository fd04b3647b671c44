// The send side of one packet-number space: sent-packet record, acknowledgment processing,
// packet- and time-threshold loss detection and persistent congestion (RFC 9002 §6, §7.6,
// Appendix A). One instance per space: Initial, Handshake, and each path's 1-RTT space.
//
// The PTO count is connection-wide (RFC 9002 §6.2.1) and lives with the caller; pto.h has the
// arithmetic and pto_time() below gives this space's deadline.
//
// Each sent packet has ONE record (SentRecord): its recovery fields and the caller's `Frames`
// (what it carried), kept in a ring indexed by packet number (pn_ring.h). Acknowledged and lost
// packets are handed back with their frames; nothing per packet is allocated in steady state.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "common/range_set.h"
#include "common/time.h"
#include "recovery/pn_ring.h"
#include "recovery/rtt.h"
#include "recovery/sent_packet.h"

namespace quic {

// RFC 9002 §6.1.1 and §6.1.2 (the time threshold is 9/8 of an RTT).
inline constexpr uint64_t kPacketThreshold = 3;
inline constexpr int64_t kTimeThresholdNum = 9;
inline constexpr int64_t kTimeThresholdDen = 8;
// Packet numbers skipped against optimistic ACKs (RFC 9000 §21.4) that are remembered; older
// skips are forgotten. Only our own sending chooses these, so the bound is just hygiene.
inline constexpr size_t kMaxSkippedPacketNumbers = 32;
// Acknowledged ranges remembered for the persistent-congestion "nothing acked in between" test
// and for skipping what was acknowledged before when an ACK repeats it. They only span the
// packets awaiting a verdict (about one RTT), so this is never reached in practice; if it is,
// the oldest are forgotten, which can only over-declare congestion (and costs a longer walk).
inline constexpr size_t kMaxRememberedAckRanges = 1024;

// What does not depend on the record type: in-flight counters, thresholds, skipped packet
// numbers, the acknowledged ranges and persistent congestion.
class LossDetectorCore {
 public:
  // Earliest time-threshold deadline among packets below the largest acked, or kNever.
  Instant loss_time() const { return loss_time_; }
  // This space's PTO deadline: last ack-eliciting send + pto_duration(), kNever when nothing
  // ack-eliciting is in flight.
  Instant pto_time(const RttEstimator& rtt, Duration max_ack_delay, bool include_ack_delay,
                   uint32_t pto_count) const;

  uint64_t bytes_in_flight() const { return bytes_in_flight_; }
  bool has_ack_eliciting_in_flight() const { return ack_eliciting_in_flight_ > 0; }
  // kNever when no ack-eliciting packet was sent since construction or discard_all().
  Instant time_of_last_ack_eliciting() const { return time_of_last_ack_eliciting_; }

  // The connection will never send pn (optimistic-ACK defence, RFC 9000 §21.4); an ACK that
  // covers it sets AckResult::acked_unsent.
  void skip_packet_number(uint64_t pn);

  bool has_largest_acked() const { return has_largest_acked_; }
  uint64_t largest_acked() const { return largest_acked_; }
  bool has_sent() const { return has_sent_; }
  uint64_t largest_sent() const { return largest_sent_; }

 protected:
  // Counts a packet in (send times never go backwards: an earlier one is raised to the last).
  void note_sent(SentPacket& p);
  void forget(const SentPacket& p);
  // Checks the frame and updates the largest acked; false when there is nothing to walk
  // (no ranges, or acked_unsent set). valid_ranges_ receives the ranges to walk, descending.
  bool begin_ack(std::span<const Range> ranges_desc, AckResult& result);
  // The gaps of [lo, hi] not acknowledged before; f(pn_lo, pn_hi) for each, ascending.
  template <class F>
  void for_each_unacked_gap(uint64_t lo, uint64_t hi, F&& f) const;
  // RTT sample and thresholds after the acked list is complete; returns the estimate to judge
  // losses with.
  RttEstimator finish_ack(AckResult& result, Duration ack_delay, Instant now,
                          const RttEstimator& rtt, Duration max_ack_delay) const;
  Duration loss_delay(const RttEstimator& rtt) const;
  // Whether p is lost now: sent before lost_send_time, or kPacketThreshold real packets after
  // it were acknowledged.
  bool is_lost(const SentPacket& p, Instant lost_send_time) const;
  bool in_persistent_congestion(std::span<const SentPacket> lost, const RttEstimator& rtt,
                                Duration max_ack_delay) const;
  void trim_acked(bool empty, uint64_t oldest);
  void reset_counters();

  std::vector<Range> valid_ranges_;  // scratch for begin_ack
  RangeSet acked_;                 // acknowledged pns at or above the oldest tracked packet
  std::vector<uint64_t> skipped_;  // ascending
  uint64_t bytes_in_flight_ = 0;
  size_t ack_eliciting_in_flight_ = 0;
  Instant time_of_last_ack_eliciting_ = kNever;
  Instant last_time_sent_ = kNever;
  Instant loss_time_ = kNever;
  bool has_sent_ = false;
  uint64_t largest_sent_ = 0;
  bool has_largest_acked_ = false;
  uint64_t largest_acked_ = 0;

 private:
  bool covers_unsent(std::span<const Range> ranges_desc) const;
  bool acked_between(uint64_t lo, uint64_t hi) const;
};

template <class F>
void LossDetectorCore::for_each_unacked_gap(uint64_t lo, uint64_t hi, F&& f) const {
  const auto& rs = acked_.ranges();
  auto it = std::lower_bound(rs.begin(), rs.end(), lo,
                             [](const Range& r, uint64_t v) { return r.hi < v; });
  uint64_t pn = lo;
  while (pn <= hi) {
    if (it != rs.end() && it->lo <= pn) {  // pn lies in an acknowledged range: jump past it
      if (it->hi >= hi) return;
      pn = it->hi + 1;
      ++it;
      continue;
    }
    const uint64_t stop = it != rs.end() && it->lo <= hi ? it->lo - 1 : hi;
    f(pn, stop);
    if (stop == hi) return;
    pn = stop + 1;
  }
}

template <class Frames = NoFrames>
class LossDetector : public LossDetectorCore {
 public:
  using Record = SentRecord<Frames>;

  // Packet numbers must increase in small steps (single skips, RFC 9000 §21.4): the ring holds
  // a slot for every number from the oldest tracked packet to the newest. Ours are the only
  // numbers here, so no peer can widen it.
  void on_packet_sent(SentPacket packet, Frames frames = {}) {
    note_sent(packet);
    sent_.push(packet.pn, Record{packet, std::move(frames)});
  }

  // Processes one ACK frame. ranges_desc: descending, disjoint (as decoded by the wire layer);
  // a range out of that order is ignored. The work is O(ranges + packets acknowledged or lost
  // + gaps between earlier acknowledged ranges): a range is clamped to the tracked packets and
  // what an earlier ACK acknowledged is jumped over, so [0, 2^62-1] every packet is cheap.
  // `rtt` is the path's estimator before this ACK; the detector applies rtt_sample to a copy
  // for its own thresholds, and the caller applies it to the real one.
  // The outcome goes into `out` (cleared first): a caller that keeps one and reuses it
  // allocates nothing per ACK once its vectors have grown.
  void on_ack_received(std::span<const Range> ranges_desc, Duration ack_delay, Instant now,
                       const RttEstimator& rtt, Duration max_ack_delay, AckOutcome<Frames>& out) {
    out.clear();
    if (!begin_ack(ranges_desc, out)) return;
    // Ascending: the valid ranges from the oldest, each walked from its low end.
    for (auto r = valid_ranges_.rbegin(); r != valid_ranges_.rend(); ++r) {
      if (!sent_.empty() && r->hi >= sent_.first() && r->lo < sent_.end()) {
        const uint64_t lo = std::max(r->lo, sent_.first()), hi = std::min(r->hi, sent_.end() - 1);
        for_each_unacked_gap(lo, hi, [&](uint64_t a, uint64_t b) {
          for (uint64_t pn = a; pn <= b; ++pn) {
            if (sent_.find(pn) == nullptr) continue;
            Record rec = sent_.take(pn);
            forget(rec.packet);
            out.acked.push_back(rec.packet);
            out.acked_frames.push_back(std::move(rec.frames));
          }
        });
      }
      if (acked_.range_count() < kMaxRememberedAckRanges) acked_.insert(r->lo, r->hi);
    }
    if (out.acked.empty()) return;  // RFC 9002 §A.7: nothing newly acked
    const RttEstimator estimate = finish_ack(out, ack_delay, now, rtt, max_ack_delay);
    remove_lost(now, estimate, out.lost, out.lost_frames);
    out.persistent_congestion = in_persistent_congestion(out.lost, estimate, max_ack_delay);
    trim_acked(sent_.empty(), sent_.empty() ? 0 : sent_.first());
  }
  AckOutcome<Frames> on_ack_received(std::span<const Range> ranges_desc, Duration ack_delay,
                                     Instant now, const RttEstimator& rtt,
                                     Duration max_ack_delay) {
    AckOutcome<Frames> out;
    on_ack_received(ranges_desc, ack_delay, now, rtt, max_ack_delay, out);
    return out;
  }

  // On expiry of loss_time(): the packets the time threshold now declares lost.
  LostPackets<Frames> detect_lost(Instant now, const RttEstimator& rtt) {
    LostPackets<Frames> out;
    remove_lost(now, rtt, out.packets, out.frames);
    return out;
  }

  // Key discard (Initial/Handshake) or path abandon: forgets and returns every tracked packet
  // so the caller can remove them from the congestion controller or requeue their frames.
  std::vector<Record> discard_all() {
    std::vector<Record> out;
    out.reserve(sent_.size());
    sent_.for_each([&](uint64_t, Record& r) {
      out.push_back(std::move(r));
      return true;
    });
    sent_.clear();
    reset_counters();
    return out;
  }

  // For PTO probes and re-injection: f(Record&) for up to max_count of the oldest
  // unacknowledged ack-eliciting packets, oldest first (they stay tracked).
  template <class F>
  void for_each_unacked_ack_eliciting(size_t max_count, F&& f) {
    size_t n = 0;
    sent_.for_each([&](uint64_t, Record& r) {
      if (!r.packet.ack_eliciting) return true;
      f(r);
      return ++n < max_count;
    });
  }

  size_t tracked_packets() const { return sent_.size(); }

 private:
  // Only packets at or below the largest acked can be lost. Send times never go backwards,
  // so once one of them is not lost, none after it is (fewer packets overtook it, and it was
  // sent later): the walk costs the packets it judges plus one.
  void remove_lost(Instant now, const RttEstimator& rtt, std::vector<SentPacket>& lost,
                   std::vector<Frames>& lost_frames) {
    loss_time_ = kNever;
    if (!has_largest_acked_) return;
    const Duration delay = loss_delay(rtt);
    const Instant lost_send_time = now - delay;
    while (!sent_.empty() && sent_.first() <= largest_acked_) {
      const uint64_t pn = sent_.first();
      const SentPacket& p = sent_.find(pn)->packet;
      if (!is_lost(p, lost_send_time)) {
        loss_time_ = p.time_sent + delay;
        return;
      }
      Record rec = sent_.take(pn);
      forget(rec.packet);
      lost.push_back(rec.packet);
      lost_frames.push_back(std::move(rec.frames));
    }
  }

  PnRing<Record> sent_;
};

}  // namespace quic

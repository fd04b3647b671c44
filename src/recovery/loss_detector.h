// The send side of one packet-number space: sent-packet record, acknowledgment processing,
// packet- and time-threshold loss detection and persistent congestion (RFC 9002 §6, §7.6,
// Appendix A). One instance per space: Initial, Handshake, and each path's 1-RTT space.
//
// The PTO count is connection-wide (RFC 9002 §6.2.1) and lives with the caller; pto.h has the
// arithmetic and pto_time() below gives this space's deadline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "common/range_set.h"
#include "common/time.h"
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
// Acknowledged ranges remembered for the persistent-congestion "nothing acked in between" test.
// They only span the packets awaiting a loss verdict (about one RTT), so this is never reached
// in practice; if it is, the oldest are forgotten, which can only over-declare congestion.
inline constexpr size_t kMaxRememberedAckRanges = 1024;

class LossDetector {
 public:
  // Packet numbers must increase (skips allowed).
  void on_packet_sent(const SentPacket& packet);

  // Processes one ACK frame. ranges_desc: descending, disjoint (as decoded by the wire layer);
  // a range out of that order is ignored. The work is O(ranges * log(packets) + packets
  // acknowledged or lost): a range is never walked number by number, so [0, 2^62-1] is cheap.
  // `rtt` is the path's estimator before this ACK; the detector applies rtt_sample to a copy
  // for its own thresholds, and the caller applies it to the real one.
  AckResult on_ack_received(std::span<const Range> ranges_desc, Duration ack_delay, Instant now,
                            const RttEstimator& rtt, Duration max_ack_delay);

  // On expiry of loss_time(): the packets the time threshold now declares lost.
  std::vector<SentPacket> detect_lost(Instant now, const RttEstimator& rtt);
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

  // Key discard (Initial/Handshake) or path abandon: forgets and returns every tracked packet
  // so the caller can remove them from the congestion controller or requeue their frames.
  std::vector<SentPacket> discard_all();

  // For PTO probes: up to max_count of the oldest unacknowledged ack-eliciting packets.
  std::vector<SentPacket> oldest_unacked_ack_eliciting(size_t max_count) const;

  // The connection will never send pn (optimistic-ACK defence, RFC 9000 §21.4); an ACK that
  // covers it sets AckResult::acked_unsent.
  void skip_packet_number(uint64_t pn);

  bool has_largest_acked() const { return has_largest_acked_; }
  uint64_t largest_acked() const { return largest_acked_; }
  bool has_sent() const { return has_sent_; }
  uint64_t largest_sent() const { return largest_sent_; }
  size_t tracked_packets() const { return sent_.size(); }

 private:
  bool covers_unsent(std::span<const Range> ranges_desc) const;
  std::vector<SentPacket> detect_and_remove_lost(Instant now, const RttEstimator& rtt);
  bool in_persistent_congestion(const std::vector<SentPacket>& lost, const RttEstimator& rtt,
                                Duration max_ack_delay) const;
  bool acked_between(uint64_t lo, uint64_t hi) const;
  void forget(const SentPacket& p);

  std::map<uint64_t, SentPacket> sent_;
  RangeSet acked_;                 // acknowledged pns at or above the oldest tracked packet
  std::vector<uint64_t> skipped_;  // ascending
  uint64_t bytes_in_flight_ = 0;
  size_t ack_eliciting_in_flight_ = 0;
  Instant time_of_last_ack_eliciting_ = kNever;
  Instant loss_time_ = kNever;
  bool has_sent_ = false;
  uint64_t largest_sent_ = 0;
  bool has_largest_acked_ = false;
  uint64_t largest_acked_ = 0;
};

}  // namespace quic

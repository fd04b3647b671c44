// RTT estimation for one network path (RFC 9002 §5). Packets sent on other paths never feed
// this estimator (RFC 9000 §9.4): every path owns one.
#pragma once

#include "common/time.h"

namespace quic {

// RFC 9002 §6.1.2: timer granularity, also the floor of the variance term of the PTO.
inline constexpr Duration kGranularity = 1ms;
// RFC 9002 §6.2.2: used until the first sample (a PTO of about one second).
inline constexpr Duration kInitialRtt = 333ms;

class RttEstimator {
 public:
  explicit RttEstimator(Duration initial_rtt = kInitialRtt) { reset(initial_rtt); }

  // One RTT sample (RFC 9002 §5.1: taken only when the largest acknowledged packet is newly
  // acknowledged and something ack-eliciting was newly acknowledged; the caller checks that).
  // ack_delay is the peer-reported delay, already decoded with its ack_delay_exponent.
  void update(Duration latest, Duration ack_delay, bool handshake_confirmed, Duration max_ack_delay,
              Instant now);

  // Before the first sample, smoothed/min/latest all report the initial RTT.
  Duration smoothed() const { return smoothed_; }
  Duration rttvar() const { return rttvar_; }
  Duration min_rtt() const { return min_rtt_; }
  Duration latest() const { return latest_; }
  bool has_sample() const { return first_sample_time_ != kNever; }
  // When the first sample was taken, kNever before. Persistent congestion only counts packets
  // sent after it (RFC 9002 §7.6.2).
  Instant first_sample_time() const { return first_sample_time_; }

  // smoothed + max(4*rttvar, kGranularity): the PTO period without max_ack_delay (§6.2.1).
  Duration pto_base() const;

  // RFC 9002 §5.2: after persistent congestion min_rtt restarts from the newest sample, so a
  // path whose RTT grew does not keep declaring persistent congestion.
  void on_persistent_congestion() { min_rtt_ = latest_; }

  // New path or migration (RFC 9000 §9.4): forget all history.
  void reset(Duration initial_rtt);

 private:
  Duration smoothed_{};
  Duration rttvar_{};
  Duration min_rtt_{};
  Duration latest_{};
  Instant first_sample_time_ = kNever;
};

}  // namespace quic

// HyStart++ (RFC 9406): leaves slow start when the round's minimum RTT rises (queues are
// building) instead of waiting for a loss, through a Conservative Slow Start (CSS) phase that
// grows at a quarter of the rate and returns to slow start if the RTT rise was spurious.
#pragma once

#include <cstdint>

#include "common/time.h"

namespace quic {

// RFC 9406 §4.3 constants.
inline constexpr Duration kHystartMinRttThresh = 4ms;
inline constexpr Duration kHystartMaxRttThresh = 16ms;
inline constexpr int64_t kHystartMinRttDivisor = 8;
inline constexpr uint32_t kHystartRttSamples = 8;
inline constexpr uint64_t kHystartCssGrowthDivisor = 4;
inline constexpr uint32_t kHystartCssRounds = 5;

class HystartPlusPlus {
 public:
  enum class Phase { kSlowStart, kConservative, kDone };

  void on_packet_sent(uint64_t pn);
  // Once per ACK event while in slow start, before growing the window. Returns the divisor for
  // this ACK's growth (1 in slow start, kHystartCssGrowthDivisor in CSS).
  uint64_t on_ack(uint64_t largest_acked_pn, Duration latest_rtt);
  // CSS ran its rounds without the RTT dropping back: the caller enters congestion avoidance.
  bool should_exit_slow_start() const { return phase_ == Phase::kDone; }
  Phase phase() const { return phase_; }
  // Loss or ECN-CE ends slow start the ordinary way; a new slow start (persistent congestion,
  // reset) starts over.
  void reset();

 private:
  Phase phase_ = Phase::kSlowStart;
  bool round_open_ = false;
  uint64_t window_end_ = 0;  // the round ends when this pn is acknowledged
  Duration last_round_min_rtt_ = Duration::max();
  Duration current_round_min_rtt_ = Duration::max();
  uint32_t rtt_sample_count_ = 0;
  Duration css_baseline_min_rtt_ = Duration::max();
  uint32_t css_rounds_ = 0;
};

}  // namespace quic

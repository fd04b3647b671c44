#include "cc/hystart.h"

#include <algorithm>

namespace quic {

void HystartPlusPlus::reset() {
  *this = HystartPlusPlus{};
}

void HystartPlusPlus::on_packet_sent(uint64_t pn) {
  if (!round_open_) {  // §4.2: a round starts with the next packet sent
    round_open_ = true;
    window_end_ = pn;
    last_round_min_rtt_ = current_round_min_rtt_;
    current_round_min_rtt_ = Duration::max();
    rtt_sample_count_ = 0;
  }
}

uint64_t HystartPlusPlus::on_ack(uint64_t largest_acked_pn, Duration latest_rtt) {
  if (phase_ == Phase::kDone) return 1;
  current_round_min_rtt_ = std::min(current_round_min_rtt_, latest_rtt);
  ++rtt_sample_count_;
  const bool enough = rtt_sample_count_ >= kHystartRttSamples &&
                      current_round_min_rtt_ != Duration::max() &&
                      last_round_min_rtt_ != Duration::max();
  if (phase_ == Phase::kSlowStart && enough) {
    Duration thresh = std::clamp(last_round_min_rtt_ / kHystartMinRttDivisor, kHystartMinRttThresh,
                                 kHystartMaxRttThresh);
    if (current_round_min_rtt_ >= last_round_min_rtt_ + thresh) {
      phase_ = Phase::kConservative;
      css_baseline_min_rtt_ = current_round_min_rtt_;
      css_rounds_ = 0;
    }
  } else if (phase_ == Phase::kConservative && rtt_sample_count_ >= kHystartRttSamples &&
             current_round_min_rtt_ < css_baseline_min_rtt_) {
    // §4.2: the RTT increase was spurious, resume slow start.
    phase_ = Phase::kSlowStart;
    css_baseline_min_rtt_ = Duration::max();
  }
  uint64_t divisor = phase_ == Phase::kConservative ? kHystartCssGrowthDivisor : 1;
  if (round_open_ && largest_acked_pn >= window_end_) {  // the round ended
    round_open_ = false;
    if (phase_ == Phase::kConservative && ++css_rounds_ >= kHystartCssRounds) {
      phase_ = Phase::kDone;
    }
  }
  return divisor;
}

}  // namespace quic

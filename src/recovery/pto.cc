#include "recovery/pto.h"

#include <algorithm>

namespace quic {

Duration pto_duration(const RttEstimator& rtt, Duration max_ack_delay, bool include_ack_delay,
                      uint32_t pto_count) {
  Duration base = rtt.pto_base();
  if (include_ack_delay) base += std::max(max_ack_delay, Duration::zero());
  base = std::max(base, kGranularity);  // §6.2.1: never expire immediately
  uint32_t shift = std::min(pto_count, kMaxPtoBackoffShift);
  // Saturate instead of overflowing when a (peer-influenced) base is already enormous.
  if (base > Duration::max() / (int64_t{1} << shift)) return Duration::max();
  return base * (int64_t{1} << shift);
}

Duration persistent_congestion_duration(const RttEstimator& rtt, Duration max_ack_delay) {
  return (rtt.pto_base() + std::max(max_ack_delay, Duration::zero())) *
         kPersistentCongestionThreshold;
}

}  // namespace quic

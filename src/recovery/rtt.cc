#include "recovery/rtt.h"

#include <algorithm>

namespace quic {

void RttEstimator::reset(Duration initial_rtt) {
  if (initial_rtt <= Duration::zero()) initial_rtt = kInitialRtt;
  smoothed_ = initial_rtt;
  rttvar_ = initial_rtt / 2;
  min_rtt_ = initial_rtt;
  latest_ = initial_rtt;
  first_sample_time_ = kNever;
}

void RttEstimator::update(Duration latest, Duration ack_delay, bool handshake_confirmed,
                          Duration max_ack_delay, Instant now) {
  // A clock that went backwards or a packet "acked" in the same instant it was sent must not
  // produce a zero or negative RTT that later divides a window.
  latest = std::max(latest, Duration(1));
  ack_delay = std::max(ack_delay, Duration::zero());
  latest_ = latest;
  if (!has_sample()) {  // §5.3: the first sample replaces the initial values entirely.
    min_rtt_ = latest;
    smoothed_ = latest;
    rttvar_ = latest / 2;
    first_sample_time_ = now;
    return;
  }
  // §5.2: min_rtt uses only locally observed time, never the peer's reported delay.
  min_rtt_ = std::min(min_rtt_, latest);
  // §5.3: the peer may legitimately exceed max_ack_delay during the handshake.
  if (handshake_confirmed) ack_delay = std::min(ack_delay, max_ack_delay);
  // Written as a subtraction: ack_delay is peer-controlled and min_rtt_ + ack_delay could
  // overflow. latest >= min_rtt_ holds after the min above.
  Duration adjusted = latest;
  if (ack_delay <= latest - min_rtt_) adjusted = latest - ack_delay;
  // Variance against the previous smoothed value, as RFC 6298 and RFC 9002 Appendix A.7 do.
  Duration deviation = smoothed_ > adjusted ? smoothed_ - adjusted : adjusted - smoothed_;
  rttvar_ = (3 * rttvar_ + deviation) / 4;
  smoothed_ = (7 * smoothed_ + adjusted) / 8;
}

Duration RttEstimator::pto_base() const {
  return smoothed_ + std::max(4 * rttvar_, kGranularity);
}

}  // namespace quic

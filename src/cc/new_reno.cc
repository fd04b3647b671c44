#include "cc/new_reno.h"

#include <algorithm>

namespace quic {

void NewReno::grow_in_avoidance(Instant, const SentPacket& packet, const RttEstimator&) {
  // §7.3.3: at most one maximum datagram per congestion window acknowledged. Counting bytes
  // instead of computing mds*bytes/cwnd keeps integer division from rounding growth away.
  bytes_acked_ += packet.bytes;
  if (bytes_acked_ >= cwnd_) {
    bytes_acked_ -= cwnd_;
    set_cwnd(cwnd_ + mds_);
  }
}

void NewReno::reduce_window(Instant) {
  ssthresh_ = static_cast<uint64_t>(static_cast<double>(cwnd_) * kLossReductionFactor);
  cwnd_ = std::max(ssthresh_, minimum_window(mds_));
  bytes_acked_ = 0;
}

}  // namespace quic

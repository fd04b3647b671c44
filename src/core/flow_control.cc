#include "core/flow_control.h"

#include <algorithm>

namespace quic {

bool SendCredit::raise(uint64_t limit) {
  if (limit <= limit_) return false;
  limit_ = limit;
  return true;
}

std::optional<uint64_t> SendCredit::on_blocked() {
  if (used_ < limit_ || reported_ == limit_) return std::nullopt;
  reported_ = limit_;
  return limit_;
}

std::optional<uint64_t> ReceiveWindow::poll_update(Instant now, Duration rtt) {
  if (!should_update()) return std::nullopt;
  // quinn / google quiche heuristic: consuming a whole window advertisement in under two RTTs
  // means the peer was (or soon will be) blocked on us rather than on its congestion window.
  if (last_update_ && rtt > Duration::zero() && now - *last_update_ < 2 * rtt &&
      window_ < max_window_) {
    window_ = std::min(window_ * 2, max_window_);
  }
  last_update_ = now;
  limit_ = std::max(limit_, consumed_ + window_);
  return limit_;
}

}  // namespace quic

// Credit-based flow control (RFC 9000 §4.1–4.2), used once per connection and once per
// stream direction. SendCredit tracks the limit the peer granted us; ReceiveWindow the limit
// we grant the peer, with receive-window auto-tuning.
#pragma once

#include <cstdint>
#include <optional>

#include "common/time.h"

namespace quic {

// Auto-tuning stops growing a window at these sizes (twice quinn's and google quiche's: a
// multipath connection over a 100 Mbit/s link and a 600 ms satellite link needs ~30 MB to ride
// out head-of-line blocking behind the slow path; windows only grow while the application
// reads as fast as data comes, so a peer cannot inflate them on its own).
inline constexpr uint64_t kMaxStreamWindow = uint64_t{32} << 20;
inline constexpr uint64_t kMaxConnectionWindow = uint64_t{48} << 20;

class SendCredit {
 public:
  explicit SendCredit(uint64_t limit = 0) : limit_(limit) {}

  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_; }
  uint64_t available() const { return limit_ > used_ ? limit_ - used_ : 0; }

  // MAX_DATA / MAX_STREAM_DATA: limits only grow (RFC 9000 §4.1, smaller values are
  // ignored). Returns true when the limit increased.
  bool raise(uint64_t limit);
  // New bytes were sent (retransmissions are not charged again).
  void consume(uint64_t n) { used_ += n; }
  // The sender has data it cannot send because the credit is exhausted: returns the limit to
  // put into DATA_BLOCKED / STREAM_DATA_BLOCKED the first time for each limit, else nullopt.
  std::optional<uint64_t> on_blocked();
  // The latest BLOCKED report is still current (worth retransmitting when lost).
  bool blocked_at(uint64_t limit) const { return limit == limit_ && used_ >= limit_; }

 private:
  uint64_t limit_;
  uint64_t used_ = 0;
  std::optional<uint64_t> reported_;
};

class ReceiveWindow {
 public:
  // window: the initial credit (the transport parameter); max_window: the auto-tuning cap.
  ReceiveWindow(uint64_t window, uint64_t max_window)
      : window_(window), max_window_(max_window < window ? window : max_window), limit_(window) {}

  uint64_t limit() const { return limit_; }  // the largest offset the peer may send
  uint64_t window() const { return window_; }
  uint64_t consumed() const { return consumed_; }

  // The application consumed more bytes (read or discarded); consumed never shrinks.
  void on_consumed(uint64_t total_consumed) {
    if (total_consumed > consumed_) consumed_ = total_consumed;
  }
  // True once more than half the window has been consumed since the last advertisement.
  bool should_update() const { return should_update_at(consumed_); }
  bool should_update_at(uint64_t consumed) const {
    return consumed > limit_ || limit_ - consumed < window_ - window_ / 2;
  }
  // Returns the new limit to advertise (MAX_DATA / MAX_STREAM_DATA) when should_update().
  // Auto-tuning: if the previous advertisement was used up within two round trips the
  // window is what limits throughput, so it doubles (up to max_window).
  std::optional<uint64_t> poll_update(Instant now, Duration rtt);

 private:
  uint64_t window_;
  uint64_t max_window_;
  uint64_t limit_;
  uint64_t consumed_ = 0;
  std::optional<Instant> last_update_;
};

}  // namespace quic

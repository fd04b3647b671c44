#include "tquicd/reconnect.h"

#include <algorithm>

namespace bond {

quic::Duration reconnect_delay(uint64_t attempt, double unit) {
  if (attempt <= 1) return quic::Duration{0};
  // 1 s << 5 already passes the 30 s cap: larger shifts are never computed (no overflow).
  uint64_t doublings = std::min<uint64_t>(attempt - 2, 5);
  quic::Duration base = std::min(kReconnectFirstDelay * (int64_t{1} << doublings),
                                 kReconnectMaxDelay);
  double u = std::clamp(unit, 0.0, 1.0);
  auto cut = std::chrono::duration_cast<quic::Duration>(base * (kReconnectJitter * u));
  return base - cut;
}

bool definitive_refusal(int http_status) {
  return http_status >= 400 && http_status < 500 && http_status != 408 && http_status != 429;
}

std::optional<quic::Duration> ReconnectSchedule::on_connected(quic::Instant now) {
  up_since_ = now;
  waiting_ = false;
  attempt_ = 0;
  if (!down_since_) return std::nullopt;
  quic::Duration down = now - *down_since_;
  down_since_.reset();
  ++reconnects_;
  last_downtime_ = down;
  return down;
}

void ReconnectSchedule::on_disconnected(quic::Instant now, std::string reason) {
  // A connection that held long enough proves the server is back for good: start over.
  if (up_since_ && now - *up_since_ > kReconnectStableAfter) failures_ = 0;
  up_since_.reset();
  down_since_ = now;
  reason_ = std::move(reason);
  if (reason_.size() > kMaxReconnectReason) reason_.resize(kMaxReconnectReason);
  ++disconnects_;
  attempt_ = 1;
  schedule(now);
}

void ReconnectSchedule::on_attempt_failed(quic::Instant now) {
  ++failures_;
  ++attempt_;
  schedule(now);
}

void ReconnectSchedule::schedule(quic::Instant now) {
  double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  next_ = now + reconnect_delay(failures_ + 1, unit);
  waiting_ = true;
}

}  // namespace bond

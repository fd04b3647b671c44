#include "cc/window_controller.h"

#include <algorithm>

namespace quic {

namespace {
// Bytes of slack below the window still counted as "using the window": a sender rarely fills
// it to the byte because packets are not infinitely divisible (as google/quiche does).
constexpr uint64_t kCwndLimitedSlackPackets = 3;
// RFC 9002 §7.7: N > 1 so RTT variation does not leave the window unused. Slow start paces
// faster so the window can still double each round trip.
constexpr double kPacingGainSlowStart = 2.0;
constexpr double kPacingGainAvoidance = 1.25;
}  // namespace

WindowController::WindowController(uint32_t max_datagram_size)
    : mds_(std::max(max_datagram_size, kMinMaxDatagramSize)), cwnd_(initial_window(mds_)) {}

void WindowController::set_cwnd(uint64_t w) {
  cwnd_ = std::clamp(w, minimum_window(mds_), kMaxCongestionWindow);
}

void WindowController::on_packet_sent(Instant, uint64_t pn, uint32_t, uint64_t bytes_in_flight) {
  max_in_flight_ = std::max(max_in_flight_, bytes_in_flight);
  if (hystart_enabled_) hystart_.on_packet_sent(pn);
}

bool WindowController::cwnd_limited(uint64_t prior_in_flight) const {
  uint64_t used = std::max(max_in_flight_, prior_in_flight);
  if (in_slow_start() && used * 2 >= cwnd_) return true;
  return used + kCwndLimitedSlackPackets * mds_ >= cwnd_;
}

void WindowController::on_packets_acked(Instant now, std::span<const SentPacket> acked,
                                        const RttEstimator& rtt, uint64_t bytes_in_flight) {
  uint64_t acked_in_flight = 0;
  for (const SentPacket& p : acked) {
    if (p.in_flight) acked_in_flight += p.bytes;
  }
  const bool limited = cwnd_limited(bytes_in_flight + acked_in_flight);
  max_in_flight_ = bytes_in_flight;
  if (!limited) {
    // RFC 9002 §7.8: a window the sender does not fill says nothing about the path.
    app_limited_ = true;
    on_app_limited_ack(now);
  } else if (app_limited_) {
    app_limited_ = false;
    on_app_limited_end(now);
  }
  // RFC 9406 §4.2: one RTT sample per ACK; in CSS slow start grows at a quarter rate.
  uint64_t ss_divisor = 1;
  if (hystart_enabled_ && limited && in_slow_start() && !acked.empty()) {
    uint64_t largest = 0;
    for (const SentPacket& p : acked) largest = std::max(largest, p.pn);
    ss_divisor = hystart_.on_ack(largest, rtt.latest());
  }
  for (const SentPacket& p : acked) {
    if (!p.in_flight) continue;
    if (in_congestion_recovery(p.time_sent)) continue;  // §7.3.2: no growth during recovery
    if (recovery_start_) recovery_exited_ = true;       // a packet sent after recovery began
    if (!limited) continue;
    if (in_slow_start()) {
      set_cwnd(cwnd_ + p.bytes / ss_divisor);  // §7.3.1
    } else {
      grow_in_avoidance(now, p, rtt);
    }
  }
  if (hystart_enabled_ && in_slow_start() && hystart_.should_exit_slow_start()) {
    ssthresh_ = cwnd_;  // RFC 9406 §4.2: CSS rounds done, continue in congestion avoidance
  }
}

void WindowController::on_congestion_event(Instant now, Instant sent_time,
                                           CongestionEvent::Kind kind) {
  if (in_congestion_recovery(sent_time)) return;  // at most one reduction per round trip
  uint64_t before = cwnd_;
  recovery_start_ = now;
  recovery_exited_ = false;
  reduce_window(now);
  last_event_ = CongestionEvent{kind, now, before, cwnd_};
}

void WindowController::on_packets_lost(Instant now, std::span<const SentPacket> lost,
                                       bool persistent_congestion, uint64_t) {
  std::optional<Instant> last_loss;
  for (const SentPacket& p : lost) {
    // RFC 9000 §14.4: a lost PMTU probe is not a congestion signal.
    if (!p.in_flight || p.is_mtu_probe) continue;
    last_loss = last_loss ? std::max(*last_loss, p.time_sent) : p.time_sent;
  }
  if (!last_loss) return;
  on_congestion_event(now, *last_loss, CongestionEvent::Kind::kLoss);
  if (persistent_congestion) {  // §7.6.2: back to the minimum window, out of recovery
    uint64_t before = last_event_ ? last_event_->cwnd_before : cwnd_;
    cwnd_ = minimum_window(mds_);
    recovery_start_.reset();
    recovery_exited_ = false;
    hystart_.reset();  // a new slow start
    on_window_collapsed();
    last_event_ = CongestionEvent{CongestionEvent::Kind::kPersistentCongestion, now, before, cwnd_};
  }
}

void WindowController::on_ecn_ce(Instant now, Instant sent_time_of_largest) {
  on_congestion_event(now, sent_time_of_largest, CongestionEvent::Kind::kEcnCe);
}

void WindowController::on_mtu_changed(uint32_t mtu) {
  mtu = std::max(mtu, kMinMaxDatagramSize);
  // §7.2: a window that never moved is recomputed from the new size.
  bool pristine = !last_event_ && ssthresh_ == UINT64_MAX && cwnd_ == initial_window(mds_);
  mds_ = mtu;
  if (pristine) {
    cwnd_ = initial_window(mds_);
  } else {
    set_cwnd(cwnd_);
  }
}

uint64_t WindowController::pacing_rate_bps(const RttEstimator& rtt) const {
  // §7.7: rate = N * cwnd / smoothed_rtt.
  double srtt_ns = static_cast<double>(std::max(rtt.smoothed(), Duration(1us)).count());
  double gain = in_slow_start() ? kPacingGainSlowStart : kPacingGainAvoidance;
  double bps = gain * static_cast<double>(cwnd_) * 8.0 * 1e9 / srtt_ns;
  constexpr double kMaxRate = 1e15;  // a petabit: keeps the conversion defined
  return static_cast<uint64_t>(std::min(bps, kMaxRate));
}

void WindowController::reset() {
  cwnd_ = initial_window(mds_);
  ssthresh_ = UINT64_MAX;
  recovery_start_.reset();
  recovery_exited_ = false;
  max_in_flight_ = 0;
  app_limited_ = false;
  last_event_.reset();
  hystart_.reset();
  on_window_collapsed();
}

}  // namespace quic

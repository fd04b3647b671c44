// CUBIC (RFC 9438): the window follows W_cubic(t) = C*(t-K)^3 + W_max after a congestion
// event, never below the Reno-friendly estimate W_est. Slow start, recovery periods and the
// persistent-congestion response are RFC 9002's (shared with NewReno); slow start uses
// HyStart++ (RFC 9406) to leave before the queue overflows.
#pragma once

#include "cc/window_controller.h"

namespace quic {

// RFC 9438 §5.
inline constexpr double kCubicBeta = 0.7;
inline constexpr double kCubicC = 0.4;

// RFC 9438 §4.2, in units of segments and seconds: K = cbrt((W_max - cwnd_epoch) / C).
double cubic_k_seconds(double w_max_segments, double cwnd_epoch_segments);
// RFC 9438 §4.2 (Figure 1): W_cubic(t) = C*(t-K)^3 + W_max.
double cubic_window_segments(double t_seconds, double k_seconds, double w_max_segments);

class Cubic final : public WindowController {
 public:
  explicit Cubic(uint32_t max_datagram_size) : WindowController(max_datagram_size) {
    hystart_enabled_ = true;
  }
  const char* name() const override { return "cubic"; }

  // Exposed for tests and stats, in bytes.
  double w_max() const { return w_max_; }
  double w_est() const { return w_est_; }
  double k_seconds() const { return k_; }

 protected:
  void grow_in_avoidance(Instant now, const SentPacket& packet, const RttEstimator& rtt) override;
  void reduce_window(Instant now) override;
  void on_window_collapsed() override;
  void on_app_limited_ack(Instant now) override;
  void on_app_limited_end(Instant now) override;

 private:
  void start_epoch(Instant now);

  double w_max_ = 0;        // window before the last reduction (after fast convergence)
  double cwnd_prior_ = 0;   // window just before the last reduction
  double w_est_ = 0;        // Reno-friendly estimate (§4.3)
  double k_ = 0;            // seconds
  double growth_frac_ = 0;  // fractional bytes of growth not yet applied
  Instant epoch_start_ = kNever;
  Instant app_limited_since_ = kNever;
};

}  // namespace quic

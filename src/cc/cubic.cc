#include "cc/cubic.h"

#include <algorithm>
#include <cmath>

namespace quic {

namespace {
// RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta) makes W_est grow at the average
// rate of Reno with beta 0.5.
constexpr double kAlphaCubic = 3.0 * (1.0 - kCubicBeta) / (1.0 + kCubicBeta);

}  // namespace

double cubic_k_seconds(double w_max_segments, double cwnd_epoch_segments) {
  if (w_max_segments <= cwnd_epoch_segments) return 0.0;
  return std::cbrt((w_max_segments - cwnd_epoch_segments) / kCubicC);
}

double cubic_window_segments(double t_seconds, double k_seconds, double w_max_segments) {
  double d = t_seconds - k_seconds;
  return kCubicC * d * d * d + w_max_segments;
}

void Cubic::start_epoch(Instant now) {
  epoch_start_ = now;
  app_limited_since_ = kNever;
  growth_frac_ = 0;
  double cwnd = static_cast<double>(cwnd_);
  // §4.2: an epoch that starts above W_max (e.g. after slow start ended without a loss, or
  // after a collapse) just probes upwards from here.
  if (w_max_ < cwnd) w_max_ = cwnd;
  k_ = cubic_k_seconds(w_max_ / mds_, cwnd / mds_);
  w_est_ = cwnd;
  if (cwnd_prior_ <= 0) cwnd_prior_ = w_max_;
}

void Cubic::grow_in_avoidance(Instant now, const SentPacket& packet, const RttEstimator& rtt) {
  if (epoch_start_ == kNever) start_epoch(now);
  const double mds = mds_;
  const double cwnd = static_cast<double>(cwnd_);
  const double t = to_seconds(now - epoch_start_);
  const double w_max_seg = w_max_ / mds;

  // §4.3: W_est grows like Reno, with alpha 1 once it passed the window before the reduction.
  double alpha = w_est_ >= cwnd_prior_ ? 1.0 : kAlphaCubic;
  w_est_ += alpha * mds * packet.bytes / cwnd;

  double w_cubic_now = cubic_window_segments(t, k_, w_max_seg) * mds;
  if (w_cubic_now < w_est_) {  // §4.3 Reno-friendly region
    set_cwnd(static_cast<uint64_t>(std::max(w_est_, cwnd)));
    return;
  }
  // §4.4, §4.5: aim at the window one RTT ahead, clamped to [cwnd, 1.5 cwnd].
  double target = cubic_window_segments(t + to_seconds(rtt.smoothed()), k_, w_max_seg) * mds;
  target = std::clamp(target, cwnd, 1.5 * cwnd);
  growth_frac_ += (target - cwnd) * packet.bytes / cwnd;
  if (growth_frac_ >= 1.0) {
    double whole = std::floor(growth_frac_);
    growth_frac_ -= whole;
    set_cwnd(cwnd_ + static_cast<uint64_t>(whole));
  }
}

void Cubic::reduce_window(Instant) {
  double cwnd = static_cast<double>(cwnd_);
  cwnd_prior_ = cwnd;
  // §4.7 fast convergence: a flow losing before regaining its previous maximum releases
  // bandwidth to newcomers by remembering a lower W_max.
  if (cwnd < w_max_) {
    w_max_ = cwnd * (1.0 + kCubicBeta) / 2.0;
  } else {
    w_max_ = cwnd;
  }
  // §4.6: multiplicative decrease by beta, never below the minimum window (RFC 9002 §7.2).
  ssthresh_ = std::max(static_cast<uint64_t>(cwnd * kCubicBeta), minimum_window(mds_));
  cwnd_ = ssthresh_;
  epoch_start_ = kNever;
}

void Cubic::on_window_collapsed() {
  // Persistent congestion or reset: the next avoidance phase starts a fresh epoch from the
  // remembered W_max (RFC 9438 §4.8 follows RFC 5681's timeout response).
  epoch_start_ = kNever;
  app_limited_since_ = kNever;
  growth_frac_ = 0;
  if (ssthresh_ == UINT64_MAX) {  // full reset
    w_max_ = 0;
    cwnd_prior_ = 0;
    w_est_ = 0;
    k_ = 0;
  }
}

void Cubic::on_app_limited_ack(Instant now) {
  if (epoch_start_ != kNever && app_limited_since_ == kNever) app_limited_since_ = now;
}

void Cubic::on_app_limited_end(Instant now) {
  // RFC 9438 §5.8: time spent not using the window must not count as growth time, or the
  // window would jump to W_cubic(t) after an idle stretch.
  if (epoch_start_ != kNever && app_limited_since_ != kNever && now > app_limited_since_) {
    epoch_start_ += now - app_limited_since_;
  }
  app_limited_since_ = kNever;
}

}  // namespace quic

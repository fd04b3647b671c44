#include "cc/coupled_controller.h"

#include <algorithm>
#include <cmath>

#include "cc/new_reno.h"

namespace quic {

namespace {

// Bounds on the gain: the formulas stay within them for any real windows; the clamp only keeps
// rounding or a degenerate member (a zero window) from producing a runaway or NaN increase.
constexpr double kMinGain = -1.0;
constexpr double kMaxGain = 2.0;

double clamp_gain(double g) {
  if (!std::isfinite(g)) return 1.0;
  return std::clamp(g, kMinGain, kMaxGain);
}

}  // namespace

double lia_gain(const CoupledGroup::Sums& s, const CoupledPathState& self) {
  if (s.sum_cwnd_over_rtt <= 0 || s.total_cwnd == 0) return 1.0;
  double total = static_cast<double>(s.total_cwnd);
  double alpha = total * s.max_cwnd_over_rtt2 / (s.sum_cwnd_over_rtt * s.sum_cwnd_over_rtt);
  // The increase per ACK, alpha·bytes·mds/cwnd_total, is capped by the uncoupled one,
  // bytes·mds/cwnd_i (RFC 6356 §3, "cannot be more aggressive than a single TCP").
  return std::min(alpha * static_cast<double>(self.cwnd) / total, 1.0);
}

double olia_gain(const CoupledGroup::Sums& s, const CoupledPathState& self, double alpha) {
  if (s.sum_cwnd_over_rtt <= 0) return 1.0;
  double rtt = rtt_seconds(self.srtt);
  double x = static_cast<double>(self.cwnd) / rtt;  // w_r / rtt_r
  return clamp_gain(x * x / (s.sum_cwnd_over_rtt * s.sum_cwnd_over_rtt) + alpha);
}

namespace {
double balia_alpha(const CoupledGroup::Sums& s, const CoupledPathState& self) {
  double x = static_cast<double>(self.cwnd) / rtt_seconds(self.srtt);
  return x > 0 ? std::max(s.max_cwnd_over_rtt / x, 1.0) : 1.0;
}
}  // namespace

double balia_gain(const CoupledGroup::Sums& s, const CoupledPathState& self) {
  if (s.sum_cwnd_over_rtt <= 0) return 1.0;
  double x = static_cast<double>(self.cwnd) / rtt_seconds(self.srtt);
  double alpha = balia_alpha(s, self);
  // w_r·x_r/(rtt_r·X^2) = (x_r/X)^2 with X = sum_k x_k.
  double share = x / s.sum_cwnd_over_rtt;
  return clamp_gain(share * share * (1 + alpha) / 2 * (4 + alpha) / 5);
}

double balia_keep_fraction(const CoupledGroup::Sums& s, const CoupledPathState& self) {
  return 1.0 - 0.5 * std::min(balia_alpha(s, self), 1.5);
}

CoupledController::CoupledController(CcAlgorithm algorithm, uint32_t max_datagram_size,
                                     CoupledGroup* group)
    : WindowController(max_datagram_size), algorithm_(algorithm), group_(group) {
  sync();
  if (group_ != nullptr) group_->join(&state_);
}

CoupledController::~CoupledController() {
  if (group_ != nullptr) group_->leave(&state_);
}

const char* CoupledController::name() const {
  switch (algorithm_) {
    case CcAlgorithm::kOlia:
      return "olia";
    case CcAlgorithm::kBalia:
      return "balia";
    default:
      return "lia";
  }
}

double CoupledController::current_gain(Instant now) const {
  if (group_ == nullptr) return 1.0;
  CoupledGroup::Sums s = group_->sums(state_, now);
  if (s.paths <= 1) return 1.0;  // alone: exactly NewReno, whatever the rounding
  switch (algorithm_) {
    case CcAlgorithm::kOlia:
      return olia_gain(s, state_, group_->olia_alpha(state_, now));
    case CcAlgorithm::kBalia:
      return balia_gain(s, state_);
    default:
      return lia_gain(s, state_);
  }
}

void CoupledController::on_packets_acked(Instant now, std::span<const SentPacket> acked,
                                         const RttEstimator& rtt, uint64_t bytes_in_flight) {
  state_.srtt = rtt.smoothed();
  state_.has_rtt = true;
  state_.last_ack = now;
  for (const SentPacket& p : acked) {
    if (p.in_flight) state_.bytes_since_loss += p.bytes;
  }
  WindowController::on_packets_acked(now, acked, rtt, bytes_in_flight);
  sync();
}

void CoupledController::on_packets_lost(Instant now, std::span<const SentPacket> lost,
                                        bool persistent_congestion, uint64_t bytes_in_flight) {
  WindowController::on_packets_lost(now, lost, persistent_congestion, bytes_in_flight);
  sync();
}

void CoupledController::on_ecn_ce(Instant now, Instant sent_time_of_largest) {
  WindowController::on_ecn_ce(now, sent_time_of_largest);
  sync();
}

void CoupledController::on_mtu_changed(uint32_t mtu) {
  WindowController::on_mtu_changed(mtu);
  sync();
}

void CoupledController::reset() {
  WindowController::reset();
  state_ = CoupledPathState{};
  sync();
}

void CoupledController::grow_in_avoidance(Instant now, const SentPacket& packet,
                                          const RttEstimator&) {
  sync();
  credit_ += static_cast<double>(packet.bytes) * current_gain(now);
  const double window = static_cast<double>(cwnd_);
  while (credit_ >= window) {
    credit_ -= window;
    set_cwnd(cwnd_ + mds_);
  }
  // OLIA moves window away from the largest paths; never below the minimum window.
  while (credit_ <= -window) {
    if (cwnd_ <= minimum_window(mds_)) {
      credit_ = 0;
      break;
    }
    credit_ += window;
    set_cwnd(cwnd_ - mds_);
    // Stay in congestion avoidance: falling under ssthresh would restart slow start.
    ssthresh_ = std::min(ssthresh_, cwnd_);
  }
  sync();
}

void CoupledController::reduce_window(Instant now) {
  double keep = kLossReductionFactor;
  if (algorithm_ == CcAlgorithm::kBalia && group_ != nullptr) {
    sync();
    CoupledGroup::Sums s = group_->sums(state_, now);
    if (s.paths > 1) keep = balia_keep_fraction(s, state_);
  }
  ssthresh_ = static_cast<uint64_t>(static_cast<double>(cwnd_) * keep);
  cwnd_ = std::max(ssthresh_, minimum_window(mds_));
  credit_ = 0;
  // OLIA's inter-loss distance: the epoch that just ended becomes l1.
  state_.bytes_between_losses = state_.bytes_since_loss;
  state_.bytes_since_loss = 0;
  sync();
}

}  // namespace quic

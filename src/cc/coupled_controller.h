// Coupled multipath congestion control: LIA (RFC 6356), OLIA (Khalili et al., "MPTCP is not
// Pareto-optimal", CoNEXT 2012; draft-khalili-mptcp-congestion-control) and BALIA (Peng et
// al., ToN 2016; draft-walid-mptcp-congestion-control). Everything but the congestion-
// avoidance increase is NewReno's (RFC 9002 §7 via WindowController); BALIA also scales its
// loss response by its alpha. The increase is written as a gain g relative to NewReno's
// "one datagram per window acknowledged" and applied with the same byte counting, so g = 1
// (a path alone, or no group) grows exactly like NewReno.
#pragma once

#include "cc/coupled.h"
#include "cc/window_controller.h"

namespace quic {

// The increase for one ACK of path `self` relative to NewReno's (bytes·mds/cwnd_self).
// RFC 6356 §3: min(alpha·cwnd_i/cwnd_total, 1) with
//   alpha = cwnd_total · max_i(cwnd_i/rtt_i^2) / (sum_i cwnd_i/rtt_i)^2.
double lia_gain(const CoupledGroup::Sums& s, const CoupledPathState& self);
// Khalili §3: w_r^2/rtt_r^2 / (sum_p w_p/rtt_p)^2 + alpha_r.
double olia_gain(const CoupledGroup::Sums& s, const CoupledPathState& self, double alpha);
// draft-walid §3: with x_r = w_r/rtt_r and alpha_r = max_k x_k / x_r,
//   w_r · x_r / (rtt_r · (sum_k x_k)^2) · (1 + alpha_r)/2 · (4 + alpha_r)/5.
double balia_gain(const CoupledGroup::Sums& s, const CoupledPathState& self);
// draft-walid §3: on loss w_r -= w_r/2 · min(alpha_r, 1.5); this returns the fraction kept.
double balia_keep_fraction(const CoupledGroup::Sums& s, const CoupledPathState& self);

class CoupledController final : public WindowController {
 public:
  // group may be null: the controller then behaves like NewReno.
  CoupledController(CcAlgorithm algorithm, uint32_t max_datagram_size, CoupledGroup* group);
  ~CoupledController() override;
  CoupledController(const CoupledController&) = delete;
  CoupledController& operator=(const CoupledController&) = delete;

  void on_packets_acked(Instant now, std::span<const SentPacket> acked, const RttEstimator& rtt,
                        uint64_t bytes_in_flight) override;
  void on_packets_lost(Instant now, std::span<const SentPacket> lost, bool persistent_congestion,
                       uint64_t bytes_in_flight) override;
  void on_ecn_ce(Instant now, Instant sent_time_of_largest) override;
  void on_mtu_changed(uint32_t mtu) override;
  void reset() override;
  const char* name() const override;

  const CoupledPathState& coupled_state() const { return state_; }
  // The gain the next congestion-avoidance ACK at `now` would get (1 without a group).
  double current_gain(Instant now) const;

 protected:
  void grow_in_avoidance(Instant now, const SentPacket& packet, const RttEstimator& rtt) override;
  void reduce_window(Instant now) override;
  void on_window_collapsed() override { credit_ = 0; }

 private:
  void sync() { state_.cwnd = cwnd_; }

  CcAlgorithm algorithm_;
  CoupledGroup* group_;
  CoupledPathState state_;
  // Byte-counting credit, scaled by the gain: a datagram is added per cwnd of credit and
  // (OLIA's negative gain) taken away per cwnd of debit.
  double credit_ = 0;
};

}  // namespace quic

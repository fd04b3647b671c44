// BBR (draft-ietf-ccwg-bbr, BBRv3): a model-based controller. From delivery-rate samples
// (cc/delivery_rate.h) it keeps the path's bottleneck bandwidth (max filter over two ProbeBW
// cycles) and round-trip propagation time (min filter over 10 s), paces at gain x bandwidth and
// bounds data in flight by gain x BDP. Loss is a signal only when it exceeds BBRLossThresh (2%)
// of the data in flight while probing (inflight_longterm), or, per round and outside probing,
// a gentle 0.7 cut of the short-term bounds towards what the last round actually delivered — so
// random, non-congestive loss does not collapse the rate the way it does for CUBIC.
// Units: bytes, bytes per second, sans-I/O. docs/cc.md lists the deviations from the draft.
#pragma once

#include <cstdint>
#include <optional>

#include "cc/congestion_controller.h"
#include "cc/delivery_rate.h"

namespace quic {

// draft-ietf-ccwg-bbr §2.7 / §5 constants.
inline constexpr double kBbrStartupPacingGain = 2.77;  // 4 ln 2
inline constexpr double kBbrStartupCwndGain = 2.0;
inline constexpr double kBbrDrainPacingGain = 0.35;
inline constexpr double kBbrDefaultCwndGain = 2.0;
inline constexpr double kBbrProbeDownPacingGain = 0.90;
inline constexpr double kBbrProbeUpPacingGain = 1.25;
inline constexpr double kBbrProbeUpCwndGain = 2.25;
inline constexpr double kBbrProbeRttCwndGain = 0.5;
inline constexpr double kBbrLossThresh = 0.02;
inline constexpr double kBbrBeta = 0.7;
inline constexpr double kBbrHeadroom = 0.15;
inline constexpr double kBbrPacingMargin = 0.01;
inline constexpr int kBbrFullBwCount = 3;
inline constexpr double kBbrFullBwThresh = 1.25;
inline constexpr int kBbrStartupFullLossCount = 6;
inline constexpr int kBbrExtraAckedRounds = 10;
inline constexpr Duration kBbrMinRttFilterLen = std::chrono::seconds(10);
inline constexpr Duration kBbrProbeRttInterval = std::chrono::seconds(5);
inline constexpr Duration kBbrProbeRttDuration = std::chrono::milliseconds(200);
inline constexpr uint32_t kBbrMinPipeCwndPackets = 4;

class Bbr : public CongestionController {
 public:
  enum class State { kStartup, kDrain, kProbeBwDown, kProbeBwCruise, kProbeBwRefill, kProbeBwUp,
                     kProbeRtt };
  // Where the current ProbeBW bandwidth probe is, as seen in ACKs (draft §5.3.3.6).
  enum class AckPhase { kInit, kProbeStopping, kProbeStarting, kProbeFeedback, kRefilling };

  explicit Bbr(uint32_t max_datagram_size, uint64_t seed = 1);

  void on_packet_sent(Instant now, uint64_t pn, uint32_t bytes, uint64_t bytes_in_flight) override;
  void on_packets_acked(Instant now, std::span<const SentPacket> acked, const RttEstimator& rtt,
                        uint64_t bytes_in_flight) override;
  void on_packets_lost(Instant now, std::span<const SentPacket> lost, bool persistent_congestion,
                       uint64_t bytes_in_flight) override;
  void on_ecn_ce(Instant now, Instant sent_time_of_largest) override;
  void on_mtu_changed(uint32_t mtu) override;
  void on_app_limited(uint64_t bytes_in_flight) override;

  uint64_t cwnd() const override { return cwnd_; }
  uint64_t ssthresh() const override { return UINT64_MAX; }
  uint64_t pacing_rate_bps(const RttEstimator& rtt) const override;
  bool in_slow_start() const override { return state_ == State::kStartup; }
  bool in_recovery() const override { return false; }
  const char* name() const override { return "bbr"; }
  std::optional<CongestionEvent> last_event() const override { return last_event_; }
  void reset() override;

  // The model, for tests, stats and qlog.
  State state() const { return state_; }
  double max_bw() const { return max_bw_; }  // bytes/s
  double bw() const { return bw_; }          // min(max_bw, bw_shortterm)
  Duration min_rtt() const { return min_rtt_; }
  bool full_bw_reached() const { return full_bw_reached_; }
  uint64_t inflight_longterm() const { return inflight_longterm_; }  // UINT64_MAX: unset
  uint64_t inflight_shortterm() const { return inflight_shortterm_; }
  double bw_shortterm() const { return bw_shortterm_; }  // infinity: unset
  double pacing_gain() const { return pacing_gain_; }
  double cwnd_gain() const { return cwnd_gain_; }
  uint64_t round_count() const { return round_count_; }
  uint64_t bdp(double gain = 1.0) const;  // gain x bw x min_rtt (initial window before samples)
  const DeliveryRateSampler& sampler() const { return sampler_; }
  static const char* state_name(State s);

 private:
  uint64_t mds() const { return mds_; }
  uint64_t min_pipe_cwnd() const { return uint64_t{kBbrMinPipeCwndPackets} * mds_; }
  uint64_t inflight(double bw, double gain) const;
  uint64_t target_inflight() const;
  uint64_t inflight_with_headroom() const;
  uint64_t probe_rtt_cwnd() const;
  double random_unit();  // [0, 1), deterministic per controller

  // Model and state (draft §5.1 BBRUpdateModelAndState, in order).
  void update_round(uint64_t packet_delivered);
  void update_latest_delivery_signals();
  void update_congestion_signals();
  void update_ack_aggregation(Instant now);
  void check_full_bw_reached();
  void check_startup_done();
  void check_drain(uint64_t bytes_in_flight, Instant now);
  void update_probe_bw_cycle_phase(Instant now, uint64_t bytes_in_flight);
  void update_min_rtt(Instant now);
  void check_probe_rtt(Instant now, uint64_t bytes_in_flight);
  void advance_latest_delivery_signals();
  // Control parameters.
  void set_pacing_rate();
  void set_cwnd();

  void enter_startup();
  void enter_drain();
  void enter_probe_bw(Instant now);
  void start_probe_bw_down(Instant now);
  void start_probe_bw_cruise();
  void start_probe_bw_refill();
  void start_probe_bw_up();
  void enter_probe_rtt();
  void handle_probe_rtt(Instant now, uint64_t bytes_in_flight);
  void exit_probe_rtt(Instant now);
  bool in_probe_bw() const;
  bool is_probing_bw() const;
  bool time_to_probe_bw(Instant now);
  bool time_to_cruise(uint64_t bytes_in_flight) const;
  bool time_to_go_down();
  bool inflight_too_high(uint64_t lost, uint64_t tx_in_flight) const;
  bool check_inflight_too_high();
  void handle_inflight_too_high(bool app_limited, uint64_t tx_in_flight, Instant now);
  void adapt_longterm_model(Instant now);
  void probe_inflight_longterm_upward();
  void raise_inflight_longterm_slope();
  void reset_short_term_model();
  void reset_congestion_signals();
  void reset_full_bw();
  void start_round() { next_round_delivered_ = sampler_.delivered(); }
  void save_cwnd();
  void restore_cwnd();

  uint32_t mds_;
  uint64_t seed_;
  uint64_t rng_ = 0;
  DeliveryRateSampler sampler_;
  RateSample rs_;  // the current ACK's sample

  State state_ = State::kStartup;
  double pacing_gain_ = kBbrStartupPacingGain, cwnd_gain_ = kBbrStartupCwndGain;
  uint64_t cwnd_ = 0, prior_cwnd_ = 0;
  double pacing_rate_ = 0;  // bytes/s; 0 until the first RTT sample sets the initial rate
  bool pacing_init_ = false;

  // Rounds.
  uint64_t next_round_delivered_ = 0, round_count_ = 0, rounds_since_bw_probe_ = 0;
  bool round_start_ = false;

  // Bandwidth: two-slot max filter over ProbeBW cycles.
  double max_bw_slots_[2] = {0, 0};
  double max_bw_ = 0, bw_ = 0;
  uint64_t cycle_count_ = 0;

  // Full pipe detection.
  double full_bw_ = 0;
  int full_bw_count_ = 0;
  bool full_bw_now_ = false, full_bw_reached_ = false;

  // Short-term (lower) and long-term (upper) bounds.
  double bw_shortterm_ = 0;  // set to infinity by reset_short_term_model
  uint64_t inflight_shortterm_ = UINT64_MAX, inflight_longterm_ = UINT64_MAX;
  double bw_latest_ = 0;
  uint64_t inflight_latest_ = 0;
  uint64_t loss_round_delivered_ = 0;
  bool loss_round_start_ = false, loss_in_round_ = false, ce_in_round_ = false;
  uint64_t lost_in_round_ = 0, delivered_in_round_ = 0;
  int loss_events_in_round_ = 0;
  std::optional<uint64_t> last_lost_pn_;

  // ProbeBW.
  AckPhase ack_phase_ = AckPhase::kInit;
  Instant cycle_stamp_{};
  Duration bw_probe_wait_{0};
  bool bw_probe_samples_ = false;
  uint64_t probe_up_cnt_ = UINT64_MAX, bw_probe_up_acks_ = 0;
  int bw_probe_up_rounds_ = 0;
  bool cwnd_limited_ = false, cwnd_limited_prev_round_ = false;

  // min_rtt and ProbeRTT.
  Duration min_rtt_ = Duration::max();
  Instant min_rtt_stamp_{};
  Duration probe_rtt_min_delay_ = Duration::max();
  Instant probe_rtt_min_stamp_{};
  bool probe_rtt_expired_ = false;
  Instant probe_rtt_done_stamp_ = kNever;
  bool probe_rtt_round_done_ = false;
  bool idle_restart_ = false;
  bool have_stamps_ = false;

  // ACK aggregation (extra_acked): windowed max over kBbrExtraAckedRounds rounds.
  Instant extra_acked_interval_start_{};
  uint64_t extra_acked_delivered_ = 0;
  uint64_t extra_acked_slots_[kBbrExtraAckedRounds] = {};
  uint64_t extra_acked_ = 0;

  std::optional<CongestionEvent> last_event_;
};

}  // namespace quic

// BBRv3 after draft-ietf-ccwg-bbr: section numbers below refer to it. The per-ACK work follows
// its BBRUpdateModelAndState / BBRUpdateControlParameters order.
#include "cc/bbr.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quic {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

uint64_t to_bytes(double v) {
  if (!(v > 0)) return 0;
  if (v >= static_cast<double>(kMaxCongestionWindow)) return kMaxCongestionWindow;
  return static_cast<uint64_t>(v);
}

}  // namespace

Bbr::Bbr(uint32_t max_datagram_size, uint64_t seed)
    : mds_(std::max(max_datagram_size, kMinMaxDatagramSize)), seed_(seed), rng_(seed) {
  // §5.1 BBROnInit (min_rtt, the filters and the stamps start empty; the stamps are set by
  // the first send).
  cwnd_ = initial_window(mds_);
  reset_short_term_model();
  reset_congestion_signals();
  reset_full_bw();
  enter_startup();
}

void Bbr::reset() { *this = Bbr(mds_, seed_); }

double Bbr::random_unit() {
  // splitmix64: deterministic, so simulator runs repeat exactly.
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(uint64_t{1} << 53);
}

const char* Bbr::state_name(State s) {
  switch (s) {
    case State::kStartup: return "startup";
    case State::kDrain: return "drain";
    case State::kProbeBwDown: return "probe_bw_down";
    case State::kProbeBwCruise: return "probe_bw_cruise";
    case State::kProbeBwRefill: return "probe_bw_refill";
    case State::kProbeBwUp: return "probe_bw_up";
    case State::kProbeRtt: return "probe_rtt";
  }
  return "?";
}

// ---- Model quantities (§5.6) ----

uint64_t Bbr::bdp(double gain) const {
  if (min_rtt_ == Duration::max()) return initial_window(mds_);
  return to_bytes(gain * bw_ * to_seconds(min_rtt_));
}

// §5.6.3 BBRInflight with the quantisation budget: room for the pacer's bursts and, while
// probing up, two more packets so the probe can actually raise the delivery rate.
uint64_t Bbr::inflight(double bw, double gain) const {
  uint64_t v = min_rtt_ == Duration::max() ? initial_window(mds_)
                                           : to_bytes(gain * bw * to_seconds(min_rtt_));
  double quantum = std::clamp(pacing_rate_ * 1e-3, 2.0 * mds_, 65536.0);
  v += to_bytes(3 * quantum);
  if (state_ == State::kProbeBwUp) v += 2 * uint64_t{mds_};
  return std::max(v, min_pipe_cwnd());
}

uint64_t Bbr::target_inflight() const { return std::min(bdp(1.0), cwnd_); }

uint64_t Bbr::inflight_with_headroom() const {
  if (inflight_longterm_ == UINT64_MAX) return UINT64_MAX;
  uint64_t headroom =
      std::max<uint64_t>(mds_, to_bytes(kBbrHeadroom * static_cast<double>(inflight_longterm_)));
  uint64_t v = inflight_longterm_ > headroom ? inflight_longterm_ - headroom : 0;
  return std::max(v, min_pipe_cwnd());
}

uint64_t Bbr::probe_rtt_cwnd() const {
  return std::max(bdp(kBbrProbeRttCwndGain), min_pipe_cwnd());
}

// ---- Events ----

void Bbr::on_packet_sent(Instant now, uint64_t pn, uint32_t bytes, uint64_t bytes_in_flight) {
  if (!have_stamps_) {
    have_stamps_ = true;
    min_rtt_stamp_ = probe_rtt_min_stamp_ = extra_acked_interval_start_ = cycle_stamp_ = now;
  }
  // §5.4.1: restarting from idle; pace at the estimated bandwidth instead of a probing gain.
  if (bytes_in_flight <= bytes && sampler_.app_limited()) {
    idle_restart_ = true;
    extra_acked_interval_start_ = now;
    if (in_probe_bw() && bw_ > 0) pacing_rate_ = bw_ * (1 - kBbrPacingMargin);
  }
  sampler_.on_packet_sent(now, pn, bytes, bytes_in_flight);
  if (bytes_in_flight + mds_ > cwnd_) cwnd_limited_ = true;
}

void Bbr::on_app_limited(uint64_t bytes_in_flight) { sampler_.on_app_limited(bytes_in_flight); }

void Bbr::on_packets_lost(Instant now, std::span<const SentPacket> lost, bool persistent_congestion,
                          uint64_t /*bytes_in_flight*/) {
  for (const SentPacket& p : lost) {
    if (!p.in_flight) continue;
    if (p.is_mtu_probe) {  // RFC 9000 §14.4: too big for the path, not congestion
      sampler_.forget(p.pn);
      continue;
    }
    std::optional<DeliveryRateSampler::Record> rec;
    if (const auto* r = sampler_.find(p.pn)) rec = *r;
    sampler_.on_lost({&p, 1});
    loss_in_round_ = true;
    lost_in_round_ += p.bytes;
    if (!last_lost_pn_ || p.pn != *last_lost_pn_ + 1) ++loss_events_in_round_;
    last_lost_pn_ = p.pn;
    // §5.3.3.5 BBRHandleLostPacket: while probing, a loss rate above BBRLossThresh of what was
    // in flight when the lost packet left ends the probe at the inflight level where the
    // threshold was crossed.
    if (!bw_probe_samples_ || !rec) continue;
    uint64_t lost_since = sampler_.lost() - rec->lost;
    if (!inflight_too_high(lost_since, rec->tx_in_flight)) continue;
    double inflight_prev = static_cast<double>(rec->tx_in_flight) - p.bytes;
    double lost_prev = static_cast<double>(lost_since) - p.bytes;
    double lost_prefix = (kBbrLossThresh * inflight_prev - lost_prev) / (1 - kBbrLossThresh);
    uint64_t at_loss = to_bytes(inflight_prev + std::max(lost_prefix, 0.0));
    handle_inflight_too_high(rec->is_app_limited, at_loss, now);
  }
  if (persistent_congestion) {
    // RFC 9002 §7.6.2 (draft §5.6.4.4 for an RTO): back to the minimum; the model stays, so
    // the window regrows by what is acknowledged up to the model's bound.
    last_event_ = CongestionEvent{CongestionEvent::Kind::kPersistentCongestion, now, cwnd_,
                                  min_pipe_cwnd()};
    save_cwnd();
    cwnd_ = min_pipe_cwnd();
  }
}

void Bbr::on_ecn_ce(Instant now, Instant /*sent_time_of_largest*/) {
  // A congested round: the short-term bounds take the 0.7 cut at its end.
  ce_in_round_ = true;
  last_event_ = CongestionEvent{CongestionEvent::Kind::kEcnCe, now, cwnd_, cwnd_};
}

void Bbr::on_mtu_changed(uint32_t mtu) {
  uint32_t old = mds_;
  mds_ = std::max(mtu, kMinMaxDatagramSize);
  if (sampler_.delivered() == 0 && cwnd_ == initial_window(old)) cwnd_ = initial_window(mds_);
}

void Bbr::on_packets_acked(Instant now, std::span<const SentPacket> acked, const RttEstimator& rtt,
                           uint64_t bytes_in_flight) {
  Duration min_rtt_floor = rtt.has_sample() ? rtt.min_rtt() : Duration::zero();
  rs_ = sampler_.on_ack(now, acked, min_rtt_floor);
  if (rs_.newly_acked == 0) return;
  if (!pacing_init_ && rtt.has_sample()) {
    // §5.6.2 BBRInitPacingRate, once there is an SRTT.
    pacing_init_ = true;
    pacing_rate_ = kBbrStartupPacingGain * static_cast<double>(initial_window(mds_)) /
                   rtt_seconds(rtt.smoothed());
  }
  delivered_in_round_ += rs_.newly_acked;

  // §5.1 BBRUpdateModelAndState.
  update_latest_delivery_signals();
  update_congestion_signals();
  update_ack_aggregation(now);
  check_full_bw_reached();
  check_startup_done();
  check_drain(bytes_in_flight, now);
  update_probe_bw_cycle_phase(now, bytes_in_flight);
  update_min_rtt(now);
  check_probe_rtt(now, bytes_in_flight);
  advance_latest_delivery_signals();
  bw_ = std::min(max_bw_, bw_shortterm_);  // BBRBoundBWForModel

  // §5.1 BBRUpdateControlParameters.
  set_pacing_rate();
  set_cwnd();
}

// ---- Model updates ----

void Bbr::update_round(uint64_t packet_delivered) {
  round_start_ = false;
  if (packet_delivered < next_round_delivered_) return;
  start_round();
  ++round_count_;
  ++rounds_since_bw_probe_;
  round_start_ = true;
  cwnd_limited_prev_round_ = cwnd_limited_;
  cwnd_limited_ = false;
}

void Bbr::update_latest_delivery_signals() {
  loss_round_start_ = false;
  if (rs_.valid) bw_latest_ = std::max(bw_latest_, rs_.delivery_rate);
  inflight_latest_ = std::max(inflight_latest_, rs_.delivered);
  if (rs_.rtt >= Duration::zero() && rs_.prior_delivered >= loss_round_delivered_) {
    loss_round_delivered_ = sampler_.delivered();
    loss_round_start_ = true;
  }
}

void Bbr::advance_latest_delivery_signals() {
  if (!loss_round_start_) return;
  bw_latest_ = rs_.valid ? rs_.delivery_rate : 0;
  inflight_latest_ = rs_.delivered;
}

void Bbr::update_congestion_signals() {
  // §5.3.2 BBRUpdateMaxBw.
  if (rs_.rtt >= Duration::zero()) {
    update_round(rs_.prior_delivered);
  } else {
    round_start_ = false;
  }
  if (rs_.valid && rs_.delivery_rate > 0 &&
      (rs_.delivery_rate >= max_bw_ || !rs_.is_app_limited)) {
    max_bw_slots_[0] = std::max(max_bw_slots_[0], rs_.delivery_rate);
    max_bw_ = std::max(max_bw_slots_[0], max_bw_slots_[1]);
  }
  if (!loss_round_start_) return;
  // §5.3.1.3 BBRCheckStartupHighLoss: a round that lost more than BBRLossThresh in at least
  // BBRStartupFullLossCnt separate events means the pipe is full (and overfull).
  if (state_ == State::kStartup && !full_bw_reached_ &&
      loss_events_in_round_ >= kBbrStartupFullLossCount &&
      static_cast<double>(lost_in_round_) >
          kBbrLossThresh * static_cast<double>(lost_in_round_ + delivered_in_round_)) {
    full_bw_reached_ = true;
    inflight_longterm_ = std::max(bdp(1.0), inflight_latest_);
  }
  // §5.5.10.3 BBRAdaptLowerBoundsFromCongestion: outside bandwidth probing, a congested round
  // pulls the short-term bounds to max(what the round delivered, 0.7 x the old bound).
  // Deviation: a round counts as congested only when its loss rate exceeds BBRLossThresh (or
  // it carried ECN-CE). The draft reacts to any loss; since the bounds are paced at 99% of
  // themselves, random loss in every other round would ratchet the rate down ~1% per round
  // until the next bandwidth probe (measured: 25 -> 15 Mbit/s in 2 s at 1% random loss).
  bool congested = ce_in_round_ ||
                   (loss_in_round_ &&
                    static_cast<double>(lost_in_round_) >
                        kBbrLossThresh * static_cast<double>(lost_in_round_ + delivered_in_round_));
  if (!is_probing_bw() && congested) {
    if (bw_shortterm_ == kInf) bw_shortterm_ = max_bw_;
    if (inflight_shortterm_ == UINT64_MAX) inflight_shortterm_ = cwnd_;
    bw_shortterm_ = std::max(bw_latest_, kBbrBeta * bw_shortterm_);
    inflight_shortterm_ = std::max(
        inflight_latest_, to_bytes(kBbrBeta * static_cast<double>(inflight_shortterm_)));
  }
  loss_in_round_ = ce_in_round_ = false;
  lost_in_round_ = delivered_in_round_ = 0;
  loss_events_in_round_ = 0;
}

// §5.5.9 BBRUpdateACKAggregation: data acknowledged beyond what bw predicts for the interval
// (delayed or aggregated ACKs) becomes window headroom, max over 10 rounds.
void Bbr::update_ack_aggregation(Instant now) {
  double interval =
      now > extra_acked_interval_start_ ? to_seconds(now - extra_acked_interval_start_) : 0.0;
  uint64_t expected = to_bytes(bw_ * interval);
  if (extra_acked_delivered_ <= expected) {
    extra_acked_delivered_ = 0;
    extra_acked_interval_start_ = now;
    expected = 0;
  }
  extra_acked_delivered_ += rs_.newly_acked;
  uint64_t extra = extra_acked_delivered_ > expected ? extra_acked_delivered_ - expected : 0;
  extra = std::min(extra, cwnd_);
  size_t slot = static_cast<size_t>(round_count_ % kBbrExtraAckedRounds);
  if (round_start_) extra_acked_slots_[slot] = 0;
  extra_acked_slots_[slot] = std::max(extra_acked_slots_[slot], extra);
  extra_acked_ = *std::max_element(std::begin(extra_acked_slots_), std::end(extra_acked_slots_));
}

// §5.3.1.2 BBRCheckFullBWReached: three rounds without 25% growth.
void Bbr::check_full_bw_reached() {
  if (full_bw_now_ || !rs_.valid || rs_.is_app_limited) return;
  if (rs_.delivery_rate >= full_bw_ * kBbrFullBwThresh) {
    reset_full_bw();
    full_bw_ = rs_.delivery_rate;
    return;
  }
  if (!round_start_) return;
  ++full_bw_count_;
  full_bw_now_ = full_bw_count_ >= kBbrFullBwCount;
  if (full_bw_now_) full_bw_reached_ = true;
}

void Bbr::check_startup_done() {
  if (state_ == State::kStartup && full_bw_reached_) enter_drain();
}

void Bbr::check_drain(uint64_t bytes_in_flight, Instant now) {
  if (state_ == State::kDrain && bytes_in_flight <= bdp(1.0)) enter_probe_bw(now);
}

// §5.3.4.4 BBRUpdateMinRTT: probe_rtt_min_delay is the minimum over the last 5 s; min_rtt
// takes it when lower or when 10 s old.
void Bbr::update_min_rtt(Instant now) {
  probe_rtt_expired_ = now > probe_rtt_min_stamp_ + kBbrProbeRttInterval;
  if (rs_.rtt >= Duration::zero() && (rs_.rtt < probe_rtt_min_delay_ || probe_rtt_expired_)) {
    probe_rtt_min_delay_ = rs_.rtt;
    probe_rtt_min_stamp_ = now;
  }
  bool min_rtt_expired = now > min_rtt_stamp_ + kBbrMinRttFilterLen;
  if (probe_rtt_min_delay_ < min_rtt_ || min_rtt_expired) {
    min_rtt_ = probe_rtt_min_delay_;
    min_rtt_stamp_ = probe_rtt_min_stamp_;
  }
}

// ---- Control parameters (§5.6) ----

void Bbr::set_pacing_rate() {
  if (bw_ <= 0) return;
  double rate = pacing_gain_ * bw_ * (1 - kBbrPacingMargin);
  if (full_bw_reached_ || rate > pacing_rate_) pacing_rate_ = rate;
}

uint64_t Bbr::pacing_rate_bps(const RttEstimator& rtt) const {
  double bytes_per_s = pacing_rate_;
  if (!pacing_init_ && bytes_per_s <= 0) {
    // Before the first RTT sample: the initial window over 1 ms (§5.6.2 without an SRTT).
    Duration srtt = rtt.has_sample() ? rtt.smoothed() : Duration(1ms);
    bytes_per_s = kBbrStartupPacingGain * static_cast<double>(cwnd_) /
                  rtt_seconds(srtt);
  }
  return static_cast<uint64_t>(std::min(bytes_per_s * 8, 1e15));
}

void Bbr::set_cwnd() {
  uint64_t max_inflight = inflight(bw_, cwnd_gain_) + extra_acked_;  // BBRUpdateMaxInflight
  if (full_bw_reached_) {
    cwnd_ = std::min(cwnd_ + rs_.newly_acked, max_inflight);
  } else if (cwnd_ < max_inflight || sampler_.delivered() < initial_window(mds_)) {
    cwnd_ += rs_.newly_acked;
  }
  cwnd_ = std::clamp(cwnd_, min_pipe_cwnd(), kMaxCongestionWindow);
  if (state_ == State::kProbeRtt) cwnd_ = std::min(cwnd_, probe_rtt_cwnd());
  // §5.6.4.7 BBRBoundCwndForModel.
  uint64_t cap = UINT64_MAX;
  if (in_probe_bw() && state_ != State::kProbeBwCruise) {
    cap = inflight_longterm_;
  } else if (state_ == State::kProbeRtt || state_ == State::kProbeBwCruise) {
    cap = inflight_with_headroom();
  }
  cap = std::max(std::min(cap, inflight_shortterm_), min_pipe_cwnd());
  cwnd_ = std::min(cwnd_, cap);
}

void Bbr::save_cwnd() {
  prior_cwnd_ = state_ == State::kProbeRtt ? std::max(prior_cwnd_, cwnd_) : cwnd_;
}

void Bbr::restore_cwnd() { cwnd_ = std::max(cwnd_, prior_cwnd_); }

// ---- State machine ----

void Bbr::enter_startup() {
  state_ = State::kStartup;
  pacing_gain_ = kBbrStartupPacingGain;
  cwnd_gain_ = kBbrStartupCwndGain;
}

void Bbr::enter_drain() {
  state_ = State::kDrain;
  pacing_gain_ = kBbrDrainPacingGain;
  cwnd_gain_ = kBbrStartupCwndGain;
}

void Bbr::enter_probe_bw(Instant now) {
  cwnd_gain_ = kBbrDefaultCwndGain;
  start_probe_bw_down(now);
}

bool Bbr::in_probe_bw() const {
  return state_ == State::kProbeBwDown || state_ == State::kProbeBwCruise ||
         state_ == State::kProbeBwRefill || state_ == State::kProbeBwUp;
}

bool Bbr::is_probing_bw() const {
  return state_ == State::kStartup || state_ == State::kProbeBwRefill ||
         state_ == State::kProbeBwUp;
}

void Bbr::reset_short_term_model() {
  bw_shortterm_ = kInf;
  inflight_shortterm_ = UINT64_MAX;
}

void Bbr::reset_congestion_signals() {
  loss_in_round_ = false;
  bw_latest_ = 0;
  inflight_latest_ = 0;
}

void Bbr::reset_full_bw() {
  full_bw_ = 0;
  full_bw_count_ = 0;
  full_bw_now_ = false;
}

// §5.3.3.1 ProbeBW_DOWN: pace below the estimate to drain any queue the probe left, and wait
// 2-3 s (or the Reno-coexistence number of rounds) before probing again.
void Bbr::start_probe_bw_down(Instant now) {
  reset_congestion_signals();
  probe_up_cnt_ = UINT64_MAX;
  rounds_since_bw_probe_ = random_unit() < 0.5 ? 0 : 1;
  bw_probe_wait_ = 2s + Duration(static_cast<int64_t>(random_unit() * 1e9));
  cycle_stamp_ = now;
  ack_phase_ = AckPhase::kProbeStopping;
  start_round();
  state_ = State::kProbeBwDown;
  pacing_gain_ = kBbrProbeDownPacingGain;
  cwnd_gain_ = kBbrDefaultCwndGain;
}

void Bbr::start_probe_bw_cruise() {
  state_ = State::kProbeBwCruise;
  pacing_gain_ = 1.0;
  cwnd_gain_ = kBbrDefaultCwndGain;
}

void Bbr::start_probe_bw_refill() {
  reset_short_term_model();
  bw_probe_up_rounds_ = 0;
  bw_probe_up_acks_ = 0;
  ack_phase_ = AckPhase::kRefilling;
  start_round();
  state_ = State::kProbeBwRefill;
  pacing_gain_ = 1.0;
  cwnd_gain_ = kBbrDefaultCwndGain;
}

void Bbr::start_probe_bw_up() {
  ack_phase_ = AckPhase::kProbeStarting;
  start_round();
  reset_full_bw();
  full_bw_ = rs_.valid ? rs_.delivery_rate : 0;
  state_ = State::kProbeBwUp;
  pacing_gain_ = kBbrProbeUpPacingGain;
  cwnd_gain_ = kBbrProbeUpCwndGain;
  raise_inflight_longterm_slope();
}

void Bbr::update_probe_bw_cycle_phase(Instant now, uint64_t bytes_in_flight) {
  if (!full_bw_reached_) return;
  adapt_longterm_model(now);
  switch (state_) {
    case State::kProbeBwDown:
      if (time_to_probe_bw(now)) return;
      if (time_to_cruise(bytes_in_flight)) start_probe_bw_cruise();
      break;
    case State::kProbeBwCruise:
      time_to_probe_bw(now);
      break;
    case State::kProbeBwRefill:
      // One round at the estimate refills the pipe, so the probe's samples are clean.
      if (round_start_) {
        bw_probe_samples_ = true;
        start_probe_bw_up();
      }
      break;
    case State::kProbeBwUp:
      if (time_to_go_down()) start_probe_bw_down(now);
      break;
    default:
      break;
  }
}

bool Bbr::time_to_probe_bw(Instant now) {
  // §5.3.3.5.3: Reno coexistence — probe at least every min(BDP in packets, 63) rounds.
  uint64_t reno_rounds = std::min<uint64_t>(target_inflight() / mds_, 63);
  if (now - cycle_stamp_ > bw_probe_wait_ || rounds_since_bw_probe_ >= reno_rounds) {
    start_probe_bw_refill();
    return true;
  }
  return false;
}

bool Bbr::time_to_cruise(uint64_t bytes_in_flight) const {
  if (bytes_in_flight > inflight_with_headroom()) return false;
  return bytes_in_flight <= bdp(1.0);
}

bool Bbr::time_to_go_down() {
  bool cwnd_limited = cwnd_limited_ || cwnd_limited_prev_round_;
  if (cwnd_limited && cwnd_ >= inflight_longterm_) {
    // The upper bound held the probe back: keep probing until the bound has grown.
    reset_full_bw();
    full_bw_ = rs_.valid ? rs_.delivery_rate : 0;
    return false;
  }
  return full_bw_now_;
}

bool Bbr::inflight_too_high(uint64_t lost, uint64_t tx_in_flight) const {
  return static_cast<double>(lost) > static_cast<double>(tx_in_flight) * kBbrLossThresh;
}

bool Bbr::check_inflight_too_high() {
  if (rs_.rtt < Duration::zero() || !inflight_too_high(rs_.lost, rs_.tx_in_flight)) return false;
  return true;
}

void Bbr::handle_inflight_too_high(bool app_limited, uint64_t tx_in_flight, Instant now) {
  bw_probe_samples_ = false;
  if (!app_limited) {
    inflight_longterm_ = std::max(
        tx_in_flight, to_bytes(kBbrBeta * static_cast<double>(target_inflight())));
  }
  if (state_ == State::kProbeBwUp) start_probe_bw_down(now);
}

// §5.3.3.6 BBRAdaptLongTermModel.
void Bbr::adapt_longterm_model(Instant now) {
  if (ack_phase_ == AckPhase::kProbeStarting && round_start_) {
    ack_phase_ = AckPhase::kProbeFeedback;
  }
  if (ack_phase_ == AckPhase::kProbeStopping && round_start_) {
    // A probe's samples have all come back: the bandwidth filter moves to a new cycle, once
    // per cycle (the draft's pseudocode leaves the phase set, which would advance the filter
    // every round; Linux's BBRv3 resets it as done here).
    ack_phase_ = AckPhase::kInit;
    bw_probe_samples_ = false;
    if (in_probe_bw() && !rs_.is_app_limited) {
      ++cycle_count_;
      max_bw_slots_[1] = max_bw_slots_[0];
      max_bw_slots_[0] = 0;
      max_bw_ = max_bw_slots_[1];
    }
  }
  if (check_inflight_too_high()) {
    if (bw_probe_samples_) handle_inflight_too_high(rs_.is_app_limited, rs_.tx_in_flight, now);
    return;
  }
  if (inflight_longterm_ == UINT64_MAX) return;
  inflight_longterm_ = std::max(inflight_longterm_, rs_.tx_in_flight);
  if (state_ == State::kProbeBwUp) probe_inflight_longterm_upward();
}

void Bbr::probe_inflight_longterm_upward() {
  bool cwnd_limited = cwnd_limited_ || cwnd_limited_prev_round_;
  if (!cwnd_limited || cwnd_ < inflight_longterm_) return;
  bw_probe_up_acks_ += rs_.newly_acked;
  if (bw_probe_up_acks_ >= probe_up_cnt_) {
    uint64_t delta = bw_probe_up_acks_ / probe_up_cnt_;
    bw_probe_up_acks_ -= delta * probe_up_cnt_;
    inflight_longterm_ = std::min(inflight_longterm_ + delta * mds_, kMaxCongestionWindow);
  }
  if (round_start_) raise_inflight_longterm_slope();
}

// Exponential growth of the upper bound while probing: 1, 2, 4 ... packets per round.
void Bbr::raise_inflight_longterm_slope() {
  uint64_t growth = uint64_t{1} << bw_probe_up_rounds_;
  bw_probe_up_rounds_ = std::min(bw_probe_up_rounds_ + 1, 30);
  probe_up_cnt_ = std::max<uint64_t>(cwnd_ / growth, 1);
}

// ---- ProbeRTT (§5.3.4) ----

void Bbr::enter_probe_rtt() {
  state_ = State::kProbeRtt;
  pacing_gain_ = 1.0;
  cwnd_gain_ = kBbrProbeRttCwndGain;
}

void Bbr::check_probe_rtt(Instant now, uint64_t bytes_in_flight) {
  if (state_ != State::kProbeRtt && probe_rtt_expired_ && !idle_restart_) {
    enter_probe_rtt();
    save_cwnd();
    probe_rtt_done_stamp_ = kNever;
    ack_phase_ = AckPhase::kProbeStopping;
    start_round();
  }
  if (state_ == State::kProbeRtt) handle_probe_rtt(now, bytes_in_flight);
  if (rs_.delivered > 0) idle_restart_ = false;
}

void Bbr::handle_probe_rtt(Instant now, uint64_t bytes_in_flight) {
  // Samples taken with the window cut are not a bandwidth measurement.
  sampler_.on_app_limited(bytes_in_flight);
  if (probe_rtt_done_stamp_ == kNever) {
    if (bytes_in_flight <= probe_rtt_cwnd()) {
      probe_rtt_done_stamp_ = now + kBbrProbeRttDuration;
      probe_rtt_round_done_ = false;
      start_round();
    }
    return;
  }
  if (round_start_) probe_rtt_round_done_ = true;
  if (probe_rtt_round_done_ && now > probe_rtt_done_stamp_) {
    probe_rtt_min_stamp_ = now;  // the next ProbeRTT is due 5 s from here
    restore_cwnd();
    exit_probe_rtt(now);
  }
}

void Bbr::exit_probe_rtt(Instant now) {
  reset_short_term_model();
  if (full_bw_reached_) {
    start_probe_bw_down(now);
    start_probe_bw_cruise();
  } else {
    enter_startup();
  }
}

}  // namespace quic

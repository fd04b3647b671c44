#include "cc/delay_bound.h"

#include <cmath>

namespace quic {

namespace {
// A round that kept fewer bytes in flight than the window less this many datagrams did not use
// the window: its RTT says nothing about a queue of ours, and the bound neither grows nor cuts.
constexpr uint64_t kWindowUseSlackPackets = 3;
// Pacing under the bound: the gain WindowController uses in congestion avoidance (RFC 9002
// §7.7), so a bounded window is still sent within one round trip.
constexpr double kBoundPacingGain = 1.25;
// A round with less than window / this in flight did not load the path (see end_round).
constexpr uint64_t kLoadedWindowDivisor = 4;
// Samples a round needs before it may end early (RFC 9406's N_RTT_SAMPLE).
constexpr uint32_t kEarlyRoundSamples = 8;

double ratio(Duration a, Duration b) {
  return static_cast<double>(a.count()) / static_cast<double>(b.count());
}
}  // namespace

Duration DelayBound::target() const {
  if (base_ == Duration::max()) return kDelayBoundMinTarget;
  return std::max(kDelayBoundMinTarget, base_ / kDelayBoundTargetDivisor);
}

void DelayBound::set_bound(double bytes, uint32_t mds) {
  double lo = static_cast<double>(kDelayBoundMinPackets * mds);
  double hi = static_cast<double>(kMaxCongestionWindow);
  bound_ = static_cast<uint64_t>(std::clamp(bytes, lo, hi));
}

void DelayBound::on_packet_sent(uint32_t bytes, uint64_t bytes_in_flight) {
  round_max_in_flight_ = std::max(round_max_in_flight_, bytes_in_flight);
  round_sent_ += bytes;
}

void DelayBound::on_ack(Instant now, Duration sample, Instant sent_time, uint64_t window,
                        bool inner_free, uint32_t mds) {
  if (sample <= Duration::zero()) return;
  base_ = std::min(base_, sample);
  if (round_start_ == kNever) {  // the first sample opens the first round
    round_start_ = now;
    last_drain_ = now;
    round_sent_ = round_received_ = 0;
    return;
  }
  round_min_ = std::min(round_min_, sample);
  if (sample - base_ > target()) {
    queued_min_ = std::min(queued_min_, sample);
    ++queued_samples_;
  } else {
    queued_min_ = Duration::max();
    queued_samples_ = 0;
  }
  // A round ends when a packet sent after it began is acknowledged. While the bound is not
  // engaged (slow start, or CUBIC growing on its own) kEarlyRoundSamples samples in a row past
  // the target end it at once, and their minimum is its RTT (as HyStart++ looks at a round's
  // first samples, RFC 9406 §4.2): in slow start the flight doubles with each round, so waiting
  // for the round's end, or for its earlier samples from before the queue, let one round's
  // overshoot fill a buffer of one RTT (DelayBoundSim.SlowStartDoesNotOverflowABufferOfOneRtt).
  // Under the bound rounds run to their end, so a stall of the machine or the link shorter than
  // a round is not taken for a queue.
  const bool queue_now = !engaged() && phase_ == Phase::kNormal &&
                         queued_samples_ >= kEarlyRoundSamples;
  if (sent_time < round_start_ && !queue_now) return;
  if (queue_now) round_min_ = queued_min_;
  end_round(now, window, inner_free, mds);
  round_start_ = now;
  round_min_ = Duration::max();
  queued_min_ = Duration::max();
  queued_samples_ = 0;
  round_max_in_flight_ = 0;
  round_sent_ = round_received_ = 0;
}

void DelayBound::end_round(Instant now, uint64_t window, bool inner_free, uint32_t mds) {
  const Duration rtt = round_min_;
  const Duration t = target();
  switch (phase_) {
    case Phase::kSettling:
      phase_ = Phase::kNormal;
      return;
    case Phase::kDrainSettling:
      phase_ = Phase::kDrainObserve;
      return;
    case Phase::kDrainObserve:
      // The queue was drained: this round's minimum is the path's RTT now, higher than the old
      // base if the route grew longer. The window goes back to the bandwidth-delay product the
      // drain estimated (no queue, so no burst into the buffer), then grows as usual.
      base_ = rtt;
      set_bound(static_cast<double>(bound_) / kDelayBoundDrainGain, mds);
      if (bound_ >= saved_bound_) bound_ = saved_bound_;
      phase_ = Phase::kNormal;
      return;
    case Phase::kNormal:
      break;
  }
  // What the round kept in flight made its queue: the cut scales that, not a window it did not
  // fill. Slow start ends its rounds with about half its (doubled) window in flight; an idle
  // path's keepalives are far below a quarter and never cut.
  const uint64_t flight = std::min(round_max_in_flight_, window);
  const bool loaded = flight >= window / kLoadedWindowDivisor;
  if (rtt - base_ > t && reverse_loaded(mds)) {
    // The peer's queue, not ours (delay_bound.h): cutting would only starve what we send.
    bound_ = UINT64_MAX;
    series_window_ = 0;
    ++reverse_rounds_;
    return;
  }
  if (engaged() && loaded && now - last_drain_ > kDelayBoundBaseRefresh) {
    last_drain_ = now;
    start_drain(rtt, flight, mds);
    return;
  }
  const Duration queue = rtt - base_;
  if (queue > t) {
    if (loaded) cut(rtt, flight, mds);
  } else {
    series_window_ = 0;  // the delay came down: a later cut starts a new series
    const bool limited = flight + kWindowUseSlackPackets * mds >= window;
    if (limited) grow(rtt, window, inner_free, mds);
  }
}

bool DelayBound::reverse_loaded(uint32_t mds) const {
  return round_received_ >= kDelayBoundReverseMinPackets * mds &&
         round_received_ > kDelayBoundReverseRatio * round_sent_;
}

void DelayBound::cut(Duration rtt, uint64_t flight, uint32_t mds) {
  if (series_window_ == 0) {
    series_window_ = flight;
    series_rtt_ = rtt;
    unresponsive_ = 0;
  } else if (rtt < series_rtt_ - (series_rtt_ - base_) / 4) {
    series_rtt_ = rtt;
    unresponsive_ = 0;
  } else if (++unresponsive_ >= kDelayBoundUnresponsiveCuts) {
    // Not our queue: take the RTT as it is now for the base and give back what the cuts took.
    base_ = rtt;
    bound_ = series_window_;
    series_window_ = 0;
    ++rebases_;
    phase_ = Phase::kSettling;
    return;
  }
  // FAST TCP's update with the queue aimed at half the target: the window that would have kept
  // that much queue at the rate this round delivered (window / rtt).
  double keep = ratio(base_ + target() / 2, rtt);
  const double floor = rtt - base_ > base_ ? kDelayBoundMinKeep : kDelayBoundMinKeepEngaged;
  set_bound(static_cast<double>(flight) * std::max(keep, floor), mds);
  ++cuts_;
  phase_ = Phase::kSettling;
}

void DelayBound::grow(Duration rtt, uint64_t window, bool inner_free, uint32_t mds) {
  if (inner_free) {  // the inner controller is below the bound: it governs again
    bound_ = UINT64_MAX;
    return;
  }
  // Below half the target the same update is an increase, at most (base + target/2) / base:
  // 12.5 % for a target of a quarter of the base RTT. Between half and all of the target the
  // window still creeps up (Vegas's additive increase, scaled): a base RTT that grew by that
  // much after a cut would otherwise leave the link short until the next drain. The next
  // round's samples are of packets sent before the change, so the one after judges it
  // (growing every round overshoots the target).
  const double w = static_cast<double>(window);
  double creep = std::max(w + mds, w * (1.0 + kDelayBoundCreep));
  set_bound(std::max(w * ratio(base_ + target() / 2, rtt), creep), mds);
  phase_ = Phase::kSettling;
}

void DelayBound::start_drain(Duration rtt, uint64_t flight, uint32_t mds) {
  saved_bound_ = bound_;
  double bdp = static_cast<double>(flight) * ratio(base_, rtt);
  set_bound(bdp * kDelayBoundDrainGain, mds);
  series_window_ = 0;
  ++drains_;
  phase_ = Phase::kDrainSettling;
}

void DelayBound::reset() {
  *this = DelayBound{};
}

DelayBoundedController::DelayBoundedController(std::unique_ptr<CongestionController> inner,
                                               uint32_t max_datagram_size)
    : inner_(std::move(inner)), mds_(std::max(max_datagram_size, kMinMaxDatagramSize)) {}

void DelayBoundedController::on_packet_sent(Instant now, uint64_t pn, uint32_t bytes,
                                            uint64_t bytes_in_flight) {
  inner_->on_packet_sent(now, pn, bytes, bytes_in_flight);
  rule_.on_packet_sent(bytes, bytes_in_flight);
}

void DelayBoundedController::on_packets_acked(Instant now, std::span<const SentPacket> acked,
                                              const RttEstimator& rtt, uint64_t bytes_in_flight) {
  inner_->on_packets_acked(now, acked, rtt, bytes_in_flight);
  // The ACK's RTT sample is its newest packet's (RFC 9002 §5.1), ACK delay included: the
  // per-round minimum the rule takes is what filters the delay out.
  const SentPacket* newest = nullptr;
  for (const SentPacket& p : acked) {
    if (p.in_flight && (!newest || p.pn > newest->pn)) newest = &p;
  }
  if (!newest) return;
  const bool inner_free = inner_->cwnd() <= rule_.bound();
  rule_.on_ack(now, now - newest->time_sent, newest->time_sent, cwnd(), inner_free, mds_);
}

uint64_t DelayBoundedController::pacing_rate_bps(const RttEstimator& rtt) const {
  uint64_t inner_rate = inner_->pacing_rate_bps(rtt);
  if (!rule_.engaged() || !rtt.has_sample()) return inner_rate;
  double srtt = rtt_seconds(rtt.smoothed());
  double bounded = kBoundPacingGain * static_cast<double>(rule_.bound()) * 8.0 / srtt;
  return std::min(inner_rate, static_cast<uint64_t>(std::min(bounded, 1e15)));
}

void DelayBoundedController::reset() {
  inner_->reset();
  rule_.reset();
}

}  // namespace quic

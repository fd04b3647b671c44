// A delay-based upper bound on a path's congestion window (docs/cc.md "Delay bound"). A loss-based
// controller (CUBIC) fills whatever buffer sits in front of the bottleneck before it backs off; on
// a bonding tunnel that buffer is the link's own (a modem, `tc tbf`) and every packet crossing the
// link waits in it. The bound watches the queueing delay the path's own RTT samples show (the
// per-round minimum RTT over a base RTT) and caps the window so that queue stays near a target,
// in the manner of TCP Vegas and FAST TCP (Wei et al., ToN 2006) with LEDBAT's target (RFC 6817
// §2.4) scaled to the path. It only ever lowers the inner controller's window: with no queue
// building up, loss-based behaviour is unchanged.
//
// Delay a sender cannot drain is not its own (a route change, or a competing loss-based flow
// filling a shared buffer): after kDelayBoundUnresponsiveCuts cuts that did not lower the RTT the
// base is re-learned from the current RTT and the cuts undone, so the path falls back to its
// inner controller instead of starving. A standing queue would also keep a stale base from ever
// being refreshed, so every kDelayBoundBaseRefresh one round drains the queue and the base is
// taken afresh from the round after: the base RTT is at most that old.
#pragma once

#include <algorithm>
#include <memory>

#include "cc/congestion_controller.h"

namespace quic {

// LEDBAT's TARGET is at most 100 ms (RFC 6817 §3.3); a tunnel's links want far less: the
// target is a quarter of the base RTT (the delay a ping may gain), at least this much so timer
// and scheduling noise of a few milliseconds is not taken for a queue.
inline constexpr Duration kDelayBoundMinTarget = 5ms;
inline constexpr int kDelayBoundTargetDivisor = 4;
// A cut aims at half the target and keeps at least this share of the flight:
// kDelayBoundMinKeep when the queue exceeds the base RTT (slow start's overshoot, a large queue
// that must go quickly), kDelayBoundMinKeepEngaged otherwise. A deep cut holds the path's
// window full for longer than the tunnel's interactive lane waits for it (half the RTT
// difference to the next path) before it spills onto a slower path, and a stall of the machine
// or the link that lasts a round looks like a queue for one round.
inline constexpr double kDelayBoundMinKeep = 0.5;
inline constexpr double kDelayBoundMinKeepEngaged = 0.8;
// Cuts in a row that did not lower the round's RTT by a quarter of its queueing delay before the
// delay counts as somebody else's (see above).
inline constexpr int kDelayBoundUnresponsiveCuts = 2;
// A drain round comes this often while the bound holds a window the path uses: the base RTT's
// memory (a route whose RTT changed is re-learned within this and three round trips). A path
// the bound does not hold keeps its inner controller's window untouched.
inline constexpr Duration kDelayBoundBaseRefresh = 5s;
// A drain round sends this share of the estimated bandwidth-delay product: room to empty a
// standing queue of up to a third of the RTT (a route that got shorter by more takes more than
// one drain). A deeper drain holds the path's window full for longer than the tunnel's
// interactive lane waits for it (half the RTT difference to the next path) before it spills
// onto a slower path.
inline constexpr double kDelayBoundDrainGain = 0.75;
// The increase per settled round while the queue is between half the target and the target.
inline constexpr double kDelayBoundCreep = 1.0 / 32;
// Never bound the window below this many datagrams.
inline constexpr uint64_t kDelayBoundMinPackets = 4;
// A round in which the path received more than this many times the bytes it sent (and at least
// kDelayBoundReverseMinPackets datagrams' worth) carries the peer's load: our ACK-eliciting
// packets are acknowledged from behind the peer's data, so the RTT shows the queue of the other
// direction, which no window of ours drains. Such a round lets the bound go (a tunnel's upload
// once starved the server's replies: its window held at kDelayBoundMinPackets by the upload's
// queue). A path loaded both ways sends more than a quarter of what it receives and is judged
// as before; a path carrying a large download beside an upload of its own that fills its link is
// judged reverse-loaded and falls back to its inner controller. The floor was 16 datagrams
// until a tunnel server's rounds under a client's TCP upload were seen receiving 13-15
// datagrams' worth while sending 300-750 bytes: they were cut, down to kDelayBoundMinPackets,
// and its ping replies waited up to 29 ms for that window.
inline constexpr uint64_t kDelayBoundReverseRatio = 4;
inline constexpr uint64_t kDelayBoundReverseMinPackets = 4;

// The rule alone, fed per ACK; bound() is the cap (UINT64_MAX while not engaged).
class DelayBound {
 public:
  void on_packet_sent(uint32_t bytes, uint64_t bytes_in_flight);
  // A datagram of the peer's arrived on the path (what it received, headers included).
  void on_datagram_received(uint64_t bytes) { round_received_ += bytes; }
  // One ACK: `sample` is the RTT of its newest acknowledged packet, sent at `sent_time`.
  // window: the window in force (the inner controller's, capped by bound()); inner_free: the
  // inner controller is in slow start or below the bound, so releasing the bound costs nothing.
  void on_ack(Instant now, Duration sample, Instant sent_time, uint64_t window, bool inner_free,
              uint32_t mds);
  void reset();

  uint64_t bound() const { return bound_; }
  bool engaged() const { return bound_ != UINT64_MAX; }
  Duration base_rtt() const { return base_; }
  Duration target() const;
  uint64_t cuts() const { return cuts_; }
  uint64_t rebases() const { return rebases_; }
  uint64_t drains() const { return drains_; }
  uint64_t reverse_rounds() const { return reverse_rounds_; }

 private:
  // kSettling: the round after a change, whose samples are of packets sent before it.
  // kDrainSettling, kDrainObserve: the two rounds after a drain cut; the second one's minimum
  // RTT is the new base.
  enum class Phase { kNormal, kSettling, kDrainSettling, kDrainObserve };
  void end_round(Instant now, uint64_t window, bool inner_free, uint32_t mds);
  void cut(Duration rtt, uint64_t flight, uint32_t mds);
  void grow(Duration rtt, uint64_t window, bool inner_free, uint32_t mds);
  void set_bound(double bytes, uint32_t mds);
  void start_drain(Duration rtt, uint64_t flight, uint32_t mds);
  bool reverse_loaded(uint32_t mds) const;

  uint64_t bound_ = UINT64_MAX;
  Duration base_ = Duration::max();
  Instant last_drain_ = kNever;
  // The current round: it ends when a packet sent after it began is acknowledged.
  Instant round_start_ = kNever;
  Duration round_min_ = Duration::max();
  // The samples in a row, up to the last, that showed a queue past the target, and their minimum.
  Duration queued_min_ = Duration::max();
  uint32_t queued_samples_ = 0;
  uint64_t round_max_in_flight_ = 0;
  uint64_t round_sent_ = 0, round_received_ = 0;
  Phase phase_ = Phase::kNormal;
  // A series of cuts: the flight before the first and the RTT at the last that lowered it.
  uint64_t series_window_ = 0;
  Duration series_rtt_ = Duration::max();
  int unresponsive_ = 0;
  uint64_t saved_bound_ = UINT64_MAX;  // the bound before a drain: the most it returns to
  uint64_t cuts_ = 0, rebases_ = 0, drains_ = 0, reverse_rounds_ = 0;
};

// Any controller with a DelayBound over its window: cwnd() = min(inner, bound), the pacing rate
// scaled down in proportion, everything else the inner controller's. The inner controller sees
// a bounded window as unused (RFC 9002 §7.8) and does not grow behind the bound.
class DelayBoundedController final : public CongestionController {
 public:
  DelayBoundedController(std::unique_ptr<CongestionController> inner, uint32_t max_datagram_size);

  void on_packet_sent(Instant now, uint64_t pn, uint32_t bytes, uint64_t bytes_in_flight) override;
  void on_packets_acked(Instant now, std::span<const SentPacket> acked, const RttEstimator& rtt,
                        uint64_t bytes_in_flight) override;
  void on_packets_lost(Instant now, std::span<const SentPacket> lost, bool persistent_congestion,
                       uint64_t bytes_in_flight) override {
    inner_->on_packets_lost(now, lost, persistent_congestion, bytes_in_flight);
  }
  void on_ecn_ce(Instant now, Instant sent_time_of_largest) override {
    inner_->on_ecn_ce(now, sent_time_of_largest);
  }
  void on_mtu_changed(uint32_t mtu) override {
    inner_->on_mtu_changed(mtu);
    mds_ = std::max(mtu, kMinMaxDatagramSize);
  }
  void on_app_limited(uint64_t bytes_in_flight) override { inner_->on_app_limited(bytes_in_flight); }
  void on_datagram_received(uint64_t bytes) override {
    inner_->on_datagram_received(bytes);
    rule_.on_datagram_received(bytes);
  }

  uint64_t cwnd() const override { return std::min(inner_->cwnd(), rule_.bound()); }
  uint64_t ssthresh() const override { return inner_->ssthresh(); }
  uint64_t pacing_rate_bps(const RttEstimator& rtt) const override;
  bool in_slow_start() const override { return inner_->in_slow_start(); }
  bool in_recovery() const override { return inner_->in_recovery(); }
  const char* name() const override { return inner_->name(); }
  std::optional<CongestionEvent> last_event() const override { return inner_->last_event(); }
  void reset() override;

  const DelayBound& rule() const { return rule_; }
  const CongestionController& inner() const { return *inner_; }

 private:
  std::unique_ptr<CongestionController> inner_;
  DelayBound rule_;
  uint32_t mds_ = kMinMaxDatagramSize;
};

}  // namespace quic

// What NewReno and CUBIC share (RFC 9002 §7): slow start, the recovery period keyed on send
// times, the ECN-CE and persistent-congestion responses, the app-limited check and the pacing
// rate. Subclasses only decide how the window grows in congestion avoidance and how far it
// falls on a congestion event.
#pragma once

#include <optional>

#include "cc/congestion_controller.h"
#include "cc/hystart.h"

namespace quic {

class WindowController : public CongestionController {
 public:
  explicit WindowController(uint32_t max_datagram_size);

  void on_packet_sent(Instant now, uint64_t pn, uint32_t bytes, uint64_t bytes_in_flight) override;
  void on_packets_acked(Instant now, std::span<const SentPacket> acked, const RttEstimator& rtt,
                        uint64_t bytes_in_flight) override;
  void on_packets_lost(Instant now, std::span<const SentPacket> lost, bool persistent_congestion,
                       uint64_t bytes_in_flight) override;
  void on_ecn_ce(Instant now, Instant sent_time_of_largest) override;
  void on_mtu_changed(uint32_t mtu) override;

  uint64_t cwnd() const override { return cwnd_; }
  uint64_t ssthresh() const override { return ssthresh_; }
  uint64_t pacing_rate_bps(const RttEstimator& rtt) const override;
  bool in_slow_start() const override { return cwnd_ < ssthresh_; }
  bool in_recovery() const override { return recovery_start_.has_value() && !recovery_exited_; }
  std::optional<CongestionEvent> last_event() const override { return last_event_; }
  void reset() override;

  uint32_t max_datagram_size() const { return mds_; }

 protected:
  // One acknowledged in-flight packet in congestion avoidance (cwnd >= ssthresh, outside the
  // recovery period, window-limited).
  virtual void grow_in_avoidance(Instant now, const SentPacket& packet,
                                 const RttEstimator& rtt) = 0;
  // Entering a recovery period: set ssthresh_ and cwnd_.
  virtual void reduce_window(Instant now) = 0;
  // The window was collapsed to the minimum (persistent congestion) or everything reset.
  virtual void on_window_collapsed() {}
  // An ACK arrived while the sender was not using its window (RFC 7661 / RFC 9438 §5.8).
  virtual void on_app_limited_ack(Instant /*now*/) {}
  // The first window-limited ACK after an app-limited stretch.
  virtual void on_app_limited_end(Instant /*now*/) {}

  void set_cwnd(uint64_t w);

  uint32_t mds_;
  bool hystart_enabled_ = false;  // RFC 9406, chosen by the subclass
  uint64_t cwnd_;
  uint64_t ssthresh_ = UINT64_MAX;

 private:
  bool in_congestion_recovery(Instant sent_time) const {
    return recovery_start_.has_value() && sent_time <= *recovery_start_;
  }
  bool cwnd_limited(uint64_t prior_in_flight) const;
  void on_congestion_event(Instant now, Instant sent_time, CongestionEvent::Kind kind);

  std::optional<Instant> recovery_start_;
  bool recovery_exited_ = false;
  uint64_t max_in_flight_ = 0;  // largest bytes in flight since the last ACK
  bool app_limited_ = false;
  std::optional<CongestionEvent> last_event_;
  HystartPlusPlus hystart_;
};

}  // namespace quic

// The congestion-control plug-in interface: events in, congestion window and pacing rate out
// (after the idea of google/quiche's SendAlgorithmInterface). One instance per path
// (RFC 9002 §7: packets on other paths never touch it). Sans-I/O: time is always a parameter.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "common/time.h"
#include "recovery/rtt.h"
#include "recovery/sent_packet.h"

namespace quic {

// RFC 9000 §14: every path carries at least 1200-byte datagrams.
inline constexpr uint32_t kMinMaxDatagramSize = 1200;
// Guards the arithmetic, far above any real window (1 TiB).
inline constexpr uint64_t kMaxCongestionWindow = uint64_t{1} << 40;

// RFC 9002 §7.2.
constexpr uint64_t initial_window(uint32_t max_datagram_size) {
  uint64_t mds = max_datagram_size;
  uint64_t cap = mds * 2 > 14720 ? mds * 2 : 14720;
  return mds * 10 < cap ? mds * 10 : cap;
}
constexpr uint64_t minimum_window(uint32_t max_datagram_size) {
  return uint64_t{2} * max_datagram_size;
}

// What the last window reduction was, for qlog's congestion_state_updated and stats.
struct CongestionEvent {
  enum class Kind { kLoss, kEcnCe, kPersistentCongestion };
  Kind kind = Kind::kLoss;
  Instant time{};
  uint64_t cwnd_before = 0;
  uint64_t cwnd_after = 0;
};

class CongestionController {
 public:
  virtual ~CongestionController() = default;
  // An in-flight packet was sent; bytes_in_flight includes it.
  virtual void on_packet_sent(Instant now, uint64_t pn, uint32_t bytes,
                              uint64_t bytes_in_flight) = 0;
  // Newly acknowledged packets (AckResult::acked); bytes_in_flight is after removing them (and
  // any lost ones). Packets that were not in flight are ignored.
  virtual void on_packets_acked(Instant now, std::span<const SentPacket> acked,
                                const RttEstimator& rtt, uint64_t bytes_in_flight) = 0;
  // Newly lost packets; call before on_packets_acked for the same ACK (RFC 9002 §A.7).
  virtual void on_packets_lost(Instant now, std::span<const SentPacket> lost,
                               bool persistent_congestion, uint64_t bytes_in_flight) = 0;
  // The peer's ECN-CE count increased (RFC 9002 §7.1, §B.7).
  virtual void on_ecn_ce(Instant now, Instant sent_time_of_largest) = 0;
  // The path's maximum datagram size changed (PMTU discovery).
  virtual void on_mtu_changed(uint32_t mtu) = 0;
  // The sender ran out of data while the window had room (draft-cheng-iccrg-delivery-rate-
  // estimation §3.4); model-based controllers mark their rate samples app-limited until the
  // data in flight now has been delivered. bytes_in_flight: in flight at that moment.
  virtual void on_app_limited(uint64_t /*bytes_in_flight*/) {}
  // A datagram arrived on the path (its UDP payload size); the delay bound tells by it whether
  // the path's RTT carries the peer's load (delay_bound.h).
  virtual void on_datagram_received(uint64_t /*bytes*/) {}

  virtual uint64_t cwnd() const = 0;
  virtual uint64_t ssthresh() const = 0;                                // UINT64_MAX while unset
  virtual uint64_t pacing_rate_bps(const RttEstimator& rtt) const = 0;  // bits per second
  virtual bool in_slow_start() const = 0;
  virtual bool in_recovery() const = 0;
  virtual const char* name() const = 0;
  virtual std::optional<CongestionEvent> last_event() const = 0;
  // New path after migration (RFC 9000 §9.4): back to the initial window.
  virtual void reset() = 0;
};

// kLia, kOlia, kBalia: coupled multipath algorithms (cc/coupled_controller.h), whose per-path
// controllers share one CoupledGroup per connection. kBbr: BBRv3 (cc/bbr.h), uncoupled.
enum class CcAlgorithm { kNewReno, kCubic, kLia, kOlia, kBalia, kBbr };

class CoupledGroup;

// group: the connection's group for the coupled algorithms (cc/coupled.h), ignored by the
// others; null makes a coupled algorithm behave like NewReno. The group must outlive the
// controller (the controller leaves it in its destructor). delay_bound: cap the window by the
// queueing delay the path's RTT shows (cc/delay_bound.h).
std::unique_ptr<CongestionController> make_congestion_controller(CcAlgorithm algorithm,
                                                                 uint32_t max_datagram_size,
                                                                 CoupledGroup* group = nullptr,
                                                                 bool delay_bound = false);
// "newreno" / "reno", "cubic", "lia", "olia", "balia", "bbr" (case-insensitive); nullopt
// otherwise.
std::optional<CcAlgorithm> parse_cc_name(std::string_view name);

}  // namespace quic

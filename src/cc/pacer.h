// Pacing (RFC 9002 §7.7): a token bucket refilled at the controller's pacing rate, holding at
// most a small burst. The caller asks when a packet of a given size may leave; ACK-only
// packets are not paced (§7.7) and need not be reported.
#pragma once

#include <cstdint>

#include "common/time.h"

namespace quic {

// RFC 9002 §7.7 suggests limiting bursts to the initial window: 10 full-size packets. That is
// the bucket on slow paths; on fast ones it holds what the rate sends in kPacerBurstInterval, up
// to kPacerMaxBurstPackets, so one release fills a GSO batch instead of 10 datagrams (the
// per-send cost, not the wire, bounds a fast sender; Linux TCP sizes TSO bursts to ~1 ms alike).
inline constexpr uint32_t kPacerBurstPackets = 10;
inline constexpr uint32_t kPacerMaxBurstPackets = 64;
inline constexpr Duration kPacerBurstInterval = 1ms;

class Pacer {
 public:
  // `now` when the packet may be sent immediately, else the instant enough tokens accrue. An
  // empty bucket on a fast path (burst above kPacerBurstPackets) refills to the whole burst
  // before the next release, so paced packets leave in batches of one burst, not one by one.
  // rate_bps == 0 disables pacing.
  Instant next_send_time(Instant now, uint32_t bytes, uint64_t rate_bps, uint64_t cwnd,
                         uint32_t mtu) const;
  void on_packet_sent(Instant now, uint32_t bytes, uint64_t rate_bps, uint64_t cwnd, uint32_t mtu);
  // New path or long idle: the bucket starts full again.
  void reset() { has_state_ = false; }

 private:
  // Bytes the rate sends in kPacerBurstInterval, clamped to [10, 64] packets.
  static double burst(uint64_t rate_bps, uint32_t mtu);
  static double capacity(uint64_t cwnd, uint32_t mtu, uint64_t rate_bps);
  double tokens_at(Instant now, uint64_t rate_bps, double cap) const;

  bool has_state_ = false;
  double tokens_ = 0;  // bytes; negative after a packet the caller sent early
  Instant last_{};
};

}  // namespace quic

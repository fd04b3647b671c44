// Probe timeout arithmetic (RFC 9002 §6.2.1, §7.6.1), shared by every packet-number space.
#pragma once

#include <cstdint>

#include "common/time.h"
#include "recovery/rtt.h"

namespace quic {

// The PTO doubles per consecutive expiry; past this many doublings it stops growing (the idle
// timeout closes the connection long before that matters, and the shift cannot overflow).
inline constexpr uint32_t kMaxPtoBackoffShift = 16;
// RFC 9002 §7.6.1.
inline constexpr uint32_t kPersistentCongestionThreshold = 3;

// (smoothed + max(4*rttvar, kGranularity) + max_ack_delay) * 2^pto_count. include_ack_delay is
// false for Initial and Handshake, whose ACKs the peer does not delay (§6.2.1).
Duration pto_duration(const RttEstimator& rtt, Duration max_ack_delay, bool include_ack_delay,
                      uint32_t pto_count);

// RFC 9002 §7.6.1: max_ack_delay counts whatever the space of the lost packets.
Duration persistent_congestion_duration(const RttEstimator& rtt, Duration max_ack_delay);

}  // namespace quic

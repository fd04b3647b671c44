// ACK_FREQUENCY (draft-ietf-quic-ack-frequency): the sender's policy for how often the peer
// should acknowledge a path's packets, and the per-path state of both roles. The connection
// glue is conn_ack_frequency.cc; see docs/ack-frequency.md.
#pragma once

#include <cstdint>
#include <optional>

#include "common/time.h"

namespace quic {

// Sender policy. Below this many full-sized packets per congestion window the peer keeps its
// default (an ACK every second packet): with a small window every ACK clocks out new data.
inline constexpr uint64_t kAckFreqMinCwndPackets = 32;
// Above it we ask for about this many ACKs per window (§8.1: at least one per round trip, and
// enough that loss recovery and the window's growth are not starved)...
inline constexpr uint64_t kAckFreqAcksPerCwnd = 8;
// ... but never for a threshold above this: the receiver keeps a bounded number of ACK ranges
// and a loss should be reported within a few dozen packets.
inline constexpr uint64_t kMaxRequestedAckElicitingThreshold = 64;
// Requested Max Ack Delay: a quarter of the smoothed RTT (§8.1: no more than the RTT), at most
// the RFC 9000 default.
inline constexpr Duration kMaxRequestedAckDelay = 25ms;

// Receiver limit on a peer-controlled value: a request for a larger Ack-Eliciting Threshold or
// Reordering Threshold is honoured as this one (acknowledging more often is always allowed).
// It matches the ACK ranges we remember (kMaxTrackedRanges), so every packet gets reported.
inline constexpr uint64_t kMaxHonouredAckThreshold = 256;
// §4: a Requested Max Ack Delay of 2^14 ms or more is invalid (as for max_ack_delay).
inline constexpr uint64_t kMaxRequestedAckDelayUs = (uint64_t{1} << 14) * 1000 - 1;

struct AckFrequencyChoice {
  uint64_t threshold = 1;  // Ack-Eliciting Threshold
  Duration max_ack_delay{0};
  friend bool operator==(const AckFrequencyChoice&, const AckFrequencyChoice&) = default;
};

// The policy's choice for a path with this window, MTU and smoothed RTT, given the peer's
// min_ack_delay and (advertised) max_ack_delay. Small windows get the default behaviour
// (threshold 1, the peer's own max_ack_delay); the caller passes cwnd 0 in slow start.
AckFrequencyChoice choose_ack_frequency(uint64_t cwnd, uint16_t mtu, Duration srtt,
                                        Duration peer_min_ack_delay, Duration peer_max_ack_delay);
// Whether `next` differs enough from what the peer was last asked for to send a new frame:
// either value moved by a quarter or more (small jitter in cwnd or RTT sends nothing).
bool ack_frequency_changed(const AckFrequencyChoice& sent, const AckFrequencyChoice& next);

// Per-path state of both roles.
struct AckFrequencyState {
  // --- sender: what we asked the peer for on this path
  AckFrequencyChoice requested;  // valid once sent_any
  bool sent_any = false;
  bool pending = false;          // an ACK_FREQUENCY carrying `requested` is owed
  uint64_t last_seq = 0;         // sequence number of the latest one sent
  // §7: the PTO uses the largest max_ack_delay the peer may be applying: the value of our
  // latest acknowledged request (nullopt: its advertised one) and of any still in flight.
  std::optional<Duration> acked_delay;
  Duration inflight_delay{0};
  Instant next_eval{};           // the policy looks again no sooner (about once per RTT)
  // --- receiver: the largest Sequence Number processed for this path (§4: older ignored)
  std::optional<uint64_t> rx_seq;
};

}  // namespace quic

// A network path: the 4-tuple and everything measured or numbered per path. Single-path QUIC is
// path 0; multipath (draft-ietf-quic-multipath-21) adds more, each with its own 1-RTT
// packet-number space, RTT estimator, congestion controller, pacer and PMTU.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "cc/congestion_controller.h"
#include "cc/pacer.h"
#include "common/address.h"
#include "common/time.h"
#include "recovery/ack_tracker.h"
#include "recovery/loss_detector.h"
#include "recovery/rtt.h"

namespace quic {

enum class PnSpaceId : uint8_t { kInitial = 0, kHandshake = 1, kApp = 2 };

// One packet-number space: what we received (to acknowledge) and what we sent (to recover).
struct PnSpace {
  AckTracker acks;
  LossDetector loss;
  uint64_t next_pn = 0;
  uint64_t largest_acked = 0;  // valid when has_largest_acked
  bool has_largest_acked = false;
};

struct Path {
  uint64_t id = 0;
  SocketAddress local, remote;
  PnSpace app;
  RttEstimator rtt;
  std::unique_ptr<CongestionController> cc;
  Pacer pacer;
  uint16_t mtu = 1200;

  // Address validation (RFC 9000 §8) and anti-amplification accounting.
  bool validated = false;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;

  // ECN (RFC 9000 §13.4): mark ECT(0) while testing or capable; a path that bleaches or
  // black-holes marked packets, or miscounts them, falls back to Not-ECT for good.
  enum class EcnState : uint8_t { kTesting, kCapable, kFailed };
  EcnState ecn = EcnState::kTesting;
  uint64_t ecn_testing_sent = 0, ecn_testing_lost = 0;

  // DPLPMTUD (RFC 8899): the size being searched and the probe in flight.
  uint16_t pmtu_low = 1200, pmtu_high = 1200;
  uint16_t probe_size = 0;
  bool probe_in_flight = false;
  uint8_t probe_failures = 0;
};

}  // namespace quic

// A network path: the 4-tuple and everything measured or numbered per path. Single-path QUIC is
// path 0 (migration moves it); multipath (draft-ietf-quic-multipath-21) adds more, each with its
// own 1-RTT packet-number space, CIDs in both directions, RTT estimator, congestion controller,
// pacer, PMTU, validation and failure-detection state. See docs/multipath.md.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "cc/congestion_controller.h"
#include "cc/pacer.h"
#include "common/address.h"
#include "common/lazy_deque.h"
#include "common/time.h"
#include "core/ack_frequency.h"
#include "core/cid_sets.h"
#include "core/sent_frame.h"
#include "mp/path_state.h"
#include "recovery/ack_tracker.h"
#include "recovery/loss_detector.h"
#include "recovery/rtt.h"
#include "wire/frame.h"

namespace quic {

enum class PnSpaceId : uint8_t { kInitial = 0, kHandshake = 1, kApp = 2 };

// One packet-number space: what we received (to acknowledge) and what we sent (to recover).
struct PnSpace {
  AckTracker acks;
  LossDetector<SentFrames> loss;  // the sent-packet record: one per packet, with its frames
  uint64_t next_pn = 0;
  uint64_t largest_acked = 0;  // valid when has_largest_acked
  bool has_largest_acked = false;
  // Optimistic-ACK defence (RFC 9000 §21.4, conn_send.cc): the packet number to skip next;
  // 0 until the first 1-RTT packet draws it.
  uint64_t skip_pn_at = 0;
};

enum class PathState : uint8_t {
  kValidating,  // PATH_CHALLENGE outstanding: only probing frames and ACKs go out
  kActive,      // validated (the handshake path is validated by the handshake)
  kAbandoned,   // PATH_ABANDON sent or received: kept three PTOs to acknowledge stragglers
};

using PathChallengeData = std::array<uint8_t, 8>;

struct Path {
  uint64_t id = 0;
  SocketAddress local, remote;
  PathState state = PathState::kActive;
  PnSpace app;
  RttEstimator rtt;
  std::unique_ptr<CongestionController> cc;
  Pacer pacer;
  uint16_t mtu = 1200;

  // Address validation (RFC 9000 §8) and anti-amplification accounting.
  bool validated = false;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;

  // Path validation (RFC 9000 §8.2): the challenge we wait for, when to repeat it, and the
  // responses we owe on this path (a PATH_RESPONSE goes back on the path it was asked on).
  std::optional<PathChallengeData> challenge;
  bool challenge_pending = false;
  Instant challenge_deadline = kNever;  // repeat the challenge then
  Instant validation_expiry = kNever;   // give up then
  std::optional<SocketAddress> fallback_remote;  // back here if validation fails (§9.6.2)
  uint8_t challenge_tries = 0;
  LazyDeque<PathChallengeData> responses;
  // A probing packet from another address (RFC 9000 §9.1) does not move the path; its
  // challenges are answered there, under that address's own anti-amplification budget.
  // RFC 9000 §9.5: a peer CID of its own, never the one the path uses.
  struct ProbeTuple {
    SocketAddress local, remote;
    IssuedCid cid;
    LazyDeque<PathChallengeData> responses;
    uint64_t bytes_received = 0, bytes_sent = 0;
  };
  std::unique_ptr<ProbeTuple> probe;  // on the heap: rare, and a Path is per connection
  // §9.3: only the highest-numbered non-probing packet moves the path.
  std::optional<uint64_t> largest_non_probing_pn;

  // Recovery: PTO backoff and probes owed, per path (RFC 9002 §6.2; multipath-21 §5.6).
  uint32_t pto_count = 0;
  uint8_t pto_probes = 0;
  Instant last_ack_eliciting_sent = kNever;
  Instant last_ack_eliciting_received = kNever;  // 1-RTT, on this path (it defers a keepalive)

  // Multipath (docs/multipath.md): its role (backup or available, PATH_STATUS, weight) and
  // its health (suspect, failed, recovered), moved as the path manager decides.
  mp::PathRole role;
  mp::PathHealth health;
  bool abandon_pending = false;  // PATH_ABANDON to (re)send
  // A ceiling on the path's send rate (Connection::set_path_rate_cap; 0: none), applied
  // through the pacer so the link's own queue never builds behind a cap it cannot exceed.
  uint64_t rate_cap_bps = 0;
  uint64_t abandon_error = 0;
  Instant abandon_deadline = kNever;  // state goes at this time

  // The largest packet number of this path whose ACK was last repeated on another path
  // because this one went silent (conn_send.cc, silent_ack_copy_due).
  uint64_t ack_copied_largest = UINT64_MAX;

  // Per-path counters (tquic sim --json, stats).
  uint64_t packets_sent = 0, packets_lost = 0, stream_bytes_sent = 0, datagrams_sent = 0;

  // ECN (RFC 9000 §13.4): mark while testing or capable; a path that bleaches or black-holes
  // marked packets, or miscounts them, falls back to Not-ECT for good.
  enum class EcnState : uint8_t { kTesting, kCapable, kFailed };
  EcnState ecn = EcnState::kTesting;
  uint64_t ecn_testing_sent = 0, ecn_testing_lost = 0;
  EcnCounts peer_ecn;  // the peer's latest counts for this path's 1-RTT space

  // ACK_FREQUENCY (conn_ack_frequency.cc): what we asked the peer, what it asked us.
  AckFrequencyState ack_freq;

  // DPLPMTUD (RFC 8899): the size being searched and the probe in flight; when the search
  // ended below max_mtu, the time to search upwards again (PMTU_RAISE_TIMER, §5.1.1).
  uint16_t pmtu_low = 1200, pmtu_high = 1200;
  uint16_t probe_size = 0;
  bool probe_in_flight = false;
  uint8_t probe_failures = 0;
  Instant pmtu_raise_at = kNever;
  uint64_t pmtu_black_holes = 0;  // times the path fell back to the base size (§4.3)
  uint32_t pmtu_large_lost = 0;   // packets above the base size lost since one was acked

  bool usable() const { return state == PathState::kActive && validated && !health.failed(); }
  // The rate the pacer lets packets out at: the controller's, under the path's cap.
  uint64_t pacing_rate_bps() const {
    uint64_t r = cc->pacing_rate_bps(rtt);
    if (rate_cap_bps == 0) return r;
    return r == 0 ? rate_cap_bps : std::min(r, rate_cap_bps);
  }
};

}  // namespace quic

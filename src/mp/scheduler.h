// Path schedulers (multipath-21 §5.4 leaves the policy to us): which usable path carries the
// next packet of new data. The connection builds the candidate list (validated, not failed;
// backup paths only when no available path works), so a scheduler only ranks and waits.
// Retransmissions go through the same choice: a lost frame may leave on any path.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "common/time.h"

namespace quic {

enum class SchedulerKind : uint8_t {
  kMinRtt,      // lowest smoothed RTT with room in its congestion window; spill over
  kRoundRobin,  // every path with room in turn
  kWeighted,    // bytes in proportion to cwnd/RTT times a user weight, each path at least 5 %
  kEcf,         // Earliest Completion First: wait for the fast path when it finishes sooner
                // (default: it keeps a slow path such as a satellite link off the tail)
  kBlest,       // BLocking ESTimation: skip a slow path whose data would block the fast one
  kRedundant,   // new data on the fastest path with room, and a copy on every other path
  kDeadline,    // data with a deadline on a path that meets it; other data like minRTT
};

struct PathCandidate {
  uint64_t id = 0;
  Duration srtt{0};
  uint64_t cwnd = 0, in_flight = 0;
  uint16_t mtu = 1200;
  Duration min_rtt{0}, rttvar{0};  // kDeadline: one-way delay estimate and its safety margin
  bool can_send = false;  // room in the window and not held back by the pacer
  double weight = 1.0;    // user weight (kWeighted)
};

// What the next packet's most urgent deadline data needs (kDeadline): the time left until its
// deadline (negative once it passed) and how many bytes are due by then.
struct DeadlineDemand {
  Duration time_left{0};
  uint64_t bytes = 0;
};

// When `bytes` handed to path `p` now would arrive: the wait for room in its congestion
// window (the excess over cwnd drains at cwnd/srtt), their serialisation at that rate, and the
// one-way delay. The one-way delay is srtt minus half of min_rtt: the data direction carries
// the standing queue (the bulk transfer's), the ACK direction is assumed empty, so srtt/2
// would understate it. Bytes already in flight are not counted again: the queue they form is
// what srtt measures.
Duration estimated_arrival(const PathCandidate& p, uint64_t bytes);

class PathScheduler {
 public:
  virtual ~PathScheduler() = default;
  virtual SchedulerKind kind() const = 0;
  // The index (into `paths`) of the path for the next packet with new data, or nullopt to
  // send nothing now. `backlog` is the number of bytes waiting to be sent. Asking changes no
  // state (the connection also asks whether a packet bound for one path may take data);
  // on_sent() reports what really left.
  virtual std::optional<size_t> select(std::span<const PathCandidate> paths,
                                       uint64_t backlog) = 0;
  // A packet of `bytes` left on path `id` (schedulers that count bytes use it).
  virtual void on_sent(uint64_t /*id*/, size_t /*bytes*/) {}
  // Whether new STREAM data and DATAGRAM frames are also copied onto every other usable path.
  virtual bool duplicates() const { return false; }
  // Whether select() reads `backlog` (it costs a walk over the sending streams).
  virtual bool needs_backlog() const { return false; }
  // Whether the connection should ask select_deadline() for packets with deadline data.
  virtual bool deadline_aware() const { return false; }
  // The path deadline data should go on (index into `paths`). It may be unable to send now:
  // then the deadline data waits for it while other data may use other paths. nullopt: no
  // opinion (select() decides for every packet).
  virtual std::optional<size_t> select_deadline(std::span<const PathCandidate> /*paths*/,
                                                const DeadlineDemand& /*demand*/) {
    return std::nullopt;
  }
};

std::unique_ptr<PathScheduler> make_scheduler(SchedulerKind kind);
std::optional<SchedulerKind> parse_scheduler(std::string_view name);
std::string_view scheduler_name(SchedulerKind kind);

}  // namespace quic

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
  kMinRtt,      // lowest smoothed RTT with room in its congestion window; spill over (default)
  kRoundRobin,  // every path with room in turn
  kWeighted,    // bytes in proportion to cwnd/RTT times a user weight, each path at least 5 %
  kEcf,         // Earliest Completion First: wait for the fast path when it finishes sooner
  kBlest,       // BLocking ESTimation: skip a slow path whose data would block the fast one
  kRedundant,   // new data on the fastest path with room, and a copy on every other path
};

struct PathCandidate {
  uint64_t id = 0;
  Duration srtt{0};
  uint64_t cwnd = 0, in_flight = 0;
  uint16_t mtu = 1200;
  bool can_send = false;  // room in the window and not held back by the pacer
  double weight = 1.0;    // user weight (kWeighted)
};

class PathScheduler {
 public:
  virtual ~PathScheduler() = default;
  virtual SchedulerKind kind() const = 0;
  // The index (into `paths`) of the path for the next packet with new data, or nullopt to
  // send nothing now. `backlog` is the number of bytes waiting to be sent.
  virtual std::optional<size_t> select(std::span<const PathCandidate> paths,
                                       uint64_t backlog) = 0;
  // A packet of `bytes` left on path `id` (schedulers that count bytes use it).
  virtual void on_sent(uint64_t /*id*/, size_t /*bytes*/) {}
  // Whether new stream data is also copied onto every other usable path.
  virtual bool duplicates() const { return false; }
  // Whether select() reads `backlog` (it costs a walk over the sending streams).
  virtual bool needs_backlog() const { return false; }
};

std::unique_ptr<PathScheduler> make_scheduler(SchedulerKind kind);
std::optional<SchedulerKind> parse_scheduler(std::string_view name);
std::string_view scheduler_name(SchedulerKind kind);

}  // namespace quic

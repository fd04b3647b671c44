// The multipath path manager (docs/multipath.md "Path manager"): the client's wanted paths and
// their reopening with backoff, failure detection (suspect, failed, recovered, abandoned), the
// backup role and PATH_STATUS sequencing, the weight bounds, and when a path owes a keepalive.
//
// Sans-I/O and independent of the connection: the Connection owns one, hands it the figures of
// a path (PathFigures, filled from its Path) with the current time, and acts on the decisions
// it returns ("open wanted path i as path N", "suspect it", "fail it", "abandon it", "keepalive
// due at T"). Nothing here allocates per packet or calls through a virtual function.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <vector>

#include "common/address.h"
#include "common/error.h"
#include "common/time.h"
#include "mp/path_state.h"

namespace quic {
// Bounds of Connection::set_path_weight (tquicd's link.weight is 1-1000).
inline constexpr double kMinPathWeight = 0.001;
inline constexpr double kMaxPathWeight = 1000.0;
}  // namespace quic

namespace quic::mp {

// Paths the application may ask for at once (add_wanted).
inline constexpr size_t kMaxWantedPaths = 16;
// The backoff between attempts to reopen a wanted path whose path closed: 250 ms doubling per
// failure, at most 30 s; also the wait while no path ID has CIDs on both sides.
inline constexpr Duration kMinReopenBackoff = std::chrono::milliseconds(250);
inline constexpr Duration kMaxReopenBackoff = std::chrono::seconds(30);
// In an outage (in_outage) a path is probed at least this often, whatever the configured cap.
inline constexpr Duration kOutageMaxProbeInterval = std::chrono::milliseconds(100);
// Bounds of a path's own keepalive interval (Connection::set_path_keepalive, tquicd's
// link.keepalive). Faster than 10 a second is a probe flood, not a keepalive; past 10 minutes
// every NAT binding is long gone. The idle-timeout cap (keepalive_interval) comes on top.
inline constexpr Duration kMinPathKeepalive = std::chrono::milliseconds(100);
inline constexpr Duration kMaxPathKeepalive = std::chrono::seconds(600);
// Open paths with an interval of their own at once (kMaxPathsLimit: a connection has at most
// 16 paths).
inline constexpr size_t kMaxPathKeepalives = 16;

// The configuration the manager decides by (from ConnectionConfig, docs/multipath.md).
struct PathPolicy {
  Duration keep_alive{0};      // single path: PING after this long without ack-eliciting (0: off)
  Duration path_keepalive{0};  // multipath: PING on an idle validated path
  Duration max_probe_interval{0};  // cap on the probe interval of a failed path
  uint32_t suspect_rtts = 3;   // suspect after max(suspect_rtts x SRTT, suspect_min) silent
  Duration suspect_min{0};
  uint32_t fail_ptos = 3;      // failed after this many consecutive PTOs
  uint32_t recover_acks = 3;   // recovered after this many ACKs with progress in a row
  Duration abandon_after{0};   // abandon a path failed this long (0: never)
};

// What the manager reads of one path: a copy of a few of the connection's Path fields.
struct PathFigures {
  uint64_t id = 0;         // its path ID (the key of its own keepalive interval)
  bool active = false;     // open and validated once (PathState::kActive)
  bool validated = false;  // its current address is validated
  bool failed = false, suspect = false;
  bool ack_eliciting_in_flight = false;
  uint32_t pto_count = 0;  // consecutive PTOs without an ACK
  Duration srtt{0};
  Instant last_ack_eliciting_sent = kNever;
  Instant last_ack_eliciting_received = kNever;  // on this path, 1-RTT
  Instant last_progress = kNever;  // latest ACK of its packets (or its start)
  Instant failed_since = kNever;
  // usable(): active, validated and not failed (Path::usable).
  bool usable() const { return active && validated && !failed; }
};

// A 4-tuple the client wants a path on.
struct WantedPath {
  SocketAddress local, remote;
  bool backup = false;
  uint64_t path_id = kNoPath;  // the path serving it, if any
  Instant retry_at{};          // not (re)opened before this
  uint32_t failures = 0;       // paths on it that closed (the backoff's exponent)
  Duration keepalive{0};       // its own keepalive interval, for every path on it (0: none)
  static constexpr uint64_t kNoPath = UINT64_MAX;
};

class PathManager {
 public:
  explicit PathManager(const PathPolicy& policy) : policy_(policy) {}

  // --- wanted paths (client)
  Status add_wanted(const SocketAddress& local, const SocketAddress& remote, bool backup);
  size_t wanted_count() const { return wanted_.size(); }
  bool wanted_empty() const { return wanted_.empty(); }
  const WantedPath& wanted(size_t i) const { return wanted_[i]; }
  // Whether wanted path i waits to be opened now (no path serves it, its backoff is over).
  bool open_due(size_t i, Instant now) const;
  // Wanted path i is served by path `path_id` from now on (which inherits its keepalive).
  void opened(size_t i, uint64_t path_id);
  // Wanted path i found no path ID to open on: look again after the minimum backoff.
  void open_deferred(size_t i, Instant now) { wanted_[i].retry_at = now + kMinReopenBackoff; }
  // Path `path_id` closed: the wanted path it served is reopened after a growing backoff.
  void on_path_closed(uint64_t path_id, Instant now);
  // The application abandoned path `path_id`: its wanted 4-tuple is not reopened.
  void forget(uint64_t path_id);
  // The earliest retry of a wanted path without one (kNever: none).
  Instant next_open_at() const;

  // --- backup role and PATH_STATUS (multipath-21 §3.3)
  // Records the wish on the wanted path served by `path_id`; returns whether a PATH_STATUS
  // with a new sequence number is owed (the role changed, or none was ever sent). The caller
  // then moves the path's PathRole (set_local).
  bool set_backup(uint64_t path_id, bool backup, const PathRole& role);
  // Whether a path in the backup role (ours or the peer's) carries data: only while no
  // available path works.
  static bool backup_carries_data(bool available_path_works) { return !available_path_works; }

  // A path's weight under the weighted scheduler (Connection::set_path_weight).
  static bool weight_in_range(double weight) {
    return weight >= kMinPathWeight && weight <= kMaxPathWeight;  // false for NaN
  }

  // --- failure detection
  // How long a path with data outstanding may go without an ACK before it is suspected.
  Duration suspect_after(Duration srtt) const;
  // When a path is to be suspected if no ACK arrives first (kNever: not while its figures
  // stay so). The connection also requires multipath and another path that carries data.
  Instant suspect_at(const PathFigures& f) const;
  // Whether a path timing out (its pto_count just raised) is now failed; `others_work`: some
  // other path carries data.
  bool fails(const PathFigures& f, bool others_work) const {
    return !f.failed && f.pto_count >= policy_.fail_ptos && others_work;
  }
  // An ACK showed progress on a failed path: counts it, and returns whether the path has
  // recovered (PathHealth::on_progress calls it with the path's count). The hysteresis only pays while another path carries the data: a failed path
  // that answers when no other works is taken back at once.
  bool recovers(uint32_t& recover_acks, bool others_work) const {
    return ++recover_acks >= policy_.recover_acks || !others_work;
  }
  // multipath-21 §3.4: when a failed path is abandoned rather than probed for ever.
  Instant abandon_failed_at(const PathFigures& f) const;
  // An outage: every path of a multipath connection (at least two) is closing, failed or has
  // timed out fail_ptos times in a row. `paths`: a range of PathFigures.
  template <std::ranges::input_range R>
  bool in_outage(R&& paths) const {
    size_t n = 0;
    bool all_down = true;
    for (const PathFigures& f : paths) {
      ++n;
      all_down = all_down && (!f.active || f.failed || f.pto_count >= policy_.fail_ptos);
    }
    return n >= 2 && all_down;
  }
  // The longest a failed path (in an outage: any path) waits between probes.
  Duration max_probe_interval(bool outage) const;

  // --- keepalives
  // Gives open path `path_id` its own keepalive interval (kMinPathKeepalive..kMaxPathKeepalive;
  // 0: back to the connection-wide path_keepalive). The wanted path it serves keeps it too, so
  // a path reopened on that 4-tuple after a failure has it as well. The caller checks that the
  // path is open (its entry goes when on_path_closed or forget is called for it).
  Status set_keepalive(uint64_t path_id, Duration interval);
  // The interval path `path_id` wants (0: never): its own, else the connection-wide one
  // (single path: keep_alive). Uncapped.
  Duration wanted_keepalive(uint64_t path_id, bool multipath) const;
  // Whether that interval alone keeps a connection alive: PINGs at least every half
  // `idle_timeout` (0: no idle timeout, so any interval does).
  bool keeps_alive(uint64_t path_id, bool multipath, Duration idle_timeout) const;
  // The interval in force: the wanted one, at most half of `idle_timeout` (the negotiated one;
  // 0: none) unless another working path keeps the connection alive (`others_keep_alive`).
  Duration keepalive_interval(uint64_t path_id, bool multipath, Duration idle_timeout,
                              bool others_keep_alive) const;
  // When the path owes a PING (kNever: not while its figures stay so). `probe_cap` is called
  // (only for a failed path) for max_probe_interval() of the connection's current outage state;
  // `others_keep_alive` (only for an interval over half the idle timeout) for whether another
  // working path keeps the connection alive.
  template <class ProbeCap, class OthersKeepAlive>
  Instant keepalive_at(const PathFigures& f, bool multipath, Duration idle_timeout,
                       ProbeCap&& probe_cap, OthersKeepAlive&& others_keep_alive) const {
    if (!f.active || f.last_ack_eliciting_sent == kNever) return kNever;
    if (multipath && !f.validated) return kNever;
    if (multipath && f.failed) {
      return f.last_ack_eliciting_sent + failed_probe_interval(f, probe_cap());
    }
    // While a PING (or anything ack-eliciting) is unanswered, its PTO probes the path: another
    // keepalive would push that PTO back each time, and a dark path whose PTO is longer than
    // the interval (a new path without an RTT sample: about 1 s) would never time out.
    if (f.ack_eliciting_in_flight) return kNever;
    Duration d = wanted_keepalive(f.id, multipath);
    if (d.count() == 0) return kNever;
    if (!keeps_alive(f.id, multipath, idle_timeout) && !(multipath && others_keep_alive())) {
      d = idle_timeout / 2;
    }
    // The peer's PING proves the path as well as ours (our ACK answers it on this path), so
    // both ends of an idle path do not each PING it: the interval runs from the later of the
    // two, and from the peer's an SRTT longer, so that a peer with the same interval keeps
    // PINGing first and we stop.
    if (f.last_ack_eliciting_received != kNever &&
        f.last_ack_eliciting_received > f.last_ack_eliciting_sent) {
      return f.last_ack_eliciting_received + d + f.srtt;
    }
    return f.last_ack_eliciting_sent + d;
  }

 private:
  struct PathKeepalive {
    uint64_t path_id;
    Duration interval;
  };

  Duration failed_probe_interval(const PathFigures& f, Duration cap) const;
  Status set_path_entry(uint64_t path_id, Duration interval);
  void erase_path_entry(uint64_t path_id);

  PathPolicy policy_;
  std::vector<WantedPath> wanted_;
  std::vector<PathKeepalive> keepalives_;  // open paths with their own interval
};

}  // namespace quic::mp

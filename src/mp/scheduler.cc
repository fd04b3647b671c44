#include "mp/scheduler.h"

#include <algorithm>
#include <array>
#include <map>

namespace quic {

namespace {

// Index of the lowest-RTT path (optionally only those that can send).
std::optional<size_t> fastest(std::span<const PathCandidate> paths, bool need_room) {
  std::optional<size_t> best;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (need_room && !paths[i].can_send) continue;
    if (!best || paths[i].srtt < paths[*best].srtt) best = i;
  }
  return best;
}

class MinRtt final : public PathScheduler {
 public:
  SchedulerKind kind() const override { return SchedulerKind::kMinRtt; }
  std::optional<size_t> select(std::span<const PathCandidate> paths, uint64_t) override {
    return fastest(paths, true);
  }
};

class RoundRobin final : public PathScheduler {
 public:
  SchedulerKind kind() const override { return SchedulerKind::kRoundRobin; }
  std::optional<size_t> select(std::span<const PathCandidate> paths, uint64_t) override {
    // The first path with room whose ID comes after the last one used, wrapping around.
    std::optional<size_t> first, after;
    for (size_t i = 0; i < paths.size(); ++i) {
      if (!paths[i].can_send) continue;
      if (!first || paths[i].id < paths[*first].id) first = i;
      if (paths[i].id > last_ && (!after || paths[i].id < paths[*after].id)) after = i;
    }
    return after ? after : first;
  }
  // The turn passes when a packet really left (select() may be asked without a send).
  void on_sent(uint64_t id, size_t) override { last_ = id; }

 private:
  uint64_t last_ = UINT64_MAX;
};

// Deficit counting: each path is owed bytes in proportion to its share; the path with room
// that is furthest behind its share goes next.
class Weighted final : public PathScheduler {
 public:
  static constexpr double kMinShare = 0.05;
  SchedulerKind kind() const override { return SchedulerKind::kWeighted; }
  std::optional<size_t> select(std::span<const PathCandidate> paths, uint64_t) override {
    double total = 0;
    for (const auto& p : paths) total += rate(p);
    if (total <= 0) return fastest(paths, true);
    uint64_t sent_total = 0;
    for (const auto& p : paths) sent_total += sent_[p.id];
    std::optional<size_t> best;
    double best_lag = 0;
    // Every path gets the floor; the rest is split by rate (equal shares past 20 paths).
    double n = static_cast<double>(paths.size());
    double floor = std::min(kMinShare, 1.0 / n);
    for (size_t i = 0; i < paths.size(); ++i) {
      if (!paths[i].can_send) continue;
      double share = floor + (1 - n * floor) * rate(paths[i]) / total;
      double lag = share * static_cast<double>(sent_total + 1) - static_cast<double>(sent_[paths[i].id]);
      if (!best || lag > best_lag) {
        best = i;
        best_lag = lag;
      }
    }
    return best;
  }
  void on_sent(uint64_t id, size_t bytes) override { sent_[id] += bytes; }

 private:
  static double rate(const PathCandidate& p) {
    double rtt = std::max<double>(static_cast<double>(p.srtt.count()), 1e3);
    return static_cast<double>(p.cwnd) / rtt * p.weight;
  }
  std::map<uint64_t, uint64_t> sent_;
};

// ECF (Lim et al., CoNEXT 2017): when the fastest path is out of window, a slower path is used
// only if the backlog could not finish sooner by waiting for the fast path:
// wait if (1 + backlog/cwnd_f) * rtt_f < (1 + delta) * rtt_s.
class Ecf final : public PathScheduler {
 public:
  static constexpr double kDelta = 0.25;
  SchedulerKind kind() const override { return SchedulerKind::kEcf; }
  bool needs_backlog() const override { return true; }
  std::optional<size_t> select(std::span<const PathCandidate> paths, uint64_t backlog) override {
    auto f = fastest(paths, false);
    if (!f) return std::nullopt;
    if (paths[*f].can_send) return f;
    auto s = fastest(paths, true);
    if (!s) return std::nullopt;
    double rtt_f = static_cast<double>(paths[*f].srtt.count());
    double rtt_s = static_cast<double>(paths[*s].srtt.count());
    double cwnd_f = std::max<double>(static_cast<double>(paths[*f].cwnd), 1);
    double wait_finish = (1 + static_cast<double>(backlog) / cwnd_f) * rtt_f;
    if (wait_finish < (1 + kDelta) * rtt_s) return std::nullopt;
    return s;
  }
};

// BLEST (Ferlin et al., IFIP Networking 2016): a packet on the slow path occupies the
// receiver's reordering space for rtt_s; in that time the fast path could send about
// cwnd_f * rtt_s / rtt_f bytes. Use the slow path only if that much is not already waiting
// (lambda scales the estimate).
class Blest final : public PathScheduler {
 public:
  static constexpr double kLambda = 1.0;
  SchedulerKind kind() const override { return SchedulerKind::kBlest; }
  bool needs_backlog() const override { return true; }
  std::optional<size_t> select(std::span<const PathCandidate> paths, uint64_t backlog) override {
    auto f = fastest(paths, false);
    if (!f) return std::nullopt;
    if (paths[*f].can_send) return f;
    auto s = fastest(paths, true);
    if (!s) return std::nullopt;
    double ratio = static_cast<double>(paths[*s].srtt.count()) /
                   std::max<double>(static_cast<double>(paths[*f].srtt.count()), 1);
    double fast_bytes = static_cast<double>(paths[*f].cwnd) * (ratio - 1);
    if (static_cast<double>(backlog) < kLambda * fast_bytes) return std::nullopt;
    return s;
  }
};

// Redundant: the first copy goes like minRTT; the connection sends a copy of every new STREAM
// frame and every DATAGRAM frame on each other usable path as its window allows, so the
// earliest arrival wins and a path failure costs nothing that another path did not carry.
class Redundant final : public PathScheduler {
 public:
  SchedulerKind kind() const override { return SchedulerKind::kRedundant; }
  std::optional<size_t> select(std::span<const PathCandidate> paths, uint64_t) override {
    return fastest(paths, true);
  }
  bool duplicates() const override { return true; }
};

// Deadline-aware (issue #6): a packet with deadline data goes on a path whose estimated
// arrival (estimated_arrival) plus a margin of one rttvar meets the deadline. Among those it
// prefers one that can send now (nothing waits), then the one with the most spare window:
// the deadline is a constraint, not something to minimise, so the data should cost the path
// it lands on the least (no queueing behind its own window, nothing pushed back), and the
// fastest path is not drained of room for bulk data that merely prefers it. When no path
// meets the deadline, the earliest estimated arrival wins, even if that path must be waited
// for (late data is still worth the least lateness). Data without a deadline goes like minRTT.
class Deadline final : public PathScheduler {
 public:
  SchedulerKind kind() const override { return SchedulerKind::kDeadline; }
  std::optional<size_t> select(std::span<const PathCandidate> paths, uint64_t) override {
    return fastest(paths, true);
  }
  bool deadline_aware() const override { return true; }
  std::optional<size_t> select_deadline(std::span<const PathCandidate> paths,
                                        const DeadlineDemand& demand) override {
    std::optional<size_t> best_meeting, earliest;
    Duration earliest_at{0};
    for (size_t i = 0; i < paths.size(); ++i) {
      const PathCandidate& p = paths[i];
      Duration at = estimated_arrival(p, demand.bytes);
      if (!earliest || at < earliest_at) {
        earliest = i;
        earliest_at = at;
      }
      if (at + p.rttvar > demand.time_left) continue;
      if (!best_meeting || better(p, paths[*best_meeting], demand.bytes)) best_meeting = i;
    }
    return best_meeting ? best_meeting : earliest;
  }

 private:
  static uint64_t spare(const PathCandidate& p) {
    return p.cwnd > p.in_flight ? p.cwnd - p.in_flight : 0;
  }
  static bool better(const PathCandidate& a, const PathCandidate& b, uint64_t bytes) {
    if (a.can_send != b.can_send) return a.can_send;
    if (spare(a) != spare(b)) return spare(a) > spare(b);
    return estimated_arrival(a, bytes) < estimated_arrival(b, bytes);
  }
};

constexpr std::array<std::pair<SchedulerKind, std::string_view>, 7> kNames{{
    {SchedulerKind::kMinRtt, "minrtt"},
    {SchedulerKind::kRoundRobin, "roundrobin"},
    {SchedulerKind::kWeighted, "weighted"},
    {SchedulerKind::kEcf, "ecf"},
    {SchedulerKind::kBlest, "blest"},
    {SchedulerKind::kRedundant, "redundant"},
    {SchedulerKind::kDeadline, "deadline"},
}};

}  // namespace

Duration estimated_arrival(const PathCandidate& p, uint64_t bytes) {
  using Secs = std::chrono::duration<double>;
  double srtt = std::max(Secs(p.srtt).count(), 1e-3);
  double rate = std::max<double>(static_cast<double>(p.cwnd), p.mtu) / srtt;  // bytes/s
  uint64_t end = p.in_flight + bytes;
  double wait = end > p.cwnd ? static_cast<double>(end - p.cwnd) / rate : 0;
  double serialise = static_cast<double>(bytes) / rate;
  double min_rtt = Secs(p.min_rtt).count();
  if (min_rtt <= 0 || min_rtt > srtt) min_rtt = srtt;
  double one_way = srtt - min_rtt / 2;
  return std::chrono::duration_cast<Duration>(Secs(wait + serialise + one_way));
}

std::unique_ptr<PathScheduler> make_scheduler(SchedulerKind kind) {
  switch (kind) {
    case SchedulerKind::kMinRtt: return std::make_unique<MinRtt>();
    case SchedulerKind::kRoundRobin: return std::make_unique<RoundRobin>();
    case SchedulerKind::kWeighted: return std::make_unique<Weighted>();
    case SchedulerKind::kEcf: return std::make_unique<Ecf>();
    case SchedulerKind::kBlest: return std::make_unique<Blest>();
    case SchedulerKind::kRedundant: return std::make_unique<Redundant>();
    case SchedulerKind::kDeadline: return std::make_unique<Deadline>();
  }
  return std::make_unique<MinRtt>();
}

std::optional<SchedulerKind> parse_scheduler(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

std::string_view scheduler_name(SchedulerKind kind) {
  for (const auto& [k, n] : kNames) {
    if (k == kind) return n;
  }
  return "minrtt";
}

}  // namespace quic

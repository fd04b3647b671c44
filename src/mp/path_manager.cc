// The multipath path manager (path_manager.h, docs/multipath.md "Path manager").
#include "mp/path_manager.h"

#include <algorithm>

namespace quic::mp {

Status PathManager::add_wanted(const SocketAddress& local, const SocketAddress& remote,
                               bool backup) {
  if (wanted_.size() >= kMaxWantedPaths) return fail(err::kInternalError, "too many paths");
  for (const auto& w : wanted_) {
    if (w.local == local && w.remote == remote) return fail(err::kInternalError, "path exists");
  }
  wanted_.push_back(WantedPath{local, remote, backup});
  return {};
}

bool PathManager::open_due(size_t i, Instant now) const {
  const WantedPath& w = wanted_[i];
  return w.path_id == WantedPath::kNoPath && now >= w.retry_at;
}

void PathManager::on_path_closed(uint64_t path_id, Instant now) {
  for (auto& w : wanted_) {
    if (w.path_id != path_id) continue;
    w.path_id = WantedPath::kNoPath;
    ++w.failures;
    Duration backoff = kMinReopenBackoff * (1u << std::min<uint32_t>(w.failures, 7));
    w.retry_at = now + std::min(backoff, kMaxReopenBackoff);
  }
}

void PathManager::forget(uint64_t path_id) {
  std::erase_if(wanted_, [&](const WantedPath& w) { return w.path_id == path_id; });
}

Instant PathManager::next_open_at() const {
  Instant t = kNever;
  for (const auto& w : wanted_) {
    if (w.path_id == WantedPath::kNoPath) t = std::min(t, w.retry_at);
  }
  return t;
}

bool PathManager::set_backup(uint64_t path_id, bool backup, bool current, uint64_t status_seq) {
  for (auto& w : wanted_) {
    if (w.path_id == path_id) w.backup = backup;
  }
  return !(current == backup && status_seq > 0);
}

Duration PathManager::suspect_after(Duration srtt) const {
  return std::max<Duration>(policy_.suspect_rtts * srtt, policy_.suspect_min);
}

Instant PathManager::suspect_at(const PathFigures& f) const {
  if (!f.usable() || f.suspect || !f.ack_eliciting_in_flight || f.last_progress == kNever) {
    return kNever;
  }
  return f.last_progress + suspect_after(f.srtt);
}

Instant PathManager::abandon_failed_at(const PathFigures& f) const {
  if (!f.failed || !f.active || policy_.abandon_after.count() == 0) return kNever;
  return f.failed_since + policy_.abandon_after;
}

// In an outage each path sends a probe (one datagram) at least every 100 ms: about 12 kB/s per
// path while it lasts, until a path returns, the idle timeout or abandon_after. Only probes can
// see a link return then, and the time from its return to the next probe is time the
// application waits too (both-die: delivery resumes within the surviving SRTT + 100 ms).
Duration PathManager::max_probe_interval(bool outage) const {
  return outage ? std::min(policy_.max_probe_interval, kOutageMaxProbeInterval)
                : policy_.max_probe_interval;
}

// A failed path is probed every SRTT, backing off with each unanswered probe up to the cap, so
// its return is seen soon and confirmed by consecutive ACKs.
Duration PathManager::failed_probe_interval(const PathFigures& f, Duration cap) const {
  Duration base = std::max<Duration>(f.srtt, std::chrono::milliseconds(10));
  return std::min<Duration>(base * (1u << std::min<uint32_t>(f.pto_count, 10)), cap);
}

}  // namespace quic::mp

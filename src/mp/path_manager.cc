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

void PathManager::opened(size_t i, uint64_t path_id) {
  WantedPath& w = wanted_[i];
  w.path_id = path_id;
  // Cannot fail: entries exist only for open paths (on_path_closed erases them), and a
  // connection has at most kMaxPathKeepalives of those.
  if (w.keepalive.count() != 0) (void)set_path_entry(path_id, w.keepalive);
}

void PathManager::on_path_closed(uint64_t path_id, Instant now) {
  erase_path_entry(path_id);
  for (auto& w : wanted_) {
    if (w.path_id != path_id) continue;
    w.path_id = WantedPath::kNoPath;
    ++w.failures;
    Duration backoff = kMinReopenBackoff * (1u << std::min<uint32_t>(w.failures, 7));
    w.retry_at = now + std::min(backoff, kMaxReopenBackoff);
  }
}

void PathManager::forget(uint64_t path_id) {
  erase_path_entry(path_id);
  std::erase_if(wanted_, [&](const WantedPath& w) { return w.path_id == path_id; });
}

Instant PathManager::next_open_at() const {
  Instant t = kNever;
  for (const auto& w : wanted_) {
    if (w.path_id == WantedPath::kNoPath) t = std::min(t, w.retry_at);
  }
  return t;
}

bool PathManager::set_backup(uint64_t path_id, bool backup, const PathRole& role) {
  for (auto& w : wanted_) {
    if (w.path_id == path_id) w.backup = backup;
  }
  return !(role.local_backup() == backup && role.status_seq() > 0);
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

Status PathManager::set_keepalive(uint64_t path_id, Duration interval) {
  if (interval.count() != 0 && (interval < kMinPathKeepalive || interval > kMaxPathKeepalive)) {
    return fail(err::kInternalError, "path keepalive out of range (100 ms to 600 s, or 0)");
  }
  if (Status st = set_path_entry(path_id, interval); !st) return st;
  for (auto& w : wanted_) {
    if (w.path_id == path_id) w.keepalive = interval;
  }
  return {};
}

Status PathManager::set_path_entry(uint64_t path_id, Duration interval) {
  if (interval.count() == 0) {
    erase_path_entry(path_id);
    return {};
  }
  for (auto& e : keepalives_) {
    if (e.path_id == path_id) {
      e.interval = interval;
      return {};
    }
  }
  if (keepalives_.size() >= kMaxPathKeepalives) {
    return fail(err::kInternalError, "too many paths with their own keepalive");
  }
  keepalives_.push_back({path_id, interval});
  return {};
}

void PathManager::erase_path_entry(uint64_t path_id) {
  std::erase_if(keepalives_, [&](const PathKeepalive& e) { return e.path_id == path_id; });
}

Duration PathManager::wanted_keepalive(uint64_t path_id, bool multipath) const {
  if (!multipath) return policy_.keep_alive;
  for (const auto& e : keepalives_) {
    if (e.path_id == path_id) return e.interval;
  }
  return policy_.path_keepalive;
}

bool PathManager::keeps_alive(uint64_t path_id, bool multipath, Duration idle_timeout) const {
  Duration d = wanted_keepalive(path_id, multipath);
  return d.count() != 0 && (idle_timeout.count() == 0 || d <= idle_timeout / 2);
}

// The cap: the negotiated idle timeout is the one liveness figure both ends agree on. A
// connection silent for that long ends (RFC 9000 §10.1; multipath-21 "Idle Timeout and
// Keep-Alives": the idle timeout applies when no packet arrives on any path). A PING at half
// the idle timeout leaves the other half for it to be lost, detected (about a PTO) and re-sent,
// so one lost keepalive never ends the connection; at the full idle timeout any loss would.
// The draft defines no per-path idle timeout, so a path whose connection another path keeps
// alive (a metered backup beside a working primary) may PING as rarely as it wants; it is
// capped again the moment no other path keeps the connection alive.
Duration PathManager::keepalive_interval(uint64_t path_id, bool multipath, Duration idle_timeout,
                                         bool others_keep_alive) const {
  Duration d = wanted_keepalive(path_id, multipath);
  if (d.count() == 0 || keeps_alive(path_id, multipath, idle_timeout)) return d;
  return multipath && others_keep_alive ? d : idle_timeout / 2;
}

}  // namespace quic::mp

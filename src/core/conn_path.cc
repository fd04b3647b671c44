// Connection: paths. Path validation (RFC 9000 §8.2), migration and NAT rebinding (§9), and
// multipath path management (draft-ietf-quic-multipath-21 §3): opening paths from the client's
// wish list, per-path connection IDs, PATH_STATUS, PATH_ABANDON, MAX_PATH_ID, the scheduler's
// choice of path, and failure detection with re-injection. See docs/multipath.md.
#include <algorithm>
#include <ranges>

#include "core/connection.h"
#include "recovery/pto.h"

namespace quic {

namespace {

// Probe datagrams on a new path are padded so the path is checked for the 1200-byte minimum
// MTU at the same time (RFC 9000 §8.2.1, multipath-21 §3.1).
constexpr Duration kMaxChallengeInterval = std::chrono::seconds(1);
// CIDs we issue per additional path (path 0 gets up to the peer's active_connection_id_limit).
constexpr uint64_t kCidsPerExtraPath = 2;

}  // namespace

mp::PathPolicy Connection::path_policy(const ConnectionConfig& config) {
  mp::PathPolicy p;
  p.keep_alive = config.keep_alive;
  p.path_keepalive = config.path_keepalive;
  p.max_probe_interval = config.path_max_probe_interval;
  p.suspect_rtts = config.path_suspect_rtts;
  p.suspect_min = config.path_suspect_min;
  p.fail_ptos = config.path_fail_ptos;
  p.recover_acks = config.path_recover_acks;
  p.abandon_after = config.path_abandon_after;
  return p;
}

mp::PathFigures Connection::figures(const Path& path) {
  mp::PathFigures f;
  f.id = path.id;
  f.active = path.state == PathState::kActive;
  f.validated = path.validated;
  f.failed = path.health.failed();
  f.suspect = path.health.suspect();
  f.ack_eliciting_in_flight = path.app.loss.has_ack_eliciting_in_flight();
  f.pto_count = path.pto_count;
  f.srtt = path.rtt.smoothed();
  f.last_ack_eliciting_sent = path.last_ack_eliciting_sent;
  f.last_ack_eliciting_received = path.last_ack_eliciting_received;
  f.last_progress = path.health.last_progress();
  f.failed_since = path.health.failed_since();
  return f;
}

Path* Connection::path_by_id(uint64_t id) {
  for (auto& p : paths_) {
    if (p->id == id) return p.get();
  }
  return nullptr;
}

const Path* Connection::find_path(uint64_t id) const {
  for (const auto& p : paths_) {
    if (p->id == id) return p.get();
  }
  return nullptr;
}

const ConnectionId& Connection::dcid_of(const Path& path) const {
  auto it = peer_cids_.find(path.id);
  if (it == peer_cids_.end() || !it->second.has_current()) return peer_cid_;
  return it->second.current();
}

// --- path validation (RFC 9000 §8.2)

void Connection::start_validation(Instant now, Path& path) {
  PathChallengeData data;
  random_.fill(MutBytes(data.data(), data.size()));
  path.challenge = data;
  path.challenge_pending = true;
  path.challenge_tries = 0;
  path.challenge_deadline = now;  // set when the challenge leaves
  path.validation_expiry = now + config_.path_validation_timeout;
}

void Connection::on_path_challenge(Path& path, const PathChallengeData& data) {
  ++stats_.path_challenges_received;
  // Bounded: a flood of challenges keeps only the newest responses.
  if (path.responses.size() >= kMaxPendingPathResponses) path.responses.pop_front();
  path.responses.push_back(data);
}

void Connection::on_path_response(Instant now, Path& rx_path, const PathChallengeData& data) {
  // §8.2.2: a response received on any path validates the path the challenge was sent on.
  for (auto& p : paths_) {
    if (p->challenge && *p->challenge == data) {
      on_path_validated(now, *p);
      return;
    }
  }
  (void)rx_path;  // an unsolicited or late response is ignored (§8.2.3)
}

void Connection::on_path_validated(Instant now, Path& path) {
  path.fallback_remote.reset();
  path.challenge.reset();
  path.challenge_pending = false;
  path.challenge_deadline = kNever;
  path.validation_expiry = kNever;
  bool was_new = path.state == PathState::kValidating;
  path.validated = true;
  if (was_new) {
    path.state = PathState::kActive;
    path.health.start_silence(now);
    ++stats_.paths_validated;
    path.role.announce_if_backup();
    push_event({EventKind::kPathValidated, path.id});
  }
}

// --- migration (RFC 9000 §9)

void Connection::on_new_peer_address(Instant now, RecvContext& rx, Path& path,
                                     const SocketAddress& local,
                                     const SocketAddress& remote, uint64_t pn, bool non_probing,
                                     size_t new_responses, size_t datagram_size) {
  new_responses = std::min(new_responses, path.responses.size());
  if (non_probing) {
    // §9.3: only the highest-numbered non-probing packet moves the path (a reordered older
    // one from the old address must not move it back).
    if (path.largest_non_probing_pn && pn < *path.largest_non_probing_pn) return;
    path.largest_non_probing_pn = pn;
    if (path.probe && path.probe->local == local && path.probe->remote == remote) {
      // The peer moved to the address it probed: adopt the CID used there (§9.5).
      std::vector<uint64_t> old{peer_cids_[path.id].current_seq()};
      peer_cids_[path.id].exchange_current(path.probe->cid);
      retire_peer_cids(path.id, old);
      for (auto& r : path.probe->responses) path.responses.push_back(r);
      path.probe.reset();
    } else {
      drop_probe(path);
    }
    on_peer_address_change(now, path, local, remote);
    return;
  }
  // §9.1: a probing packet does not move the path; its challenges are answered from where they
  // came, with a CID not used towards any other address (§9.5).
  if (!path.probe || path.probe->local != local || path.probe->remote != remote) {
    drop_probe(path);
    auto cid = peer_cids_[path.id].has_current() ? peer_cids_[path.id].take_spare() : std::nullopt;
    if (!cid) {
      // No CID to answer with (§9.5): the challenges stay unanswered.
      path.responses.erase(path.responses.end() - static_cast<std::ptrdiff_t>(new_responses),
                           path.responses.end());
      rx.path = nullptr;
      return;
    }
    path.probe =
        std::make_unique<Path::ProbeTuple>(Path::ProbeTuple{local, remote, *cid, {}, 0, 0});
  }
  Path::ProbeTuple& probe = *path.probe;
  for (auto it = path.responses.end() - static_cast<std::ptrdiff_t>(new_responses);
       it != path.responses.end(); ++it) {
    if (probe.responses.size() >= kMaxPendingPathResponses) probe.responses.pop_front();
    probe.responses.push_back(*it);
  }
  path.responses.erase(path.responses.end() - static_cast<std::ptrdiff_t>(new_responses),
                       path.responses.end());
  probe.bytes_received += datagram_size;
  rx.path = nullptr;  // the datagram counts towards the probing address's budget only
}

void Connection::drop_probe(Path& path) {
  if (!path.probe) return;
  retire_peer_cids(path.id, {path.probe->cid.seq});
  path.probe.reset();
}

std::optional<Transmit> Connection::transmit_probe_responses(Instant now, MutBytes buffer) {
  for (auto& pp : paths_) {
    Path& p = *pp;
    if (!p.probe || p.probe->responses.empty()) continue;
    // The path's own state stands aside for one datagram to the probing address: its
    // address, CID, responses and anti-amplification budget (§8.1: 3x what came from there).
    Path::ProbeTuple& pr = *p.probe;
    auto swap_in = [&] {
      std::swap(p.local, pr.local);
      std::swap(p.remote, pr.remote);
      std::swap(p.responses, pr.responses);
      std::swap(p.bytes_received, pr.bytes_received);
      std::swap(p.bytes_sent, pr.bytes_sent);
      peer_cids_[p.id].exchange_current(pr.cid);
    };
    swap_in();
    const bool validated = std::exchange(p.validated, false);
    const bool challenge = std::exchange(p.challenge_pending, false);
    const uint8_t probes = std::exchange(p.pto_probes, 0);
    auto t = transmit_on(now, p, buffer, false, true);
    p.validated = validated;
    p.challenge_pending = challenge;
    p.pto_probes = probes;
    swap_in();  // swapping again restores both
    if (!t) {
      pr.responses.clear();  // amplification-blocked: the peer repeats its challenge
      continue;
    }
    return t;
  }
  return std::nullopt;
}

// A path on a new address starts its figures afresh (RFC 9000 §9.4: congestion controller and
// RTT estimate; §14.2: the PMTU; §13.4.2: ECN validation), its controller in the coupled group
// like every other path's.
void Connection::restart_path_figures(Path& path) {
  path.cc = new_path_controller();
  path.rtt = RttEstimator{};
  path.pacer = Pacer{};
  path.mtu = config_.initial_mtu;
  path.pmtu_low = config_.initial_mtu;
  path.pmtu_high = config_.max_mtu;
  path.probe_in_flight = false;
  path.ecn = Path::EcnState::kTesting;
  path.ecn_testing_sent = path.ecn_testing_lost = 0;
}

void Connection::on_peer_address_change(Instant now, Path& path, const SocketAddress& local,
                                        const SocketAddress& remote) {
  // §9.4: a change of port only (typical NAT rebinding) keeps the congestion state; a new
  // address starts from scratch.
  bool port_only = path.remote.same_ip(remote) && path.local == local;
  path.local = local;
  path.remote = remote;
  ++stats_.migrations;
  if (!port_only) {
    restart_path_figures(path);
  }
  // The new address must be validated (§9.3), and until it is, the server may send at most
  // three times what it received from it (§9.3.1, §8.1).
  path.validated = false;
  path.bytes_received = 0;
  path.bytes_sent = 0;
  start_validation(now, path);
}

Status Connection::migrate(const SocketAddress& new_local) {
  if (side_ != Side::kClient) return fail(err::kInternalError, "only a client migrates");
  if (!handshake_confirmed_) return fail(err::kInternalError, "handshake not confirmed");
  if (peer_params_.disable_active_migration) {
    return fail(err::kInternalError, "the server disabled active migration");
  }
  Path* path = path_by_id(0);
  if (path == nullptr || path->state == PathState::kAbandoned) {
    return fail(err::kInternalError, "no path 0 to migrate");
  }
  // §9.5: a new local address needs a CID the server has not seen on the old one.
  std::vector<uint64_t> retire;
  if (!peer_cids_[0].rotate(retire)) return fail(err::kInternalError, "no spare connection ID");
  retire_peer_cids(0, retire);
  path->local = new_local;
  restart_path_figures(*path);
  ++stats_.migrations;
  start_validation(now_, *path);
  // The packets in flight on the old address are probably gone; send their data again.
  reinject(*path);
  return {};
}

// --- preferred address (RFC 9000 §9.6)

Status Connection::on_preferred_address(const PreferredAddress& pa) {
  // §18.2: a server with zero-length CIDs must not offer one; the CID must be usable.
  if (pa.cid.len == 0 || peer_cid_.len == 0) {
    return fail(err::kTransportParameterError, "preferred_address with a zero-length CID");
  }
  std::vector<uint64_t> retire;
  if (auto st = peer_cids_[0].on_new(1, pa.cid, pa.reset_token, 0,
                                     config_.active_connection_id_limit, retire);
      !st) {
    return st;
  }
  if (!config_.use_preferred_address) return {};
  const Path& p0 = *paths_.front();
  SocketAddress a;
  if (p0.local.v6 && pa.ipv6_port != 0) {
    a.v6 = true;
    a.ip = pa.ipv6;
    a.port = pa.ipv6_port;
  } else if (!p0.local.v6 && pa.ipv4_port != 0) {
    std::copy_n(pa.ipv4.begin(), 4, a.ip.begin());
    a.port = pa.ipv4_port;
  } else {
    return {};  // no address of our family: stay
  }
  if (a != p0.remote) peer_preferred_ = a;
  return {};
}

// §9.6.1: after confirmation the client probes the preferred address with the CID that came
// with it and moves there; if the address does not validate it goes back (§9.6.2).
void Connection::migrate_to_preferred_address() {
  if (!peer_preferred_) return;
  Path* path = path_by_id(0);
  if (path == nullptr || path->state != PathState::kActive) return;
  std::vector<uint64_t> retire;
  if (!peer_cids_[0].rotate(retire)) return;
  retire_peer_cids(0, retire);
  path->fallback_remote = path->remote;
  path->remote = *peer_preferred_;
  peer_preferred_.reset();
  restart_path_figures(*path);
  ++stats_.migrations;
  stats_.preferred_address_used = true;
  start_validation(now_, *path);
  reinject(*path);
}

// --- multipath: opening, status, abandon

Status Connection::add_path(const SocketAddress& local, const SocketAddress& remote,
                            bool backup) {
  if (side_ != Side::kClient) return fail(err::kInternalError, "only a client opens paths");
  if (!config_.multipath) return fail(err::kInternalError, "multipath is not enabled");
  return path_manager_.add_wanted(local, remote, backup);
}

void Connection::open_wanted_paths(Instant now) {
  if (side_ != Side::kClient || !multipath_ || !handshake_confirmed_) return;
  for (size_t i = 0; i < path_manager_.wanted_count(); ++i) {
    if (!path_manager_.open_due(i, now)) continue;
    const mp::WantedPath& w = path_manager_.wanted(i);
    // The handshake path already serves this 4-tuple.
    if (const Path* p0 = find_path(0);
        p0 && p0->state != PathState::kAbandoned && p0->local == w.local && p0->remote == w.remote) {
      path_manager_.opened(i, 0);
      if (w.backup) set_path_backup(0, true);
      continue;
    }
    uint64_t limit = std::min(local_max_path_id_, peer_max_path_id_);
    uint64_t id = next_path_id_;
    while (id <= limit && (peer_cids_[id].spares() == 0 || local_cids_[id].active().empty())) {
      ++id;
    }
    if (id > limit) {
      // No CIDs for an unused path ID yet: look again later (NEW_CONNECTION_ID or MAX_PATH_ID
      // may bring some), without spinning on a timer in the past.
      path_manager_.open_deferred(i, now);
      continue;
    }
    Path& path = init_path(id, w.local, w.remote);
    peer_cids_[id].take_first();
    path.state = PathState::kValidating;
    path.role.open_as(w.backup);
    next_path_id_ = id + 1;
    path_manager_.opened(i, id);
    ++stats_.paths_opened;
    start_validation(now, path);
  }
}

Path* Connection::accept_new_path(Instant now, uint64_t id, const SocketAddress& local,
                                  const SocketAddress& remote) {
  // multipath-21 §3.1: only the client opens paths; the server validates the client's
  // address before sending data, and answers from a CID of the same path ID.
  if (side_ != Side::kServer || !multipath_ || !handshake_complete_ || id > local_max_path_id_ ||
      closed_path_ids_.count(id) > 0 || paths_.size() >= kMaxPathsLimit) {
    return nullptr;
  }
  Path& path = init_path(id, local, remote);
  path.state = PathState::kValidating;
  path.validated = false;
  peer_cids_[id].take_first();
  ++stats_.paths_opened;
  start_validation(now, path);
  return &path;
}

Status Connection::abandon_path(uint64_t id, uint64_t error_code) {
  Path* path = path_by_id(id);
  if (path == nullptr || path->state == PathState::kAbandoned) {
    return fail(err::kInternalError, "no such open path");
  }
  // The application no longer wants this 4-tuple: it is not reopened.
  path_manager_.forget(id);
  close_path(now_, *path, error_code, true);
  return {};
}

Instant Connection::cap_send_time(Instant now, const Path& path) const {
  if (send_rate_cap_bps_ == 0) return now;
  return cap_pacer_.next_send_time(now, path.mtu, send_rate_cap_bps_,
                                   kPacerBurstPackets * uint64_t{path.mtu}, path.mtu);
}

Status Connection::set_path_weight(uint64_t id, double weight) {
  Path* path = path_by_id(id);
  if (path == nullptr || path->state == PathState::kAbandoned) {
    return fail(err::kInternalError, "no such open path");
  }
  if (!mp::PathManager::weight_in_range(weight)) {
    return fail(err::kInternalError, "path weight out of range");
  }
  path->role.set_weight(weight);
  return {};
}

Status Connection::set_path_rate_cap(uint64_t id, uint64_t bps) {
  Path* path = path_by_id(id);
  if (path == nullptr || path->state == PathState::kAbandoned) {
    return fail(err::kInternalError, "no such open path");
  }
  path->rate_cap_bps = bps;
  return {};
}

Status Connection::set_path_keepalive(uint64_t id, Duration interval) {
  Path* path = path_by_id(id);
  if (path == nullptr || path->state == PathState::kAbandoned) {
    return fail(err::kInternalError, "no such open path");
  }
  return path_manager_.set_keepalive(id, interval);
}

Duration Connection::path_keepalive(uint64_t id) const {
  const Path* path = find_path(id);
  bool others = path != nullptr && other_path_keeps_alive(*path);
  return path_manager_.keepalive_interval(id, multipath_, config_.idle_timeout, others);
}

// Whether a working path other than `path` PINGs often enough to keep the connection alive
// (mp::PathManager::keepalive_interval: then `path` need not).
bool Connection::other_path_keeps_alive(const Path& path) const {
  return std::ranges::any_of(paths_, [&](const auto& p) {
    return p.get() != &path && p->usable() &&
           path_manager_.keeps_alive(p->id, multipath_, config_.idle_timeout);
  });
}

Status Connection::set_path_backup(uint64_t id, bool backup) {
  Path* path = path_by_id(id);
  if (path == nullptr || path->state == PathState::kAbandoned) {
    return fail(err::kInternalError, "no such open path");
  }
  if (!path_manager_.set_backup(id, backup, path->role)) return {};
  path->role.set_local(backup, multipath_);
  return {};
}

void Connection::close_path(Instant now, Path& path, uint64_t error_code, bool send_abandon) {
  if (path.state == PathState::kAbandoned) return;
  path.state = PathState::kAbandoned;
  path.abandon_pending = send_abandon;
  path.abandon_error = error_code;
  path.abandon_deadline = now + 3 * pto_period();
  path.challenge.reset();
  path.challenge_pending = false;
  path.challenge_deadline = kNever;
  path.validation_expiry = kNever;
  path.fallback_remote.reset();
  path.responses.clear();
  // multipath-21 §3.4: the peer's CIDs for the path are retired at once, implicitly.
  std::vector<uint64_t> ignored;
  peer_cids_[path.id].retire_all(ignored);
  reinject(path);
  ++stats_.paths_abandoned;
  push_event({EventKind::kPathClosed, path.id, error_code});
  path_manager_.on_path_closed(path.id, now);
  bool any_open = std::any_of(paths_.begin(), paths_.end(), [](const auto& p) {
    return p->state != PathState::kAbandoned;
  });
  if (!any_open && path_manager_.wanted_empty()) {
    close_with_error(now, Error{err::kNoError, 0, "every path was abandoned"});
  }
}

Status Connection::check_path_frame(uint64_t path_id, uint64_t frame) const {
  // multipath-21 §4: a path ID above our announced maximum is a PROTOCOL_VIOLATION.
  if (!multipath_) return fail(err::kProtocolViolation, "multipath not negotiated", frame);
  if (path_id > local_max_path_id_) {
    return fail(err::kProtocolViolation, "path ID above the announced maximum", frame);
  }
  return {};
}

Status Connection::on_path_abandon(Instant now, const PathAbandonFrame& f) {
  if (auto st = check_path_frame(f.path_id, frame_type::kPathAbandon); !st) return st;
  Path* path = path_by_id(f.path_id);
  if (path == nullptr) {
    closed_path_ids_.insert(f.path_id);  // an unused path ID may be abandoned: never use it
    return {};
  }
  close_path(now, *path, f.error_code, true);  // echoed unless we sent ours first
  return {};
}

Status Connection::on_path_status(const PathStatusFrame& f) {
  uint64_t type = f.backup ? frame_type::kPathStatusBackup : frame_type::kPathStatusAvailable;
  if (auto st = check_path_frame(f.path_id, type); !st) return st;
  Path* path = path_by_id(f.path_id);
  if (path == nullptr || path->state == PathState::kAbandoned) return {};
  path->role.on_peer_status(f.sequence, f.backup);  // §3.3: older news is ignored
  return {};
}

Status Connection::on_max_path_id(uint64_t max) {
  if (!multipath_) return fail(err::kProtocolViolation, "multipath not negotiated");
  if (max > kMaxPathId) return fail(err::kProtocolViolation, "MAX_PATH_ID above 2^32-1");
  if (max < peer_max_path_id_) {
    return fail(err::kProtocolViolation, "MAX_PATH_ID lowered the limit");
  }
  peer_max_path_id_ = max;
  issue_local_cids();
  return {};
}

// --- the send side

bool Connection::path_has_urgent(const Path& path, Instant now) const {
  if (path.state == PathState::kAbandoned) return false;
  if (!path.responses.empty() || path.challenge_pending || path.pto_probes > 0) return true;
  if (path.app.acks.ack_needed(now)) return true;
  return keepalive_due(path, now);
}

// Keepalive: an idle path (a backup path while the primary works) still proves it works with
// a PING now and then (multipath-21 §5.8); a failed path is probed (PathManager::keepalive_at).
bool Connection::keepalive_due(const Path& path, Instant now) const {
  Instant at = keepalive_at(path);
  return at != kNever && now >= at;
}

Instant Connection::keepalive_at(const Path& path) const {
  if (!handshake_confirmed_) return kNever;
  return path_manager_.keepalive_at(figures(path), multipath_, config_.idle_timeout,
                                    [this] { return max_probe_interval(); },
                                    [&] { return other_path_keeps_alive(path); });
}

void Connection::write_path_frames(Path& path, PacketBuilder& b) {
  while (!path.responses.empty() && b.w.room() >= 9) {
    encode_frame(b.w, PathResponseFrame{path.responses.front()});
    path.responses.pop_front();
    ++stats_.path_responses_sent;
    b.ack_eliciting = true;
  }
  if (path.challenge_pending && path.challenge && b.w.room() >= 9) {
    encode_frame(b.w, PathChallengeFrame{*path.challenge});
    path.challenge_pending = false;
    ++path.challenge_tries;
    ++stats_.path_challenges_sent;
    b.ack_eliciting = true;
    // Repeat after a PTO of the path (at most a second) until validated or expired.
    Duration interval = std::min<Duration>(
        pto_duration(path.rtt, peer_max_ack_delay(), true, path.challenge_tries - 1),
        kMaxChallengeInterval);
    path.challenge_deadline = now_ + interval;
  }
}

void Connection::write_mp_control_frames(PacketBuilder& b) {
  for (auto& p : paths_) {
    if (p->abandon_pending) {
      PathAbandonFrame f{p->id, p->abandon_error};
      if (encoded_size(f) > b.w.room()) return;
      encode_frame(b.w, f);
      p->abandon_pending = false;
      b.sent.push_back(sent::PathAbandon{p->id});
      b.ack_eliciting = true;
    }
    if (p->role.status_pending() && p->state != PathState::kAbandoned) {
      PathStatusFrame f{p->role.local_backup(), p->id, p->role.status_seq()};
      if (encoded_size(f) > b.w.room()) return;
      encode_frame(b.w, f);
      p->role.status_sent();
      b.sent.push_back(sent::PathStatus{p->id, f.sequence});
      b.ack_eliciting = true;
    }
  }
  if (max_path_id_pending_) {
    MaxPathIdFrame f{local_max_path_id_};
    if (encoded_size(f) > b.w.room()) return;
    encode_frame(b.w, f);
    max_path_id_pending_ = false;
    b.sent.push_back(sent::MaxPathId{local_max_path_id_});
    b.ack_eliciting = true;
  }
}

bool Connection::orphan_acks_due(Instant now) const {
  // The ACK check first: it is a comparison, the carrier check a map lookup, and a multipath
  // sender asks this for every datagram.
  return std::any_of(paths_.begin(), paths_.end(), [&](const auto& q) {
    return q->app.acks.ack_needed(now) && !can_carry_own_acks(*q);
  });
}

bool Connection::can_carry_own_acks(const Path& path) const {
  auto it = peer_cids_.find(path.id);
  return path.state != PathState::kAbandoned && path.health.healthy() &&
         it != peer_cids_.end() && it->second.has_current();
}

bool Connection::is_data_path(const Path& path) const {
  if (!path.usable()) return false;
  if (!multipath_ || paths_.size() == 1) return true;
  if (path.health.suspect()) return false;
  // Backup paths carry nothing but keepalives while an available path works (§3.3).
  if (!path.role.backup()) return true;
  return mp::PathManager::backup_carries_data(
      std::any_of(paths_.begin(), paths_.end(), [](const auto& p) {
        return p->usable() && !p->health.suspect() && !p->role.backup();
      }));
}

Path* Connection::choose_path(Instant now) {
  std::vector<PathCandidate>& cands = scratch_.candidates;
  cands.clear();
  Instant wake = kNever;
  for (auto& p : paths_) {
    if (!is_data_path(*p) || !peer_cids_[p->id].has_current()) continue;
    PathCandidate c;
    c.id = p->id;
    c.srtt = p->rtt.smoothed();
    c.cwnd = p->cc->cwnd();
    c.in_flight = bytes_in_flight(*p);
    c.mtu = p->mtu;
    c.min_rtt = p->rtt.min_rtt();
    c.rttvar = p->rtt.rttvar();
    c.weight = p->role.weight();
    bool window_ok = c.in_flight + p->mtu <= c.cwnd;
    Instant at = std::max(p->pacer.next_send_time(now, p->mtu, p->pacing_rate_bps(), c.cwnd,
                                                  p->mtu),
                          cap_send_time(now, *p));
    c.can_send = window_ok && at <= now;
    if (window_ok && at > now) wake = std::min(wake, at);
    cands.push_back(c);
  }
  if (cands.empty()) return nullptr;
  // Interactive datagrams take their path as soon as it can send; until then the other
  // paths carry the rest and they wait (conn_datagrams.cc).
  if (!datagrams_urgent_.empty()) {
    const Path* fast = interactive_choice().fast;
    for (const PathCandidate& c : cands) {
      if (c.can_send && fast != nullptr && c.id == fast->id) return path_by_id(c.id);
    }
  }
  if (sched_.lane == mp::DeadlineLane::kHold) {
    if (Path* p = choose_deadline_path(now, cands, wake)) return p;  // conn_deadline.cc
  }
  // The backlog walks every sending stream: only the schedulers that weigh it pay for it.
  // Queued DATAGRAM frames are backlog too: without them a datagram-only sender (a tunnel)
  // always looked idle to ECF and BLEST, which then kept waiting for the fastest path and
  // left the others nearly unused (DatagramScenario.EcfStripesADatagramOnlyLoad).
  uint64_t backlog =
      scheduler_->needs_backlog() ? streams_.send_backlog() + datagrams_out_.bytes() : 0;
  auto pick = scheduler_->select(cands, backlog);
  if (!pick) {
    pacing_wakeup_ = std::min(pacing_wakeup_, wake);
    return nullptr;
  }
  return path_by_id(cands[*pick].id);
}

// A packet that must leave on this path (its ACKs, a PATH_RESPONSE, a keepalive) takes new
// data only where the scheduler would put it now. Otherwise an ACK owed on a slow path drags
// data onto it behind ECF's or BLEST's back, and a 600 ms path then holds bytes the fast path
// delivered long before: aggregation-b ended 200-250 ms late whenever the timing put such an
// ACK near the end of the transfer (found when skipped packet numbers shifted that timing).
// Probes (a PTO's, a keepalive's) keep their data (RFC 9002 §6.2.4): after an outage the
// first probe to get through then also resumes delivery.
bool Connection::urgent_packet_takes_data(Instant now, Path& path) {
  if (!is_data_path(path)) return false;
  if (path.pto_probes > 0 || keepalive_due(path, now)) return true;
  const mp::DeadlineLane lane = sched_.lane;
  if (choose_path(now) == &path) return true;  // with the lane choose_path picked for it
  sched_.lane = lane;
  return false;
}

// --- failure detection, timers

void Connection::reinject(Path& path) {
  path.app.loss.for_each_unacked_ack_eliciting(SIZE_MAX, [&](auto& record) {
    if (record.frames.empty()) return;
    requeue_frames(PnSpaceId::kApp, record.frames.span(), false);
    resend_datagrams(record.frames.span());  // conn_datagrams.cc (opt-in)
    ++stats_.reinjected_packets;
  });
  path.pto_probes = 0;
}

void Connection::on_path_progress(Instant now, Path& path) {
  // (both-die: the first link to return is taken back at once.)
  auto recovered = [&](uint32_t& acks) {
    return path_manager_.recovers(acks, has_other_data_path(path));
  };
  if (path.health.on_progress(now, recovered)) {
    path.pto_count = 0;
    push_event({EventKind::kPathRecovered, path.id});
  }
}

// An outage (PathManager::in_outage): every path of a multipath connection has failed or
// timed out path_fail_ptos times in a row (one that still validates carries nothing either).
bool Connection::in_outage() const {
  if (!multipath_) return false;
  return path_manager_.in_outage(
      paths_ | std::views::transform([](const auto& p) { return figures(*p); }));
}

// No ACK for a while with data outstanding while another path carries data: the path is to
// be suspected (path_timers; path_deadline reports the time, and nothing it would not act on).
bool Connection::suspect_due(const Path& path, Instant now) const {
  if (!multipath_) return false;
  Instant at = path_manager_.suspect_at(figures(path));
  return at != kNever && now >= at && has_other_data_path(path);
}

bool Connection::has_other_data_path(const Path& path) const {
  return std::any_of(paths_.begin(), paths_.end(), [&](const auto& p) {
    return p.get() != &path && p->usable() && !p->health.suspect();
  });
}

Instant Connection::path_deadline() const {
  Instant t = kNever;
  for (const auto& p : paths_) {
    t = std::min(t, p->abandon_deadline);
    if (p->challenge && !p->challenge_pending) {
      t = std::min({t, p->challenge_deadline, p->validation_expiry});
    }
    // (The same condition as suspect_due in path_timers: a deadline it would not act on must
    // not be reported, or the owner would be woken in a loop.)
    const mp::PathFigures f = figures(*p);
    const Instant suspect = multipath_ ? path_manager_.suspect_at(f) : kNever;
    if (suspect != kNever && has_other_data_path(*p)) t = std::min(t, suspect);
    t = std::min({t, keepalive_at(*p), path_manager_.abandon_failed_at(f)});
  }
  if (handshake_confirmed_) t = std::min(t, path_manager_.next_open_at());
  return t;
}

void Connection::path_timers(Instant now) {
  for (size_t i = 0; i < paths_.size(); ++i) {
    Path& p = *paths_[i];
    if (p.state == PathState::kAbandoned) {
      if (now < p.abandon_deadline) continue;
      // State goes; whatever is still unacknowledged is lost (its frames were re-injected).
      (void)p.app.loss.discard_all();
      closed_path_ids_.insert(p.id);
      local_cids_.erase(p.id);
      if (auto it = peer_cids_.find(p.id); it != peer_cids_.end()) {
        peer_cids_dropped_generations_ += it->second.generation() + 1;
        peer_cids_.erase(it);
      }
      rebuild_local_cid_list();
      if (side_ == Side::kServer || p.id != 0) {
        // Let the peer replace it (multipath-21 §4.6).
        ++local_max_path_id_;
        max_path_id_pending_ = multipath_;
        issue_local_cids();
      }
      paths_.erase(paths_.begin() + static_cast<std::ptrdiff_t>(i));
      --i;
      continue;
    }
    if (p.challenge && now >= p.validation_expiry) {
      // Validation failed: a new multipath path is abandoned; a migrated path 0 carries on
      // unvalidated (still under the amplification limit on the server).
      p.challenge.reset();
      p.challenge_pending = false;
      p.challenge_deadline = kNever;
      p.validation_expiry = kNever;
      if (p.state == PathState::kValidating) close_path(now, p, err::kPathUnstableOrPoor, true);
      if (p.fallback_remote) {
        // The preferred address did not answer: back to the handshake address.
        p.remote = *p.fallback_remote;
        p.fallback_remote.reset();
        std::vector<uint64_t> retire;
        if (peer_cids_[p.id].rotate(retire)) {
          retire_peer_cids(p.id, retire);
        }
      }
      continue;
    }
    if (p.challenge && !p.challenge_pending && now >= p.challenge_deadline) {
      p.challenge_pending = true;
    }
    if (now >= path_manager_.abandon_failed_at(figures(p))) {
      close_path(now, p, err::kPathUnstableOrPoor, true);
      continue;
    }
    if (suspect_due(p, now)) {
      // No ACK for a while with data outstanding: stop using it and move its data elsewhere.
      p.health.suspect_now();
      reinject(p);
    }
  }
}

// --- CIDs per path

void Connection::issue_path_cids() {
  if (!multipath_ || !handshake_complete_) return;
  uint64_t limit = std::min(local_max_path_id_, peer_max_path_id_);
  uint64_t want = std::min<uint64_t>(peer_params_.active_connection_id_limit, kCidsPerExtraPath);
  for (uint64_t id = 1; id <= limit; ++id) {
    if (closed_path_ids_.count(id) > 0) continue;
    LocalCids& set = local_cids_[id];
    while (set.live() < want) {
      ConnectionId cid;
      cid.len = config_.cid_length;
      random_.fill(MutBytes(cid.bytes.data(), cid.len));
      add_local_cid(id, cid);
      pending_new_cids_.push_back({id, local_cids_[id].active().back().seq});
    }
  }
}

void Connection::retire_peer_cids(uint64_t path_id, const std::vector<uint64_t>& seqs) {
  for (uint64_t seq : seqs) pending_retire_cids_.push_back({path_id, seq});
  stats_.peer_cids_retired += seqs.size();
}

Status Connection::rotate_peer_cid(uint64_t path_id) {
  const Path* p = find_path(path_id);
  if (!handshake_confirmed_ || p == nullptr || p->state == PathState::kAbandoned) {
    return fail(err::kInternalError, "no open path to rotate the connection ID of");
  }
  std::vector<uint64_t> retire;
  if (!peer_cids_[path_id].rotate(retire)) return fail(err::kInternalError, "no spare connection ID");
  retire_peer_cids(path_id, retire);
  return {};
}

Status Connection::retire_local_cids(uint64_t path_id) {
  const Path* p = find_path(path_id);
  if (!handshake_confirmed_ || p == nullptr || p->state == PathState::kAbandoned ||
      config_.cid_length == 0) {
    return fail(err::kInternalError, "no open path to retire connection IDs on");
  }
  auto it = local_cids_.find(path_id);
  if (it == local_cids_.end()) return fail(err::kInternalError, "no connection IDs issued");
  it->second.retire_all_issued();
  issue_local_cids();  // the replacements carry the new retire_prior_to
  return {};
}

}  // namespace quic

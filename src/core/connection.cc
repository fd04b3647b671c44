// Connection: construction, the public API, timers and the closing state machine
// (RFC 9000 §10, RFC 9002 §6.2 and Appendix A.8).
#include "core/connection.h"

#include <algorithm>

#include "recovery/pto.h"

namespace quic {

namespace {

ConnectionId random_cid(Random& random, size_t len) {
  ConnectionId c;
  c.len = static_cast<uint8_t>(len);
  random.fill(MutBytes(c.bytes.data(), len));
  return c;
}

// RFC 9002 §6.2.4: up to two probe datagrams per PTO, so one lost probe does not cost another
// (doubled) timeout; their frames come from this many of the oldest unacknowledged packets.
constexpr uint8_t kPtoProbeDatagrams = 2;
// Consecutive PTOs on a path above the base size that are taken as a PMTU black hole.
constexpr uint32_t kPmtuBlackHolePtos = 2;
constexpr size_t kPtoRetransmitPackets = 2;
// Local connection IDs we keep issued at once (bounded by the peer's limit too).
constexpr uint64_t kMaxLocalCids = 8;
constexpr size_t kMaxRetiredRoutes = 32;

}  // namespace

Connection::Connection(Side side, const ConnectionConfig& config, Random& random)
    : side_(side), config_(config), random_(random), version_(config.version),
      scheduler_(make_scheduler(config.scheduler)),
      streams_(stream_config_from(side, config), PeerStreamParams{}) {
  if (config_.multipath) {
    uint32_t paths = std::clamp<uint32_t>(config_.max_paths, 1, kMaxPathsLimit);
    local_max_path_id_ = paths - 1;
  }
}

Connection::~Connection() = default;

std::unique_ptr<CongestionController> Connection::new_path_controller() const {
  return make_congestion_controller(config_.cc, config_.initial_mtu, cc_group_.get(),
                                    config_.cc_delay_bound);
}

Path& Connection::init_path(uint64_t id, const SocketAddress& local, const SocketAddress& remote) {
  auto path = std::make_unique<Path>();
  path->id = id;
  path->local = local;
  path->remote = remote;
  restart_path_figures(*path);  // a new path starts where one on a new address does
  path->app.acks.set_max_ack_delay(config_.max_ack_delay);
  paths_.push_back(std::move(path));
  return *paths_.back();
}

void Connection::add_local_cid(uint64_t path_id, const ConnectionId& cid) {
  local_cids_[path_id].add(cid, stateless_reset_token(config_.reset_key, cid.view()));
  local_cid_list_.push_back(cid);
  ++cid_generation_;
}

void Connection::rebuild_local_cid_list() {
  local_cid_list_.clear();
  for (const auto& [id, set] : local_cids_) {
    for (const IssuedCid& c : set.active()) local_cid_list_.push_back(c.cid);
  }
  for (const RetiredRoute& r : retired_routes_) local_cid_list_.push_back(r.cid);
  ++cid_generation_;
}

void Connection::expire_retired_routes(Instant now) {
  if (retired_routes_.empty()) return;
  if (std::erase_if(retired_routes_, [&](const RetiredRoute& r) { return now >= r.until; }) > 0) {
    rebuild_local_cid_list();
  }
}

void Connection::set_scheduler(SchedulerKind kind) { scheduler_ = make_scheduler(kind); }

Result<std::unique_ptr<Connection>> Connection::connect(const ConnectionConfig& config,
                                                        std::shared_ptr<const TlsContext> tls,
                                                        const SocketAddress& local,
                                                        const SocketAddress& remote, Instant now,
                                                        Random& random,
                                                        const ConnectOptions& options) {
  std::unique_ptr<Connection> c(new Connection(Side::kClient, config, random));
  c->retry_token_ = options.token;
  c->created_at_ = now;
  c->last_activity_ = now;
  c->init_path(0, local, remote);
  c->initial_scid_ = random_cid(random, config.cid_length);
  c->add_local_cid(0, c->initial_scid_);
  c->original_dcid_ = random_cid(random, 8);  // RFC 9000 §7.2: at least 8 bytes
  c->peer_cid_ = c->original_dcid_;
  c->peer_cids_[0].set_current(c->peer_cid_);
  c->now_ = now;
  if (config.trace) c->trace_ = config.trace(c->original_dcid_, false);
  if (auto st = c->init_version_negotiation(); !st) return std::unexpected(st.error());
  if (auto st = c->install_initial_keys(c->original_dcid_); !st) return std::unexpected(st.error());
  if (auto st = c->init_tls(std::move(tls), options); !st) {
    return std::unexpected(st.error());
  }
  c->idle_deadline_ = now + c->idle_period();
  c->last_sent_time_ = now;
  return c;
}

Result<std::unique_ptr<Connection>> Connection::accept(const ConnectionConfig& config,
                                                       std::shared_ptr<const TlsContext> tls,
                                                       const SocketAddress& local,
                                                       const SocketAddress& remote,
                                                       const AcceptInfo& info, Instant now,
                                                       Random& random) {
  ConnectionConfig cfg = config;
  cfg.version = info.version;
  std::unique_ptr<Connection> c(new Connection(Side::kServer, cfg, random));
  c->created_at_ = now;
  c->last_activity_ = now;
  c->now_ = now;
  if (config.trace) c->trace_ = config.trace(info.original_dcid, true);
  c->init_path(0, local, remote);
  c->initial_scid_ = random_cid(random, config.cid_length);
  c->add_local_cid(0, c->initial_scid_);
  c->original_dcid_ = info.original_dcid;
  c->retry_scid_ = info.retry_scid;
  c->peer_cid_ = info.client_scid;
  c->peer_cids_[0].set_current(c->peer_cid_);
  c->peer_cid_confirmed_ = true;
  // RFC 9000 §9.6.1: the preferred address comes with a CID of its own (sequence 1).
  if (config.preferred_address_v4 || config.preferred_address_v6) {
    c->add_local_cid(0, random_cid(random, config.cid_length));
  }
  if (info.address_validated) c->paths_[0]->validated = true;
  if (auto st = c->init_version_negotiation(); !st) return std::unexpected(st.error());
  if (auto st = c->install_initial_keys(info.initial_dcid); !st) {
    return std::unexpected(st.error());
  }
  if (auto st = c->init_tls(std::move(tls)); !st) return std::unexpected(st.error());
  c->idle_deadline_ = now + c->idle_period();
  c->last_sent_time_ = now;
  return c;
}

// The 1-RTT space of the handshake path (the first path); other paths are reached directly.
PnSpace& Connection::pn_space(PnSpaceId s) {
  return s == PnSpaceId::kApp ? paths_.front()->app : handshake_spaces_[static_cast<size_t>(s)];
}
const PnSpace& Connection::pn_space(PnSpaceId s) const {
  return s == PnSpaceId::kApp ? paths_.front()->app : handshake_spaces_[static_cast<size_t>(s)];
}

// What a path's congestion controller sees: its own 1-RTT packets, and on path 0 the
// handshake packets as well.
uint64_t Connection::bytes_in_flight(const Path& path) const {
  uint64_t b = path.app.loss.bytes_in_flight();
  if (path.id == 0) {
    b += handshake_spaces_[0].loss.bytes_in_flight() + handshake_spaces_[1].loss.bytes_in_flight();
  }
  return b;
}

Duration Connection::peer_max_ack_delay() const {
  return std::chrono::milliseconds(peer_params_received_ ? peer_params_.max_ack_delay_ms : 25);
}

Duration Connection::pto_period() const {
  Duration d{0};
  for (const auto& p : paths_) {
    d = std::max(d, pto_duration(p->rtt, path_max_ack_delay(*p), handshake_confirmed_, 0));
  }
  return d;
}

Duration Connection::idle_period() const {
  // RFC 9000 §10.1: never shorter than three PTOs.
  return std::max(config_.idle_timeout, 3 * pto_period());
}

// RFC 9002 Appendix A.8: the earliest loss time, else the earliest PTO. The handshake spaces
// use path 0's RTT and the connection's backoff; each path's 1-RTT space its own (multipath-21
// §5.6: PTO per path).
Connection::RecoveryTimer Connection::loss_or_pto_deadline() const {
  RecoveryTimer best;
  best.is_loss = true;
  Path* p0 = paths_.front().get();
  for (PnSpaceId s : {PnSpaceId::kInitial, PnSpaceId::kHandshake}) {
    if (discarded_[static_cast<size_t>(s)]) continue;
    Instant t = pn_space(s).loss.loss_time();
    if (t < best.at) best = {t, s, p0, true};
  }
  if (!discarded_[2]) {
    for (const auto& p : paths_) {
      Instant t = p->app.loss.loss_time();
      if (t < best.at) best = {t, PnSpaceId::kApp, p.get(), true};
    }
  }
  if (best.at != kNever) return best;
  best.is_loss = false;
  const Path& path0 = *p0;
  if (side_ == Side::kServer && amplification_room(path0) == 0 && !handshake_confirmed_) {
    return best;  // §6.2.2.1: blocked by the amplification limit, nothing to probe with
  }
  bool any_in_flight = false;
  for (PnSpaceId s : {PnSpaceId::kInitial, PnSpaceId::kHandshake}) {
    if (!discarded_[static_cast<size_t>(s)] && pn_space(s).loss.has_ack_eliciting_in_flight()) {
      any_in_flight = true;
    }
  }
  for (const auto& p : paths_) any_in_flight |= p->app.loss.has_ack_eliciting_in_flight();
  if (!any_in_flight) {
    // Anti-deadlock (§6.2.2.1): a client without handshake confirmation keeps probing.
    if (side_ == Side::kClient && !handshake_confirmed_) {
      best.space = crypto_[1].seal ? PnSpaceId::kHandshake : PnSpaceId::kInitial;
      best.path = p0;
      best.at = last_sent_time_ + pto_duration(path0.rtt, Duration(0), false, pto_count_);
    }
    return best;
  }
  for (PnSpaceId s : {PnSpaceId::kInitial, PnSpaceId::kHandshake}) {
    if (discarded_[static_cast<size_t>(s)]) continue;
    const PnSpace& pns = pn_space(s);
    if (!pns.loss.has_ack_eliciting_in_flight()) continue;
    Instant t = pns.loss.time_of_last_ack_eliciting() +
                pto_duration(path0.rtt, Duration(0), false, pto_count_);
    if (t < best.at) best = {t, s, p0, false};
  }
  if (!handshake_confirmed_ || discarded_[2]) return best;  // §6.2.1: no 1-RTT PTO before
  const bool outage = in_outage();
  for (const auto& p : paths_) {
    // An abandoned path sends nothing more (its frames were re-injected when it closed): a PTO
    // there could never send its probe, and the deadline would stay in the past.
    if (p->state == PathState::kAbandoned || !p->app.loss.has_ack_eliciting_in_flight()) continue;
    Duration d = pto_duration(p->rtt, path_max_ack_delay(*p), true, p->pto_count);
    // A failed path is probed at a bounded interval, so it is noticed soon after it returns;
    // in an outage (conn_path.cc) every path is, at a shorter one.
    if (p->health.failed() || outage) d = std::min(d, max_probe_interval());
    Instant t = p->app.loss.time_of_last_ack_eliciting() + d;
    if (t < best.at) best = {t, PnSpaceId::kApp, p.get(), false};
  }
  return best;
}

Instant Connection::next_timeout() const {
  if (state_ == State::kClosed) return kNever;
  if (state_ == State::kClosing || state_ == State::kDraining) return closing_.deadline;
  Instant t = std::min({idle_deadline_, pacing_wakeup_, key_update_.prev_open_expiry, path_deadline()});
  // An interactive datagram's wait for its path ends (only ahead: once it has passed, the
  // datagram takes the next path that can send, and that path's own timers wake us).
  // Called for every connection: nothing to compute while none waits.
  if (!datagrams_urgent_.empty()) {
    if (Instant spill = interactive_spill_at(interactive_choice()); spill > now_) {
      t = std::min(t, spill);
    }
  }
  t = std::min(t, loss_or_pto_deadline().at);
  for (PnSpaceId sp : {PnSpaceId::kInitial, PnSpaceId::kHandshake}) {
    if (!discarded_[static_cast<size_t>(sp)]) t = std::min(t, pn_space(sp).acks.ack_deadline());
  }
  if (!discarded_[2]) {
    for (const auto& p : paths_) t = std::min(t, p->app.acks.ack_deadline());
  }
  return t;
}

void Connection::on_timeout(Instant now) {
  if (state_ == State::kClosed) return;
  now_ = now;
  expire_retired_routes(now);
  if (state_ == State::kClosing || state_ == State::kDraining) {
    if (now >= closing_.deadline) {
      state_ = State::kClosed;
      if (trace_) trace_->state_updated(now, "closed");
    }
    return;
  }
  if (now >= idle_deadline_) {
    // RFC 9000 §10.1: silently discard state.
    closing_.error = Error{err::kNoError, 0, "idle timeout"};
    state_ = State::kClosed;
    if (trace_) trace_->connection_closed(now, *closing_.error, false);
    push_event({EventKind::kClosed, 0, err::kNoError, "idle timeout"});
    return;
  }
  if (pacing_wakeup_ <= now) pacing_wakeup_ = kNever;
  if (key_update_.prev_open_expiry <= now) {
    key_update_.prev_open.reset();  // RFC 9001 §6.5: old keys go after about three PTOs
    key_update_.prev_open_expiry = kNever;
  }
  path_timers(now);
  if (state_ != State::kHandshake && state_ != State::kEstablished) return;
  RecoveryTimer t = loss_or_pto_deadline();
  if (t.at <= now) on_loss_timer(now, t);
}

void Connection::on_loss_timer(Instant now, const RecoveryTimer& t) {
  Path& path = *t.path;
  PnSpace& pns = t.space == PnSpaceId::kApp ? path.app : pn_space(t.space);
  if (t.is_loss) {
    auto lost = pns.loss.detect_lost(now, path.rtt);
    if (!lost.packets.empty()) on_space_lost(now, t.space, path, lost.packets, lost.frames);
    return;
  }
  // PTO (RFC 9002 §6.2.4): probe in the space, carrying what the oldest unacknowledged
  // packets carried (the packets stay in flight: either copy may be acknowledged).
  if (t.space != PnSpaceId::kApp) {
    ++pto_count_;
    pto_probe_pending_[static_cast<size_t>(t.space)] = kPtoProbeDatagrams;
  } else {
    ++path.pto_count;
    // RFC 8899 §4.3: full-size packets that stopped arriving may have met a smaller MTU;
    // the next probes go out at the base size, which reaches the peer if the path still works.
    // (With another path to move to, multipath failure detection acts first; the ACKs of
    // its small probes then show the black hole: watch_mtu_black_hole.)
    if (path.pto_count == kPmtuBlackHolePtos && !has_other_data_path(path)) {
      on_mtu_black_hole(path);
    }
    // A path that keeps timing out while others work is failed: its data moves elsewhere and
    // it is only probed (with a PING) from now on.
    if (multipath_ && path_manager_.fails(figures(path), has_other_data_path(path))) {
      path.health.fail(now);
      ++stats_.paths_failed;
      reinject(path);
      push_event({EventKind::kPathFailed, path.id});
    }
    path.pto_probes = !path.health.healthy() || in_outage() ? 1 : kPtoProbeDatagrams;
    if (!path.health.healthy()) {
      last_sent_time_ = now;
      return;
    }
  }
  pns.loss.for_each_unacked_ack_eliciting(kPtoRetransmitPackets, [&](auto& record) {
    requeue_frames(t.space, record.frames.span(), false);
  });
  last_sent_time_ = now;  // re-arms the anti-deadlock timer from this probe
}

void Connection::enter_closing(Instant now, Error error, bool send_close) {
  if (state_ == State::kClosing || state_ == State::kDraining || state_ == State::kClosed) return;
  closing_.error = error;
  state_ = State::kClosing;
  if (trace_) trace_->connection_closed(now, error, false);
  closing_.deadline = now + 3 * pto_period();
  closing_.frame_pending = send_close;
  push_event({EventKind::kClosed, 0, error.code, error.reason, error.application});
}

void Connection::enter_draining(Instant now) {
  if (state_ == State::kDraining || state_ == State::kClosed) return;
  bool notify = state_ != State::kClosing;
  state_ = State::kDraining;
  if (trace_ && closing_.error) trace_->connection_closed(now, *closing_.error, closing_.by_peer);
  closing_.deadline = now + 3 * pto_period();
  if (notify && closing_.error) {
    push_event({EventKind::kClosed, 0, closing_.error->code, closing_.error->reason,
                closing_.error->application});
  }
}

void Connection::close(uint64_t app_error, std::string reason, Instant now) {
  Error e{app_error, 0, std::move(reason), true};
  enter_closing(now, std::move(e), true);
}

void Connection::trace_metrics(Instant now) {
  if (!trace_) return;
  const Path& path = *paths_.front();
  RecoveryMetrics m;
  m.smoothed_rtt = path.rtt.smoothed();
  m.min_rtt = path.rtt.min_rtt();
  m.latest_rtt = path.rtt.latest();
  m.rtt_variance = path.rtt.rttvar();
  m.congestion_window = path.cc->cwnd();
  m.bytes_in_flight = bytes_in_flight(path);
  m.pacing_rate_bps = path.cc->pacing_rate_bps(path.rtt);
  m.pto_count = pto_count_;
  m.mtu = path.mtu;
  if (m == last_metrics_) return;
  last_metrics_ = m;
  trace_->metrics_updated(now, m);
}

std::optional<Event> Connection::poll_event() {
  pump_stream_events();
  pump_datagram_events();  // conn_datagrams.cc
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

Status Connection::on_retire_connection_id(uint64_t path_id, uint64_t seq) {
  auto it = local_cids_.find(path_id);
  if (it == local_cids_.end()) {
    if (closed_path_ids_.count(path_id) > 0) return {};  // abandoned: silently ignored
    return fail(err::kProtocolViolation, "RETIRE_CONNECTION_ID for an unissued sequence");
  }
  const IssuedCid* issued = it->second.find(seq);
  std::optional<ConnectionId> cid;
  if (issued != nullptr) cid = issued->cid;
  auto removed = it->second.retire(seq);
  if (!removed) return std::unexpected(removed.error());
  if (!*removed) return {};  // already retired
  ++stats_.local_cids_retired;
  // Bounded: at most kMaxLocalCids per path can be retired within one grace period, and a peer
  // retiring faster than that only shortens the grace of the oldest.
  if (retired_routes_.size() >= kMaxRetiredRoutes) retired_routes_.erase(retired_routes_.begin());
  retired_routes_.push_back({*cid, path_id, now_ + 3 * pto_period()});
  rebuild_local_cid_list();
  issue_local_cids();
  return {};
}

void Connection::issue_local_cids() {
  if (!peer_params_received_ || config_.cid_length == 0) return;
  uint64_t want = std::min<uint64_t>(peer_params_.active_connection_id_limit, kMaxLocalCids);
  LocalCids& set = local_cids_[0];
  if (closed_path_ids_.count(0) == 0) {
    while (set.live() < want) {
      add_local_cid(0, random_cid(random_, config_.cid_length));
      pending_new_cids_.push_back({0, set.active().back().seq});
    }
  }
  issue_path_cids();
}

// --- Stateless reset (RFC 9000 §10.3)

bool Connection::is_stateless_reset(Bytes d) const {
  if (d.size() < kMinStatelessResetSize || (d[0] & 0x80) != 0) return false;
  const uint8_t* tail = d.data() + d.size() - kResetTokenSize;
  return std::any_of(peer_cids_.begin(), peer_cids_.end(),
                     [&](const auto& kv) { return kv.second.matches_reset_token(tail); });
}

void Connection::peer_reset_tokens(std::vector<ResetToken>& out) const {
  for (const auto& [id, set] : peer_cids_) set.current_reset_token(out);
}

uint64_t Connection::peer_reset_tokens_generation() const {
  uint64_t g = peer_cids_dropped_generations_;
  for (const auto& [id, set] : peer_cids_) g += set.generation();
  return g;
}

bool Connection::on_stateless_reset(Instant now) {
  if (state_ == State::kDraining || state_ == State::kClosed) return false;
  closing_.by_peer = true;
  closing_.error = Error{err::kNoError, 0, "stateless reset"};
  enter_draining(now);
  return true;
}

// --- NEW_TOKEN (RFC 9000 §8.1.3)

bool Connection::wants_new_token() const {
  return side_ == Side::kServer && handshake_confirmed_ && !new_token_sent_ &&
         state_ == State::kEstablished;
}

void Connection::send_new_token(std::vector<uint8_t> token) {
  new_token_ = std::move(token);
  new_token_sent_ = true;
  new_token_pending_ = !new_token_.empty();
}

}  // namespace quic

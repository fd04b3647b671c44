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
constexpr size_t kPtoRetransmitPackets = 2;
// Local connection IDs we keep issued at once (bounded by the peer's limit too).
constexpr uint64_t kMaxLocalCids = 8;

}  // namespace

Connection::Connection(Side side, const ConnectionConfig& config, Random& random)
    : side_(side), config_(config), random_(random), version_(config.version),
      streams_(stream_config_from(side, config), PeerStreamParams{}) {}

Connection::~Connection() = default;

void Connection::init_path(const SocketAddress& local, const SocketAddress& remote) {
  auto path = std::make_unique<Path>();
  path->id = 0;
  path->local = local;
  path->remote = remote;
  path->mtu = config_.initial_mtu;
  path->pmtu_low = config_.initial_mtu;
  path->pmtu_high = config_.max_mtu;
  path->cc = make_congestion_controller(config_.cc, config_.initial_mtu);
  path->app.acks.set_max_ack_delay(config_.max_ack_delay);
  paths_.push_back(std::move(path));
}

void Connection::add_local_cid(const ConnectionId& cid) {
  LocalCid c{next_local_cid_seq_++, cid, stateless_reset_token(config_.reset_key, cid.view())};
  local_cids_.push_back(c);
  local_cid_list_.push_back(cid);
}

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
  c->init_path(local, remote);
  c->initial_scid_ = random_cid(random, config.cid_length);
  c->add_local_cid(c->initial_scid_);
  c->original_dcid_ = random_cid(random, 8);  // RFC 9000 §7.2: at least 8 bytes
  c->peer_cid_ = c->original_dcid_;
  c->now_ = now;
  if (config.trace) c->trace_ = config.trace(c->original_dcid_, false);
  if (auto st = c->install_initial_keys(c->original_dcid_); !st) return std::unexpected(st.error());
  if (auto st = c->init_tls(std::move(tls), options.session_ticket); !st) {
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
  c->init_path(local, remote);
  c->initial_scid_ = random_cid(random, config.cid_length);
  c->add_local_cid(c->initial_scid_);
  c->original_dcid_ = info.original_dcid;
  c->retry_scid_ = info.retry_scid;
  c->peer_cid_ = info.client_scid;
  c->peer_cid_confirmed_ = true;
  if (info.address_validated) {
    c->address_validated_ = true;
    c->paths_[0]->validated = true;
  }
  if (auto st = c->install_initial_keys(info.initial_dcid); !st) {
    return std::unexpected(st.error());
  }
  if (auto st = c->init_tls(std::move(tls)); !st) return std::unexpected(st.error());
  c->idle_deadline_ = now + c->idle_period();
  c->last_sent_time_ = now;
  return c;
}

PnSpace& Connection::pn_space(PnSpaceId s) {
  return s == PnSpaceId::kApp ? paths_[0]->app : handshake_spaces_[static_cast<size_t>(s)];
}
const PnSpace& Connection::pn_space(PnSpaceId s) const {
  return s == PnSpaceId::kApp ? paths_[0]->app : handshake_spaces_[static_cast<size_t>(s)];
}

uint64_t Connection::bytes_in_flight() const {
  return handshake_spaces_[0].loss.bytes_in_flight() + handshake_spaces_[1].loss.bytes_in_flight() +
         paths_[0]->app.loss.bytes_in_flight();
}

Duration Connection::peer_max_ack_delay() const {
  return std::chrono::milliseconds(peer_params_received_ ? peer_params_.max_ack_delay_ms : 25);
}

Duration Connection::pto_period() const {
  return pto_duration(paths_[0]->rtt, peer_max_ack_delay(), handshake_confirmed_, 0);
}

Duration Connection::idle_period() const {
  // RFC 9000 §10.1: never shorter than three PTOs.
  return std::max(config_.idle_timeout, 3 * pto_period());
}

// RFC 9002 Appendix A.8: the earliest loss time, else the PTO of the earliest space.
Instant Connection::loss_or_pto_deadline(PnSpaceId* space_out, bool* is_loss) const {
  *is_loss = true;
  Instant best = kNever;
  for (PnSpaceId s : {PnSpaceId::kInitial, PnSpaceId::kHandshake, PnSpaceId::kApp}) {
    if (discarded_[static_cast<size_t>(s)]) continue;
    Instant t = pn_space(s).loss.loss_time();
    if (t < best) {
      best = t;
      *space_out = s;
    }
  }
  if (best != kNever) return best;
  *is_loss = false;
  if (side_ == Side::kServer && amplification_room() == 0) return kNever;  // §6.2.2.1
  const Path& path = *paths_[0];
  bool any_in_flight = false;
  for (PnSpaceId s : {PnSpaceId::kInitial, PnSpaceId::kHandshake, PnSpaceId::kApp}) {
    if (!discarded_[static_cast<size_t>(s)] && pn_space(s).loss.has_ack_eliciting_in_flight()) {
      any_in_flight = true;
    }
  }
  if (!any_in_flight) {
    // Anti-deadlock (§6.2.2.1): a client without handshake confirmation keeps probing.
    if (side_ == Side::kClient && !handshake_confirmed_) {
      *space_out = crypto_[1].seal ? PnSpaceId::kHandshake : PnSpaceId::kInitial;
      return last_sent_time_ + pto_duration(path.rtt, Duration(0), false, pto_count_);
    }
    return kNever;
  }
  for (PnSpaceId s : {PnSpaceId::kInitial, PnSpaceId::kHandshake, PnSpaceId::kApp}) {
    if (discarded_[static_cast<size_t>(s)]) continue;
    const PnSpace& pns = pn_space(s);
    if (!pns.loss.has_ack_eliciting_in_flight()) continue;
    if (s == PnSpaceId::kApp && !handshake_confirmed_) continue;  // §6.2.1
    bool app = s == PnSpaceId::kApp;
    Instant t = pns.loss.time_of_last_ack_eliciting() +
                pto_duration(path.rtt, app ? peer_max_ack_delay() : Duration(0), app, pto_count_);
    if (t < best) {
      best = t;
      *space_out = s;
    }
  }
  return best;
}

Instant Connection::next_timeout() const {
  if (state_ == State::kClosed) return kNever;
  if (state_ == State::kClosing || state_ == State::kDraining) return close_deadline_;
  Instant t = std::min({idle_deadline_, pacing_wakeup_, prev_open_expiry_});
  PnSpaceId s;
  bool is_loss;
  t = std::min(t, loss_or_pto_deadline(&s, &is_loss));
  for (PnSpaceId sp : {PnSpaceId::kInitial, PnSpaceId::kHandshake, PnSpaceId::kApp}) {
    if (!discarded_[static_cast<size_t>(sp)]) t = std::min(t, pn_space(sp).acks.ack_deadline());
  }
  return t;
}

void Connection::on_timeout(Instant now) {
  if (state_ == State::kClosed) return;
  now_ = now;
  if (state_ == State::kClosing || state_ == State::kDraining) {
    if (now >= close_deadline_) {
      state_ = State::kClosed;
      if (trace_) trace_->state_updated(now, "closed");
    }
    return;
  }
  if (now >= idle_deadline_) {
    // RFC 9000 §10.1: silently discard state.
    close_error_ = Error{err::kNoError, 0, "idle timeout"};
    state_ = State::kClosed;
    if (trace_) trace_->connection_closed(now, *close_error_, false);
    push_event({EventKind::kClosed, 0, err::kNoError, "idle timeout"});
    return;
  }
  if (pacing_wakeup_ <= now) pacing_wakeup_ = kNever;
  if (prev_open_expiry_ <= now) {
    prev_open_.reset();  // RFC 9001 §6.5: old keys go after about three PTOs
    prev_open_expiry_ = kNever;
  }
  PnSpaceId space = PnSpaceId::kInitial;
  bool is_loss = false;
  if (loss_or_pto_deadline(&space, &is_loss) <= now) on_loss_timer(now, space, is_loss);
}

void Connection::on_loss_timer(Instant now, PnSpaceId space, bool is_loss) {
  Path& path = *paths_[0];
  PnSpace& pns = pn_space(space);
  if (is_loss) {
    auto lost = pns.loss.detect_lost(now, path.rtt);
    if (!lost.empty()) {
      on_ecn_marked_lost(lost);
      on_packets_lost(now, space, lost);
      report_loss_to_cc(now, lost, false);
    }
    return;
  }
  // PTO (RFC 9002 §6.2.4): probe in the space, carrying what the oldest unacknowledged
  // packets carried (the packets stay in flight: either copy may be acknowledged).
  ++pto_count_;
  size_t si = static_cast<size_t>(space);
  pto_probe_pending_[si] = kPtoProbeDatagrams;
  for (const SentPacket& p : pns.loss.oldest_unacked_ack_eliciting(kPtoRetransmitPackets)) {
    if (auto it = sent_frames_.find(p.token); it != sent_frames_.end()) {
      requeue_frames(space, it->second, false);
    }
  }
  last_sent_time_ = now;  // re-arms the anti-deadlock timer from this probe
}

void Connection::enter_closing(Instant now, Error error, bool send_close) {
  if (state_ == State::kClosing || state_ == State::kDraining || state_ == State::kClosed) return;
  close_error_ = error;
  state_ = State::kClosing;
  if (trace_) trace_->connection_closed(now, error, false);
  close_deadline_ = now + 3 * pto_period();
  close_frame_pending_ = send_close;
  push_event({EventKind::kClosed, 0, error.code, error.reason, error.application});
}

void Connection::enter_draining(Instant now) {
  if (state_ == State::kDraining || state_ == State::kClosed) return;
  bool notify = state_ != State::kClosing;
  state_ = State::kDraining;
  if (trace_ && close_error_) trace_->connection_closed(now, *close_error_, closed_by_peer_);
  close_deadline_ = now + 3 * pto_period();
  if (notify && close_error_) {
    push_event({EventKind::kClosed, 0, close_error_->code, close_error_->reason,
                close_error_->application});
  }
}

void Connection::close(uint64_t app_error, std::string reason, Instant now) {
  Error e{app_error, 0, std::move(reason), true};
  enter_closing(now, std::move(e), true);
}

void Connection::trace_metrics(Instant now) {
  if (!trace_) return;
  const Path& path = *paths_[0];
  RecoveryMetrics m;
  m.smoothed_rtt = path.rtt.smoothed();
  m.min_rtt = path.rtt.min_rtt();
  m.latest_rtt = path.rtt.latest();
  m.rtt_variance = path.rtt.rttvar();
  m.congestion_window = path.cc->cwnd();
  m.bytes_in_flight = bytes_in_flight();
  m.pacing_rate_bps = path.cc->pacing_rate_bps(path.rtt);
  m.pto_count = pto_count_;
  m.mtu = path.mtu;
  if (m == last_metrics_) return;
  last_metrics_ = m;
  trace_->metrics_updated(now, m);
}

std::optional<Event> Connection::poll_event() {
  pump_stream_events();
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

Status Connection::on_retire_connection_id(uint64_t seq) {
  if (seq >= next_local_cid_seq_) {
    return fail(err::kProtocolViolation, "RETIRE_CONNECTION_ID for an unissued sequence",
                frame_type::kRetireConnectionId);
  }
  auto it = std::find_if(local_cids_.begin(), local_cids_.end(),
                         [&](const LocalCid& c) { return c.seq == seq; });
  if (it == local_cids_.end()) return {};  // already retired
  local_cid_list_.erase(std::find(local_cid_list_.begin(), local_cid_list_.end(), it->cid));
  local_cids_.erase(it);
  ++retired_local_cids_;
  issue_local_cids();
  return {};
}

void Connection::issue_local_cids() {
  if (!peer_params_received_ || config_.cid_length == 0) return;
  uint64_t want = std::min<uint64_t>(peer_params_.active_connection_id_limit, kMaxLocalCids);
  while (local_cids_.size() < want) {
    add_local_cid(random_cid(random_, config_.cid_length));
    pending_new_cids_.push_back(local_cids_.back().seq);
  }
}

// --- Stateless reset (RFC 9000 §10.3)

bool Connection::is_stateless_reset(Bytes d) const {
  if (d.size() < kMinStatelessResetSize || (d[0] & 0x80) != 0) return false;
  const uint8_t* tail = d.data() + d.size() - kResetTokenSize;
  if (peer_reset_token_ && reset_token_equal(tail, peer_reset_token_->data())) return true;
  for (const PeerCid& c : spare_peer_cids_) {
    if (reset_token_equal(tail, c.token.data())) return true;
  }
  return false;
}

void Connection::on_stateless_reset(Instant now) {
  if (state_ == State::kDraining || state_ == State::kClosed) return;
  closed_by_peer_ = true;
  close_error_ = Error{err::kNoError, 0, "stateless reset"};
  enter_draining(now);
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

// --- DATAGRAM (RFC 9221)

size_t Connection::max_datagram_payload() const {
  if (!peer_params_received_ || !peer_params_.max_datagram_frame_size) return 0;
  // Short header (1 + CID + 4-byte pn) + frame type and length + AEAD tag.
  size_t overhead = 1 + peer_cid_.len + 4 + 1 + 2 + kAeadTagSize;
  size_t by_mtu = paths_[0]->mtu > overhead ? paths_[0]->mtu - overhead : 0;
  return std::min<size_t>(by_mtu, *peer_params_.max_datagram_frame_size > 3
                                      ? *peer_params_.max_datagram_frame_size - 3
                                      : 0);
}

Status Connection::send_datagram(Bytes data) {
  if (data.size() > max_datagram_payload()) {
    return fail(err::kProtocolViolation, "datagram larger than the peer accepts");
  }
  // RFC 9221 §5: unreliable; a full queue drops the oldest rather than blocking.
  if (datagrams_out_.size() >= config_.datagram_send_queue) datagrams_out_.pop_front();
  datagrams_out_.emplace_back(data.begin(), data.end());
  return {};
}

std::optional<std::vector<uint8_t>> Connection::recv_datagram() {
  if (datagrams_in_.empty()) return std::nullopt;
  auto d = std::move(datagrams_in_.front());
  datagrams_in_.pop_front();
  return d;
}

}  // namespace quic

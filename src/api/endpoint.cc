// tquic::Endpoint over quic::Endpoint, and the facade's per-connection state (core.h).
#include <cstring>

#include "api/core.h"
#include "io/os_random.h"
#include "tls/tls_config.h"

namespace tquic {

namespace detail {

quic::Instant to_core(Instant t) { return quic::Instant(t.time_since_epoch()); }
Instant from_core(quic::Instant t) { return Instant(t.time_since_epoch()); }

quic::SocketAddress to_core(const Address& a) {
  quic::SocketAddress s;
  s.ip = a.ip;
  s.port = a.port;
  s.v6 = a.v6;
  return s;
}

Address from_core(const quic::SocketAddress& s) {
  Address a;
  a.ip = s.ip;
  a.port = s.port;
  a.v6 = s.v6;
  return a;
}

TransportError from_core(const quic::Error& e, bool from_peer) {
  return TransportError{e.code, e.frame_type, e.reason, e.application, from_peer};
}

Error make_error(Errc code, std::string detail, uint64_t app_code) {
  return Error{code, app_code, std::move(detail)};
}

void note_stream(ConnState& st, uint64_t stream_id) {
  uint64_t& next = st.next_id[stream_id & 3];
  if (stream_id >= next) next = stream_id + 4;
}

bool stream_known(const ConnState& st, uint64_t stream_id) {
  return stream_id < st.next_id[stream_id & 3];
}

namespace {

quic::TlsConfig tls_config(const EndpointOptions& o) {
  quic::TlsConfig t;
  t.server = o.server;
  t.alpn = o.tls.alpn;
  t.cert_file = o.tls.cert_file;
  t.key_file = o.tls.key_file;
  t.cert_pem = o.tls.cert_pem;
  t.key_pem = o.tls.key_pem;
  t.ca_file = o.tls.ca_file;
  t.ca_pem = o.tls.ca_pem;
  t.server_name = o.tls.server_name;
  t.insecure_skip_verify = o.tls.insecure_skip_verify;
  t.enable_early_data = o.tls.enable_early_data;
  t.keylog_file = o.tls.keylog_file;
  return t;
}

quic::CcAlgorithm cc_of(CongestionControl c) {
  switch (c) {
    case CongestionControl::new_reno: return quic::CcAlgorithm::kNewReno;
    case CongestionControl::cubic: return quic::CcAlgorithm::kCubic;
    case CongestionControl::bbr: return quic::CcAlgorithm::kBbr;
    case CongestionControl::lia: return quic::CcAlgorithm::kLia;
    case CongestionControl::olia: return quic::CcAlgorithm::kOlia;
    case CongestionControl::balia: return quic::CcAlgorithm::kBalia;
  }
  return quic::CcAlgorithm::kCubic;
}

quic::SchedulerKind scheduler_of(PathScheduler s) {
  switch (s) {
    case PathScheduler::min_rtt: return quic::SchedulerKind::kMinRtt;
    case PathScheduler::round_robin: return quic::SchedulerKind::kRoundRobin;
    case PathScheduler::weighted: return quic::SchedulerKind::kWeighted;
    case PathScheduler::ecf: return quic::SchedulerKind::kEcf;
    case PathScheduler::blest: return quic::SchedulerKind::kBlest;
    case PathScheduler::redundant: return quic::SchedulerKind::kRedundant;
    case PathScheduler::deadline: return quic::SchedulerKind::kDeadline;
  }
  return quic::SchedulerKind::kMinRtt;
}

Result<quic::ConnectionConfig> connection_config(const ConnectionOptions& o) {
  if (o.idle_timeout.count() < 0 || o.keep_alive.count() < 0) {
    return fail(Errc::invalid_argument, "negative idle_timeout or keep_alive");
  }
  if (o.max_paths == 0 || o.max_paths > quic::kMaxPathsLimit) {
    return fail(Errc::invalid_argument, "max_paths must be 1.." +
                                            std::to_string(quic::kMaxPathsLimit));
  }
  if (o.initial_mtu < 1200 || o.max_mtu < o.initial_mtu || o.max_udp_payload_size < 1200) {
    return fail(Errc::invalid_argument, "MTUs must be at least 1200 and max_mtu >= initial_mtu");
  }
  quic::ConnectionConfig c;
  c.idle_timeout = o.idle_timeout;
  c.initial_max_data = o.initial_max_data;
  c.initial_max_stream_data = o.initial_max_stream_data;
  c.max_streams_bidi = o.max_streams_bidi;
  c.max_streams_uni = o.max_streams_uni;
  c.max_datagram_frame_size = o.max_datagram_frame_size;
  c.datagram_send_buffer = o.datagram_send_buffer;
  c.datagram_recv_buffer = o.datagram_recv_buffer;
  c.datagram_send_queue = o.datagram_send_queue;
  c.datagram_recv_queue = o.datagram_recv_queue;
  c.datagram_send_low_water = o.datagram_send_low_water;
  c.datagram_resend_on_path_failure = o.datagram_resend_on_path_failure;
  c.datagram_resend_buffer = o.datagram_resend_buffer;
  c.datagram_resend_on_loss = o.datagram_resend_on_loss;
  c.datagram_resend_window = o.datagram_resend_window;
  c.stream_send_buffer = o.stream_send_buffer;
  c.max_udp_payload_size = o.max_udp_payload_size;
  c.initial_mtu = o.initial_mtu;
  c.max_mtu = o.max_mtu;
  c.pmtud = o.pmtud;
  c.ecn = o.ecn;
  c.cc = cc_of(o.congestion_control);
  c.multipath = o.multipath;
  c.max_paths = o.max_paths;
  c.scheduler = scheduler_of(o.scheduler);
  c.keep_alive = o.keep_alive;
  c.accept_0rtt = o.accept_0rtt;
  c.reliable_reset = o.reliable_reset;
  return c;
}

quic::RetryPolicy retry_of(RetryPolicy r) {
  switch (r) {
    case RetryPolicy::disabled: return quic::RetryPolicy::kDisabled;
    case RetryPolicy::always: return quic::RetryPolicy::kAlways;
    case RetryPolicy::under_load: return quic::RetryPolicy::kUnderLoad;
  }
  return quic::RetryPolicy::kUnderLoad;
}

// Kinds the core reports level-triggered: one queued event per (kind, stream) is enough.
bool level_triggered(quic::EventKind k) {
  return k == quic::EventKind::kStreamReadable || k == quic::EventKind::kStreamWritable ||
         k == quic::EventKind::kDatagramReceived || k == quic::EventKind::kStreamsAvailable;
}

bool is_stream_event(quic::EventKind k) {
  switch (k) {
    case quic::EventKind::kStreamOpened:
    case quic::EventKind::kStreamReadable:
    case quic::EventKind::kStreamWritable:
    case quic::EventKind::kStreamReset:
    case quic::EventKind::kStopSending:
    case quic::EventKind::kStreamFinished:
      return true;
    default:
      return false;
  }
}

void sweep_records(quic::Connection& c, ConnState& st) {
  if (st.records.size() < st.sweep_at) return;
  std::erase_if(st.records, [&](const auto& kv) { return c.find_stream(kv.first) == nullptr; });
  st.sweep_at = std::max(kStreamRecordSweep, 2 * st.records.size());
}

}  // namespace

Result<std::unique_ptr<EndpointCore>> EndpointCore::create(const EndpointOptions& options) {
  if (options.tls.alpn.empty()) return fail(Errc::invalid_argument, "tls.alpn is required");
  auto conn = connection_config(options.connection);
  if (!conn) return std::unexpected(conn.error());
  auto tls = quic::make_tls_context(tls_config(options));
  if (!tls) return fail(Errc::invalid_argument, "TLS: " + tls.error().reason);
  quic::EndpointConfig cfg;
  cfg.server = options.server;
  cfg.connection = *conn;
  cfg.tls = *tls;
  cfg.max_connections = options.max_connections;
  cfg.retry = retry_of(options.retry);
  std::unique_ptr<EndpointCore> core(new EndpointCore());
  if (options.random_seed) {
    core->random_ = std::make_unique<quic::SeededRandom>(*options.random_seed);
  } else {
    core->random_ = std::make_unique<::io::OsRandom>();
  }
  core->endpoint_ = std::make_unique<quic::Endpoint>(std::move(cfg), *core->random_);
  core->server_ = options.server;
  return core;
}

void EndpointCore::drain(uint64_t id) {
  quic::Connection* c = conn(id);
  if (c == nullptr) return;
  ConnState& st = states_[id];
  while (auto e = c->poll_event()) {
    if (is_stream_event(e->kind)) note_stream(st, e->stream_id);
    if (e->kind == quic::EventKind::kStreamReset) st.records[e->stream_id].peer_reset = e->error_code;
    if (e->kind == quic::EventKind::kStopSending) st.records[e->stream_id].peer_stop = e->error_code;
    if (level_triggered(e->kind) &&
        !st.queued.insert({static_cast<uint8_t>(e->kind), e->stream_id}).second) {
      continue;
    }
    st.events.push_back(std::move(*e));
  }
  sweep_records(*c, st);
}

std::optional<quic::Event> EndpointCore::pop_event(uint64_t id) {
  // find, not operator[]: a handle already reaped must not get its state back (reap_closed no
  // longer sweeps every state).
  auto it = states_.find(id);
  if (it == states_.end() || it->second.events.empty()) return std::nullopt;
  ConnState& st = it->second;
  quic::Event e = std::move(st.events.front());
  st.events.pop_front();
  if (level_triggered(e.kind)) st.queued.erase({static_cast<uint8_t>(e.kind), e.stream_id});
  return e;
}

void EndpointCore::reap_closed() {
  // Only the reaped ones: looking every connection up on every turn would cost O(N) a turn.
  for (uint64_t h : endpoint_->reap_closed()) states_.erase(h);
}

}  // namespace detail

using detail::EndpointCore;

Endpoint::Endpoint(std::unique_ptr<EndpointCore> core) : core_(std::move(core)) {}
Endpoint::Endpoint(Endpoint&&) noexcept = default;
Endpoint& Endpoint::operator=(Endpoint&&) noexcept = default;
Endpoint::~Endpoint() = default;

Result<Endpoint> Endpoint::create(const EndpointOptions& options) {
  auto core = EndpointCore::create(options);
  if (!core) return std::unexpected(core.error());
  return EndpointCore::wrap(std::move(*core));
}

Result<Connection> Endpoint::connect(const Address& local, const Address& remote, Instant now,
                                     const ConnectParams& params) {
  // The server's TLS context cannot act as a client (no trust store, server role).
  if (core_->server()) return detail::fail(Errc::invalid_argument, "a server endpoint cannot connect");
  quic::ConnectOptions o;
  o.token = params.token;
  o.session_ticket = params.session_ticket;
  o.zero_rtt = params.zero_rtt;
  auto h = core_->endpoint().connect(detail::to_core(local), detail::to_core(remote),
                                     detail::to_core(now), o);
  if (!h) return detail::fail(Errc::invalid_argument, h.error().reason);
  core_->state(*h);  // the facade state exists from the start
  return core_->handle(*h);
}

void Endpoint::on_datagram(Instant now, const Address& local, const Address& remote,
                           uint8_t ecn, std::span<uint8_t> datagram) {
  core_->endpoint().on_datagram(detail::to_core(now), detail::to_core(local),
                                detail::to_core(remote), ecn, datagram);
}

std::optional<Transmit> Endpoint::poll_transmit(Instant now, std::span<uint8_t> buffer,
                                                size_t max_segments) {
  auto t = core_->endpoint().poll_transmit(detail::to_core(now), buffer, max_segments);
  if (!t) return std::nullopt;
  return Transmit{detail::from_core(t->local), detail::from_core(t->remote), t->ecn, t->size,
                  t->segment_size};
}

Instant Endpoint::next_timeout() const {
  quic::Instant t = core_->endpoint().next_timeout();
  return t == quic::kNever ? kNever : detail::from_core(t);
}

void Endpoint::on_timeout(Instant now) { core_->endpoint().on_timeout(detail::to_core(now)); }

std::optional<Connection> Endpoint::accept() {
  auto h = core_->endpoint().accept();
  if (!h) return std::nullopt;
  core_->state(*h);
  return core_->handle(*h);
}

size_t Endpoint::connection_count() const { return core_->endpoint().connection_count(); }

void Endpoint::reap_closed() { core_->reap_closed(); }

EndpointStats Endpoint::stats() const {
  const auto& s = core_->endpoint().stats();
  return EndpointStats{s.datagrams_dropped, s.version_negotiations_sent, s.connections_accepted,
                       s.retries_sent, s.stateless_resets_sent, s.stateless_resets_received};
}

}  // namespace tquic

// tquic::Connection: the stream, datagram and path calls with their precise per-call results
// (include/tquic/error.h), events and the info snapshot.
#include <algorithm>

#include "api/core.h"

namespace tquic {

using detail::ConnState;
using detail::fail;

namespace {

// What a stream call works on: a live (not closing) connection whose core events have been
// drained, so the stream records reflect everything the core has reported.
struct Ctx {
  quic::Connection& c;
  ConnState& st;
  bool server;
};

Result<Ctx> live(detail::EndpointCore* core, uint64_t id) {
  quic::Connection* c = core->conn(id);
  if (c == nullptr || c->is_closed() || c->is_draining_or_closing()) {
    return fail(Errc::connection_closed, "the connection is closing or gone");
  }
  core->drain(id);
  return Ctx{*c, core->state(id), c->side() == quic::Side::kServer};
}

// The stream, or nullptr when it existed and has been freed (both directions over), or
// unknown_stream.
Result<const quic::Stream*> lookup(Ctx& x, uint64_t id) {
  if (const quic::Stream* s = x.c.find_stream(id)) {
    detail::note_stream(x.st, id);
    return s;
  }
  if (!detail::stream_known(x.st, id)) return fail(Errc::unknown_stream, "stream never opened");
  return nullptr;
}

const detail::StreamRecord* record(const Ctx& x, uint64_t id) {
  auto it = x.st.records.find(id);
  return it == x.st.records.end() ? nullptr : &it->second;
}

bool receive_only(const Ctx& x, uint64_t id) {
  return detail::stream_is_uni(id) && !detail::stream_is_local(id, x.server);
}
bool send_only(const Ctx& x, uint64_t id) {
  return detail::stream_is_uni(id) && detail::stream_is_local(id, x.server);
}

// The sending part can take no more data: why, as a per-call error; nullopt when it can.
std::optional<Error> send_closed(const Ctx& x, uint64_t id, const quic::Stream* s) {
  if (receive_only(x, id)) return detail::make_error(Errc::invalid_argument, "receive-only stream");
  const detail::StreamRecord* r = record(x, id);
  if (r != nullptr && r->peer_stop) {
    return detail::make_error(Errc::stop_sending, "the peer sent STOP_SENDING", *r->peer_stop);
  }
  if (s == nullptr) return detail::make_error(Errc::finished, "stream closed");
  switch (s->send_state()) {
    case quic::SendState::kResetSent:
    case quic::SendState::kResetRecvd: return detail::make_error(Errc::finished, "stream reset");
    case quic::SendState::kDataRecvd: return detail::make_error(Errc::finished, "stream done");
    default: break;
  }
  if (s->send_buffer().fin_set()) return detail::make_error(Errc::finished, "FIN already written");
  return std::nullopt;
}

// The receiving part has nothing more to give: why; nullopt when it may.
std::optional<Error> recv_closed(const Ctx& x, uint64_t id, const quic::Stream* s) {
  if (send_only(x, id)) return detail::make_error(Errc::invalid_argument, "send-only stream");
  const detail::StreamRecord* r = record(x, id);
  if (s != nullptr && (s->recv_state() == quic::RecvState::kResetRecvd ||
                       s->recv_state() == quic::RecvState::kResetRead)) {
    return detail::make_error(Errc::stream_reset, "the peer reset the stream",
                              s->peer_reset_error());
  }
  if (r != nullptr && r->peer_reset) {
    return detail::make_error(Errc::stream_reset, "the peer reset the stream", *r->peer_reset);
  }
  if (s == nullptr) return detail::make_error(Errc::finished, "stream closed");
  if (r != nullptr && r->stop_sent) return detail::make_error(Errc::finished, "stopped reading");
  if (s->recv_state() == quic::RecvState::kDataRead) {
    return detail::make_error(Errc::finished, "end of stream already read");
  }
  return std::nullopt;
}

Result<void> from_status(const quic::Status& s) {
  if (!s) return fail(Errc::invalid_argument, s.error().reason);
  return {};
}

EventKind kind_of(quic::EventKind k) {
  switch (k) {
    case quic::EventKind::kHandshakeCompleted: return EventKind::handshake_completed;
    case quic::EventKind::kStreamOpened: return EventKind::stream_opened;
    case quic::EventKind::kStreamReadable: return EventKind::stream_readable;
    case quic::EventKind::kStreamWritable: return EventKind::stream_writable;
    case quic::EventKind::kStreamReset: return EventKind::stream_reset;
    case quic::EventKind::kStopSending: return EventKind::stop_sending;
    case quic::EventKind::kStreamFinished: return EventKind::stream_acked;
    case quic::EventKind::kStreamsAvailable: return EventKind::streams_available;
    case quic::EventKind::kDatagramReceived: return EventKind::datagram_received;
    case quic::EventKind::kDatagramsWritable: return EventKind::datagrams_writable;
    case quic::EventKind::kDatagramPayloadChanged: return EventKind::datagram_payload_changed;
    case quic::EventKind::kPathValidated: return EventKind::path_validated;
    case quic::EventKind::kPathFailed: return EventKind::path_failed;
    case quic::EventKind::kPathRecovered: return EventKind::path_recovered;
    case quic::EventKind::kPathClosed: return EventKind::path_closed;
    case quic::EventKind::kClosed: return EventKind::closed;
  }
  return EventKind::closed;
}

Event to_public(const quic::Event& e, const quic::Connection& c) {
  Event out;
  out.kind = kind_of(e.kind);
  out.app_code = e.error_code;
  switch (out.kind) {
    case EventKind::path_validated:
    case EventKind::path_failed:
    case EventKind::path_recovered:
    case EventKind::path_closed: out.path_id = e.stream_id; break;
    case EventKind::closed: {
      quic::Error err{e.error_code, 0, e.reason, e.application};
      if (c.close_error()) err.frame_type = c.close_error()->frame_type;
      out.close = detail::from_core(err, c.closed_by_peer());
      out.app_code = 0;
      break;
    }
    default: out.stream_id = e.stream_id; break;
  }
  return out;
}

PathState path_state(const quic::Path& p) {
  if (p.state == quic::PathState::kValidating) return PathState::validating;
  if (p.state == quic::PathState::kAbandoned) return PathState::closed;
  if (p.health.failed()) return PathState::failed;
  if (p.role.backup()) return PathState::backup;
  return PathState::active;
}

PathInfo path_info(const quic::Connection& c, const quic::Path& p) {
  PathInfo i;
  i.id = p.id;
  i.local = detail::from_core(p.local);
  i.remote = detail::from_core(p.remote);
  i.state = path_state(p);
  i.srtt = p.rtt.smoothed();
  i.min_rtt = p.rtt.min_rtt();
  i.rttvar = p.rtt.rttvar();
  i.cwnd = p.cc ? p.cc->cwnd() : 0;
  i.pacing_rate_bps = p.cc ? p.cc->pacing_rate_bps(p.rtt) : 0;
  i.bytes_in_flight = p.app.loss.bytes_in_flight();
  i.bytes_sent = p.bytes_sent;
  i.bytes_received = p.bytes_received;
  i.packets_sent = p.packets_sent;
  i.packets_lost = p.packets_lost;
  i.pmtu = p.mtu;
  i.keepalive = c.path_keepalive(p.id);
  return i;
}

void fill_stats(const quic::ConnectionStats& s, ConnectionInfo& i) {
  i.packets_sent = s.packets_sent;
  i.packets_received = s.packets_received;
  i.packets_lost = s.packets_lost;
  i.packets_dropped = s.packets_dropped;
  i.bytes_sent = s.bytes_sent;
  i.bytes_received = s.bytes_received;
  i.stream_bytes_retransmitted = s.stream_bytes_retransmitted;
  i.key_updates = s.key_updates;
  i.ecn_ce_received = s.ecn_ce_received;
  i.ecn_capable = s.ecn_capable;
  i.paths_opened = s.paths_opened;
  i.paths_validated = s.paths_validated;
  i.paths_failed = s.paths_failed;
  i.paths_abandoned = s.paths_abandoned;
  i.migrations = s.migrations;
  i.preferred_address_used = s.preferred_address_used;
  i.path_challenges_sent = s.path_challenges_sent;
  i.path_challenges_received = s.path_challenges_received;
  i.path_responses_sent = s.path_responses_sent;
  i.reinjected_packets = s.reinjected_packets;
  i.local_cids_retired = s.local_cids_retired;
  i.peer_cids_retired = s.peer_cids_retired;
  i.datagrams_sent = s.datagrams_sent;
  i.datagrams_received = s.datagrams_received;
  i.datagrams_refused = s.datagrams_refused;
  i.datagrams_recv_dropped = s.datagrams_recv_dropped;
  i.datagrams_expired = s.datagrams_expired;
  i.datagrams_too_large = s.datagrams_too_large;
  i.datagrams_resent = s.datagrams_resent;
  i.datagrams_resend_exhausted = s.datagrams_resend_exhausted;
  i.datagram_copies_sent = s.datagram_copies_sent;
  i.retry_received = s.retry_received;
  i.resumed = s.resumed;
  i.zero_rtt_attempted = s.zero_rtt_attempted;
  i.zero_rtt_accepted = s.zero_rtt_accepted;
  i.zero_rtt_bytes_sent = s.zero_rtt_bytes_sent;
  i.zero_rtt_packets_sent = s.zero_rtt_packets_sent;
  i.zero_rtt_packets_received = s.zero_rtt_packets_received;
  i.handshake_time = s.handshake_time;
}

}  // namespace

std::optional<Event> Connection::poll_event() {
  quic::Connection* c = core_->conn(id_);
  if (c == nullptr) return std::nullopt;
  core_->drain(id_);
  auto e = core_->pop_event(id_);
  if (!e) return std::nullopt;
  return to_public(*e, *c);
}

Result<uint64_t> Connection::open_stream(bool bidirectional) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  auto id = x->c.open_stream(bidirectional);
  if (!id) {
    if (id.error().code == quic::err::kStreamLimitError) {
      return fail(Errc::would_block, "the peer's stream limit is reached");
    }
    return fail(Errc::connection_closed, id.error().reason);
  }
  detail::note_stream(x->st, *id);
  return *id;
}

Result<size_t> Connection::stream_write(uint64_t stream_id, std::span<const uint8_t> data,
                                        bool fin) {
  quic::CopyFrom fill{data};
  return stream_write_with(stream_id, data.size(), fill, fin);
}

Result<size_t> Connection::write_with(uint64_t stream_id, size_t max, FillFn fill, void* ctx,
                                      bool fin) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  if (receive_only(*x, stream_id)) return fail(Errc::invalid_argument, "receive-only stream");
  auto s = lookup(*x, stream_id);
  if (!s) return std::unexpected(s.error());
  if (auto closed = send_closed(*x, stream_id, *s)) return std::unexpected(std::move(*closed));
  auto n = x->c.stream_write_with(stream_id, max,
                                  [&](quic::MutBytes dst) { return fill(ctx, dst); }, fin);
  if (!n) return fail(Errc::invalid_argument, n.error().reason);
  if (*n == 0 && max > 0) return fail(Errc::would_block, "no room in the send buffer");
  return *n;
}

Result<ReadResult> Connection::stream_read(uint64_t stream_id, std::span<uint8_t> out) {
  quic::CopyInto take{out};
  return stream_read_with(stream_id, out.size(), take);
}

Result<ReadResult> Connection::read_with(uint64_t stream_id, size_t max, TakeFn take,
                                         void* ctx) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  if (send_only(*x, stream_id)) return fail(Errc::invalid_argument, "send-only stream");
  if (max == 0) return fail(Errc::invalid_argument, "empty buffer");
  auto s = lookup(*x, stream_id);
  if (!s) return std::unexpected(s.error());
  if (auto closed = recv_closed(*x, stream_id, *s)) return std::unexpected(std::move(*closed));
  bool fin = false;
  auto each = [&](std::span<const quic::Bytes> spans) { return take(ctx, spans); };
  auto n = x->c.stream_read_with(stream_id, max, each, &fin);
  if (!n) return fail(Errc::stream_reset, "the peer reset the stream", n.error().code);
  if (*n == 0 && !fin) return fail(Errc::would_block, "no data yet");
  return ReadResult{*n, fin};
}

Result<void> Connection::stream_reset(uint64_t stream_id, uint64_t app_code) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  auto s = lookup(*x, stream_id);
  if (!s) return std::unexpected(s.error());
  if (auto closed = send_closed(*x, stream_id, *s); closed && closed->code != Errc::finished) {
    return std::unexpected(std::move(*closed));
  }
  // A stream whose FIN was written but not yet acknowledged can still be reset (RFC 9000 §3.1).
  if (!x->c.stream_reset(stream_id, app_code)) return fail(Errc::finished, "stream already over");
  return {};
}

Result<void> Connection::stream_stop_sending(uint64_t stream_id, uint64_t app_code) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  auto s = lookup(*x, stream_id);
  if (!s) return std::unexpected(s.error());
  if (auto closed = recv_closed(*x, stream_id, *s)) return std::unexpected(std::move(*closed));
  if (!x->c.stream_stop_sending(stream_id, app_code)) {
    return fail(Errc::finished, "all data already received");
  }
  x->st.records[stream_id].stop_sent = true;
  return {};
}

Result<void> Connection::set_stream_priority(uint64_t stream_id, uint8_t urgency,
                                             bool incremental) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  if (urgency > 7) return fail(Errc::invalid_argument, "urgency above 7");
  if (receive_only(*x, stream_id)) return fail(Errc::invalid_argument, "receive-only stream");
  auto s = lookup(*x, stream_id);
  if (!s) return std::unexpected(s.error());
  if (*s == nullptr || !x->c.set_stream_priority(stream_id, urgency, incremental)) {
    return fail(Errc::finished, "stream closed");
  }
  return {};
}

Result<void> Connection::send_datagram(std::span<const uint8_t> data,
                                       std::optional<Instant> deadline) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  std::optional<quic::Instant> d;
  if (deadline) d = detail::to_core(*deadline);
  auto st = x->c.send_datagram(data, d);
  if (!st && quic::would_block(st.error())) return fail(Errc::would_block, "datagram send queue full");
  return from_status(st);
}

Result<size_t> Connection::recv_datagram(std::span<uint8_t> out) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  auto n = x->c.recv_datagram(out);
  if (n) return *n;
  if (quic::would_block(n.error())) return fail(Errc::would_block, "no datagram queued");
  return fail(Errc::invalid_argument, n.error().reason);
}

std::optional<size_t> Connection::next_datagram_size() const {
  quic::Connection* c = core_->conn(id_);
  return c == nullptr ? std::nullopt : c->next_datagram_size();
}

std::optional<std::vector<uint8_t>> Connection::recv_datagram() {
  quic::Connection* c = core_->conn(id_);
  if (c == nullptr) return std::nullopt;
  return c->recv_datagram();
}

size_t Connection::max_datagram_payload() const {
  quic::Connection* c = core_->conn(id_);
  return c == nullptr ? 0 : c->max_datagram_payload();
}

Result<void> Connection::add_path(const Address& local, const Address& remote, bool backup) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  return from_status(x->c.add_path(detail::to_core(local), detail::to_core(remote), backup));
}

Result<void> Connection::abandon_path(uint64_t path_id, uint64_t app_code) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  return from_status(x->c.abandon_path(path_id, app_code));
}

Result<void> Connection::set_path_backup(uint64_t path_id, bool backup) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  return from_status(x->c.set_path_backup(path_id, backup));
}

Result<void> Connection::set_path_keepalive(uint64_t path_id, Duration interval) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  return from_status(x->c.set_path_keepalive(path_id, interval));
}

Result<void> Connection::migrate(const Address& new_local) {
  auto x = live(core_, id_);
  if (!x) return std::unexpected(x.error());
  return from_status(x->c.migrate(detail::to_core(new_local)));
}

void Connection::close(uint64_t app_code, std::string_view reason, Instant now) {
  if (quic::Connection* c = core_->conn(id_)) {
    c->close(app_code, std::string(reason), detail::to_core(now));
  }
}

bool Connection::handshake_complete() const {
  quic::Connection* c = core_->conn(id_);
  return c != nullptr && c->handshake_complete();
}

bool Connection::is_closed() const {
  quic::Connection* c = core_->conn(id_);
  return c == nullptr || c->is_closed() || c->is_draining_or_closing();
}

std::optional<TransportError> Connection::close_error() const {
  quic::Connection* c = core_->conn(id_);
  if (c == nullptr || !c->close_error()) return std::nullopt;
  return detail::from_core(*c->close_error(), c->closed_by_peer());
}

Result<ConnectionInfo> Connection::info() const {
  quic::Connection* c = core_->conn(id_);
  if (c == nullptr) return fail(Errc::connection_closed, "the connection was reaped");
  ConnectionInfo i;
  fill_stats(c->stats(), i);
  i.handshake_complete = c->handshake_complete();
  i.server = c->side() == quic::Side::kServer;
  i.version = c->version();
  i.alpn = c->alpn();
  i.multipath = c->multipath();
  i.max_datagram_payload = c->max_datagram_payload();
  i.paths.reserve(c->path_count());
  for (size_t k = 0; k < c->path_count(); ++k) i.paths.push_back(path_info(*c, c->path(k)));
  std::sort(i.paths.begin(), i.paths.end(),
            [](const PathInfo& a, const PathInfo& b) { return a.id < b.id; });
  return i;
}

std::vector<uint8_t> Connection::session_ticket() const {
  quic::Connection* c = core_->conn(id_);
  return c == nullptr ? std::vector<uint8_t>{} : c->session_ticket();
}

std::vector<uint8_t> Connection::new_token() const {
  quic::Connection* c = core_->conn(id_);
  return c == nullptr ? std::vector<uint8_t>{} : c->new_token();
}

}  // namespace tquic

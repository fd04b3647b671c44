// tquic::h3::Session over h3::Session. The core session keeps a reference to its
// quic::Connection, so every call first checks the connection still exists (not reaped).
#include "tquic/h3.h"

#include "api/core.h"
#include "h3/session.h"

namespace tquic::h3 {

using detail::fail;

struct Session::Impl {
  Connection conn;
  detail::EndpointCore* core;
  std::unique_ptr<::h3::Session> inner;

  bool reaped() const { return core->conn(conn.id()) == nullptr; }
  // The core session, or null once the connection is closing or gone.
  ::h3::Session* usable() const {
    quic::Connection* c = core->conn(conn.id());
    if (c == nullptr || c->is_closed() || c->is_draining_or_closing() || inner->is_closed()) {
      return nullptr;
    }
    return inner.get();
  }
};

namespace {

std::vector<::h3::Field> to_fields(std::span<const Header> headers) {
  std::vector<::h3::Field> out;
  out.reserve(headers.size());
  for (const Header& h : headers) out.push_back(::h3::Field{h.name, h.value});
  return out;
}

std::vector<Header> to_headers(const std::vector<::h3::Field>& fields) {
  std::vector<Header> out;
  out.reserve(fields.size());
  for (const auto& f : fields) out.push_back(Header{f.name, f.value});
  return out;
}

EventKind kind_of(::h3::EventKind k) {
  switch (k) {
    case ::h3::EventKind::kSettings: return EventKind::settings;
    case ::h3::EventKind::kHeaders: return EventKind::headers;
    case ::h3::EventKind::kData: return EventKind::data;
    case ::h3::EventKind::kTrailers: return EventKind::trailers;
    case ::h3::EventKind::kFinished: return EventKind::finished;
    case ::h3::EventKind::kReset: return EventKind::reset;
    case ::h3::EventKind::kStopSending: return EventKind::stop_sending;
    case ::h3::EventKind::kWritable: return EventKind::writable;
    case ::h3::EventKind::kGoaway: return EventKind::goaway;
    case ::h3::EventKind::kDatagram: return EventKind::datagram;
    case ::h3::EventKind::kClosed: return EventKind::closed;
    default: break;
  }
  return EventKind::settings;  // push events: filtered out before (push is never enabled)
}

bool is_push_event(::h3::EventKind k) {
  return k == ::h3::EventKind::kPushPromise || k == ::h3::EventKind::kPushOpened ||
         k == ::h3::EventKind::kPushCancelled || k == ::h3::EventKind::kPriorityUpdate;
}

}  // namespace

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

Result<Session> Session::create(Connection connection, Role role, const SessionOptions& o) {
  auto impl = std::make_unique<Impl>(Impl{connection, detail::EndpointCore::from(connection),
                                          nullptr});
  quic::Connection* c = impl->core->conn(connection.id());
  if (c == nullptr || c->is_closed() || c->is_draining_or_closing()) {
    return fail(Errc::connection_closed, "the connection is closing or gone");
  }
  ::h3::SessionConfig cfg;
  cfg.enable_datagrams = o.enable_datagrams;
  cfg.enable_connect_protocol = o.enable_connect_protocol;
  cfg.max_field_section_size = o.max_field_section_size;
  cfg.max_buffered_body = o.max_buffered_body;
  cfg.max_pending_send = o.max_pending_send;
  impl->inner = std::make_unique<::h3::Session>(
      *c, role == Role::client ? ::h3::Role::kClient : ::h3::Role::kServer, cfg);
  return Session(std::move(impl));
}

void Session::drive(Instant now) {
  if (impl_->reaped()) return;
  quic::Instant t = detail::to_core(now);
  impl_->core->drain(impl_->conn.id());
  while (auto e = impl_->core->pop_event(impl_->conn.id())) impl_->inner->on_transport_event(*e, t);
  impl_->inner->poll(t);
}

std::optional<Event> Session::poll_event() {
  if (impl_->reaped()) return std::nullopt;
  while (auto e = impl_->inner->poll_event()) {
    if (is_push_event(e->kind)) continue;
    return Event{kind_of(e->kind), e->stream_id, e->code, to_headers(e->fields),
                 std::move(e->reason)};
  }
  return std::nullopt;
}

namespace {
// h3 reports API misuse with a reason only; the stream limit shows as the transport's code.
Error h3_error(const quic::Error& e) {
  if (e.code == quic::err::kStreamLimitError) {
    return detail::make_error(Errc::would_block, e.reason);
  }
  return detail::make_error(Errc::invalid_argument, e.reason);
}
const char* const kClosed = "the connection or session is closed";
}  // namespace

Result<uint64_t> Session::send_request(std::span<const Header> headers,
                                       std::span<const uint8_t> body, bool end_stream) {
  ::h3::Session* s = impl_->usable();
  if (s == nullptr) return fail(Errc::connection_closed, kClosed);
  auto id = s->send_request(to_fields(headers), body, end_stream);
  if (!id) return std::unexpected(h3_error(id.error()));
  return *id;
}

Result<void> Session::send_response(uint64_t stream_id, std::span<const Header> headers,
                                    std::span<const uint8_t> body, bool end_stream) {
  ::h3::Session* s = impl_->usable();
  if (s == nullptr) return fail(Errc::connection_closed, kClosed);
  auto r = s->send_response(stream_id, to_fields(headers), body, end_stream);
  if (!r) return std::unexpected(h3_error(r.error()));
  return {};
}

Result<size_t> Session::send_body(uint64_t stream_id, std::span<const uint8_t> data, bool fin) {
  ::h3::Session* s = impl_->usable();
  if (s == nullptr) return fail(Errc::connection_closed, kClosed);
  auto n = s->send_body(stream_id, data, fin);
  if (!n) return std::unexpected(h3_error(n.error()));
  if (*n == 0 && !data.empty()) return fail(Errc::would_block, "no room for more body");
  return *n;
}

Result<void> Session::send_trailers(uint64_t stream_id, std::span<const Header> headers) {
  ::h3::Session* s = impl_->usable();
  if (s == nullptr) return fail(Errc::connection_closed, kClosed);
  auto r = s->send_trailers(stream_id, to_fields(headers));
  if (!r) return std::unexpected(h3_error(r.error()));
  return {};
}

Result<ReadResult> Session::read_body(uint64_t stream_id, std::span<uint8_t> out) {
  if (impl_->reaped()) return fail(Errc::connection_closed, kClosed);
  if (out.empty()) return fail(Errc::invalid_argument, "empty buffer");
  bool fin = false;
  size_t n = impl_->inner->read_body(stream_id, out, &fin);
  if (n == 0 && !fin) return fail(Errc::would_block, "no body bytes buffered");
  return ReadResult{n, fin};
}

Result<void> Session::cancel(uint64_t stream_id, uint64_t code) {
  ::h3::Session* s = impl_->usable();
  if (s == nullptr) return fail(Errc::connection_closed, kClosed);
  auto r = s->cancel(stream_id, code);
  if (!r) return fail(Errc::unknown_stream, r.error().reason);
  return {};
}

Result<void> Session::send_datagram(uint64_t stream_id, std::span<const uint8_t> payload,
                                    std::optional<Instant> deadline) {
  ::h3::Session* s = impl_->usable();
  if (s == nullptr) return fail(Errc::connection_closed, kClosed);
  std::optional<quic::Instant> d;
  if (deadline) d = detail::to_core(*deadline);
  auto r = s->send_datagram(stream_id, payload, d);
  if (!r && quic::would_block(r.error())) return fail(Errc::would_block, r.error().reason);
  if (!r) return std::unexpected(h3_error(r.error()));
  return {};
}

Result<Datagram> Session::recv_datagram(std::span<uint8_t> out) {
  ::h3::Session* s = impl_->usable();
  if (s == nullptr) return fail(Errc::connection_closed, kClosed);
  auto d = s->recv_datagram(out);
  if (!d) return fail(Errc::would_block, "no HTTP datagram queued");
  if (d->copied < d->length) return fail(Errc::invalid_argument, "buffer smaller than the datagram");
  return Datagram{d->stream_id, d->copied};
}

void Session::goaway(Instant now) {
  if (::h3::Session* s = impl_->usable()) s->goaway(detail::to_core(now));
}

void Session::close(uint64_t code, std::string_view reason, Instant now) {
  if (::h3::Session* s = impl_->usable()) s->close(code, std::string(reason), detail::to_core(now));
}

bool Session::datagrams_enabled() const {
  return !impl_->reaped() && impl_->inner->datagrams_enabled();
}

bool Session::is_closed() const { return impl_->usable() == nullptr; }

Connection Session::connection() const { return impl_->conn; }

}  // namespace tquic::h3

// tquic::wt::WebTransport over webtransport::Host on an h3::Session it owns. Like api/h3.cc,
// every call first checks the connection still exists (not reaped).
#include "tquic/webtransport.h"

#include <deque>

#include "api/core.h"
#include "h3/session.h"
#include "webtransport/host.h"

namespace tquic::wt {

using detail::fail;

struct WebTransport::Impl {
  explicit Impl(Connection c) : conn(c), core(detail::EndpointCore::from(c)) {}
  Connection conn;
  detail::EndpointCore* core;
  std::unique_ptr<::h3::Session> h3;
  std::unique_ptr<webtransport::Host> host;  // after h3: destroyed first
  std::deque<Event> closed;                  // the connection's closed event, once
  quic::Instant now{};

  bool reaped() const { return core->conn(conn.id()) == nullptr; }
  webtransport::Host* usable() const {
    quic::Connection* c = core->conn(conn.id());
    if (c == nullptr || c->is_closed() || c->is_draining_or_closing() || h3->is_closed()) {
      return nullptr;
    }
    return host.get();
  }
  // Hands the h3 events to the Host; answers what is not WebTransport's.
  void pump();
  // Sends what the last call queued.
  void flush() {
    if (!reaped()) h3->poll(now);
  }
};

namespace {

std::vector<Header> to_headers(const std::vector<::h3::Field>& fields) {
  std::vector<Header> out;
  out.reserve(fields.size());
  for (const auto& f : fields) out.push_back(Header{f.name, f.value});
  return out;
}

std::vector<::h3::Field> to_fields(std::span<const Header> headers) {
  std::vector<::h3::Field> out;
  out.reserve(headers.size());
  for (const Header& h : headers) out.push_back(::h3::Field{h.name, h.value});
  return out;
}

EventKind kind_of(webtransport::EventKind k) {
  using K = webtransport::EventKind;
  switch (k) {
    case K::kReady:
      return EventKind::ready;
    case K::kRequest:
      return EventKind::session_request;
    case K::kEstablished:
      return EventKind::session_established;
    case K::kRejected:
      return EventKind::session_rejected;
    case K::kStreamOpened:
      return EventKind::stream_opened;
    case K::kReadable:
      return EventKind::stream_readable;
    case K::kWritable:
      return EventKind::stream_writable;
    case K::kStreamReset:
      return EventKind::stream_reset;
    case K::kStopSending:
      return EventKind::stop_sending;
    case K::kStreamsAvailable:
      return EventKind::streams_available;
    case K::kDatagram:
      return EventKind::datagram;
    case K::kDraining:
      return EventKind::session_draining;
    case K::kClosed:
      return EventKind::session_closed;
  }
  return EventKind::closed;
}

// The Host's per-call status codes as the public Errc (docs/api.md).
Error to_error(const quic::Error& e) {
  namespace st = webtransport::status;
  switch (e.code) {
    case st::kWouldBlock:
      return detail::make_error(Errc::would_block, e.reason);
    case st::kUnknown:
      return detail::make_error(Errc::unknown_stream, e.reason);
    case st::kFinished:
      return detail::make_error(Errc::finished, e.reason);
    case st::kClosed:
      return detail::make_error(Errc::connection_closed, e.reason);
    case st::kReset: {
      auto app = webtransport::h3_to_app_error(e.frame_type);
      return detail::make_error(Errc::stream_reset, e.reason, app ? *app : e.frame_type);
    }
    default:
      break;
  }
  return detail::make_error(Errc::invalid_argument, e.reason);
}

const char* const kClosed = "the connection is closed";

}  // namespace

void WebTransport::Impl::pump() {
  while (auto e = h3->poll_event()) {
    if (host->on_h3_event(*e, now)) continue;
    if (e->kind == ::h3::EventKind::kHeaders && h3->role() == ::h3::Role::kServer) {
      // Not a WebTransport session: this connection serves nothing else.
      std::vector<::h3::Field> nf{{":status", "404"}, {"content-length", "0"}};
      (void)h3->send_response(e->stream_id, nf, {}, true);
    } else if (e->kind == ::h3::EventKind::kClosed) {
      closed.push_back(Event{EventKind::closed, 0, 0, e->code, false, false, e->reason, {}});
    }
  }
}

WebTransport::WebTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebTransport::WebTransport(WebTransport&&) noexcept = default;
WebTransport& WebTransport::operator=(WebTransport&&) noexcept = default;
WebTransport::~WebTransport() = default;

void configure(ConnectionOptions& o) {
  if (o.max_datagram_frame_size == 0) o.max_datagram_frame_size = 65535;
  o.reliable_reset = true;
}

Result<WebTransport> WebTransport::create(Connection connection, Role role, const Options& o) {
  auto impl = std::make_unique<Impl>(connection);
  quic::Connection* c = impl->core->conn(connection.id());
  if (c == nullptr || c->is_closed() || c->is_draining_or_closing()) {
    return fail(Errc::connection_closed, "the connection is closing or gone");
  }
  webtransport::Config wc;
  wc.draft02 = o.draft02;
  wc.draft07 = o.draft07;
  wc.draft15 = o.draft15;
  wc.max_sessions = o.max_sessions;
  wc.initial_max_streams_bidi = o.initial_max_streams_bidi;
  wc.initial_max_streams_uni = o.initial_max_streams_uni;
  wc.initial_max_data = o.initial_max_data;
  wc.max_stream_buffer = o.max_stream_buffer;
  wc.max_datagram_bytes = o.max_datagram_bytes;
  wc.max_datagrams = o.max_datagrams;
  wc.allowed_origins = o.allowed_origins;
  wc.protocols = o.protocols;
  wc.require_protocol = o.require_protocol;
  ::h3::SessionConfig hc;
  webtransport::configure_h3(hc, wc);
  impl->h3 = std::make_unique<::h3::Session>(
      *c, role == Role::client ? ::h3::Role::kClient : ::h3::Role::kServer, hc);
  impl->host = std::make_unique<webtransport::Host>(*impl->h3, wc);
  return WebTransport(std::move(impl));
}

void WebTransport::drive(Instant now) {
  if (impl_->reaped()) return;
  impl_->now = detail::to_core(now);
  impl_->core->drain(impl_->conn.id());
  while (auto e = impl_->core->pop_event(impl_->conn.id())) {
    impl_->h3->on_transport_event(*e, impl_->now);
  }
  impl_->h3->poll(impl_->now);
  impl_->pump();
  impl_->h3->poll(impl_->now);
}

std::optional<Event> WebTransport::poll_event() {
  if (!impl_->reaped()) impl_->pump();
  if (auto e = impl_->host->poll_event()) {
    Event out{kind_of(e->kind), e->session_id, e->stream_id,         e->code,
              e->app_error,     e->bidi,       std::move(e->reason), to_headers(e->fields)};
    out.protocols = std::move(e->protocols);
    return out;
  }
  if (impl_->closed.empty()) return std::nullopt;
  Event e = std::move(impl_->closed.front());
  impl_->closed.pop_front();
  return e;
}

Version WebTransport::version() const {
  return static_cast<Version>(impl_->host->version());
}

Result<uint64_t> WebTransport::connect(std::string_view authority, std::string_view path,
                                       std::string_view origin, std::span<const Header> extra) {
  webtransport::Host* h = impl_->usable();
  if (h == nullptr) return fail(Errc::connection_closed, kClosed);
  auto id = h->connect(authority, path, origin, to_fields(extra));
  if (!id) return std::unexpected(to_error(id.error()));
  impl_->flush();
  return *id;
}

Result<void> WebTransport::accept(uint64_t session_id, std::span<const Header> extra,
                                  std::string_view protocol) {
  webtransport::Host* h = impl_->usable();
  if (h == nullptr) return fail(Errc::connection_closed, kClosed);
  if (auto r = h->accept(session_id, to_fields(extra), protocol); !r) {
    return std::unexpected(to_error(r.error()));
  }
  impl_->flush();
  return {};
}

Result<void> WebTransport::reject(uint64_t session_id, uint16_t status) {
  webtransport::Host* h = impl_->usable();
  if (h == nullptr) return fail(Errc::connection_closed, kClosed);
  if (auto r = h->reject(session_id, status); !r) return std::unexpected(to_error(r.error()));
  impl_->flush();
  return {};
}

Result<uint64_t> WebTransport::open_stream(uint64_t session_id, bool bidirectional) {
  webtransport::Host* h = impl_->usable();
  if (h == nullptr) return fail(Errc::connection_closed, kClosed);
  auto id = h->open_stream(session_id, bidirectional);
  if (!id) return std::unexpected(to_error(id.error()));
  return *id;
}

Result<size_t> WebTransport::write(uint64_t stream_id, std::span<const uint8_t> data, bool fin) {
  webtransport::Host* h = impl_->usable();
  if (h == nullptr) return fail(Errc::connection_closed, kClosed);
  auto n = h->write(stream_id, data, fin);
  if (!n) return std::unexpected(to_error(n.error()));
  impl_->flush();
  return *n;
}

Result<ReadResult> WebTransport::read(uint64_t stream_id, std::span<uint8_t> out) {
  webtransport::Host* h = impl_->usable();
  if (h == nullptr) return fail(Errc::connection_closed, kClosed);
  auto r = h->read(stream_id, out);
  if (!r) return std::unexpected(to_error(r.error()));
  impl_->flush();  // a resumed stream or a raised limit (WT_MAX_DATA) goes out
  return ReadResult{r->bytes, r->fin};
}

Result<void> WebTransport::reset_stream(uint64_t stream_id, uint32_t code) {
  webtransport::Host* h = impl_->usable();
  if (h == nullptr) return fail(Errc::connection_closed, kClosed);
  if (auto r = h->reset_stream(stream_id, code); !r) return std::unexpected(to_error(r.error()));
  impl_->flush();
  return {};
}

Result<void> WebTransport::send_datagram(uint64_t session_id, std::span<const uint8_t> payload,
                                         std::optional<Instant> deadline) {
  webtransport::Host* h = impl_->usable();
  if (h == nullptr) return fail(Errc::connection_closed, kClosed);
  std::optional<quic::Instant> d;
  if (deadline) d = detail::to_core(*deadline);
  if (auto r = h->send_datagram(session_id, payload, d); !r) {
    return std::unexpected(to_error(r.error()));
  }
  return {};
}

Result<size_t> WebTransport::recv_datagram(uint64_t session_id, std::span<uint8_t> out) {
  webtransport::Host* h = impl_->usable();
  if (h == nullptr) return fail(Errc::connection_closed, kClosed);
  auto n = h->recv_datagram(session_id, out);
  if (!n) return fail(Errc::would_block, "no datagram queued for the session");
  if (*n > out.size()) return fail(Errc::invalid_argument, "buffer smaller than the datagram");
  return *n;
}

Result<void> WebTransport::close_session(uint64_t session_id, uint32_t code,
                                         std::string_view reason) {
  webtransport::Host* h = impl_->usable();
  if (h == nullptr) return fail(Errc::connection_closed, kClosed);
  if (auto r = h->close_session(session_id, code, reason); !r) {
    return std::unexpected(to_error(r.error()));
  }
  impl_->flush();
  return {};
}

Result<void> WebTransport::drain_session(uint64_t session_id) {
  webtransport::Host* h = impl_->usable();
  if (h == nullptr) return fail(Errc::connection_closed, kClosed);
  if (auto r = h->drain_session(session_id); !r) return std::unexpected(to_error(r.error()));
  impl_->flush();
  return {};
}

bool WebTransport::is_closed() const {
  return impl_->usable() == nullptr;
}

Connection WebTransport::connection() const {
  return impl_->conn;
}

}  // namespace tquic::wt

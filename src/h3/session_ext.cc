// Session: the extension plane. Handlers of extended CONNECT streams (extension.h), the
// WebTransport-style streams that name a session, and HTTP datagrams in both directions.
#include <algorithm>
#include <array>

#include "h3/session.h"

namespace h3 {

std::optional<uint64_t> Session::VarintAcc::feed(uint8_t b) {
  buf[len++] = b;
  if (len < (size_t{1} << (buf[0] >> 6))) return std::nullopt;
  return quic::Reader(quic::Bytes(buf, len)).varint();
}

// --- handlers

void Session::register_protocol(std::string protocol, HandlerFactory factory) {
  factories_.insert_or_assign(std::move(protocol), std::move(factory));
}

StreamHandler* Session::handler(uint64_t stream_id) {
  Request* r = find(stream_id);
  return r == nullptr ? nullptr : r->handler.get();
}

StreamHandler* Session::stream_owner(uint64_t stream_id, uint64_t session_id) {
  auto it = session_streams_.find(stream_id);
  if (it == session_streams_.end() || it->second.session_id != session_id) return nullptr;
  return handler(session_id);
}

void Session::attach_handler(uint64_t id, Request& r, std::span<const Field> fields) {
  std::string_view protocol;
  for (const Field& f : fields) {
    if (f.name == ":protocol") protocol = f.value;
  }
  if (auto it = factories_.find(protocol); !protocol.empty() && it != factories_.end()) {
    r.handler = it->second(id, fields);
  }
  // Streams that named this stream before it arrived: its handler's now, or refused.
  std::vector<std::pair<uint64_t, bool>> early;
  for (const auto& [sid, p] : pending_streams_) {
    if (p.session_id == id) early.emplace_back(sid, p.bidi);
  }
  for (auto [sid, bidi] : early) {
    pending_streams_.erase(sid);
    on_session_stream(sid, id, bidi, false);
  }
}

void Session::establish(uint64_t id, Request& r) {
  if (!r.handler || r.established) return;
  r.established = true;
  r.capsules.emplace(r.handler->capsule_types());
  Outbox out(*this, id);
  r.handler->on_established(out);
  // DATA that arrived before the 2xx is parsed as capsules now (RFC 9297 §3.1; the
  // WebTransport draft §3.2 lets a client send capsules optimistically).
  std::vector<uint8_t> early;
  early.swap(r.body);
  quic::Bytes rest = quic::Bytes(early).subspan(r.body_off);
  r.body_off = 0;
  r.data_signalled = false;
  if (!rest.empty() && feed_capsules(id, r, rest) && r.stalled) {
    r.stalled = false;
    readable_.insert(id);
  }
}

void Session::reject_handler(uint64_t id, Request& r) {
  // A non-2xx final response: the stream stays an ordinary request, its body the app's.
  close_handler(id, r, err::kRequestRejected);
}

void Session::close_handler(uint64_t id, Request& r, uint64_t code) {
  if (!r.handler) return;
  std::unique_ptr<StreamHandler> h = std::move(r.handler);
  r.established = false;
  r.capsules.reset();
  // The session is over: its streams go with it (draft-ietf-webtrans-http3 §6).
  std::vector<uint64_t> owned;
  for (const auto& [sid, s] : session_streams_) {
    if (s.session_id == id) owned.push_back(sid);
  }
  for (const auto& [sid, p] : pending_streams_) {
    if (p.session_id == id) owned.push_back(sid);
  }
  for (uint64_t sid : owned) abort_stream(sid, wt::kSessionGone);
  h->on_closed(code);
}

bool Session::feed_capsules(uint64_t id, Request& r, quic::Bytes data) {
  CapsuleReader& reader = *r.capsules;
  uint64_t skipped = reader.skipped_unknown(), discarded = reader.discarded_oversize();
  auto count = [&] {
    stats_.capsules_skipped_unknown += reader.skipped_unknown() - skipped;
    stats_.capsules_discarded_oversize += reader.discarded_oversize() - discarded;
  };
  uint64_t seen_unknown = skipped;
  while (true) {
    auto c = reader.next(data);
    if (!c) {
      count();
      stream_error(id, c.error().code);  // a malformed message (RFC 9297 §3.3)
      return false;
    }
    if (reader.skipped_unknown() != seen_unknown) {
      // Unknown capsules were skipped (before the one returned, if any): tell the handler.
      seen_unknown = reader.skipped_unknown();
      Outbox out(*this, id);
      r.handler->on_skipped_capsules(out);
      if (closed_ || find(id) != &r || !r.capsules) return false;
    }
    if (!*c) break;
    Outbox out(*this, id);
    if ((*c)->type == capsule::kDatagram) {
      ++stats_.datagrams_to_handlers;
      r.handler->on_datagram(out, (*c)->payload);
    } else {
      ++stats_.capsules_delivered;
      r.handler->on_capsule(out, (*c)->type, (*c)->payload);
    }
    // The handler may have finished or reset the stream; the reader lives as long as it does.
    if (closed_ || find(id) != &r || !r.capsules) return false;
  }
  count();
  return true;
}

// --- session streams (0x41 bidi, 0x54 uni)

void Session::on_session_stream(uint64_t id, uint64_t session_id, bool bidi, bool fin) {
  // The session ID is a client-initiated bidirectional stream ID (draft §4.1).
  if (session_id % 4 != 0 || session_id / 4 > kMaxQuarterStreamId) {
    return connection_error(err::kIdError, "session ID is not a client bidi stream");
  }
  Request* r = find(session_id);
  bool gone = (r != nullptr && !(r->handler && r->handler->owns_streams())) ||
              (r == nullptr &&
               (done_requests_.contains(session_id / 4) || session_streams_.contains(session_id)));
  if (gone) return refuse_stream(id, wt::kSessionGone);
  if (r == nullptr) {
    // It may still come (reordering): hold the stream unread, within the bound.
    if (pending_streams_.size() >= config_.max_pending_session_streams) {
      return refuse_stream(id, wt::kBufferedStreamRejected);
    }
    pending_streams_[id] = PendingStream{session_id, bidi};
    return;
  }
  ++stats_.session_streams_routed;
  SessionStream& s = session_streams_[id];
  s = SessionStream{session_id, bidi, false, false, {}, bidi};
  if (!bidi) s.out.fin = s.out.fin_sent = true;
  Outbox out(*this, session_id);
  r->handler->on_stream_opened(out, id, bidi);
  if (fin) {
    if (StreamHandler* h = stream_owner(id, session_id)) h->on_stream_data(out, id, {}, true);
    if (auto it = session_streams_.find(id); it != session_streams_.end()) {
      it->second.recv_done = true;
    }
    return forget_session_stream(id);
  }
  readable_.insert(id);
}

void Session::refuse_stream(uint64_t id, uint64_t code) {
  ++stats_.session_streams_rejected;
  abort_stream(id, code);
}

void Session::abort_stream(uint64_t id, uint64_t code) {
  (void)conn_.stream_stop_sending(id, code);
  if ((id & 2) == 0 || is_local(id)) {
    // A session stream we opened keeps its header (0x41 / 0x54 + session ID) reliable with
    // RESET_STREAM_AT, so the peer can tell which session the reset belongs to (WebTransport
    // draft §4.4); without the peer's reset_stream_at parameter, a plain RESET_STREAM.
    auto s = session_streams_.find(id);
    uint64_t header = 0;
    if (s != session_streams_.end() && is_local(id)) {
      header = quic::varint_size((id & 2) == 0 ? wt::kBidiSignal : wt::kUniStreamType) +
               quic::varint_size(s->second.session_id);
      // The header may still wait in our queue: hand it to the transport first (no FIN), or
      // the reliable size would cover nothing.
      const SendQueue& q = s->second.out;
      if (q.size() > 0) {
        (void)conn_.stream_write(id, quic::Bytes(q.buf.data() + q.off, q.size()), false);
      }
    }
    if (header == 0 || !conn_.stream_reset_at(id, code, header)) (void)conn_.stream_reset(id, code);
  }
  session_streams_.erase(id);
  pending_streams_.erase(id);
  dirty_.erase(id);
  readable_.erase(id);
  if ((id & 2) == 0) {
    done_requests_.insert(id / 4);
  } else if (!is_local(id)) {
    ignored_uni_.insert(id / 4);  // discard what still arrives
  }
}

void Session::read_session_stream(uint64_t id) {
  for (;;) {
    auto it = session_streams_.find(id);
    if (it == session_streams_.end() || it->second.recv_done || it->second.paused) return;
    uint64_t session_id = it->second.session_id;
    bool fin = false;
    auto n = conn_.stream_read(id, scratch_, &fin);
    if (!n) return;  // reset: the kStreamReset event reports it
    if (*n == 0 && !fin) return;
    StreamHandler* h = stream_owner(id, session_id);
    if (h == nullptr) return refuse_stream(id, wt::kSessionGone);
    Outbox out(*this, session_id);
    h->on_stream_data(out, id, quic::Bytes(scratch_.data(), *n), fin);
    if (closed_) return;
    if (fin) {
      if (auto again = session_streams_.find(id); again != session_streams_.end()) {
        again->second.recv_done = true;
      }
      return forget_session_stream(id);
    }
  }
}

void Session::forget_session_stream(uint64_t id) {
  auto it = session_streams_.find(id);
  if (it == session_streams_.end()) return;
  const SessionStream& s = it->second;
  if (!s.recv_done || !s.out.finished()) return;
  session_streams_.erase(it);
  dirty_.erase(id);
  if ((id & 2) == 0) {
    done_requests_.insert(id / 4);
  } else if (!is_local(id)) {
    ignored_uni_.insert(id / 4);
  }
}

bool Session::on_session_stream_event(const quic::Event& e) {
  uint64_t id = e.stream_id;
  if (pending_streams_.contains(id)) {
    if (e.kind == quic::EventKind::kStreamReset) refuse_stream(id, e.error_code);
    return true;
  }
  auto it = session_streams_.find(id);
  if (it == session_streams_.end()) return false;
  uint64_t session_id = it->second.session_id;
  StreamHandler* h = handler(session_id);
  Outbox out(*this, session_id);
  if (e.kind == quic::EventKind::kStreamWritable) {
    dirty_.insert(id);
  } else if (e.kind == quic::EventKind::kStreamReset) {
    it->second.recv_done = true;
    if (h != nullptr) h->on_stream_reset(out, id, e.error_code);
    forget_session_stream(id);
  } else if (e.kind == quic::EventKind::kStopSending) {
    // The error code is delivered unchanged (draft §4.4); our side ends with it.
    it->second.out = SendQueue{};
    it->second.out.fin = it->second.out.fin_sent = true;
    (void)conn_.stream_reset(id, e.error_code);
    if (h != nullptr) h->on_stream_stop_sending(out, id, e.error_code);
    forget_session_stream(id);
  }
  return true;
}

Session::SendQueue* Session::send_queue(uint64_t id) {
  if (Request* r = find(id)) return &r->out;
  auto it = session_streams_.find(id);
  return it == session_streams_.end() ? nullptr : &it->second.out;
}

// --- datagrams

quic::Status Session::send_datagram(uint64_t stream_id, std::span<const quic::Bytes> payload,
                                    std::optional<quic::Instant> deadline,
                                    quic::DatagramPriority priority) {
  if (!datagrams_enabled()) return fail(err::kInternalError, "H3_DATAGRAM not negotiated");
  if (stream_id % 4 != 0 || stream_id / 4 > kMaxQuarterStreamId) {
    return fail(err::kInternalError, "not a client-initiated bidirectional stream");
  }
  // The quarter stream ID before the payload's parts, joined once, in the transport's queue.
  std::array<quic::Bytes, 1 + kMaxDatagramParts> parts;
  if (payload.size() > kMaxDatagramParts) return fail(err::kInternalError, "too many parts");
  uint8_t prefix[8];
  quic::Writer w(prefix);
  w.varint(stream_id / 4);
  parts[0] = w.view();
  std::copy(payload.begin(), payload.end(), parts.begin() + 1);
  auto s = conn_.send_datagram(std::span(parts.data(), 1 + payload.size()), deadline, priority);
  if (s) ++stats_.datagrams_sent;
  return s;
}

std::optional<ReceivedDatagram> Session::recv_datagram(quic::MutBytes out) {
  auto d = datagrams_.pop(out);
  if (!d) {
    datagram_signalled_ = false;
    return std::nullopt;
  }
  if (d->copied < d->length) ++stats_.datagrams_truncated;
  if (datagrams_.empty()) datagram_signalled_ = false;
  return ReceivedDatagram{d->stream_id, d->length, d->copied};
}

void Session::read_datagrams() {
  // In place in the transport's queue: taken out after its handler or queue has seen it.
  while (auto d = conn_.peek_datagram()) {
    read_datagram(*d);
    conn_.pop_datagram();
    if (closed_) return;
  }
}

void Session::read_datagram(quic::Bytes d) {
  auto h = decode_http_datagram(d);
  if (!h) return connection_error(h.error());
  ++stats_.datagrams_received;
  if (!datagrams_enabled()) {
    ++stats_.datagrams_dropped_not_negotiated;
    return;
  }
  // Unknown or finished streams: dropped, as RFC 9297 §2.1 allows.
  Request* r = find(h->stream_id);
  if (r == nullptr) {
    ++stats_.datagrams_dropped_unknown_stream;
    return;
  }
  if (r->handler) {
    ++stats_.datagrams_to_handlers;
    Outbox out(*this, h->stream_id);
    r->handler->on_datagram(out, h->payload);
    return;
  }
  auto pushed = datagrams_.push(h->stream_id, h->payload);
  stats_.datagrams_dropped_queue_full += pushed.dropped_oldest;
  if (!pushed.queued) {
    ++stats_.datagrams_dropped_too_large;
    return;
  }
  ++stats_.datagrams_queued;
  if (!datagram_signalled_) {
    datagram_signalled_ = true;
    push({EventKind::kDatagram, h->stream_id});
  }
}

// --- Outbox

quic::Status Outbox::send_capsule(uint64_t type, quic::Bytes value) {
  Session::Request* r = s_.find(id_);
  if (r == nullptr || !r->handler || s_.closed_) return fail(err::kInternalError, "no handler");
  if (r->out.fin) return fail(err::kInternalError, "CONNECT stream already finished");
  std::vector<uint8_t>& buf = r->out.buf;
  append_data_header(buf, quic::varint_size(type) + quic::varint_size(value.size()) + value.size());
  append_capsule(buf, type, value);
  s_.dirty_.insert(id_);
  return {};
}

quic::Status Outbox::send_datagram(std::span<const quic::Bytes> payload,
                                   std::optional<quic::Instant> deadline,
                                   quic::DatagramPriority priority) {
  if (s_.handler(id_) == nullptr) return fail(err::kInternalError, "no handler");
  return s_.send_datagram(id_, payload, deadline, priority);
}

quic::Status Outbox::finish() {
  Session::Request* r = s_.find(id_);
  if (r == nullptr || !r->handler) return fail(err::kInternalError, "no handler");
  r->out.fin = true;
  s_.dirty_.insert(id_);
  return {};
}

quic::Result<uint64_t> Outbox::open_stream(bool bidirectional) {
  StreamHandler* h = s_.handler(id_);
  if (h == nullptr || !h->owns_streams() || s_.closed_) {
    return fail(err::kInternalError, "no stream-owning handler");
  }
  auto id = s_.conn_.open_stream(bidirectional);
  if (!id) return std::unexpected(id.error());
  Session::SessionStream& s = s_.session_streams_[*id];
  s = Session::SessionStream{id_, bidirectional, !bidirectional, false, {}, true};
  append_varint(s.out.buf, bidirectional ? wt::kBidiSignal : wt::kUniStreamType);
  append_varint(s.out.buf, id_);
  s_.dirty_.insert(*id);
  return *id;
}

quic::Result<size_t> Outbox::write(uint64_t stream_id, quic::Bytes data, bool fin) {
  if (s_.stream_owner(stream_id, id_) == nullptr) return fail(err::kInternalError, "not ours");
  Session::SessionStream& s = s_.session_streams_.at(stream_id);
  if (!s.send_side || s.out.fin) return fail(err::kInternalError, "stream not writable");
  size_t pending = s.out.size();
  size_t room = pending >= s_.config_.max_pending_send ? 0 : s_.config_.max_pending_send - pending;
  size_t take = std::min(room, data.size());
  s.out.buf.insert(s.out.buf.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
  if (fin && take == data.size()) s.out.fin = true;
  s_.dirty_.insert(stream_id);
  return take;
}

quic::Status Outbox::reset(uint64_t stream_id, uint64_t code) {
  if (s_.stream_owner(stream_id, id_) == nullptr) return fail(err::kInternalError, "not ours");
  s_.abort_stream(stream_id, code);
  return {};
}

size_t Outbox::queued(uint64_t stream_id) const {
  if (s_.stream_owner(stream_id, id_) == nullptr) return 0;
  return s_.session_streams_.at(stream_id).out.size();
}

quic::Status Outbox::pause(uint64_t stream_id) {
  if (s_.stream_owner(stream_id, id_) == nullptr) return fail(err::kInternalError, "not ours");
  s_.session_streams_.at(stream_id).paused = true;
  return {};
}

quic::Status Outbox::resume(uint64_t stream_id) {
  if (s_.stream_owner(stream_id, id_) == nullptr) return fail(err::kInternalError, "not ours");
  s_.session_streams_.at(stream_id).paused = false;
  s_.readable_.insert(stream_id);
  return {};
}

}  // namespace h3

#include "h3/session.h"

#include <algorithm>

#include "h3/capsule.h"

namespace h3 {

namespace {

// Room a DATA frame header needs in front of a body chunk.
constexpr size_t kDataHeaderRoom = 16;

size_t section_size(std::span<const Field> fields) {
  size_t n = 0;
  for (const Field& f : fields) n += f.name.size() + f.value.size() + 32;  // §4.2.2
  return n;
}

std::optional<Priority> priority_field(std::span<const Field> fields) {
  for (const Field& f : fields) {
    if (f.name == "priority") return parse_priority(f.value);
  }
  return std::nullopt;
}

}  // namespace

Session::Session(quic::Connection& conn, Role role, SessionConfig config)
    : conn_(conn),
      role_(role),
      config_(config),
      encoder_(),
      decoder_(config.qpack_max_table_capacity, config.qpack_blocked_streams,
               config.max_field_section_size),
      scratch_(kReadChunk),
      datagrams_(config.max_queued_datagram_bytes) {
  local_settings_.qpack_max_table_capacity = decoder_.max_table_capacity();
  local_settings_.qpack_blocked_streams =
      std::min<uint64_t>(config.qpack_blocked_streams, qpack::kMaxDecoderBlockedStreams);
  local_settings_.max_field_section_size = config.max_field_section_size;
  local_settings_.enable_connect_protocol = config.enable_connect_protocol;
  local_settings_.h3_datagram = config.enable_datagrams;
  local_settings_.extensions = config.extra_settings;
  if (config.send_grease) local_settings_.grease = std::make_pair(uint64_t{0x21 + 0x1f * 7}, 42);
}

bool Session::connect_protocol_enabled() const {
  return config_.enable_connect_protocol && peer_settings_ &&
         peer_settings_->enable_connect_protocol;
}

bool Session::datagrams_enabled() const {
  return config_.enable_datagrams && peer_settings_ && peer_settings_->h3_datagram;
}

std::optional<Priority> Session::priority(uint64_t stream_id) const {
  auto it = requests_.find(stream_id);
  if (it == requests_.end()) return std::nullopt;
  return it->second.priority;
}

Session::Request* Session::find(uint64_t id) {
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : &it->second;
}

// --- driving

void Session::on_transport_event(const quic::Event& e, quic::Instant now) {
  now_ = now;
  if (closed_) return;
  switch (e.kind) {
    case quic::EventKind::kHandshakeCompleted:
      open_critical_streams();
      break;
    case quic::EventKind::kStreamOpened:
    case quic::EventKind::kStreamReadable:
      readable_.insert(e.stream_id);
      break;
    case quic::EventKind::kStreamWritable: {
      if (e.stream_id == control_id_ || e.stream_id == encoder_id_ || e.stream_id == decoder_id_) {
        break;  // flushed by poll()
      }
      if (on_session_stream_event(e)) break;
      if (Request* r = find(e.stream_id)) {
        r->wait_transport = false;
        dirty_.insert(e.stream_id);
        if (r->want_writable && r->out.size() < config_.max_pending_send / 2) {
          r->want_writable = false;
          push({EventKind::kWritable, e.stream_id});
        }
      }
      break;
    }
    case quic::EventKind::kStreamReset: {
      uint64_t id = e.stream_id;
      if (id == peer_control_id_ || id == peer_encoder_id_ || id == peer_decoder_id_) {
        return connection_error(err::kClosedCriticalStream, "critical stream reset");
      }
      bidi_in_.erase(id);  // reset inside its first varints
      if (on_session_stream_event(e)) break;
      on_peer_reset(id, e.error_code);
      break;
    }
    case quic::EventKind::kStopSending: {
      uint64_t id = e.stream_id;
      if (critical_opened_ && (id == control_id_ || id == encoder_id_ || id == decoder_id_)) {
        return connection_error(err::kClosedCriticalStream, "STOP_SENDING on a critical stream");
      }
      if (on_session_stream_event(e)) break;
      on_peer_stop_sending(id, e.error_code);
      break;
    }
    case quic::EventKind::kClosed:
      if (!close_error_) {
        close_error_ = quic::Error{e.error_code, 0, e.reason, e.application};
      }
      if (!closed_) {
        closed_ = true;
        push({EventKind::kClosed, 0, close_error_->code, {}, {}, close_error_->reason});
      }
      break;
    default:
      break;
  }
}

void Session::drive(quic::Instant now) {
  while (auto e = conn_.poll_event()) on_transport_event(*e, now);
  poll(now);
}

void Session::poll(quic::Instant now) {
  now_ = now;
  if (closed_) return;
  if (!critical_opened_ && conn_.handshake_complete()) open_critical_streams();
  // Reading may add streams back (a QPACK unblock, a drained body buffer), so loop on a copy.
  for (int round = 0; round < 4 && !readable_.empty() && !closed_; ++round) {
    quic::IdSet ids = std::exchange(readable_, std::move(spare_));
    for (uint64_t id : ids) {
      if (closed_) return;
      read_stream(id);
    }
    ids.clear();
    spare_ = std::move(ids);
  }
  if (closed_) return;
  if (config_.enable_datagrams) read_datagrams();
  if (closed_) return;
  auto dec = decoder_.take_decoder_stream_bytes();
  if (!dec.empty()) decoder_out_.buf.insert(decoder_out_.buf.end(), dec.begin(), dec.end());
  flush_all();
  check_drained();
}

std::optional<Event> Session::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

// --- sending

void Session::open_critical_streams() {
  if (critical_opened_ || closed_) return;
  // §6.2: the control stream and the QPACK streams first; the peer must allow at least three.
  auto c = conn_.open_stream(false);
  auto enc = c ? conn_.open_stream(false) : c;
  auto dec = enc ? conn_.open_stream(false) : enc;
  if (!dec) return connection_error(err::kStreamCreationError, "cannot open critical streams");
  control_id_ = *c;
  encoder_id_ = *enc;
  decoder_id_ = *dec;
  critical_opened_ = true;
  append_varint(control_out_.buf, stream_type::kControl);
  append_settings(control_out_.buf, local_settings_);
  send_initial_max_push_id();
  // Critical streams carry little and everything depends on them: never behind a response.
  for (uint64_t id : {control_id_, encoder_id_, decoder_id_}) {
    (void)conn_.set_stream_priority(id, 0, true);
  }
  append_varint(encoder_out_.buf, stream_type::kQpackEncoder);
  append_varint(decoder_out_.buf, stream_type::kQpackDecoder);
  flush_all();
}

void Session::flush(uint64_t id, SendQueue& q) {
  while (!q.idle()) {
    quic::Bytes pending(q.buf.data() + q.off, q.size());
    auto n = conn_.stream_write(id, pending, q.fin);
    if (!n) {
      q = SendQueue{};  // the stream is gone (reset): drop what it had
      q.fin = q.fin_sent = true;
      return;
    }
    q.off += *n;
    if (q.fin && *n == pending.size()) q.fin_sent = true;
    if (*n < pending.size()) break;
  }
  if (q.off == q.buf.size()) {
    q.buf.clear();
    q.off = 0;
  } else if (q.off > 64 * 1024 && q.off > q.buf.size() / 2) {
    q.buf.erase(q.buf.begin(), q.buf.begin() + static_cast<std::ptrdiff_t>(q.off));
    q.off = 0;
  }
}

void Session::flush_all() {
  if (closed_) return;
  if (critical_opened_) {
    auto enc = encoder_.take_encoder_stream_bytes();
    encoder_out_.buf.insert(encoder_out_.buf.end(), enc.begin(), enc.end());
    // Encoder instructions first: a section sent ahead of them would only block.
    flush(encoder_id_, encoder_out_);
    flush(decoder_id_, decoder_out_);
    flush(control_id_, control_out_);
  }
  // A swap, not a copy: what the loop re-marks goes into the emptied set.
  quic::IdSet ids = std::exchange(dirty_, std::move(spare_));
  for (uint64_t id : ids) {
    Request* r = find(id);
    if (r == nullptr) {
      if (SendQueue* q = send_queue(id)) {  // a session stream
        flush(id, *q);
        if (!q->idle()) dirty_.insert(id);
        forget_session_stream(id);
      }
      continue;
    }
    flush(id, r->out);
    if (!r->out.idle()) dirty_.insert(id);
    if (r->want_writable && !r->wait_transport && r->out.size() < config_.max_pending_send / 2) {
      r->want_writable = false;
      push({EventKind::kWritable, id});
    }
    if (r->recv == Recv::kDone && r->out.finished() && r->body_off == r->body.size()) {
      forget_request(id);
    }
  }
  ids.clear();
  spare_ = std::move(ids);
}

quic::Result<std::vector<uint8_t>> Session::encode_section(uint64_t id,
                                                           std::span<const Field> fields) {
  if (peer_settings_ && peer_settings_->max_field_section_size &&
      section_size(fields) > *peer_settings_->max_field_section_size) {
    return fail(err::kExcessiveLoad, "field section exceeds the peer's MAX_FIELD_SECTION_SIZE");
  }
  // The dynamic table may only be used once the peer's SETTINGS are known (RFC 9204 §3.2.3);
  // before that the encoder still has capacity 0.
  std::vector<uint8_t> section = encoder_.encode(id, fields);
  std::vector<uint8_t> frame;
  append_headers(frame, section);
  return frame;
}

quic::Result<uint64_t> Session::send_request(std::span<const Field> fields, quic::Bytes body,
                                             bool end_stream) {
  if (role_ != Role::kClient) return fail(err::kInternalError, "only clients send requests");
  if (closed_ || !critical_opened_) return fail(err::kInternalError, "session not ready");
  if (goaway_received_ || goaway_sent_) {
    return fail(err::kRequestRejected, "GOAWAY: no new requests on this connection");
  }
  auto head = validate_request(fields, connect_protocol_enabled());
  if (!head) return std::unexpected(head.error());
  auto id = conn_.open_stream(true);
  if (!id) return std::unexpected(id.error());
  auto frame = encode_section(*id, fields);
  if (!frame) {
    (void)conn_.stream_reset(*id, err::kRequestCancelled);
    return std::unexpected(frame.error());
  }
  auto [it, inserted] = requests_.try_emplace(*id, config_.max_field_section_size + 64);
  Request& r = it->second;
  r.head_request = head->method == "HEAD";
  r.final_head_sent = true;
  if (auto p = priority_field(fields)) r.priority = *p;
  apply_priority(*id, r.priority);  // our request body, scheduled like the server's response
  r.out.buf = std::move(*frame);
  if (!body.empty()) append_data(r.out.buf, body);
  r.out.fin = end_stream;
  attach_handler(*id, r, fields);
  dirty_.insert(*id);
  flush_all();
  return *id;
}

quic::Status Session::send_priority_update(uint64_t stream_id, Priority p) {
  if (role_ != Role::kClient || !critical_opened_ || closed_) {
    return fail(err::kInternalError, "PRIORITY_UPDATE is sent by clients on an open session");
  }
  if ((stream_id & 3) != 0) return fail(err::kInternalError, "not a request stream");
  if (Request* r = find(stream_id)) {
    r->priority = p;
    apply_priority(stream_id, p);
  }
  append_priority_update(control_out_.buf, frame::kPriorityUpdateRequest, stream_id,
                         format_priority(p));
  flush_all();
  return {};
}

quic::Status Session::send_response(uint64_t stream_id, std::span<const Field> fields,
                                    quic::Bytes body, bool end_stream) {
  if (role_ != Role::kServer) return fail(err::kInternalError, "only servers send responses");
  Request* r = find(stream_id);
  if (r == nullptr || closed_) return fail(err::kInternalError, "no such request");
  if (r->final_head_sent) return fail(err::kInternalError, "response already sent");
  auto head = validate_response(fields);
  if (!head) return std::unexpected(head.error());
  if (head->informational() && (end_stream || !body.empty())) {
    return fail(err::kInternalError, "an informational response has no body");
  }
  auto frame = encode_section(stream_id, fields);
  if (!frame) return std::unexpected(frame.error());
  r->out.buf.insert(r->out.buf.end(), frame->begin(), frame->end());
  r->final_head_sent = !head->informational();
  if (!body.empty()) append_data(r->out.buf, body);
  r->out.fin = end_stream;
  dirty_.insert(stream_id);
  if (r->handler && r->final_head_sent) {
    // A 2xx establishes the stream (the server's view, RFC 9297 §3.1); anything else ends it.
    if (head->status / 100 == 2) {
      establish(stream_id, *r);
    } else {
      reject_handler(stream_id, *r);
    }
  }
  flush_all();
  return {};
}

quic::Result<Session::Request*> Session::body_request(uint64_t stream_id) {
  Request* r = find(stream_id);
  if (r == nullptr || closed_) return fail(err::kInternalError, "no such stream");
  if (!r->final_head_sent) return fail(err::kInternalError, "send the head first");
  if (r->out.fin) return fail(err::kInternalError, "stream already finished");
  return r;
}

quic::Result<size_t> Session::send_body(uint64_t stream_id, quic::Bytes data, bool fin) {
  auto req = body_request(stream_id);
  if (!req) return std::unexpected(req.error());
  Request* r = *req;
  size_t pending = r->out.size();
  size_t room = pending + kDataHeaderRoom >= config_.max_pending_send
                    ? 0
                    : config_.max_pending_send - pending - kDataHeaderRoom;
  size_t take = std::min(room, data.size());
  if (take > 0) append_data(r->out.buf, data.first(take));
  if (take < data.size()) {
    r->want_writable = true;
    r->wait_transport = false;  // the session's buffer is what is full
  } else if (fin) {
    r->out.fin = true;
  }
  dirty_.insert(stream_id);
  flush_all();
  return take;
}

quic::Result<size_t> Session::send_body_with(uint64_t stream_id, size_t max, quic::FillBytes fill,
                                             bool fin) {
  auto req = body_request(stream_id);
  if (!req) return std::unexpected(req.error());
  Request* r = *req;
  const quic::Stream* s = conn_.find_stream(stream_id);
  if (s == nullptr) return fail(err::kInternalError, "no such stream");
  const size_t room = s->send_buffer().capacity();
  // While the session holds bytes of the stream, or the QUIC stream is full, nothing is
  // written; kWritable follows (flush_all, after this call's own flush).
  const size_t n = r->out.size() > 0 || room <= kDataHeaderRoom
                       ? 0
                       : std::min(max, room - kDataHeaderRoom);
  if (n > 0) {
    uint8_t header[kDataHeaderRoom];
    quic::Writer w{quic::MutBytes(header)};
    w.varint(frame::kData);
    w.varint(n);
    auto h = conn_.stream_write(stream_id, quic::Bytes(header, w.written()), false);
    if (!h || *h != w.written()) return fail(err::kInternalError, "stream refused the frame");
  }
  if (r->out.size() == 0 && (n > 0 || (fin && max == 0))) {  // (a bare FIN needs no room)
    auto got = conn_.stream_write_with(stream_id, n, fill, fin && n == max);
    if (!got) return fail(err::kInternalError, "stream refused the body");
    if (*got != n) {
      (void)cancel(stream_id, err::kInternalError);
      return fail(err::kInternalError, "the body ended short of its DATA frame");
    }
    if (fin && n == max) r->out.fin = r->out.fin_sent = true;
  }
  dirty_.insert(stream_id);
  flush_all();
  if (n < max) {
    r->want_writable = r->wait_transport = true;
    conn_.stream_want_writable(stream_id);
  }
  return n;
}

quic::Status Session::send_trailers(uint64_t stream_id, std::span<const Field> fields) {
  Request* r = find(stream_id);
  if (r == nullptr || closed_) return fail(err::kInternalError, "no such stream");
  if (!r->final_head_sent || r->out.fin) return fail(err::kInternalError, "no trailers now");
  if (auto s = validate_trailers(fields); !s) return s;
  auto frame = encode_section(stream_id, fields);
  if (!frame) return std::unexpected(frame.error());
  r->out.buf.insert(r->out.buf.end(), frame->begin(), frame->end());
  r->out.fin = true;
  dirty_.insert(stream_id);
  flush_all();
  return {};
}

size_t Session::read_body(uint64_t stream_id, quic::MutBytes out, bool* fin) {
  if (fin) *fin = false;
  Request* r = find(stream_id);
  if (r == nullptr) {
    // Already complete and forgotten (or aborted, which kReset reported).
    if (fin) {
      *fin = (stream_id & 2) == 0 ? done_requests_.contains(stream_id / 4)
                                  : done_push_streams_.contains(stream_id / 4);
    }
    return 0;
  }
  size_t n = std::min(out.size(), r->body.size() - r->body_off);
  std::copy_n(r->body.begin() + static_cast<std::ptrdiff_t>(r->body_off), n, out.begin());
  r->body_off += n;
  if (r->body_off == r->body.size()) {
    r->body.clear();
    r->body_off = 0;
    r->data_signalled = false;
  } else if (r->body_off > r->body.size() / 2) {
    r->body.erase(r->body.begin(), r->body.begin() + static_cast<std::ptrdiff_t>(r->body_off));
    r->body_off = 0;
  }
  if (r->stalled) {
    r->stalled = false;
    readable_.insert(stream_id);
  }
  bool complete = r->recv == Recv::kDone && r->body.empty();
  if (fin) *fin = complete;
  if (complete && r->out.finished()) forget_request(stream_id);
  return n;
}

quic::Status Session::cancel(uint64_t stream_id, uint64_t code) {
  if (find(stream_id) == nullptr) return fail(err::kInternalError, "no such stream");
  decoder_.cancel_stream(stream_id);
  (void)conn_.stream_reset(stream_id, code);
  (void)conn_.stream_stop_sending(stream_id, code);
  forget_request(stream_id, code);
  return {};
}

void Session::goaway(quic::Instant now) {
  now_ = now;
  if (closed_ || !critical_opened_) return;
  // Server: the first client bidi stream we will not process; client: the first push ID it
  // will not accept (0 without push). Later GOAWAYs may only lower the ID (§5.2).
  uint64_t id = next_peer_bidi_;
  if (role_ == Role::kClient) {
    id = 0;
    if (!pushes_.empty()) id = pushes_.rbegin()->first + 1;
    if (!done_pushes_.empty()) id = std::max(id, done_pushes_.max() + 1);
  }
  if (goaway_sent_ && *goaway_sent_ <= id) id = *goaway_sent_;
  goaway_sent_ = id;
  append_goaway(control_out_.buf, id);
  flush_all();
  check_drained();
}

void Session::check_drained() {
  if (closed_ || !requests_.empty()) return;
  // The client knows when nothing is in flight; a server waits for the client's GOAWAY too.
  bool drained = role_ == Role::kClient ? (goaway_sent_ || goaway_received_)
                                        : (goaway_sent_ && goaway_received_);
  if (drained) close(err::kNoError, "graceful shutdown", now_);
}

void Session::close(uint64_t code, std::string reason, quic::Instant now) {
  now_ = now;
  if (closed_) return;
  flush_all();
  close_error_ = quic::Error{code, 0, reason, true};
  closed_ = true;
  conn_.close(code, reason, now);
  push({EventKind::kClosed, 0, code, {}, {}, std::move(reason)});
}

void Session::connection_error(const quic::Error& e) {
  uint64_t code = e.code;
  if (!e.application) code = err::kInternalError;  // a transport-code error from a helper
  close(code, e.reason, now_);
}

void Session::connection_error(uint64_t code, std::string reason) {
  close(code, std::move(reason), now_);
}

void Session::stream_error(uint64_t id, uint64_t code) {
  decoder_.cancel_stream(id);
  (void)conn_.stream_reset(id, code);
  (void)conn_.stream_stop_sending(id, code);
  if (find(id) != nullptr) push({EventKind::kReset, id, code, {}, {}, "local"});
  forget_request(id, code);
}

void Session::forget_request(uint64_t id, uint64_t code) {
  std::optional<uint64_t> push_id;
  if (Request* r = find(id)) {
    push_id = r->push_id;
    close_handler(id, *r, code);
  }
  requests_.erase(id);
  dirty_.erase(id);
  readable_.erase(id);
  if ((id & 2) == 0) {
    done_requests_.insert(id / 4);
  } else {
    // A push stream: whatever still arrives on it is discarded (client).
    done_push_streams_.insert(id / 4);
    if (!is_local(id)) ignored_uni_.insert(id / 4);
  }
  if (push_id) push_done(*push_id);
}

// The peer reset its sending part of a request (or push) stream.
void Session::on_peer_reset(uint64_t id, uint64_t code) {
  Request* r = find(id);
  bool peer_request = role_ == Role::kServer && (id & 3) == 0 && !done_requests_.contains(id / 4);
  if (r == nullptr && !peer_request) return;
  // Read the reset, so the transport can free the stream and give the peer its credit back,
  // and abort a response that can no longer be sent (the request is forgotten below).
  bool fin = false;
  (void)conn_.stream_read(id, scratch_, &fin);
  if (r == nullptr || !r->out.finished()) (void)conn_.stream_reset(id, err::kRequestCancelled);
  if (peer_request && (r == nullptr || !r->cancel_counted)) count_early_cancel();
  if (closed_) return;
  if (r == nullptr) {
    // Reset before the session read anything of it: the application never heard of it.
    done_requests_.insert(id / 4);
    next_peer_bidi_ = std::max(next_peer_bidi_, id + 4);
    readable_.erase(id);
    return;
  }
  decoder_.cancel_stream(id);
  (void)conn_.stream_stop_sending(id, err::kNoError);
  push({EventKind::kReset, id, code});
  forget_request(id, code);
}

// The peer no longer wants the response; the transport reset our sending part.
void Session::on_peer_stop_sending(uint64_t id, uint64_t code) {
  Request* r = find(id);
  if (r == nullptr) return;
  if (role_ == Role::kServer && !is_local(id) && !r->out.finished() && !r->cancel_counted) {
    r->cancel_counted = true;
    count_early_cancel();
    if (closed_) return;
  }
  r->out = SendQueue{};
  r->out.fin = r->out.fin_sent = true;  // nothing more will be sent
  (void)conn_.stream_reset(id, code);
  push({EventKind::kStopSending, id, code});
  dirty_.insert(id);  // forgotten by flush_all once its receiving side is done too
}

// Rapid reset (kDefaultMaxEarlyCancels): a sliding window of the cancel times, never longer
// than the limit plus the one that crosses it.
void Session::count_early_cancel() {
  ++stats_.requests_cancelled_early;
  while (!early_cancels_.empty() && now_ - early_cancels_.front() > config_.early_cancel_window) {
    early_cancels_.pop_front();
  }
  early_cancels_.push_back(now_);
  if (early_cancels_.size() > config_.max_early_cancels) {
    early_cancels_.clear();
    connection_error(err::kExcessiveLoad, "too many requests cancelled early (rapid reset)");
  }
}

void Session::apply_priority(uint64_t id, const Priority& p) {
  // The stream may be gone already (reset); a priority for it is then moot.
  (void)conn_.set_stream_priority(id, p.urgency, p.incremental);
}

}  // namespace h3

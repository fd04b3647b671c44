// Session: the receive side. Reads the peer's unidirectional streams (control, QPACK) and the
// request streams, applying the frame-placement rules of RFC 9114 §6-§7 and §4.1.
#include <algorithm>

#include "h3/capsule.h"
#include "h3/session.h"

namespace h3 {

void Session::read_stream(uint64_t id) {
  if (session_streams_.contains(id)) return read_session_stream(id);
  if (pending_streams_.contains(id)) return;  // unread until its session exists
  if ((id & 2) != 0) {
    if (!is_local(id)) read_uni(id);
    return;
  }
  if (config_.accept_session_streams && !is_local(id) && !requests_.contains(id) &&
      !done_requests_.contains(id / 4) && !read_bidi_signal(id)) {
    return;
  }
  read_request(id);
}

// A peer bidi stream's first varint: WT_STREAM (0x41) and a session ID make it a session
// stream; anything else is the first frame type of a request. Read a byte at a time, so that
// nothing past the header leaves the transport before the stream has an owner.
bool Session::read_bidi_signal(uint64_t id) {
  StreamHead& h = bidi_in_[id];
  for (;;) {
    uint8_t byte = 0;
    bool fin = false;
    auto n = conn_.stream_read(id, quic::MutBytes(&byte, 1), &fin);
    if (!n) {
      bidi_in_.erase(id);
      return false;
    }
    if (*n == 0 && !fin) return false;
    if (*n != 0 && !h.type) {
      h.type = h.type_acc.feed(byte);
      if (h.type && *h.type != wt::kBidiSignal) return bidi_request(id, fin);
    } else if (*n != 0) {
      if (auto session_id = h.id_acc.feed(byte)) {
        bidi_in_.erase(id);
        on_session_stream(id, *session_id, true, fin);
        return false;
      }
    }
    if (!fin) continue;
    // The stream ended inside its first varints.
    if (!h.type) return bidi_request(id, true);  // a truncated request: its parser reports it
    bidi_in_.erase(id);
    connection_error(err::kFrameError, "stream ended inside its header");
    return false;
  }
}

// Not a session stream: a request, whose first bytes go back in front of the frame parser.
bool Session::bidi_request(uint64_t id, bool fin) {
  auto it = bidi_in_.find(id);
  const VarintAcc& acc = it->second.type_acc;
  std::vector<uint8_t> head(acc.buf, acc.buf + acc.len);
  bidi_in_.erase(it);
  if (role_ == Role::kClient) {
    connection_error(err::kStreamCreationError, "server-initiated bidirectional stream");
    return false;
  }
  Request* r = request_for_read(id);
  if (r == nullptr) return false;
  r->leftover.insert(r->leftover.begin(), head.begin(), head.end());
  if (fin) r->transport_fin = true;
  return true;
}

// --- unidirectional streams (§6.2)

void Session::read_uni(uint64_t id) {
  if (requests_.contains(id)) return read_request(id);  // a push stream past its header
  if (ignored_uni_.contains(id / 4)) {
    // We sent STOP_SENDING; discard whatever still arrives so flow control keeps moving.
    bool fin = false;
    while (true) {
      auto n = conn_.stream_read(id, scratch_, &fin);
      if (!n || *n == 0 || fin) return;
    }
  }
  // Until a critical stream's type is known, or while a push / session stream still reads
  // the ID after its type, the header is read a byte at a time.
  auto head = uni_in_.find(id);
  bool ready = head != uni_in_.end() && head->second.type &&
               *head->second.type != stream_type::kPush && *head->second.type != wt::kUniStreamType;
  if (!ready && !read_uni_header(id)) return;
  // A critical stream (control, QPACK) past its type.
  bool critical = id == peer_control_id_ || id == peer_encoder_id_ || id == peer_decoder_id_;
  for (;;) {
    bool fin = false;
    auto n = conn_.stream_read(id, scratch_, &fin);
    if (!n) {
      if (critical) connection_error(err::kClosedCriticalStream, "critical stream aborted");
      uni_in_.erase(id);
      return;
    }
    if (*n > 0) on_uni_bytes(id, quic::Bytes(scratch_.data(), *n));
    if (closed_) return;
    if (fin) {
      // §6.2.1, RFC 9204 §4.2: closing a critical stream is a connection error.
      if (critical) return connection_error(err::kClosedCriticalStream, "critical stream closed");
      uni_in_.erase(id);
      return;
    }
    if (*n == 0) return;
  }
}

// The stream type and, for push and session streams, the ID after it, a byte at a time.
// Returns true when the stream is a critical stream ready for bulk reading.
bool Session::read_uni_header(uint64_t id) {
  StreamHead& h = uni_in_[id];
  for (;;) {
    uint8_t byte = 0;
    bool fin = false;
    auto n = conn_.stream_read(id, quic::MutBytes(&byte, 1), &fin);
    if (!n) {
      uni_in_.erase(id);  // reset before its header was read: nothing to act on
      return false;
    }
    if (*n == 0 && !fin) return false;
    std::optional<uint64_t> header_id;
    if (*n != 0 && !h.type) {
      h.type = h.type_acc.feed(byte);
      if (h.type) {
        on_uni_type(id, *h.type);
        if (closed_ || ignored_uni_.contains(id / 4)) return false;
        if (*h.type != stream_type::kPush && *h.type != wt::kUniStreamType) {
          if (!fin) return true;  // a critical stream: bulk reading from here
          connection_error(err::kClosedCriticalStream, "critical stream closed");
          return false;
        }
      }
    } else if (*n != 0) {
      header_id = h.id_acc.feed(byte);
    }
    if (header_id) {
      uint64_t type = *h.type;
      uni_in_.erase(id);
      if (type == stream_type::kPush) {
        on_push_stream(id, *header_id, {}, fin);
      } else {
        on_session_stream(id, *header_id, false, fin);
      }
      return false;
    }
    if (!fin) continue;
    bool typed = h.type.has_value();
    uni_in_.erase(id);
    // Before its type: nothing to act on. Inside a push ID (§4.6) or session ID (draft §4.2):
    // a truncated header.
    if (typed) connection_error(err::kFrameError, "stream ended inside its header");
    return false;
  }
}

void Session::on_uni_type(uint64_t id, uint64_t type) {
  auto claim = [&](std::optional<uint64_t>& slot, const char* what) {
    if (slot) return connection_error(err::kStreamCreationError, std::string("second ") + what);
    slot = id;
  };
  switch (type) {
    case stream_type::kControl:
      return claim(peer_control_id_, "control stream");
    case stream_type::kQpackEncoder:
      return claim(peer_encoder_id_, "QPACK encoder stream");
    case stream_type::kQpackDecoder:
      return claim(peer_decoder_id_, "QPACK decoder stream");
    case stream_type::kPush:
      // §6.2.2: only servers push, and only up to the MAX_PUSH_ID we sent.
      if (role_ == Role::kServer) {
        return connection_error(err::kStreamCreationError, "push stream from a client");
      }
      if (!max_push_id_sent_) {
        return connection_error(err::kIdError, "push stream without MAX_PUSH_ID");
      }
      return;  // the push ID follows (read_uni_header)
    case wt::kUniStreamType:
      if (config_.accept_session_streams) return;  // the session ID follows
      [[fallthrough]];
    default:
      // Unknown and reserved types: abort reading, never a connection error (§6.2).
      (void)conn_.stream_stop_sending(id, err::kStreamCreationError);
      ignored_uni_.insert(id / 4);
      uni_in_.erase(id);
      return;
  }
}

void Session::on_uni_bytes(uint64_t id, quic::Bytes b) {
  if (id == peer_control_id_) {
    while (!closed_) {
      auto item = control_reader_.next(b);
      if (!item) return connection_error(item.error());
      if (!*item) return;
      on_control_frame(**item);
    }
    return;
  }
  if (id == peer_encoder_id_) {
    if (auto s = decoder_.on_encoder_stream(b); !s) return connection_error(s.error());
    on_unblocked();
    return;
  }
  if (id == peer_decoder_id_) {
    if (auto s = encoder_.on_decoder_stream(b); !s) return connection_error(s.error());
  }
}

void Session::on_control_frame(const FrameItem& item) {
  using Kind = FrameItem::Kind;
  if (!peer_settings_) {
    if (item.kind == Kind::kFrame && item.type == frame::kSettings)
      return on_settings(item.payload);
    return connection_error(err::kMissingSettings, "control stream must start with SETTINGS");
  }
  if (item.kind == Kind::kUnknownFrame) return;
  if (item.kind != Kind::kFrame) {
    return connection_error(err::kFrameUnexpected, "DATA on the control stream");
  }
  switch (item.type) {
    case frame::kGoaway: {
      auto v = parse_single_varint(item.type, item.payload);
      if (!v) return connection_error(v.error());
      return on_goaway(*v);
    }
    case frame::kMaxPushId: {
      if (role_ == Role::kClient) {
        return connection_error(err::kFrameUnexpected, "MAX_PUSH_ID sent by a server");
      }
      auto v = parse_single_varint(item.type, item.payload);
      if (!v) return connection_error(v.error());
      if (peer_max_push_id_ && *v < *peer_max_push_id_) {
        return connection_error(err::kIdError, "MAX_PUSH_ID decreased");  // §7.2.7
      }
      peer_max_push_id_ = *v;
      return;
    }
    case frame::kCancelPush: {
      auto v = parse_single_varint(item.type, item.payload);
      if (!v) return connection_error(v.error());
      return on_cancel_push(*v);
    }
    case frame::kPriorityUpdateRequest:
    case frame::kPriorityUpdatePush:
      if (role_ == Role::kClient) {
        return connection_error(err::kFrameUnexpected, "PRIORITY_UPDATE sent by a server");
      }
      return on_priority_update(item.type, item.payload);
    default:  // SETTINGS again, HEADERS, PUSH_PROMISE (§7.2.2, §7.2.4, §7.2.5)
      return connection_error(err::kFrameUnexpected, "frame not allowed on the control stream");
  }
}

void Session::on_settings(quic::Bytes payload) {
  auto s = parse_settings(payload);
  if (!s) return connection_error(s.error());
  peer_settings_ = *s;
  encoder_.set_peer_settings(s->qpack_max_table_capacity, s->qpack_blocked_streams);
  push({EventKind::kSettings});
}

void Session::on_goaway(uint64_t id) {
  // §5.2, §7.2.6: a server's GOAWAY names a client bidi stream; IDs never increase.
  if (role_ == Role::kClient && id % 4 != 0) {
    return connection_error(err::kIdError, "GOAWAY with a non-request stream ID");
  }
  if (goaway_received_ && id > *goaway_received_) {
    return connection_error(err::kIdError, "GOAWAY ID increased");
  }
  goaway_received_ = id;
  push({EventKind::kGoaway, 0, id});
  if (role_ != Role::kClient) return;
  // Requests at or above the ID were not processed: they may be retried elsewhere.
  std::vector<uint64_t> rejected;
  for (auto it = requests_.lower_bound(id); it != requests_.end(); ++it)
    rejected.push_back(it->first);
  for (uint64_t sid : rejected) {
    decoder_.cancel_stream(sid);
    (void)conn_.stream_reset(sid, err::kRequestCancelled);
    (void)conn_.stream_stop_sending(sid, err::kRequestCancelled);
    push({EventKind::kReset, sid, err::kRequestRejected, {}, {}, "GOAWAY"});
    forget_request(sid, err::kRequestRejected);
  }
}

void Session::on_priority_update(uint64_t type, quic::Bytes payload) {
  auto u = parse_priority_update(type, payload);
  if (!u) return connection_error(u.error());
  if (type == frame::kPriorityUpdatePush) {
    // RFC 9218 §7.2: a push ID beyond what was allowed is H3_ID_ERROR.
    if (!peer_max_push_id_ || u->element_id > *peer_max_push_id_) {
      return connection_error(err::kIdError, "PRIORITY_UPDATE for a push never allowed");
    }
    return on_push_priority_update(u->element_id, parse_priority(u->field_value));
  }
  if (u->element_id % 4 != 0) {
    return connection_error(err::kIdError, "PRIORITY_UPDATE for a non-request stream");
  }
  Priority p = parse_priority(u->field_value);
  uint64_t sid = u->element_id;
  if (Request* r = find(sid)) {
    r->priority = p;
    r->priority_updated = true;
    apply_priority(sid, p);
  } else if (!done_requests_.contains(sid / 4) && sid >= next_peer_bidi_) {
    // For a stream not yet opened: remember it for when it arrives (bounded).
    if (pending_priorities_.size() >= kMaxPendingPriorities && !pending_priorities_.contains(sid)) {
      pending_priorities_.erase(std::prev(pending_priorities_.end()));
    }
    pending_priorities_[sid] = p;
  } else {
    // The session is done with the request, but the transport may still be sending the
    // response it was handed: reschedule that (a freed stream just refuses).
    apply_priority(sid, p);
    return;
  }
  Event e{EventKind::kPriorityUpdate, sid};
  e.priority = p;
  push(std::move(e));
}

// --- request streams (§4.1, §6.1)

Session::Request* Session::request_for_read(uint64_t id) {
  if (Request* r = find(id)) return r;
  if ((id & 2) != 0) return nullptr;  // a push stream already over
  if (is_local(id)) {
    // Client: one of our requests, already over. Server-initiated bidi streams are not used
    // by HTTP/3 (§6.1).
    if (role_ == Role::kClient && (id & 1) != 0) {
      connection_error(err::kStreamCreationError, "server-initiated bidirectional stream");
    }
    return nullptr;
  }
  if (role_ == Role::kClient) {
    connection_error(err::kStreamCreationError, "server-initiated bidirectional stream");
    return nullptr;
  }
  if (done_requests_.contains(id / 4)) return nullptr;
  if (goaway_sent_ && id >= *goaway_sent_) {
    (void)conn_.stream_stop_sending(id, err::kRequestRejected);
    (void)conn_.stream_reset(id, err::kRequestRejected);
    done_requests_.insert(id / 4);
    return nullptr;
  }
  next_peer_bidi_ = std::max(next_peer_bidi_, id + 4);
  Request& r = requests_.try_emplace(id, config_.max_field_section_size + 64).first->second;
  if (auto p = pending_priorities_.find(id); p != pending_priorities_.end()) {
    r.priority = p->second;
    r.priority_updated = true;
    pending_priorities_.erase(p);
    apply_priority(id, r.priority);
  }
  return &r;
}

void Session::read_request(uint64_t id) {
  Request* r = request_for_read(id);
  if (r == nullptr || r->blocked) return;
  if (!r->leftover.empty()) {
    std::vector<uint8_t> left;
    left.swap(r->leftover);
    if (!parse_request(id, *r, left)) return;
  }
  while (!r->transport_fin && r->recv != Recv::kDone) {
    size_t buffered = r->body.size() - r->body_off;
    if (buffered >= config_.max_buffered_body) {
      r->stalled = true;  // read_body() resumes us
      return;
    }
    size_t want = std::min(scratch_.size(), config_.max_buffered_body - buffered);
    bool fin = false;
    auto n = conn_.stream_read(id, quic::MutBytes(scratch_.data(), want), &fin);
    if (!n) return;  // reset: the kStreamReset event reports it
    if (fin) r->transport_fin = true;
    if (*n > 0 && !parse_request(id, *r, quic::Bytes(scratch_.data(), *n))) return;
    if (*n == 0) break;
  }
  if (r->transport_fin && !r->blocked && r->recv != Recv::kDone) on_request_end(id, *r);
}

bool Session::parse_request(uint64_t id, Request& r, quic::Bytes in) {
  using Kind = FrameItem::Kind;
  while (true) {
    auto item = r.reader.next(in);
    if (!item) {
      connection_error(item.error());
      return false;
    }
    if (!*item) return true;
    const FrameItem& it = **item;
    switch (it.kind) {
      case Kind::kUnknownFrame:
        break;
      case Kind::kDataBegin:
        if (r.recv != Recv::kBody) {
          connection_error(err::kFrameUnexpected,
                           r.recv == Recv::kHead ? "DATA before HEADERS" : "DATA after trailers");
          return false;
        }
        break;
      case Kind::kDataChunk:
        if (!r.length.on_data(it.payload.size())) {
          stream_error(id, err::kMessageError);
          return false;
        }
        if (r.established) {
          if (!feed_capsules(id, r, it.payload)) return false;
          break;
        }
        r.body.insert(r.body.end(), it.payload.begin(), it.payload.end());
        if (!r.data_signalled && !it.payload.empty()) {
          r.data_signalled = true;
          push({EventKind::kData, id});
        }
        break;
      case Kind::kFrame:
        if (it.type == frame::kHeaders) {
          if (r.recv == Recv::kAfterTrailers) {
            connection_error(err::kFrameUnexpected, "HEADERS after trailers");
            return false;
          }
          on_headers_frame(id, r, it.payload, in);
          if (closed_ || find(id) != &r || r.blocked) return false;
          break;
        }
        if (it.type == frame::kPushPromise && role_ == Role::kClient && !r.push_id) {
          on_push_promise_frame(id, r, it.payload, in);
          if (closed_ || find(id) != &r || r.blocked) return false;
          break;
        }
        // CANCEL_PUSH, SETTINGS, GOAWAY, MAX_PUSH_ID, PRIORITY_UPDATE: control-stream only;
        // PUSH_PROMISE from a client.
        connection_error(err::kFrameUnexpected, "frame not allowed on a request stream");
        return false;
    }
  }
}

void Session::on_headers_frame(uint64_t id, Request& r, quic::Bytes payload, quic::Bytes rest) {
  std::vector<Field> fields;
  auto st = decoder_.decode(id, payload, fields);
  if (!st) {
    if (st.error().code == qpack::kFieldSectionTooLarge)
      return stream_error(id, err::kMessageError);
    return connection_error(st.error());
  }
  if (*st == qpack::Decoder::DecodeStatus::kBlocked) {
    r.blocked = true;
    r.leftover.assign(rest.begin(), rest.end());
    return;
  }
  on_field_section(id, r, std::move(fields));
}

void Session::on_field_section(uint64_t id, Request& r, std::vector<Field> fields) {
  Event e{EventKind::kHeaders, id};
  bool establish_later = false;  // client: after the event, so the app sees the head first
  if (r.recv == Recv::kHead && role_ == Role::kServer) {
    // :protocol is allowed once we sent SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220 §3); the
    // client's SETTINGS may well arrive after its CONNECT (WebTransport draft §3.1).
    auto h = validate_request(fields, config_.enable_connect_protocol);
    if (!h) return stream_error(id, err::kMessageError);
    r.length = ContentLengthCheck(h->is_connect() ? std::nullopt : h->content_length);
    if (auto p = std::find_if(fields.begin(), fields.end(),
                              [](const Field& f) { return f.name == "priority"; });
        p != fields.end() && !r.priority_updated) {
      r.priority = parse_priority(p->value);  // RFC 9218 §7: a PRIORITY_UPDATE overrides it
    }
    // The response is scheduled by the request's priority (defaults: u=3, non-incremental).
    apply_priority(id, r.priority);
    r.recv = Recv::kBody;
    attach_handler(id, r, fields);
  } else if (r.recv == Recv::kHead) {
    auto h = validate_response(fields);
    if (!h) return stream_error(id, err::kMessageError);
    if (!h->informational()) {
      // §4.1.2: content-length does not describe the body of HEAD, 204 and 304 responses.
      bool no_body = r.head_request || h->status == 204 || h->status == 304;
      r.length = ContentLengthCheck(no_body ? std::nullopt : h->content_length);
      r.recv = Recv::kBody;
      if (h->status / 100 == 2) {
        establish_later = r.handler != nullptr;
      } else if (r.handler) {
        reject_handler(id, r);
      }
    }
  } else {
    if (!validate_trailers(fields)) return stream_error(id, err::kMessageError);
    r.recv = Recv::kAfterTrailers;
    e.kind = EventKind::kTrailers;
  }
  e.fields = std::move(fields);
  e.priority = r.priority;
  push(std::move(e));
  if (establish_later) establish(id, r);
}

void Session::on_request_end(uint64_t id, Request& r) {
  if (auto s = r.reader.finish(); !s) return connection_error(s.error());  // §7.1
  if (r.recv == Recv::kHead) {
    // §4.1.2 (server), malformed response (client).
    return stream_error(id, role_ == Role::kServer ? err::kRequestIncomplete : err::kMessageError);
  }
  if (!r.length.on_end()) return stream_error(id, err::kMessageError);
  if (r.capsules) {
    // A truncated last capsule is a malformed message (RFC 9297 §3.3).
    if (auto s = r.capsules->finish(); !s) return stream_error(id, s.error().code);
    // The tunnel or session ends with its CONNECT stream; our side follows what is queued.
    close_handler(id, r, 0);
    r.out.fin = true;
  }
  r.recv = Recv::kDone;
  push({EventKind::kFinished, id});
  dirty_.insert(id);  // flush_all() forgets the request once nothing is left to do
}

void Session::on_unblocked() {
  for (auto& u : decoder_.take_unblocked()) {
    Request* r = find(u.stream_id);
    if (r == nullptr || !r->blocked) continue;
    r->blocked = false;
    std::optional<uint64_t> promise = r->blocked_promise;
    r->blocked_promise.reset();
    if (!u.fields) {
      if (u.fields.error().code == qpack::kFieldSectionTooLarge) {
        stream_error(u.stream_id, err::kMessageError);
        continue;
      }
      return connection_error(u.fields.error());
    }
    if (promise) {
      on_promised_fields(u.stream_id, *r, *promise, std::move(*u.fields));
    } else {
      on_field_section(u.stream_id, *r, std::move(*u.fields));
    }
    if (closed_) return;
    readable_.insert(u.stream_id);  // parse what followed the section
  }
}

}  // namespace h3

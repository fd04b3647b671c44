// Session: server push (RFC 9114 §4.6, §6.2.2, §7.2.3, §7.2.5, §7.2.7) on both sides.
//
// Client: MAX_PUSH_ID opens a window of push IDs (SessionConfig::max_concurrent_pushes beyond
// the lowest unfinished one), so the pushes a server can make us track are bounded. A
// PUSH_PROMISE on a request stream and the push stream (type 0x01 + push ID) may arrive in
// either order; each push ID has at most one push stream, and a repeated promise must carry
// the same request. Server: promise_push() / open_push_stream() / cancel_push().
#include <algorithm>

#include "h3/session.h"

namespace h3 {

namespace {

bool safe_cacheable(const RequestHead& h) {
  return h.method == "GET" || h.method == "HEAD";
}

}  // namespace

std::optional<uint64_t> Session::push_id_of(uint64_t push_stream) const {
  auto it = requests_.find(push_stream);
  if (it == requests_.end()) return std::nullopt;
  return it->second.push_id;
}

void Session::send_initial_max_push_id() {
  if (role_ != Role::kClient || !config_.enable_push) return;
  uint64_t window = std::clamp<uint64_t>(config_.max_concurrent_pushes, 1, kMaxPendingPushes);
  max_push_id_sent_ = window - 1;
  append_max_push_id(control_out_.buf, *max_push_id_sent_);
}

void Session::push_done(uint64_t push_id) {
  pushes_.erase(push_id);
  done_pushes_.insert(push_id);
  if (role_ != Role::kClient || !max_push_id_sent_ || closed_) return;
  // §7.2.7: the window slides past the lowest push ID still unfinished.
  uint64_t lowest = 0;
  if (!done_pushes_.empty() && done_pushes_.ranges().front().lo == 0) {
    lowest = done_pushes_.ranges().front().hi + 1;
  }
  uint64_t window = std::clamp<uint64_t>(config_.max_concurrent_pushes, 1, kMaxPendingPushes);
  uint64_t max = lowest + window - 1;
  if (max > *max_push_id_sent_) {
    max_push_id_sent_ = max;
    append_max_push_id(control_out_.buf, max);
  }
}

// --- server

quic::Result<uint64_t> Session::promise_push(uint64_t stream_id, std::span<const Field> request) {
  if (role_ != Role::kServer) return fail(err::kInternalError, "only servers push");
  Request* r = find(stream_id);
  if (r == nullptr || closed_ || (stream_id & 2) != 0 || r->out.fin) {
    return fail(err::kInternalError, "no open response to promise a push on");
  }
  if (!peer_max_push_id_ || next_push_id_ > *peer_max_push_id_) {
    return fail(err::kIdError, "the client allows no further push ID (MAX_PUSH_ID)");
  }
  if (goaway_received_ && next_push_id_ >= *goaway_received_) {
    return fail(err::kIdError, "the client's GOAWAY refuses this push ID");
  }
  if (pushes_.size() >= kMaxPendingPushes) {
    return fail(err::kExcessiveLoad, "too many pushes pending");
  }
  auto head = validate_request(request, false);
  if (!head) return std::unexpected(head.error());
  if (!safe_cacheable(*head) || head->content_length.value_or(0) != 0) {
    return fail(err::kInternalError, "a pushed request is a GET or HEAD without content");
  }
  std::vector<uint8_t> section = encoder_.encode(stream_id, request);
  uint64_t push_id = next_push_id_++;
  append_push_promise(r->out.buf, push_id, section);
  Push& p = pushes_[push_id];
  p.request.assign(request.begin(), request.end());
  p.promised = true;
  dirty_.insert(stream_id);
  flush_all();
  return push_id;
}

quic::Result<uint64_t> Session::open_push_stream(uint64_t push_id) {
  if (role_ != Role::kServer || closed_) return fail(err::kInternalError, "only servers push");
  auto it = pushes_.find(push_id);
  if (it == pushes_.end() || it->second.stream) {
    return fail(err::kInternalError, "push not promised, cancelled or already open");
  }
  auto id = conn_.open_stream(false);
  if (!id) return std::unexpected(id.error());
  it->second.stream = *id;
  Request& r = requests_.try_emplace(*id, config_.max_field_section_size + 64).first->second;
  r.push_id = push_id;
  r.recv = Recv::kDone;  // nothing to read on our own unidirectional stream
  r.priority = it->second.priority;
  append_varint(r.out.buf, stream_type::kPush);
  append_varint(r.out.buf, push_id);
  apply_priority(*id, r.priority);
  dirty_.insert(*id);
  flush_all();
  return *id;
}

quic::Status Session::cancel_push(uint64_t push_id) {
  if (closed_ || !critical_opened_) return fail(err::kInternalError, "session not open");
  if (done_pushes_.contains(push_id)) return fail(err::kInternalError, "push already over");
  auto it = pushes_.find(push_id);
  if (role_ == Role::kServer) {
    if (it == pushes_.end()) return fail(err::kInternalError, "no such push");
  } else if (!max_push_id_sent_ || push_id > *max_push_id_sent_) {
    return fail(err::kInternalError, "push ID never allowed");
  }
  std::optional<uint64_t> stream;
  if (it != pushes_.end()) stream = it->second.stream;
  if (stream) {
    // §4.6: once the stream exists, aborting it is the cancellation.
    decoder_.cancel_stream(*stream);
    if (role_ == Role::kServer) {
      (void)conn_.stream_reset(*stream, err::kRequestCancelled);
    } else {
      (void)conn_.stream_stop_sending(*stream, err::kRequestCancelled);
    }
    forget_request(*stream);  // calls push_done
  } else {
    append_cancel_push(control_out_.buf, push_id);
    push_done(push_id);
  }
  flush_all();
  return {};
}

quic::Status Session::send_push_priority_update(uint64_t push_id, Priority p) {
  if (role_ != Role::kClient || !critical_opened_ || closed_) {
    return fail(err::kInternalError, "PRIORITY_UPDATE is sent by clients on an open session");
  }
  if (!max_push_id_sent_ || push_id > *max_push_id_sent_) {
    return fail(err::kInternalError, "push ID never allowed");
  }
  append_priority_update(control_out_.buf, frame::kPriorityUpdatePush, push_id, format_priority(p));
  flush_all();
  return {};
}

void Session::on_push_priority_update(uint64_t push_id, const Priority& p) {
  auto it = pushes_.find(push_id);
  if (it == pushes_.end()) return;  // over, or never promised: nothing to schedule
  it->second.priority = p;
  if (it->second.stream) {
    if (Request* r = find(*it->second.stream)) r->priority = p;
    apply_priority(*it->second.stream, p);
  }
}

// --- both: CANCEL_PUSH received (§7.2.3)

void Session::on_cancel_push(uint64_t push_id) {
  std::optional<uint64_t> allowed = role_ == Role::kServer ? peer_max_push_id_ : max_push_id_sent_;
  if (!allowed || push_id > *allowed) {
    return connection_error(err::kIdError, "CANCEL_PUSH for a push ID never allowed");
  }
  if (done_pushes_.contains(push_id)) return;
  auto it = pushes_.find(push_id);
  if (role_ == Role::kServer) {
    if (it == pushes_.end()) return;  // never promised: refers to nothing
    if (it->second.stream) {
      (void)conn_.stream_reset(*it->second.stream, err::kRequestCancelled);
      forget_request(*it->second.stream);
    } else {
      push_done(push_id);
    }
  } else if (it == pushes_.end() || !it->second.stream) {
    // The server will not open the push stream; one already open is read to its end.
    push_done(push_id);
  }
  push({EventKind::kPushCancelled, 0, push_id});
}

// --- client: PUSH_PROMISE and push streams

void Session::on_push_promise_frame(uint64_t id, Request& r, quic::Bytes payload,
                                    quic::Bytes rest) {
  auto pp = parse_push_promise(payload);
  if (!pp) return connection_error(pp.error());
  if (!max_push_id_sent_ || pp->push_id > *max_push_id_sent_) {
    return connection_error(err::kIdError, "PUSH_PROMISE beyond MAX_PUSH_ID");  // §7.2.5
  }
  std::vector<Field> fields;
  auto st = decoder_.decode(id, pp->field_section, fields);
  if (!st) {
    if (st.error().code == qpack::kFieldSectionTooLarge) {
      return stream_error(id, err::kMessageError);
    }
    return connection_error(st.error());
  }
  if (*st == qpack::Decoder::DecodeStatus::kBlocked) {
    r.blocked = true;
    r.blocked_promise = pp->push_id;
    r.leftover.assign(rest.begin(), rest.end());
    return;
  }
  on_promised_fields(id, r, pp->push_id, std::move(fields));
}

void Session::on_promised_fields(uint64_t id, Request& r, uint64_t push_id,
                                 std::vector<Field> fields) {
  (void)r;
  auto head = validate_request(fields, false);
  if (!head || !safe_cacheable(*head) || head->content_length.value_or(0) != 0) {
    return stream_error(id, err::kMessageError);  // §4.6
  }
  if (done_pushes_.contains(push_id)) return;  // cancelled or over: nothing left to match
  Push& p = pushes_[push_id];
  if (p.promised) {
    // §4.6: the same push ID may be promised on several requests, always for the same one.
    if (p.request != fields) {
      return connection_error(err::kGeneralProtocolError, "push ID promised twice differently");
    }
    return;
  }
  p.promised = true;
  p.request = fields;
  Event e{EventKind::kPushPromise, id, push_id};
  e.fields = std::move(fields);
  push(std::move(e));
}

void Session::on_push_stream(uint64_t id, uint64_t push_id, std::vector<uint8_t> rest, bool fin) {
  if (!max_push_id_sent_ || push_id > *max_push_id_sent_) {
    return connection_error(err::kIdError, "push stream beyond MAX_PUSH_ID");  // §4.6
  }
  if (push_streams_seen_.contains(push_id)) {
    return connection_error(err::kIdError, "second push stream for one push ID");  // §6.2.2
  }
  push_streams_seen_.insert(push_id);
  if (done_pushes_.contains(push_id)) {
    // We cancelled it: stop the stream and discard what still comes.
    (void)conn_.stream_stop_sending(id, err::kRequestCancelled);
    ignored_uni_.insert(id / 4);
    return;
  }
  pushes_[push_id].stream = id;
  Request& r = requests_.try_emplace(id, config_.max_field_section_size + 64).first->second;
  r.push_id = push_id;
  r.out.fin = r.out.fin_sent = true;  // nothing to send on the server's stream
  push({EventKind::kPushOpened, id, push_id});
  if (!rest.empty() && !parse_request(id, r, rest)) return;
  if (fin) r.transport_fin = true;
  read_request(id);
}

}  // namespace h3

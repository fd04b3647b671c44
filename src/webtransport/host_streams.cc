// Host: streams and datagrams of sessions, and draft-15 flow control (§5).
#include <algorithm>

#include "webtransport/host.h"

namespace webtransport {

namespace {

int dir_of(bool bidi) {
  return bidi ? 0 : 1;
}

}  // namespace

// --- receiving

void Host::on_stream_opened(uint64_t session_id, uint64_t id, bool bidi) {
  SessionState* s = find_session(session_id);
  if (s == nullptr || s->state == State::kClosing) {
    return (void)h3_.outbox(session_id).reset(id, err::kSessionGone);
  }
  int dir = dir_of(bidi);
  ++s->recv.streams[dir];
  if (flow_control_ && s->recv.streams[dir] > s->recv.max_streams[dir]) {
    // More streams than we allowed (§5.6.2).
    return abort_session(session_id, err::kFlowControlError);
  }
  Stream& st = streams_[id];
  st = Stream{session_id, bidi, false};
  st.send_done = !bidi;
  s->streams.insert(id);
  if (active_peer_streams() > kMaxActivePeerStreams) {
    // Nothing of it is read yet: let QUIC hold it until the application drains others.
    st.held_back = st.paused = true;
    (void)h3_.outbox(session_id).pause(id);
  }
  if (s->state == State::kOpen) announce(id, st);
}

size_t Host::active_peer_streams() const {
  return static_cast<size_t>(std::count_if(streams_.begin(), streams_.end(), [](const auto& kv) {
    const Stream& st = kv.second;
    return !st.local && !st.recv_done && !st.reset_code && !st.held_back;
  }));
}

void Host::resume_held_back() {
  size_t active = active_peer_streams();
  for (auto& [id, st] : streams_) {
    if (active >= kMaxActivePeerStreams) break;
    if (!st.held_back) continue;
    st.held_back = st.paused = false;
    ++active;
    (void)h3_.outbox(st.session_id).resume(id);
  }
}

void Host::remember_reset(uint64_t id, uint64_t code) {
  if (reset_order_.size() >= kMaxRememberedResets) {
    recent_resets_.erase(reset_order_.front());
    reset_order_.pop_front();
  }
  recent_resets_[id] = code;
  reset_order_.push_back(id);
}

void Host::announce(uint64_t id, Stream& st) {
  if (st.announced || st.local) return;
  st.announced = true;
  push({EventKind::kStreamOpened, st.session_id, id, 0, false, st.bidi, true});
  if (st.buf.size() > st.off || st.fin || st.reset_code) {
    push({EventKind::kReadable, st.session_id, id});
  }
}

void Host::announce_streams(uint64_t session_id, SessionState& s) {
  for (uint64_t sid : s.streams) {
    if (auto it = streams_.find(sid); it != streams_.end()) announce(sid, it->second);
  }
  if (!s.datagrams.empty() && !s.datagram_signalled) {
    s.datagram_signalled = true;
    push({EventKind::kDatagram, session_id});
  }
}

void Host::on_stream_data(uint64_t session_id, uint64_t id, Bytes data, bool fin) {
  auto it = streams_.find(id);
  SessionState* s = find_session(session_id);
  if (it == streams_.end() || s == nullptr) return;
  Stream& st = it->second;
  s->recv.data += data.size();
  if (flow_control_ && s->recv.data > s->recv.max_data) {
    return abort_session(session_id, err::kFlowControlError);  // §5.6.4
  }
  bool was_empty = st.buf.size() == st.off && !st.fin;
  if (st.off > 0 && st.off == st.buf.size()) {
    st.buf.clear();
    st.off = 0;
  }
  st.buf.insert(st.buf.end(), data.begin(), data.end());
  st.fin = st.fin || fin;
  if (st.buf.size() - st.off >= config_.max_stream_buffer && !st.fin) {
    // The application is not reading: stop taking bytes (QUIC flow control holds the rest).
    st.paused = true;
    (void)h3_.outbox(session_id).pause(id);
  }
  if (was_empty && (st.announced || st.local)) push({EventKind::kReadable, session_id, id});
}

void Host::on_stream_reset(uint64_t id, uint64_t code) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& st = it->second;
  st.reset_code = code;
  st.buf.clear();
  st.off = 0;
  st.held_back = false;
  auto app = h3_to_app_error(code);
  if (st.announced || st.local) {
    push({EventKind::kStreamReset, st.session_id, id, app ? *app : code, app.has_value()});
  }
  if (st.send_done) {
    // Nothing left in either direction: keep only the code (bounded) for read().
    remember_reset(id, code);
    maybe_forget(id);
  }
  resume_held_back();
}

void Host::on_stop_sending(uint64_t id, uint64_t code) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  it->second.send_done = true;
  want_writable_.erase(id);
  auto app = h3_to_app_error(code);
  push({EventKind::kStopSending, it->second.session_id, id, app ? *app : code, app.has_value()});
  maybe_forget(id);
}

void Host::on_datagram(uint64_t session_id, Bytes payload) {
  SessionState* s = find_session(session_id);
  if (s == nullptr || s->state == State::kClosing) return;
  // Bounded per session in bytes and count: the oldest are dropped (draft §4.5).
  if (payload.size() > config_.max_datagram_bytes) {
    ++datagrams_dropped_;
    return;
  }
  while (!s->datagrams.empty() &&
         (s->datagrams.size() >= config_.max_datagrams ||
          s->datagram_bytes + payload.size() > config_.max_datagram_bytes)) {
    s->datagram_bytes -= s->datagrams.front().size();
    s->datagrams.pop_front();
    ++datagrams_dropped_;
  }
  s->datagrams.emplace_back(payload.begin(), payload.end());
  s->datagram_bytes += payload.size();
  if (!s->datagram_signalled && (s->state == State::kOpen || s->state == State::kConnecting)) {
    s->datagram_signalled = true;
    push({EventKind::kDatagram, session_id});
  }
}

quic::Result<ReadResult> Host::read(uint64_t stream_id, quic::MutBytes out) {
  if (out.empty()) return fail_with(status::kInvalid, "empty buffer");
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) {
    if (auto r = recent_resets_.find(stream_id); r != recent_resets_.end()) {
      return fail_with(status::kReset, "reset by the peer", r->second);
    }
    return fail_with(status::kUnknown, "no such stream");
  }
  Stream& st = it->second;
  if (st.reset_code) return fail_with(status::kReset, "reset by the peer", *st.reset_code);
  if (st.recv_done) return fail_with(status::kFinished, "end of stream already read");
  size_t n = std::min(out.size(), st.buf.size() - st.off);
  if (n == 0 && !st.fin) {
    if (!st.bidi && st.local) return fail_with(status::kInvalid, "our unidirectional stream");
    return fail_with(status::kWouldBlock, "nothing to read yet");
  }
  std::copy_n(st.buf.begin() + static_cast<std::ptrdiff_t>(st.off), n, out.begin());
  st.off += n;
  bool fin = st.fin && st.off == st.buf.size();
  uint64_t session_id = st.session_id;
  if (st.paused && !st.held_back && st.buf.size() - st.off < config_.max_stream_buffer / 2) {
    st.paused = false;
    (void)h3_.outbox(session_id).resume(stream_id);
  }
  if (fin) st.recv_done = true;
  if (SessionState* s = find_session(session_id)) credit_read(session_id, *s, n);
  if (fin) {
    maybe_forget(stream_id);
    resume_held_back();
  }
  return ReadResult{n, fin};
}

void Host::credit_read(uint64_t session_id, SessionState& s, size_t n) {
  s.recv.consumed += n;
  if (!flow_control_ || config_.initial_max_data == 0) return;
  // Like QUIC's MAX_DATA (RFC 9000 §4.2): move the window once half of it was read.
  if (s.recv.max_data - s.recv.consumed < config_.initial_max_data / 2) {
    s.recv.max_data = s.recv.consumed + config_.initial_max_data;
    send_flow_capsule(session_id, capsule::kMaxData, s.recv.max_data);
  }
}

void Host::maybe_forget(uint64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& st = it->second;
  bool recv_over = st.recv_done || st.reset_code.has_value() || (st.local && !st.bidi);
  if (!recv_over || !st.send_done) return;
  uint64_t session_id = st.session_id;
  bool peer = !st.local;
  int dir = dir_of(st.bidi);
  streams_.erase(it);
  want_writable_.erase(id);
  SessionState* s = find_session(session_id);
  if (s == nullptr) return;
  s->streams.erase(id);
  if (!peer || !flow_control_) return;
  // A finished peer stream returns its credit (§5.6.2): raise the limit by half a window.
  ++s->recv.closed[dir];
  uint64_t initial = dir == 0 ? config_.initial_max_streams_bidi : config_.initial_max_streams_uni;
  if (initial != 0 &&
      s->recv.closed[dir] + initial - s->recv.max_streams[dir] >= (initial + 1) / 2) {
    s->recv.max_streams[dir] = s->recv.closed[dir] + initial;
    send_flow_capsule(session_id, dir == 0 ? capsule::kMaxStreamsBidi : capsule::kMaxStreamsUni,
                      s->recv.max_streams[dir]);
  }
}

void Host::send_flow_capsule(uint64_t session_id, uint64_t type, uint64_t value) {
  auto body = encode_varint_body(value);
  (void)h3_.outbox(session_id).send_capsule(type, body);
}

// --- sending

quic::Result<uint64_t> Host::open_stream(uint64_t session_id, bool bidirectional) {
  SessionState* s = usable_session(session_id);
  // The client may open streams optimistically before the 2xx; the server once it accepted.
  if (s == nullptr || s->state == State::kRequested) {
    return fail_with(status::kUnknown, "no open session with that ID");
  }
  int dir = dir_of(bidirectional);
  if (flow_control_ && s->send.streams[dir] >= s->send.max_streams[dir]) {
    if (s->send.blocked_sent != s->send.max_streams[dir]) {
      s->send.blocked_sent = s->send.max_streams[dir];
      send_flow_capsule(session_id,
                        bidirectional ? capsule::kStreamsBlockedBidi : capsule::kStreamsBlockedUni,
                        s->send.max_streams[dir]);
    }
    return fail_with(status::kWouldBlock, "the session's stream limit");
  }
  auto id = h3_.outbox(session_id).open_stream(bidirectional);
  if (!id) {
    bool limit = id.error().code == quic::err::kStreamLimitError || quic::would_block(id.error());
    return fail_with(limit ? status::kWouldBlock : status::kInvalid, id.error().reason);
  }
  ++s->send.streams[dir];
  Stream& st = streams_[*id];
  st = Stream{session_id, bidirectional, true};
  st.recv_done = !bidirectional;
  s->streams.insert(*id);
  return *id;
}

quic::Result<size_t> Host::write(uint64_t stream_id, Bytes data, bool fin) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return fail_with(status::kUnknown, "no such stream");
  Stream& st = it->second;
  if (st.send_done) return fail_with(status::kFinished, "this direction is over");
  SessionState* s = usable_session(st.session_id);
  if (s == nullptr) return fail_with(status::kFinished, "the session is closing");
  size_t allowed = data.size();
  if (flow_control_) {
    uint64_t credit = s->send.max_data - s->send.data;
    allowed = static_cast<size_t>(std::min<uint64_t>(credit, data.size()));
    if (allowed < data.size() && s->send.blocked_sent != s->send.max_data) {
      s->send.blocked_sent = s->send.max_data;
      send_flow_capsule(st.session_id, capsule::kDataBlocked, s->send.max_data);
    }
  }
  h3::Outbox out = h3_.outbox(st.session_id);
  auto n = out.write(stream_id, data.first(allowed), fin && allowed == data.size());
  if (!n) return fail_with(status::kFinished, n.error().reason);
  s->send.data += *n;
  if (*n < data.size()) want_writable_.insert(stream_id);
  if (fin && *n == data.size()) {
    st.send_done = true;
    maybe_forget(stream_id);
  }
  if (*n == 0 && !data.empty()) return fail_with(status::kWouldBlock, "no room");
  return *n;
}

void Host::check_writable() {
  for (auto it = want_writable_.begin(); it != want_writable_.end();) {
    uint64_t id = *it;
    auto st = streams_.find(id);
    SessionState* s = st == streams_.end() ? nullptr : find_session(st->second.session_id);
    if (s == nullptr) {
      it = want_writable_.erase(it);
      continue;
    }
    uint64_t session_id = st->second.session_id;
    bool credit = !flow_control_ || s->send.data < s->send.max_data;
    if (credit && h3_.outbox(session_id).queued(id) < kWritableBelow) {
      it = want_writable_.erase(it);
      push({EventKind::kWritable, session_id, id});
    } else {
      ++it;
    }
  }
}

quic::Status Host::reset_stream(uint64_t stream_id, uint32_t code) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return fail_with(status::kUnknown, "no such stream");
  uint64_t session_id = it->second.session_id;
  streams_.erase(it);
  want_writable_.erase(stream_id);
  if (SessionState* s = find_session(session_id)) s->streams.erase(stream_id);
  (void)h3_.outbox(session_id).reset(stream_id, app_error_to_h3(code));
  return {};
}

quic::Status Host::send_datagram(uint64_t session_id, Bytes payload,
                                 std::optional<quic::Instant> deadline) {
  SessionState* s = usable_session(session_id);
  if (s == nullptr || s->state == State::kRequested) {
    return fail_with(status::kUnknown, "no open session with that ID");
  }
  auto r = h3_.outbox(session_id).send_datagram(payload, deadline);
  if (!r) {
    return fail_with(quic::would_block(r.error()) ? status::kWouldBlock : status::kInvalid,
                     r.error().reason);
  }
  return {};
}

std::optional<size_t> Host::recv_datagram(uint64_t session_id, quic::MutBytes out) {
  SessionState* s = find_session(session_id);
  if (s == nullptr || s->datagrams.empty()) {
    if (s != nullptr) s->datagram_signalled = false;
    return std::nullopt;
  }
  std::vector<uint8_t> d = std::move(s->datagrams.front());
  s->datagrams.pop_front();
  s->datagram_bytes -= d.size();
  std::copy_n(d.begin(), std::min(d.size(), out.size()), out.begin());
  if (s->datagrams.empty()) s->datagram_signalled = false;
  return d.size();
}

}  // namespace webtransport

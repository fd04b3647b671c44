#include "core/stream_map.h"

#include <algorithm>

namespace quic {

namespace {
// RFC 9000 §19 frame types, for Error::frame_type (this layer does not include the codec).
constexpr uint64_t kFrameResetStream = 0x04;
constexpr uint64_t kFrameStopSending = 0x05;
constexpr uint64_t kFrameStream = 0x08;
constexpr uint64_t kFrameMaxStreamData = 0x11;
constexpr uint64_t kFrameMaxStreamsBidi = 0x12;
constexpr uint64_t kFrameStreamDataBlocked = 0x15;
constexpr uint64_t kFrameStreamsBlockedBidi = 0x16;
constexpr uint64_t kFrameResetStreamAt = 0x24;  // draft-ietf-quic-reliable-stream-reset

constexpr int dir(bool uni) {
  return uni ? 1 : 0;
}

Status with_frame(Status s, uint64_t frame_type) {
  if (!s && s.error().frame_type == 0) s.error().frame_type = frame_type;
  return s;
}
}  // namespace

StreamMap::StreamMap(const StreamMapConfig& config, const PeerStreamParams& peer)
    : config_(config),
      peer_(peer),
      conn_credit_(peer.max_data),
      conn_window_(config.connection_window, config.max_connection_window) {
  config_.max_streams_bidi = std::min(config_.max_streams_bidi, kMaxConcurrentStreams);
  config_.max_streams_uni = std::min(config_.max_streams_uni, kMaxConcurrentStreams);
  max_peer_streams_[0] = config_.max_streams_bidi;
  max_peer_streams_[1] = config_.max_streams_uni;
  max_local_streams_[0] = std::min(peer.max_streams_bidi, kMaxStreamCount);
  max_local_streams_[1] = std::min(peer.max_streams_uni, kMaxStreamCount);
}

void StreamMap::set_peer_params(const PeerStreamParams& peer) {
  peer_ = peer;
  if (conn_credit_.raise(peer.max_data)) {
    for (auto& [id, e] : streams_) enqueue_send(e);
  }
  (void)on_max_streams(true, std::min(peer.max_streams_bidi, kMaxStreamCount));
  (void)on_max_streams(false, std::min(peer.max_streams_uni, kMaxStreamCount));
  for (auto& [id, e] : streams_) {
    if (e.stream.has_send() && e.stream.on_max_stream_data(params_for(id).send_limit)) {
      enqueue_send(e);
    }
  }
}

bool StreamMap::replace_peer_params(const PeerStreamParams& peer) {
  peer_ = peer;
  bool fits = true;
  const uint64_t used = conn_credit_.used();
  conn_credit_ = SendCredit(peer.max_data);
  conn_credit_.consume(used);
  fits = fits && used <= peer.max_data;
  const uint64_t max_streams[2] = {peer.max_streams_bidi, peer.max_streams_uni};
  for (int d = 0; d < 2; ++d) {
    max_local_streams_[d] = std::min(max_streams[d], kMaxStreamCount);
    streams_blocked_reported_[d].reset();
    fits = fits && next_local_[d] <= max_local_streams_[d];
  }
  for (auto& [id, e] : streams_) {
    if (!e.stream.has_send()) continue;
    const uint64_t limit = params_for(id).send_limit;
    const uint64_t stream_used = e.stream.credit().used();
    e.stream.credit() = SendCredit(limit);
    e.stream.credit().consume(stream_used);
    fits = fits && stream_used <= limit;
    enqueue_send(e);
  }
  return fits;
}

// ---------------------------------------------------------------------------------------
// Stream creation and lookup (RFC 9000 §2.1, §3.2, §4.6)

StreamParams StreamMap::params_for(uint64_t id) const {
  StreamParams p;
  bool local = stream_is_local(id, config_.is_server);
  bool uni = stream_is_uni(id);
  p.has_send = !uni || local;
  p.has_recv = !uni || !local;
  // The peer's "bidi_local" applies to streams the peer opened, "bidi_remote" to ours.
  if (uni) {
    p.send_limit = local ? peer_.max_stream_data_uni : 0;
    p.recv_window = local ? 0 : config_.stream_window_uni;
  } else if (local) {
    p.send_limit = peer_.max_stream_data_bidi_remote;
    p.recv_window = config_.stream_window_bidi_local;
  } else {
    p.send_limit = peer_.max_stream_data_bidi_local;
    p.recv_window = config_.stream_window_bidi_remote;
  }
  p.max_recv_window = std::max(config_.max_stream_window, p.recv_window);
  p.send_buffer_bytes = config_.send_buffer_bytes;
  return p;
}

StreamMap::Entry& StreamMap::create(uint64_t id) {
  return streams_.try_emplace(id, Stream(id, params_for(id))).first->second;
}

std::optional<uint64_t> StreamMap::open(bool bidi) {
  int d = dir(!bidi);
  if (next_local_[d] >= max_local_streams_[d]) {
    // RFC 9000 §4.6: tell the peer once per limit (a debugging aid; it must not rely on it).
    if (streams_blocked_reported_[d] != max_local_streams_[d]) {
      streams_blocked_reported_[d] = max_local_streams_[d];
      queue_control(ControlKind::kStreamsBlocked, 0, bidi);
    }
    return std::nullopt;
  }
  uint64_t id = make_stream_id(next_local_[d]++, config_.is_server, !bidi);
  create(id);
  return id;
}

Stream* StreamMap::find(uint64_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second.stream;
}

Result<StreamMap::Entry*> StreamMap::get_or_open(uint64_t id, Part part, uint64_t frame_type) {
  bool local = stream_is_local(id, config_.is_server);
  bool uni = stream_is_uni(id);
  // RFC 9000 §19.4, §19.5, §19.8, §19.10, §19.13: frames for a part that does not exist.
  if (uni && local && part == Part::kRecv) {
    return fail(err::kStreamStateError, "receiving-part frame for a send-only stream", frame_type);
  }
  if (uni && !local && part == Part::kSend) {
    return fail(err::kStreamStateError, "sending-part frame for a receive-only stream", frame_type);
  }
  if (auto it = streams_.find(id); it != streams_.end()) return &it->second;
  int d = dir(uni);
  uint64_t index = stream_index(id);
  if (local) {
    if (index >= next_local_[d]) {
      return fail(err::kStreamStateError, "frame for a local stream not yet opened", frame_type);
    }
    return nullptr;  // closed and freed: late or retransmitted frame
  }
  if (index >= max_peer_streams_[d]) {
    return fail(err::kStreamLimitError, "peer stream above MAX_STREAMS", frame_type);
  }
  if (index < next_peer_[d]) return nullptr;  // closed and freed
  // RFC 9000 §3.2: lower-numbered streams of the same type open first. At most
  // kMaxConcurrentStreams exist because max_peer_streams_ - closed_peer_ is our limit.
  Entry* e = nullptr;
  for (uint64_t i = next_peer_[d]; i <= index; ++i) {
    uint64_t sid = make_stream_id(i, !config_.is_server, uni);
    e = &create(sid);
    push_event(sid, StreamEventKind::kOpened);
  }
  next_peer_[d] = index + 1;
  return e;
}

// ---------------------------------------------------------------------------------------
// Application calls

size_t StreamMap::write(uint64_t id, Bytes data) {
  CopyFrom fill{data};
  return write_with(id, data.size(), fill);
}

void StreamMap::want_writable(uint64_t id) {
  auto it = streams_.find(id);
  if (it != streams_.end()) it->second.want_writable = true;
}

size_t StreamMap::write_with(uint64_t id, size_t max, FillBytes fill) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return 0;
  Entry& e = it->second;
  size_t n = e.stream.write_with(max, fill);
  if (n < max) e.want_writable = true;
  if (n > 0) enqueue_send(e);
  return n;
}

bool StreamMap::finish(uint64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end() || !it->second.stream.finish()) return false;
  enqueue_send(it->second);
  return true;
}

bool StreamMap::reset(uint64_t id, uint64_t app_error, uint64_t reliable_size) {
  auto it = streams_.find(id);
  if (it == streams_.end() || !it->second.stream.reset(app_error, reliable_size)) return false;
  Entry& e = it->second;
  e.reset_queued = false;
  if (reliable_size == 0) scheduler_.erase(id);
  enqueue_send(e);  // queues the frame once due; the bytes below a reliable size still go out
  return true;
}

bool StreamMap::stop_sending(uint64_t id, uint64_t app_error) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return false;
  Entry& e = it->second;
  uint64_t old_high = e.stream.recv_buffer().max_received();
  uint64_t old_read = e.stream.recv_buffer().read_offset();
  if (!e.stream.stop_sending(app_error)) return false;
  queue_control(ControlKind::kStopSending, id);
  account_receive(e, old_high, old_read);
  after_change(id);
  return true;
}

ReadResult StreamMap::read(uint64_t id, MutBytes out) {
  CopyInto take{out};
  return read_with(id, out.size(), take);
}

ReadResult StreamMap::read_with(uint64_t id, size_t max, TakeBytes take) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return {};
  Entry& e = it->second;
  uint64_t old_high = e.stream.recv_buffer().max_received();
  uint64_t old_read = e.stream.recv_buffer().read_offset();
  const bool was_reset = e.stream.recv_state() == RecvState::kResetRecvd;
  ReadResult r = e.stream.read_with(max, take);
  account_receive(e, old_high, old_read);
  // The peer's RESET_STREAM_AT took effect now that its reliable bytes were read.
  if (!was_reset && e.stream.recv_state() == RecvState::kResetRecvd) {
    push_event(id, StreamEventKind::kReset, e.stream.peer_reset_error());
  }
  if (r.bytes > 0) window_dirty_.insert(id);
  after_change(id);
  return r;
}

std::optional<StreamEvent> StreamMap::poll_event() {
  if (events_.empty()) return std::nullopt;
  StreamEvent ev = events_.front();
  events_.pop_front();
  event_pending_.erase({ev.stream_id, ev.kind});
  if (ev.kind == StreamEventKind::kReset) {
    if (Stream* s = find(ev.stream_id)) {
      s->mark_reset_read();
      after_change(ev.stream_id);
    }
  }
  return ev;
}

void StreamMap::push_event(uint64_t id, StreamEventKind kind, uint64_t error_code) {
  // One outstanding event per (stream, kind): memory stays bounded by the stream count even if
  // the application polls slowly.
  if (!event_pending_.insert({id, kind}).second) return;
  events_.push_back(StreamEvent{id, kind, error_code});
}

// ---------------------------------------------------------------------------------------
// Receive accounting and stream lifetime

Status StreamMap::check_connection_credit(const Entry& e, uint64_t new_end,
                                          uint64_t frame_type) const {
  uint64_t old_high = e.stream.recv_buffer().max_received();
  if (new_end <= old_high) return {};
  // RFC 9000 §4.1: the sum of highest offsets over all streams stays within MAX_DATA.
  if (new_end - old_high > conn_window_.limit() - conn_received_) {
    return fail(err::kFlowControlError, "connection flow control limit exceeded", frame_type);
  }
  return {};
}

void StreamMap::account_receive(Entry& e, uint64_t old_high, uint64_t old_read) {
  const RecvBuffer& rb = e.stream.recv_buffer();
  conn_received_ += rb.max_received() - old_high;
  conn_consumed_ += rb.read_offset() - old_read;
  conn_window_.on_consumed(conn_consumed_);
}

void StreamMap::after_change(uint64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Entry& e = it->second;
  Stream& s = e.stream;
  if (s.readable()) push_event(id, StreamEventKind::kReadable);
  if (e.want_writable && s.writable_for_writer()) {
    e.want_writable = false;
    push_event(id, StreamEventKind::kWritable);
  }
  if (!e.finished_reported && s.has_send() && s.send_state() == SendState::kDataRecvd) {
    e.finished_reported = true;
    push_event(id, StreamEventKind::kFinished);
  }
  if (!s.finished()) return;
  // Both parts are terminal: free the state and, for a peer stream, give its credit back
  // (RFC 9000 §4.6) so a peer can run any number of sequential streams.
  bool peer_stream = !stream_is_local(id, config_.is_server);
  bool uni = stream_is_uni(id);
  streams_.erase(it);
  scheduler_.erase(id);
  window_dirty_.erase(id);
  if (peer_stream) {
    int d = dir(uni);
    ++closed_peer_[d];
    uint64_t limit = uni ? config_.max_streams_uni : config_.max_streams_bidi;
    uint64_t advertised = std::min(closed_peer_[d] + limit, kMaxStreamCount);
    if (advertised > max_peer_streams_[d]) {
      max_peer_streams_[d] = advertised;
      queue_control(ControlKind::kMaxStreams, 0, !uni);
    }
  }
}

uint64_t StreamMap::buffered_receive_bytes() const {
  uint64_t n = 0;
  for (const auto& [id, e] : streams_) n += e.stream.recv_buffer().allocated_bytes();
  return n;
}

// ---------------------------------------------------------------------------------------
// Frames from the peer

Status StreamMap::on_stream_frame(uint64_t id, uint64_t offset, Bytes data, bool fin) {
  auto e = get_or_open(id, Part::kRecv, kFrameStream);
  if (!e) return std::unexpected(e.error());
  if (*e == nullptr) return {};
  Entry& entry = **e;
  if (offset > kMaxVarint || data.size() > kMaxVarint - offset) {
    return fail(err::kFrameEncodingError, "stream offset exceeds 2^62-1", kFrameStream);
  }
  if (auto s = check_connection_credit(entry, offset + data.size(), kFrameStream); !s) return s;
  uint64_t old_high = entry.stream.recv_buffer().max_received();
  uint64_t old_read = entry.stream.recv_buffer().read_offset();
  if (auto s = entry.stream.on_stream_frame(offset, data, fin); !s) {
    return with_frame(s, kFrameStream);
  }
  account_receive(entry, old_high, old_read);
  after_change(id);
  return {};
}

Status StreamMap::on_reset_stream(uint64_t id, uint64_t app_error, uint64_t final_size,
                                  std::optional<uint64_t> reliable_size) {
  const uint64_t ft = reliable_size ? kFrameResetStreamAt : kFrameResetStream;
  auto e = get_or_open(id, Part::kRecv, ft);
  if (!e) return std::unexpected(e.error());
  if (*e == nullptr) return {};
  Entry& entry = **e;
  if (final_size > kMaxVarint) {
    return fail(err::kFrameEncodingError, "final size exceeds 2^62-1", ft);
  }
  if (reliable_size > final_size) {  // the codec rejects it already; the layer stands alone
    return fail(err::kFrameEncodingError, "reliable size above the final size", ft);
  }
  if (auto s = check_connection_credit(entry, final_size, ft); !s) return s;
  uint64_t old_high = entry.stream.recv_buffer().max_received();
  uint64_t old_read = entry.stream.recv_buffer().read_offset();
  auto r = entry.stream.on_reset_stream(app_error, final_size, reliable_size.value_or(0));
  if (!r) return with_frame(std::unexpected(r.error()), ft);
  // RFC 9000 §4.5: the final size is charged to the connection (and released, as nobody
  // will read it).
  account_receive(entry, old_high, old_read);
  if (*r) push_event(id, StreamEventKind::kReset, app_error);
  after_change(id);
  return {};
}

Status StreamMap::on_stop_sending(uint64_t id, uint64_t app_error) {
  auto e = get_or_open(id, Part::kSend, kFrameStopSending);
  if (!e) return std::unexpected(e.error());
  if (*e == nullptr) return {};
  if ((*e)->stream.on_stop_sending(app_error)) {
    (*e)->reset_queued = false;
    enqueue_send(**e);  // out of the scheduler; the RESET_STREAM queued
    push_event(id, StreamEventKind::kStopSending, app_error);
  }
  after_change(id);
  return {};
}

Status StreamMap::on_max_stream_data(uint64_t id, uint64_t max) {
  auto e = get_or_open(id, Part::kSend, kFrameMaxStreamData);
  if (!e) return std::unexpected(e.error());
  if (*e == nullptr) return {};
  if ((*e)->stream.on_max_stream_data(max)) enqueue_send(**e);
  return {};
}

Status StreamMap::on_stream_data_blocked(uint64_t id, uint64_t /*limit*/) {
  auto e = get_or_open(id, Part::kRecv, kFrameStreamDataBlocked);
  if (!e) return std::unexpected(e.error());
  if (*e != nullptr) window_dirty_.insert(id);  // re-check whether an update is due
  return {};
}

Status StreamMap::on_max_data(uint64_t max) {
  if (conn_credit_.raise(max)) {
    // Streams parked on connection credit left the send queue; give each its turn back.
    for (auto& [id, e] : streams_) enqueue_send(e);
  }
  return {};
}

Status StreamMap::on_data_blocked(uint64_t /*limit*/) {
  return {};
}

Status StreamMap::on_max_streams(bool bidi, uint64_t max) {
  if (max > kMaxStreamCount) {
    return fail(err::kFrameEncodingError, "MAX_STREAMS above 2^60",
                kFrameMaxStreamsBidi + (bidi ? 0 : 1));
  }
  int d = dir(!bidi);
  if (max <= max_local_streams_[d]) return {};  // RFC 9000 §4.6: smaller values are ignored
  bool was_blocked = next_local_[d] >= max_local_streams_[d];
  max_local_streams_[d] = max;
  if (was_blocked) push_event(bidi ? 0 : 2, StreamEventKind::kStreamsAvailable);
  return {};
}

Status StreamMap::on_streams_blocked(bool bidi, uint64_t max) {
  if (max > kMaxStreamCount) {
    return fail(err::kFrameEncodingError, "STREAMS_BLOCKED above 2^60",
                kFrameStreamsBlockedBidi + (bidi ? 0 : 1));
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// Sending stream data

void StreamMap::enqueue_send(Entry& e) {
  if (!e.reset_queued && e.stream.reset_frame_due()) {
    e.reset_queued = true;
    queue_control(ControlKind::kResetStream, e.stream.id());
  }
  if (!e.stream.has_data_to_send(conn_credit_.available())) {
    scheduler_.erase(e.stream.id());
    note_blocked(e);  // e.g. a write to a stream already at its limit
    return;
  }
  scheduler_.insert(e.stream.id(), e.priority);  // no-op when already there
}

bool StreamMap::set_priority(uint64_t id, StreamPriority p) {
  auto it = streams_.find(id);
  if (it == streams_.end() || !it->second.stream.has_send()) return false;
  Entry& e = it->second;
  p.urgency = std::min(p.urgency, kMaxStreamUrgency);
  e.priority = p;
  if (scheduler_.contains(id)) scheduler_.insert(id, p);  // moves it to its new place
  return true;
}

std::optional<StreamPriority> StreamMap::priority(uint64_t id) const {
  auto it = streams_.find(id);
  if (it == streams_.end()) return std::nullopt;
  return it->second.priority;
}

void StreamMap::note_blocked(Entry& e) {
  Stream& s = e.stream;
  if (s.stream_blocked()) {
    if (s.credit().on_blocked()) queue_control(ControlKind::kStreamDataBlocked, s.id());
  } else if (s.connection_blocked(conn_credit_.available())) {
    if (conn_credit_.on_blocked()) queue_control(ControlKind::kDataBlocked);
  }
}

std::optional<StreamChunk> StreamMap::next_retransmission(
    uint64_t max_len, const std::function<bool(uint64_t)>& hold) {
  // Lost bytes first, whatever the stream's priority: the receiver holds everything after a
  // hole, and they were already charged to flow control (RFC 9000 §13.3).
  for (auto it = retx_queue_.begin(); it != retx_queue_.end();) {
    uint64_t id = *it;
    auto sit = streams_.find(id);
    if (sit == streams_.end()) {  // freed since the loss
      it = retx_queue_.erase(it);
      continue;
    }
    if (hold && hold(id)) {
      ++it;
      continue;
    }
    Entry& e = sit->second;
    std::optional<SendChunk> chunk;
    if (e.stream.has_retransmission()) {
      chunk = e.stream.next_chunk(max_len, conn_credit_.available());
    }
    if (chunk && !chunk->retransmission) conn_credit_.consume(chunk->length);
    if (!chunk || !e.stream.has_retransmission()) {
      e.retx_queued = false;
      it = retx_queue_.erase(it);
    }
    enqueue_send(e);  // in (or out of) the scheduler for its new data
    if (chunk) return StreamChunk{id, *chunk};
  }
  return std::nullopt;
}

std::optional<StreamChunk> StreamMap::next_stream_chunk(uint64_t max_len,
                                                        const std::function<bool(uint64_t)>& hold) {
  if (auto c = next_retransmission(max_len, hold)) return c;
  std::optional<StreamChunk> out;
  std::vector<uint64_t> held;
  for (size_t attempts = scheduler_.size(); attempts > 0 && !out; --attempts) {
    auto id = scheduler_.pop();
    if (!id) break;
    auto it = streams_.find(*id);
    if (it == streams_.end()) continue;
    Entry& e = it->second;
    if (hold && hold(*id)) {
      held.push_back(*id);
      continue;
    }
    auto chunk = e.stream.next_chunk(max_len, conn_credit_.available());
    if (chunk && !chunk->retransmission) conn_credit_.consume(chunk->length);
    enqueue_send(e);  // an incremental stream goes to the back, a blocked one stays out
    if (chunk) out = StreamChunk{*id, *chunk};
  }
  for (uint64_t id : held) enqueue_send(streams_.at(id));
  return out;
}

std::optional<StreamChunk> StreamMap::next_chunk_of(uint64_t id, uint64_t max_len) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return std::nullopt;
  Entry& e = it->second;
  // Its entry in retx_queue_, if any, goes stale and is dropped when next reached.
  auto chunk = e.stream.next_chunk(max_len, conn_credit_.available());
  if (chunk && !chunk->retransmission) conn_credit_.consume(chunk->length);
  enqueue_send(e);
  if (!chunk) return std::nullopt;
  return StreamChunk{id, *chunk};
}

uint64_t StreamMap::send_backlog() const {
  uint64_t total = 0;
  scheduler_.any_of([&](uint64_t id) {
    auto it = streams_.find(id);
    if (it == streams_.end()) return false;
    const SendBuffer& b = it->second.stream.send_buffer();
    total += b.write_offset() - std::min(b.write_offset(), b.sent_offset());
    return false;  // visit them all
  });
  return total;
}

bool StreamMap::has_stream_data() const {
  // Entries can go stale (reset, or connection credit used up by other streams); a packet
  // builder asking "anything to send?" must not be told yes for nothing.
  auto ready = [&](uint64_t id) {
    auto it = streams_.find(id);
    return it != streams_.end() && it->second.stream.has_data_to_send(conn_credit_.available());
  };
  for (uint64_t id : retx_queue_) {
    if (ready(id)) return true;
  }
  return scheduler_.any_of(ready);
}

bool StreamMap::copy_out(uint64_t id, uint64_t offset, uint64_t len, uint8_t* dst) const {
  auto it = streams_.find(id);
  return it != streams_.end() && it->second.stream.copy_out(offset, len, dst);
}

void StreamMap::on_stream_chunk_acked(uint64_t id, uint64_t offset, uint64_t len, bool fin) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  it->second.stream.on_chunk_acked(offset, len, fin);
  after_change(id);
}

void StreamMap::on_stream_chunk_lost(uint64_t id, uint64_t offset, uint64_t len, bool fin) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Entry& e = it->second;
  e.stream.on_chunk_lost(offset, len, fin);
  if (!e.retx_queued && e.stream.has_retransmission()) {
    e.retx_queued = true;
    retx_queue_.push_back(id);
  }
  enqueue_send(e);
}

// ---------------------------------------------------------------------------------------
// Control frames

void StreamMap::queue_control(ControlKind kind, uint64_t id, bool bidi) {
  ControlKey key{kind, id, bidi};
  if (control_pending_.insert(key).second) control_queue_.push_back(key);
}

std::optional<ControlFrame> StreamMap::build_control(const ControlKey& key) const {
  auto [kind, id, bidi] = key;
  ControlFrame f{kind, id, 0, 0, bidi};
  const Stream* s = nullptr;
  if (auto it = streams_.find(id); it != streams_.end()) s = &it->second.stream;
  switch (kind) {
    case ControlKind::kMaxData:
      f.value = conn_window_.limit();
      break;
    case ControlKind::kMaxStreams:
      f.value = max_peer_streams_[dir(!bidi)];
      break;
    case ControlKind::kDataBlocked:
      f.value = conn_credit_.limit();
      break;
    case ControlKind::kStreamsBlocked:
      f.value = max_local_streams_[dir(!bidi)];
      break;
    case ControlKind::kMaxStreamData:
      if (!s) return std::nullopt;
      f.value = s->window().limit();
      break;
    case ControlKind::kStreamDataBlocked:
      if (!s) return std::nullopt;
      f.value = s->credit().limit();
      break;
    case ControlKind::kResetStream:
      if (!s) return std::nullopt;
      f.value = s->reset_final_size();
      f.error_code = s->reset_error();
      f.reliable = s->reset_reliable_size();
      break;
    case ControlKind::kStopSending:
      if (!s) return std::nullopt;
      f.error_code = s->stop_error();
      break;
  }
  if (!control_current(f)) return std::nullopt;
  return f;
}

bool StreamMap::control_current(const ControlFrame& f) const {
  const Stream* s = nullptr;
  if (auto it = streams_.find(f.stream_id); it != streams_.end()) s = &it->second.stream;
  switch (f.kind) {
    case ControlKind::kMaxData:
      return f.value == conn_window_.limit();
    case ControlKind::kMaxStreams:
      return f.value == max_peer_streams_[dir(!f.bidi)];
    case ControlKind::kDataBlocked:
      return conn_credit_.blocked_at(f.value);
    case ControlKind::kStreamsBlocked: {
      int d = dir(!f.bidi);
      return f.value == max_local_streams_[d] && next_local_[d] >= max_local_streams_[d];
    }
    case ControlKind::kMaxStreamData:
      return s && s->wants_window_updates() && f.value == s->window().limit();
    case ControlKind::kStreamDataBlocked:
      return s && s->credit().blocked_at(f.value) && s->stream_blocked();
    case ControlKind::kResetStream:  // a lowered reliable size supersedes the older frame
      return s && s->reset_frame_due() && f.reliable == s->reset_reliable_size();
    case ControlKind::kStopSending:
      return s && s->stop_sending_pending();
  }
  return false;
}

std::optional<ControlFrame> StreamMap::peek_control(Instant now, Duration rtt) {
  // Window updates are decided lazily, when a packet is being built, with the current time:
  // auto-tuning needs it and a burst of reads then yields one MAX_STREAM_DATA, not many.
  for (uint64_t id : window_dirty_) {
    auto it = streams_.find(id);
    if (it != streams_.end() && it->second.stream.poll_window_update(now, rtt)) {
      queue_control(ControlKind::kMaxStreamData, id);
    }
  }
  window_dirty_.clear();
  if (conn_window_.poll_update(now, rtt)) queue_control(ControlKind::kMaxData);

  while (!control_queue_.empty()) {
    if (auto f = build_control(control_queue_.front())) return f;
    control_pending_.erase(control_queue_.front());
    control_queue_.pop_front();
  }
  return std::nullopt;
}

void StreamMap::pop_control() {
  if (control_queue_.empty()) return;
  control_pending_.erase(control_queue_.front());
  control_queue_.pop_front();
}

bool StreamMap::has_pending_control() const {
  if (!control_queue_.empty() || conn_window_.should_update()) return true;
  for (uint64_t id : window_dirty_) {
    auto it = streams_.find(id);
    if (it != streams_.end() && it->second.stream.window_update_due()) return true;
  }
  return false;
}

void StreamMap::on_control_acked(const ControlFrame& f) {
  if (f.kind != ControlKind::kResetStream) return;
  auto it = streams_.find(f.stream_id);
  if (it == streams_.end() || f.reliable != it->second.stream.reset_reliable_size()) return;
  it->second.stream.on_reset_acked();
  after_change(f.stream_id);
}

void StreamMap::on_control_lost(const ControlFrame& f) {
  if (control_current(f)) queue_control(f.kind, f.stream_id, f.bidi);
}

}  // namespace quic

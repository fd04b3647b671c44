// Connection: glue between the stream layer (stream_map.h) and packets: the public stream
// API, control frames and STREAM frames on the send path, and stream events.
#include <algorithm>

#include "core/connection.h"

namespace quic {

namespace {
// Worst-case STREAM frame header: type + 8-byte id + 8-byte offset + 2-byte length.
constexpr size_t kMaxStreamHeader = 1 + 8 + 8 + 2;
}  // namespace

StreamMapConfig Connection::stream_config_from(Side side, const ConnectionConfig& config) {
  StreamMapConfig c;
  c.is_server = side == Side::kServer;
  c.max_streams_bidi = config.max_streams_bidi;
  c.max_streams_uni = config.max_streams_uni;
  c.stream_window_bidi_local = config.initial_max_stream_data;
  c.stream_window_bidi_remote = config.initial_max_stream_data;
  c.stream_window_uni = config.initial_max_stream_data;
  c.connection_window = config.initial_max_data;
  c.max_stream_window = config.max_stream_window;
  c.max_connection_window = config.max_connection_window;
  c.send_buffer_bytes = config.stream_send_buffer;
  return c;
}

void Connection::write_control_frames(Instant now, PacketBuilder& b) {
  // Receive-window auto-tuning compares how fast a window is used up with a round trip; with
  // several paths the data of the slowest one decides when the window frees (head-of-line), so
  // its RTT is the one that counts.
  Duration rtt = paths_.front()->rtt.smoothed();
  for (const auto& p : paths_) {
    if (p->usable()) rtt = std::max(rtt, p->rtt.smoothed());
  }
  while (auto c = streams_.peek_control(now, rtt)) {
    Frame f;
    switch (c->kind) {
      case ControlKind::kMaxData: f = MaxDataFrame{c->value}; break;
      case ControlKind::kMaxStreamData: f = MaxStreamDataFrame{c->stream_id, c->value}; break;
      case ControlKind::kMaxStreams: f = MaxStreamsFrame{c->bidi, c->value}; break;
      case ControlKind::kDataBlocked: f = DataBlockedFrame{c->value}; break;
      case ControlKind::kStreamDataBlocked: f = StreamDataBlockedFrame{c->stream_id, c->value}; break;
      case ControlKind::kStreamsBlocked: f = StreamsBlockedFrame{c->bidi, c->value}; break;
      case ControlKind::kResetStream:
        if (c->reliable > 0) {
          f = ResetStreamAtFrame{c->stream_id, c->error_code, c->value, c->reliable};
        } else {
          f = ResetStreamFrame{c->stream_id, c->error_code, c->value};
        }
        break;
      case ControlKind::kStopSending: f = StopSendingFrame{c->stream_id, c->error_code}; break;
    }
    if (encoded_size(f) > b.w.room()) return;
    encode_frame(b.w, f);
    b.sent.push_back(sent::Control{*c});
    streams_.pop_control();
    b.ack_eliciting = true;
  }
}

// next_chunk_for_packet leaves room for the largest STREAM header (kMaxStreamHeader); the real
// one is usually about ten bytes shorter. A chunk of new data cut at that limit is extended by
// the stream's next bytes so the frame fills `room` exactly: the datagrams of a bulk transfer
// are then all of the path MTU (no bytes left unused), which lets the core build GSO runs,
// whose segments but the last must all have one size (Connection::poll_transmit). Only for a
// caller that takes runs: one that sends a datagram per call keeps the packing (and a seeded
// simulation its exact course) as it was.
void Connection::fill_stream_chunk(StreamChunk& c, const Stream& s, size_t room) {
  SendChunk& ch = c.chunk;
  if (!fill_packets_ || ch.retransmission || ch.fin || ch.length + kMaxStreamHeader != room) return;
  // The length is sized as if it were `room`: never a shorter varint than the real one.
  const size_t header = stream_frame_overhead(c.stream_id, ch.offset, room, true);
  if (header >= kMaxStreamHeader) return;
  const uint64_t spare = kMaxStreamHeader - header;
  // Only new bytes that follow the chunk at once and are contiguous in the send ring.
  const SendBuffer& sb = s.send_buffer();
  if (sb.has_lost() || sb.sent_offset() != ch.offset + ch.length ||
      s.view(ch.offset, ch.length + spare).size() != ch.length + spare) {
    return;
  }
  auto more = streams_.next_chunk_of(c.stream_id, spare);
  if (!more) return;
  ch.length += more->chunk.length;
  ch.fin = more->chunk.fin;
}

void Connection::write_stream_frames(PacketBuilder& b) {
  while (b.w.room() > kMaxStreamHeader + 1) {
    const size_t room = b.w.room();
    auto c = next_chunk_for_packet(room - kMaxStreamHeader);
    if (!c) return;
    Stream* s = streams_.find(c->stream_id);
    if (s == nullptr) return;
    fill_stream_chunk(*c, *s, room);
    StreamFrame f{c->stream_id, c->chunk.offset, s->view(c->chunk.offset, c->chunk.length),
                  c->chunk.fin, true};
    if (!encode_frame(b.w, f)) return;
    b.sent.push_back(sent::Stream{c->stream_id, c->chunk.offset, c->chunk.length, c->chunk.fin});
    b.ack_eliciting = true;
    if (!c->chunk.retransmission) {
      // Redundant scheduling: the other paths owe a copy (when begin_copies was called).
      sched_.note_sent(c->stream_id, c->chunk.offset, c->chunk.length, c->chunk.fin);
    }
  }
}

bool Connection::dup_pending_for(const Path& path) const {
  return dup_datagram_pending_for(path) || sched_.chunk_owed_to(path.id);
}

void Connection::write_dup_frames(Path& path, PacketBuilder& b) {
  write_dup_datagrams(now_, path, b);
  const uint64_t bit = path_bit(path.id);
  uint64_t all = 0;
  for (const auto& p : paths_) {
    if (is_data_path(*p)) all |= path_bit(p->id);
  }
  LazyDeque<mp::DupChunk>& dup_queue = sched_.chunks();
  for (auto it = dup_queue.begin(); it != dup_queue.end();) {
    Stream* s = streams_.find(it->stream_id);
    Bytes data = s ? s->view(it->offset, it->length) : Bytes();
    if (s == nullptr || (it->length > 0 && data.size() != it->length) || (it->served & all) == all) {
      it = dup_queue.erase(it);  // acknowledged already, stream gone, or every path has it
      continue;
    }
    if ((it->served & bit) != 0) {
      ++it;
      continue;
    }
    // A chunk cut for a larger MTU is split: the part that fits goes now, the rest stays owed
    // (to this path, and to any other path that had not carried the whole chunk).
    size_t overhead = stream_frame_overhead(it->stream_id, it->offset, data.size(), true);
    if (b.w.room() <= overhead) return;
    uint64_t n = std::min<uint64_t>(it->length, b.w.room() - overhead);
    if (n == 0 && !(it->length == 0 && it->fin)) return;
    bool fin = it->fin && n == it->length;
    StreamFrame f{it->stream_id, it->offset, data.first(n), fin, true};
    if (!encode_frame(b.w, f)) return;
    b.sent.push_back(sent::Stream{it->stream_id, it->offset, n, fin});
    b.ack_eliciting = true;
    if (n < it->length) {
      mp::DupChunk rest{it->stream_id, it->offset + n, it->length - n, it->fin, it->served};
      it->length = n;
      it->fin = false;
      it->served |= bit;
      it = dup_queue.insert(std::next(it), rest);
      return;  // the packet is full
    }
    it->served |= bit;
    ++it;
  }
}

void Connection::pump_stream_events() {
  while (auto e = streams_.poll_event()) {
    switch (e->kind) {
      case StreamEventKind::kOpened: push_event({EventKind::kStreamOpened, e->stream_id}); break;
      case StreamEventKind::kReadable:
        push_event({EventKind::kStreamReadable, e->stream_id});
        break;
      case StreamEventKind::kWritable:
        push_event({EventKind::kStreamWritable, e->stream_id});
        break;
      case StreamEventKind::kReset:
        push_event({EventKind::kStreamReset, e->stream_id, e->error_code});
        break;
      case StreamEventKind::kStopSending:
        push_event({EventKind::kStopSending, e->stream_id, e->error_code});
        break;
      case StreamEventKind::kFinished:
        push_event({EventKind::kStreamFinished, e->stream_id});
        break;
      case StreamEventKind::kStreamsAvailable:
        push_event({EventKind::kStreamsAvailable, e->stream_id});
        break;
    }
  }
}

Result<uint64_t> Connection::open_stream(bool bidirectional) {
  if (state_ != State::kHandshake && state_ != State::kEstablished) {
    return fail(err::kInternalError, "connection is closing");
  }
  auto id = streams_.open(bidirectional);
  if (!id) return fail(err::kStreamLimitError, "peer's stream limit reached (wait for kStreamsAvailable)");
  return *id;
}

Result<size_t> Connection::stream_write(uint64_t id, Bytes data, bool fin) {
  CopyFrom fill{data};
  return stream_write_with(id, data.size(), fill, fin);
}

Result<size_t> Connection::stream_write_with(uint64_t id, size_t max, FillBytes fill, bool fin) {
  if (streams_.find(id) == nullptr) return fail(err::kStreamStateError, "no such stream");
  size_t n = streams_.write_with(id, max, fill);
  if (fin && n == max && !streams_.finish(id)) {
    return fail(err::kStreamStateError, "stream cannot be finished");
  }
  return n;
}

Result<size_t> Connection::stream_read(uint64_t id, MutBytes out, bool* fin) {
  CopyInto take{out};
  return stream_read_with(id, out.size(), take, fin);
}

Result<size_t> Connection::stream_read_with(uint64_t id, size_t max, TakeBytes take, bool* fin) {
  if (streams_.find(id) == nullptr) return fail(err::kStreamStateError, "no such stream");
  ReadResult r = streams_.read_with(id, max, take);
  if (fin) *fin = r.fin;
  if (r.reset_error) return fail(*r.reset_error, "stream reset by peer");
  return r.bytes;
}

Status Connection::stream_reset(uint64_t id, uint64_t app_error) {
  if (!streams_.reset(id, app_error)) return fail(err::kStreamStateError, "cannot reset");
  return {};
}

Status Connection::stream_reset_at(uint64_t id, uint64_t app_error, uint64_t reliable_size) {
  // Without the peer's reset_stream_at the reliable part could not be promised: the call
  // fails rather than silently sending RESET_STREAM (docs/ack-frequency.md).
  if (reliable_size > 0 && !(peer_params_received_ && peer_params_.reset_stream_at)) {
    return fail(err::kStreamStateError, "the peer did not offer reset_stream_at");
  }
  if (!streams_.reset(id, app_error, reliable_size)) {
    return fail(err::kStreamStateError, "cannot reset (or raise the reliable size)");
  }
  return {};
}

// draft-ietf-quic-reliable-stream-reset §3: without our transport parameter the frame type is
// unknown to this connection (RFC 9000 §12.4: FRAME_ENCODING_ERROR).
Status Connection::on_reset_stream_at_frame(const ResetStreamAtFrame& f) {
  if (!config_.reliable_reset) {
    return fail(err::kFrameEncodingError, "RESET_STREAM_AT but we sent no reset_stream_at");
  }
  return streams_.on_reset_stream(f.stream_id, f.error_code, f.final_size, f.reliable_size);
}

Status Connection::stream_stop_sending(uint64_t id, uint64_t app_error) {
  if (!streams_.stop_sending(id, app_error)) return fail(err::kStreamStateError, "cannot stop");
  return {};
}

Status Connection::set_stream_priority(uint64_t id, uint8_t urgency, bool incremental) {
  if (urgency > kMaxStreamUrgency) return fail(err::kInternalError, "urgency above 7");
  if (!streams_.set_priority(id, StreamPriority{urgency, incremental})) {
    return fail(err::kStreamStateError, "no such stream with a sending part");
  }
  return {};
}

}  // namespace quic

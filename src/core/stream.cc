#include "core/stream.h"

#include <algorithm>

namespace quic {

Stream::Stream(uint64_t id, const StreamParams& p)
    : id_(id),
      has_send_(p.has_send),
      has_recv_(p.has_recv),
      send_(p.has_send ? p.send_buffer_bytes : 0),
      credit_(p.send_limit),
      recv_(p.has_recv ? p.recv_window : 0),
      window_(p.recv_window, p.max_recv_window) {}

// ---------------------------------------------------------------------------------------
// Sending part (RFC 9000 §3.1)

size_t Stream::write(Bytes data) {
  if (!send_open()) return 0;
  return send_.write(data);
}

size_t Stream::write_with(size_t max, FillBytes fill) {
  if (!send_open()) return 0;
  return send_.write_with(max, fill);
}

bool Stream::finish() {
  if (!send_open() || send_.fin_set()) return false;
  send_.finish();
  return true;
}

bool Stream::writable() const {
  return send_open() && send_.capacity() > 0;
}

bool Stream::writable_for_writer() const {
  return send_open() && send_.capacity() > 0 &&
         send_.capacity() >= std::min(send_.limit() / 4, kWritableLowWater);
}

bool Stream::reset(uint64_t app_error, uint64_t reliable_size) {
  if (send_state_ == SendState::kResetSent && reliable_size < reliable_size_) {
    // A later reset lowers the reliable size (reliable-stream-reset §4); nothing else changes.
    reliable_size_ = reliable_size;
    reset_acked_ = false;
    if (reliable_size == 0) {
      send_.discard();
    } else {
      send_.limit_reliable(reliable_size);
    }
    return true;
  }
  if (!send_open() || reliable_size > send_.write_offset()) return false;
  send_state_ = SendState::kResetSent;
  reset_error_ = app_error;
  reliable_size_ = reliable_size;
  reset_final_size_ = std::max(send_.sent_offset(), reliable_size);
  if (reliable_size == 0) {
    send_.discard();  // sent_offset() stays: it is the final size the peer must see
  } else {
    send_.limit_reliable(reliable_size);
  }
  return true;
}

void Stream::on_reset_acked() {
  reset_acked_ = true;
  maybe_reset_recvd();
}

void Stream::maybe_reset_recvd() {
  if (send_state_ == SendState::kResetSent && reset_acked_ &&
      send_.acked_prefix() >= reliable_size_) {
    send_state_ = SendState::kResetRecvd;
  }
}

uint64_t Stream::flow_limit(uint64_t conn_available) const {
  uint64_t sent = send_.sent_offset();
  uint64_t conn_limit = sent + std::min(conn_available, kMaxVarint - sent);
  return std::min(credit_.limit(), conn_limit);
}

std::optional<SendChunk> Stream::next_chunk(uint64_t max_len, uint64_t conn_available) {
  if (!sending()) return std::nullopt;
  auto chunk = send_.next_chunk(max_len, flow_limit(conn_available));
  if (!chunk) return std::nullopt;
  if (!chunk->retransmission) credit_.consume(chunk->length);
  if (send_state_ == SendState::kReady) send_state_ = SendState::kSend;
  if (send_state_ == SendState::kSend && send_.all_sent()) send_state_ = SendState::kDataSent;
  return chunk;
}

bool Stream::has_data_to_send(uint64_t conn_available) const {
  return sending() && send_.has_data_to_send(flow_limit(conn_available));
}

bool Stream::stream_blocked() const {
  return send_open() && send_.blocked_by(credit_.limit());
}

bool Stream::connection_blocked(uint64_t conn_available) const {
  return send_open() && !stream_blocked() && send_.blocked_by(flow_limit(conn_available));
}

void Stream::on_chunk_acked(uint64_t offset, uint64_t len, bool fin) {
  if (!sending()) return;
  send_.on_acked(offset, len, fin);
  maybe_reset_recvd();
  if (send_state_ == SendState::kDataSent && send_.all_acked()) {
    send_state_ = SendState::kDataRecvd;
  }
}

void Stream::on_chunk_lost(uint64_t offset, uint64_t len, bool fin) {
  if (sending()) send_.on_lost(offset, len, fin);
}

bool Stream::on_stop_sending(uint64_t app_error) {
  // RFC 9000 §3.5: answer with RESET_STREAM carrying the peer's code. In "Data Sent" this is
  // optional; resetting there too frees the retransmission state sooner.
  return reset(app_error);
}

// ---------------------------------------------------------------------------------------
// Receiving part (RFC 9000 §3.2)

bool Stream::stop_sending(uint64_t app_error) {
  if (!has_recv_ || stop_requested_) return false;
  if (recv_state_ != RecvState::kRecv && recv_state_ != RecvState::kSizeKnown) return false;
  stop_requested_ = true;
  stop_error_ = app_error;
  recv_.discard_incoming();
  update_recv_state();
  return true;
}

bool Stream::stop_sending_pending() const {
  return stop_requested_ &&
         (recv_state_ == RecvState::kRecv || recv_state_ == RecvState::kSizeKnown);
}

void Stream::update_recv_state() {
  if (recv_state_ == RecvState::kRecv && recv_.final_size()) recv_state_ = RecvState::kSizeKnown;
  if (recv_state_ == RecvState::kSizeKnown && recv_.all_received()) {
    recv_state_ = RecvState::kDataRecvd;
  }
  // Discarded data (after STOP_SENDING) counts as delivered: nobody will read it. Otherwise
  // "Data Read" waits for read() to hand the end of stream to the application.
  if (recv_state_ == RecvState::kDataRecvd && stop_requested_) recv_state_ = RecvState::kDataRead;
}

Status Stream::on_stream_frame(uint64_t offset, Bytes data, bool fin) {
  // Even after the stream is done, the final-size rules hold (RFC 9000 §4.5); the buffer keeps
  // the final size and discards everything else.
  if (auto s = recv_.insert(offset, data, fin); !s) return s;
  update_recv_state();
  return {};
}

Result<bool> Stream::on_reset_stream(uint64_t app_error, uint64_t final_size,
                                     uint64_t reliable_size) {
  // While a RESET_STREAM_AT waits for its reliable bytes to be read, a later frame may still
  // lower its reliable size even though all data has arrived ("Data Recvd").
  const bool open = recv_state_ == RecvState::kRecv || recv_state_ == RecvState::kSizeKnown ||
                    (peer_reliable_size_ && recv_state_ == RecvState::kDataRecvd);
  if (!open) {
    // All data already arrived or an earlier reset: only check the final size agrees.
    if (recv_.final_size() && *recv_.final_size() != final_size) {
      return fail(err::kFinalSizeError, "RESET_STREAM changes the final size");
    }
    return false;
  }
  // reliable-stream-reset §4: a reordered older frame may carry a larger reliable size; the
  // smallest one received is in force. RESET_STREAM counts as reliable size 0.
  if (peer_reliable_size_) reliable_size = std::min(reliable_size, *peer_reliable_size_);
  if (auto s = recv_.on_reset_at(final_size); !s) return std::unexpected(s.error());
  peer_reset_error_ = app_error;
  peer_reliable_size_ = reliable_size;
  update_recv_state();
  return apply_reliable_reset();
}

bool Stream::apply_reliable_reset() {
  if (!peer_reliable_size_ || recv_.read_offset() < *peer_reliable_size_) return false;
  if (!recv_.on_reset(*recv_.final_size())) return false;  // checked when the frame came
  peer_reliable_size_.reset();
  recv_state_ = RecvState::kResetRecvd;
  return true;
}

ReadResult Stream::read(MutBytes out) {
  CopyInto take{out};
  return read_with(out.size(), take);
}

ReadResult Stream::read_with(size_t max, TakeBytes take) {
  ReadResult r;
  if (!has_recv_) return r;
  if (recv_state_ == RecvState::kResetRecvd || recv_state_ == RecvState::kResetRead) {
    recv_state_ = RecvState::kResetRead;
    r.reset_error = peer_reset_error_;
    return r;
  }
  if (recv_state_ == RecvState::kDataRead) {
    r.fin = !stop_requested_;
    return r;
  }
  // Under the peer's RESET_STREAM_AT only the bytes below its reliable size are delivered;
  // the reset follows them (reported by the next read).
  if (peer_reliable_size_) {
    // (After STOP_SENDING the read offset may already be past it: nothing more to read.)
    uint64_t left = *peer_reliable_size_ - std::min(*peer_reliable_size_, recv_.read_offset());
    max = static_cast<size_t>(std::min<uint64_t>(max, left));
  }
  r.bytes = recv_.read_with(max, take);
  if (apply_reliable_reset()) return r;
  update_recv_state();
  if (recv_state_ == RecvState::kDataRecvd && recv_.finished_reading()) {
    recv_state_ = RecvState::kDataRead;
    r.fin = true;
  }
  return r;
}

bool Stream::readable() const {
  if (!has_recv_) return false;
  switch (recv_state_) {
    case RecvState::kResetRecvd:
      return true;
    case RecvState::kDataRead:
    case RecvState::kResetRead:
      return false;
    default:
      return recv_.readable() > 0 || recv_.finished_reading();
  }
}

bool Stream::wants_window_updates() const {
  // RFC 9000 §3.2: MAX_STREAM_DATA only makes sense in "Recv" (the final size is unknown).
  return has_recv_ && recv_state_ == RecvState::kRecv && !stop_requested_;
}

std::optional<uint64_t> Stream::poll_window_update(Instant now, Duration rtt) {
  if (!wants_window_updates()) return std::nullopt;
  window_.on_consumed(recv_.read_offset());
  auto limit = window_.poll_update(now, rtt);
  if (limit) recv_.set_max_offset(*limit);
  return limit;
}

bool Stream::finished() const {
  bool send_done =
      !has_send_ || send_state_ == SendState::kDataRecvd || send_state_ == SendState::kResetRecvd;
  // "Reset Recvd" is not enough: until the application has seen the reset, freeing the stream
  // (and re-granting its credit) would let a peer cycle streams faster than events drain.
  bool recv_done =
      !has_recv_ || recv_state_ == RecvState::kDataRead || recv_state_ == RecvState::kResetRead;
  return send_done && recv_done;
}

}  // namespace quic

// One QUIC stream: a sending part and a receiving part, each with the state machine of
// RFC 9000 §3.1 / §3.2, its buffer and its stream-level flow control. A unidirectional stream
// has only one of the two parts. Connection-level accounting and frame routing live in
// StreamMap; this class never sees other streams.
#pragma once

#include <cstdint>
#include <optional>

#include "common/error.h"
#include "common/time.h"
#include "core/flow_control.h"
#include "core/stream_buffers.h"

namespace quic {

// The most free room a short writer waits for before kWritable (Stream::writable_for_writer).
inline constexpr size_t kWritableLowWater = 64 * 1024;

// RFC 9000 §2.1: bit 0 = initiator (1 = server), bit 1 = direction (1 = unidirectional).
constexpr bool stream_is_server_initiated(uint64_t id) {
  return (id & 1) != 0;
}
constexpr bool stream_is_uni(uint64_t id) {
  return (id & 2) != 0;
}
constexpr uint64_t stream_index(uint64_t id) {
  return id >> 2;
}
constexpr uint64_t make_stream_id(uint64_t index, bool server, bool uni) {
  return (index << 2) | (uni ? 2 : 0) | (server ? 1 : 0);
}
constexpr bool stream_is_local(uint64_t id, bool we_are_server) {
  return stream_is_server_initiated(id) == we_are_server;
}

enum class SendState : uint8_t { kReady, kSend, kDataSent, kDataRecvd, kResetSent, kResetRecvd };
enum class RecvState : uint8_t {
  kRecv,
  kSizeKnown,
  kDataRecvd,
  kDataRead,
  kResetRecvd,
  kResetRead
};

struct StreamParams {
  bool has_send = true;
  bool has_recv = true;
  uint64_t send_limit = 0;   // the peer's initial MAX_STREAM_DATA for this stream
  uint64_t recv_window = 0;  // our initial MAX_STREAM_DATA for this stream
  uint64_t max_recv_window = kMaxStreamWindow;
  size_t send_buffer_bytes = kDefaultSendBufferBytes;
};

struct ReadResult {
  size_t bytes = 0;
  bool fin = false;                     // this read reached the end of the stream
  std::optional<uint64_t> reset_error;  // the peer reset the stream (no more data)
};

class Stream {
 public:
  Stream(uint64_t id, const StreamParams& p);

  uint64_t id() const { return id_; }
  bool has_send() const { return has_send_; }
  bool has_recv() const { return has_recv_; }
  SendState send_state() const { return send_state_; }
  RecvState recv_state() const { return recv_state_; }

  // --- application, sending part
  size_t write(Bytes data);
  size_t write_with(size_t max, FillBytes fill);  // stream_buffers.h
  bool finish();
  // Abandons the sending part (RFC 9000 §3.1 "Reset Sent"); true if a RESET_STREAM is due.
  // reliable_size > 0 (RESET_STREAM_AT, draft-ietf-quic-reliable-stream-reset): the first
  // reliable_size bytes (at most what was written) are still delivered, retransmitted if
  // lost; the final size is max(bytes sent, reliable_size). A later reset may only lower the
  // reliable size (the final size and error code stay).
  bool reset(uint64_t app_error, uint64_t reliable_size = 0);
  // Asks the peer to stop (RFC 9000 §3.5); true if a STOP_SENDING is due.
  bool stop_sending(uint64_t app_error);
  bool writable() const;
  // Room enough to wake a writer whose write was short (kWritable): a quarter of the buffer,
  // at most kWritableLowWater. A writer woken by every acknowledged packet would spend more
  // on the wake-up (an HTTP/3 layer, an application's event loop) than on the bytes it adds.
  bool writable_for_writer() const;

  // --- application, receiving part
  ReadResult read(MutBytes out);
  ReadResult read_with(size_t max, TakeBytes take);  // stream_buffers.h
  bool readable() const;
  // Both parts are terminal: the stream's state can be freed.
  bool finished() const;

  // --- packet builder
  // conn_available: connection-level credit left for new bytes.
  std::optional<SendChunk> next_chunk(uint64_t max_len, uint64_t conn_available);
  bool has_data_to_send(uint64_t conn_available) const;
  // Lost data waits to be resent (next_chunk returns it before any new data).
  bool has_retransmission() const { return sending() && send_.has_lost(); }
  // New bytes are waiting but the stream's own limit stops them.
  bool stream_blocked() const;
  // New bytes are waiting but the connection's limit (not the stream's) stops them.
  bool connection_blocked(uint64_t conn_available) const;
  Bytes view(uint64_t offset, uint64_t len) const { return send_.view(offset, len); }
  bool copy_out(uint64_t offset, uint64_t len, uint8_t* dst) const {
    return send_.copy_out(offset, len, dst);
  }
  void on_chunk_acked(uint64_t offset, uint64_t len, bool fin);
  void on_chunk_lost(uint64_t offset, uint64_t len, bool fin);
  void on_reset_acked();
  // A new MAX_STREAM_DATA limit to advertise, if the application has read enough.
  std::optional<uint64_t> poll_window_update(Instant now, Duration rtt);
  bool wants_window_updates() const;
  // poll_window_update would advertise a new limit.
  bool window_update_due() const {
    return wants_window_updates() && window_.should_update_at(recv_.read_offset());
  }
  // The application has been told about the peer's reset ("Reset Read").
  void mark_reset_read() {
    if (recv_state_ == RecvState::kResetRecvd) recv_state_ = RecvState::kResetRead;
  }

  uint64_t reset_error() const { return reset_error_; }
  uint64_t reset_final_size() const { return reset_final_size_; }
  uint64_t reset_reliable_size() const { return reliable_size_; }
  // The reset frame may go out: every byte below the final size was sent once, so the final
  // size is within the flow-control credit the peer gave (RFC 9000 §4.5; a RESET_STREAM_AT
  // waits for its reliable bytes to leave first).
  bool reset_frame_due() const {
    return send_state_ == SendState::kResetSent && send_.sent_offset() >= reset_final_size_;
  }
  uint64_t stop_error() const { return stop_error_; }
  bool stop_sending_pending() const;  // STOP_SENDING still worth (re)sending

  // --- frames from the peer (StreamMap has already checked the direction rules)
  [[nodiscard]] Status on_stream_frame(uint64_t offset, Bytes data, bool fin);
  // Returns true when the receiving part entered "Reset Recvd" (the application is told).
  // reliable_size > 0 (RESET_STREAM_AT): that happens only once the application has read the
  // first reliable_size bytes (read() then enters it); a later frame may only lower it.
  [[nodiscard]] Result<bool> on_reset_stream(uint64_t app_error, uint64_t final_size,
                                             uint64_t reliable_size = 0);
  // Returns true when this reset the sending part (RFC 9000 §3.5).
  bool on_stop_sending(uint64_t app_error);
  // Returns true when the send limit grew.
  bool on_max_stream_data(uint64_t limit) { return credit_.raise(limit); }

  const SendBuffer& send_buffer() const { return send_; }
  const RecvBuffer& recv_buffer() const { return recv_; }
  SendCredit& credit() { return credit_; }
  const SendCredit& credit() const { return credit_; }
  const ReceiveWindow& window() const { return window_; }
  uint64_t peer_reset_error() const { return peer_reset_error_; }

 private:
  void update_recv_state();
  uint64_t flow_limit(uint64_t conn_available) const;
  bool send_open() const {
    return has_send_ && (send_state_ == SendState::kReady || send_state_ == SendState::kSend ||
                         send_state_ == SendState::kDataSent);
  }
  // Stream data still goes out: open, or reset with a reliable size (RESET_STREAM_AT).
  bool sending() const {
    return send_open() || (send_state_ == SendState::kResetSent && reliable_size_ > 0);
  }
  // "Reset Recvd" once the reset frame and every byte below the reliable size are acked.
  void maybe_reset_recvd();
  // The peer's RESET_STREAM_AT takes effect once the application read up to its reliable size.
  bool apply_reliable_reset();

  uint64_t id_;
  bool has_send_;
  bool has_recv_;
  SendState send_state_ = SendState::kReady;
  RecvState recv_state_ = RecvState::kRecv;
  SendBuffer send_;
  SendCredit credit_;
  RecvBuffer recv_;
  ReceiveWindow window_;
  bool stop_requested_ = false;
  uint64_t reset_error_ = 0;
  uint64_t reset_final_size_ = 0;
  uint64_t reliable_size_ = 0;  // our RESET_STREAM_AT (0: RESET_STREAM)
  bool reset_acked_ = false;
  uint64_t stop_error_ = 0;
  uint64_t peer_reset_error_ = 0;
  std::optional<uint64_t> peer_reliable_size_;  // the peer's RESET_STREAM_AT, not yet in force
};

}  // namespace quic

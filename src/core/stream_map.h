// All streams of one connection (RFC 9000 §2–4): stream IDs and stream limits, implicit
// opening, frame-direction rules, connection-level flow control, the control frames the
// packet builder has to send (with loss recovery of the latest value), the choice of the stream
// that sends next (retransmissions first, then RFC 9218 priorities: stream_scheduler.h) and the
// event queue for the application.
//
// Frames come in as plain parameters (this layer does not depend on the frame codec); every
// handler returns a Status whose error carries the RFC 9000 §20.1 code and the frame type.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

#include "common/error.h"
#include "common/fifo.h"
#include "common/lazy_deque.h"
#include "common/time.h"
#include "core/flow_control.h"
#include "core/stream.h"
#include "core/stream_scheduler.h"

namespace quic {

// RFC 9000 §4.6: a stream count above 2^60 cannot be expressed as a stream ID.
inline constexpr uint64_t kMaxStreamCount = uint64_t{1} << 60;
// Our concurrency limit per direction is clamped to this: implicit opening (RFC 9000 §3.2)
// may create up to this many streams (a few hundred bytes each) from one frame.
inline constexpr uint64_t kMaxConcurrentStreams = 1 << 14;

struct StreamMapConfig {
  bool is_server = false;
  // What we grant the peer (our transport parameters).
  uint64_t max_streams_bidi = 100;  // concurrent peer-initiated bidirectional streams
  uint64_t max_streams_uni = 100;
  uint64_t stream_window_bidi_local = 256 << 10;   // initial_max_stream_data_bidi_local
  uint64_t stream_window_bidi_remote = 256 << 10;  // initial_max_stream_data_bidi_remote
  uint64_t stream_window_uni = 256 << 10;          // initial_max_stream_data_uni
  uint64_t connection_window = 1 << 20;            // initial_max_data
  uint64_t max_stream_window = kMaxStreamWindow;
  uint64_t max_connection_window = kMaxConnectionWindow;
  size_t send_buffer_bytes = kDefaultSendBufferBytes;
};

// The peer's transport parameters that concern streams (RFC 9000 §18.2).
struct PeerStreamParams {
  uint64_t max_data = 0;
  uint64_t max_stream_data_bidi_local = 0;
  uint64_t max_stream_data_bidi_remote = 0;
  uint64_t max_stream_data_uni = 0;
  uint64_t max_streams_bidi = 0;
  uint64_t max_streams_uni = 0;
};

enum class ControlKind : uint8_t {
  kMaxData,
  kMaxStreamData,
  kMaxStreams,
  kDataBlocked,
  kStreamDataBlocked,
  kStreamsBlocked,
  kResetStream,
  kStopSending,
};

struct ControlFrame {
  ControlKind kind = ControlKind::kMaxData;
  uint64_t stream_id = 0;   // MAX_STREAM_DATA, STREAM_DATA_BLOCKED, RESET_STREAM, STOP_SENDING
  uint64_t value = 0;       // the limit / maximum; RESET_STREAM: the final size
  uint64_t error_code = 0;  // RESET_STREAM, STOP_SENDING
  bool bidi = false;        // MAX_STREAMS, STREAMS_BLOCKED
  uint64_t reliable = 0;    // RESET_STREAM: > 0 sends RESET_STREAM_AT with this reliable size
  friend bool operator==(const ControlFrame&, const ControlFrame&) = default;
};

enum class StreamEventKind : uint8_t {
  kOpened,            // the peer opened the stream
  kReadable,          // data, end of stream or a reset can be read
  kWritable,          // buffer space freed after a short write
  kFinished,          // everything we sent (with FIN) was acknowledged
  kReset,             // the peer reset its sending part (error_code)
  kStopSending,       // the peer asked us to stop; our sending part was reset (error_code)
  kStreamsAvailable,  // the peer raised MAX_STREAMS: open() may succeed (stream_id: bidi ? 0 : 2)
};

struct StreamEvent {
  uint64_t stream_id = 0;
  StreamEventKind kind = StreamEventKind::kOpened;
  uint64_t error_code = 0;
  friend bool operator==(const StreamEvent&, const StreamEvent&) = default;
};

struct StreamChunk {
  uint64_t stream_id = 0;
  SendChunk chunk;
};

class StreamMap {
 public:
  StreamMap(const StreamMapConfig& config, const PeerStreamParams& peer);
  // Later (e.g. remembered 0-RTT parameters replaced by the handshake's): limits only grow.
  void set_peer_params(const PeerStreamParams& peer);
  // 0-RTT rejected (RFC 9001 §4.6.2): the handshake's limits replace the remembered ones even
  // where smaller. False when streams already opened or bytes already charged exceed them.
  bool replace_peer_params(const PeerStreamParams& peer);

  // --- application
  // A new locally-initiated stream, or nullopt when the peer's MAX_STREAMS is reached (a
  // STREAMS_BLOCKED is queued once per limit).
  std::optional<uint64_t> open(bool bidi);
  Stream* find(uint64_t id);
  size_t write(uint64_t id, Bytes data);
  size_t write_with(uint64_t id, size_t max, FillBytes fill);  // stream_buffers.h
  // kWritable once the stream's send buffer frees room (a short write asks for it itself).
  void want_writable(uint64_t id);
  bool finish(uint64_t id);
  // reliable_size > 0: RESET_STREAM_AT (Stream::reset); the stream keeps sending below it.
  bool reset(uint64_t id, uint64_t app_error, uint64_t reliable_size = 0);
  bool stop_sending(uint64_t id, uint64_t app_error);
  ReadResult read(uint64_t id, MutBytes out);
  ReadResult read_with(uint64_t id, size_t max, TakeBytes take);
  std::optional<StreamEvent> poll_event();
  // RFC 9218 urgency/incremental of a stream's sending part; takes effect for the next chunk.
  // False for an unknown (or freed) stream or one without a sending part.
  bool set_priority(uint64_t id, StreamPriority p);
  std::optional<StreamPriority> priority(uint64_t id) const;

  // --- packet builder
  // Control frames, oldest first. Window updates (MAX_DATA / MAX_STREAM_DATA, with
  // auto-tuning) are decided here, so now and rtt are passed in. pop_control() removes the
  // frame peek_control() returned once it is in a packet.
  std::optional<ControlFrame> peek_control(Instant now, Duration rtt);
  void pop_control();
  bool has_pending_control() const;
  void on_control_acked(const ControlFrame& f);
  // Requeues f only if it is still current (a newer limit supersedes an older one).
  void on_control_lost(const ControlFrame& f);

  // The next STREAM frame payload (max_len data bytes at most): lost data of any stream first
  // (oldest loss first), then new data of the stream the scheduler picks.
  // Streams for which `hold` returns true are passed over (they keep their place): the
  // deadline scheduler keeps deadline data off paths that would deliver it late.
  std::optional<StreamChunk> next_stream_chunk(uint64_t max_len,
                                               const std::function<bool(uint64_t)>& hold = {});
  // The next chunk of one stream (lost data first, then new data), whatever the priorities.
  std::optional<StreamChunk> next_chunk_of(uint64_t id, uint64_t max_len);
  bool has_stream_data() const;
  // Bytes written by the application and not yet sent once (multipath schedulers weigh it).
  uint64_t send_backlog() const;
  bool copy_out(uint64_t id, uint64_t offset, uint64_t len, uint8_t* dst) const;
  void on_stream_chunk_acked(uint64_t id, uint64_t offset, uint64_t len, bool fin);
  void on_stream_chunk_lost(uint64_t id, uint64_t offset, uint64_t len, bool fin);

  // --- frames from the peer
  [[nodiscard]] Status on_stream_frame(uint64_t id, uint64_t offset, Bytes data, bool fin);
  // reliable_size set: RESET_STREAM_AT (draft-ietf-quic-reliable-stream-reset).
  [[nodiscard]] Status on_reset_stream(uint64_t id, uint64_t app_error, uint64_t final_size,
                                       std::optional<uint64_t> reliable_size = std::nullopt);
  [[nodiscard]] Status on_stop_sending(uint64_t id, uint64_t app_error);
  [[nodiscard]] Status on_max_stream_data(uint64_t id, uint64_t max);
  [[nodiscard]] Status on_stream_data_blocked(uint64_t id, uint64_t limit);
  [[nodiscard]] Status on_max_data(uint64_t max);
  [[nodiscard]] Status on_data_blocked(uint64_t limit);
  [[nodiscard]] Status on_max_streams(bool bidi, uint64_t max);
  [[nodiscard]] Status on_streams_blocked(bool bidi, uint64_t max);

  // --- introspection (tests, stats)
  size_t stream_count() const { return streams_.size(); }
  uint64_t advertised_max_streams(bool bidi) const { return max_peer_streams_[bidi ? 0 : 1]; }
  uint64_t peer_max_streams(bool bidi) const { return max_local_streams_[bidi ? 0 : 1]; }
  const SendCredit& connection_credit() const { return conn_credit_; }
  const ReceiveWindow& connection_window() const { return conn_window_; }
  uint64_t connection_received() const { return conn_received_; }
  uint64_t buffered_receive_bytes() const;

 private:
  struct Entry {
    explicit Entry(Stream s) : stream(std::move(s)) {}
    Stream stream;
    StreamPriority priority;
    bool retx_queued = false;    // in retx_queue_
    bool want_writable = false;  // a write was short: report kWritable when space frees
    bool finished_reported = false;
    bool reset_queued = false;  // the (latest) reset frame was queued (reset_frame_due)
  };
  enum class Part : uint8_t { kRecv, kSend };
  using ControlKey = std::tuple<ControlKind, uint64_t, bool>;

  Result<Entry*> get_or_open(uint64_t id, Part part, uint64_t frame_type);
  Entry& create(uint64_t id);
  StreamParams params_for(uint64_t id) const;
  // Into the scheduler when the stream can send now; otherwise out of it (and BLOCKED noted).
  void enqueue_send(Entry& e);
  // Serves the front of retx_queue_; nullopt when no stream there has lost data left.
  std::optional<StreamChunk> next_retransmission(uint64_t max_len,
                                                 const std::function<bool(uint64_t)>& hold);
  void note_blocked(Entry& e);
  void queue_control(ControlKind kind, uint64_t id = 0, bool bidi = false);
  std::optional<ControlFrame> build_control(const ControlKey& key) const;
  bool control_current(const ControlFrame& f) const;
  void push_event(uint64_t id, StreamEventKind kind, uint64_t error_code = 0);
  // Applies changes of the stream's receive offsets to the connection's accounting.
  void account_receive(Entry& e, uint64_t old_high, uint64_t old_read);
  void after_change(uint64_t id);
  Status check_connection_credit(const Entry& e, uint64_t new_end, uint64_t frame_type) const;

  StreamMapConfig config_;
  PeerStreamParams peer_;
  std::unordered_map<uint64_t, Entry> streams_;
  // Index 0 = bidirectional, 1 = unidirectional.
  uint64_t next_local_[2] = {0, 0};         // next index we open
  uint64_t max_local_streams_[2] = {0, 0};  // the peer's MAX_STREAMS
  std::optional<uint64_t> streams_blocked_reported_[2];
  uint64_t next_peer_[2] = {0, 0};         // next peer index not yet opened
  uint64_t max_peer_streams_[2] = {0, 0};  // our MAX_STREAMS as last advertised
  uint64_t closed_peer_[2] = {0, 0};       // peer streams freed so far

  SendCredit conn_credit_;
  ReceiveWindow conn_window_;
  uint64_t conn_received_ = 0;  // sum of the highest offsets received per stream
  uint64_t conn_consumed_ = 0;  // bytes read or discarded

  StreamScheduler scheduler_;       // streams with data they may send now
  LazyDeque<uint64_t> retx_queue_;  // streams with lost data, in order of loss
  Fifo<ControlKey> control_queue_;
  std::set<ControlKey> control_pending_;
  std::set<uint64_t> window_dirty_;  // streams whose application read data (ordered: stable)
  Fifo<StreamEvent> events_;
  std::set<std::pair<uint64_t, StreamEventKind>> event_pending_;
};

}  // namespace quic

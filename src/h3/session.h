// An HTTP/3 session (RFC 9114) over one quic::Connection, client or server, sans-I/O.
//
// The application owns the event loop: it polls the connection's events and hands each to
// on_transport_event(), then calls poll() (or calls drive(), which does both), and drains the
// session's events with poll_event(). Nothing calls back into the application.
//
// The session opens the control stream (SETTINGS first) and the QPACK encoder/decoder streams,
// reads the peer's, enforces the frame and stream rules of §6-§7 (a violation closes the
// connection with CONNECTION_CLOSE(application) carrying the H3 code), validates messages
// (fields.h; a malformed message resets just its stream with H3_MESSAGE_ERROR), and carries
// GOAWAY, extended CONNECT (RFC 9220), HTTP datagrams (RFC 9297) and priorities (RFC 9218):
// a request's Priority field and later PRIORITY_UPDATEs drive the transport's stream scheduler
// for the response (Connection::set_stream_priority).
// Server push (§4.6) is off unless the client's SessionConfig::enable_push is set: only then
// does it send MAX_PUSH_ID, and any push beyond it is H3_ID_ERROR.
//
// Extensions (extension.h): handlers registered by the :protocol of extended CONNECT own
// their stream's capsules and HTTP datagrams and, WebTransport-style, the streams that name it
// as their session. HTTP datagrams of streams without a handler wait in a queue bounded in
// bytes (SessionConfig::max_queued_datagram_bytes) for recv_datagram().
//
// Files: session.cc (API, sending, lifecycle), session_recv.cc (reading streams and frames),
// session_push.cc (server push, both sides), session_ext.cc (handlers, session streams,
// datagrams).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "common/fifo.h"
#include "common/id_set.h"
#include "common/range_set.h"
#include "core/connection.h"
#include "h3/datagram_queue.h"
#include "h3/extension.h"
#include "h3/fields.h"
#include "h3/frames.h"
#include "h3/priority.h"
#include "h3/qpack/decoder.h"
#include "h3/qpack/encoder.h"

namespace h3 {

enum class Role : uint8_t { kClient, kServer };

// Unidirectional stream types (§6.2, RFC 9204 §4.2).
namespace stream_type {
inline constexpr uint64_t kControl = 0x00;
inline constexpr uint64_t kPush = 0x01;
inline constexpr uint64_t kQpackEncoder = 0x02;
inline constexpr uint64_t kQpackDecoder = 0x03;
}  // namespace stream_type

// Per-stream and per-session bounds on what a peer can make us hold.
inline constexpr size_t kDefaultMaxBufferedBody = 256 * 1024;          // unread DATA per stream
inline constexpr size_t kDefaultMaxQueuedDatagramBytes = 1024 * 1024;  // oldest dropped first
// Peer streams naming a session (0x41 / 0x54) that does not exist yet, held unread until it
// does; beyond this they are refused with WT_BUFFERED_STREAM_REJECTED (draft §4.6).
inline constexpr size_t kDefaultMaxPendingSessionStreams = 16;
inline constexpr size_t kMaxPendingPriorities = 64;  // PRIORITY_UPDATEs for unopened streams
inline constexpr size_t kReadChunk = 16 * 1024;      // bytes taken from the transport at once
// Server push: promised pushes not yet finished or cancelled, per session. The client's
// MAX_PUSH_ID window (SessionConfig::max_concurrent_pushes) is clamped to it, so a server
// cannot make a client hold more; a server's promise_push() fails beyond it.
inline constexpr size_t kMaxPendingPushes = 64;
// Rapid reset (CVE-2023-44487, RFC 9114 §10.5): QUIC stream limits bound how many requests
// are open at once, not how fast a client opens and cancels them. A server counts the requests
// the client aborted (RESET_STREAM or STOP_SENDING) before the response was complete; more than
// this many inside the window closes the connection with H3_EXCESSIVE_LOAD. A browser
// navigating away cancels a page's worth of requests at once, far below it.
inline constexpr size_t kDefaultMaxEarlyCancels = 200;
inline constexpr quic::Duration kDefaultEarlyCancelWindow = std::chrono::seconds(10);

struct SessionConfig {
  uint64_t qpack_max_table_capacity = 4096;
  uint64_t qpack_blocked_streams = 16;
  uint64_t max_field_section_size = 64 * 1024;  // advertised; bounds HEADERS frames too
  bool enable_connect_protocol = false;         // RFC 9220 (server advertises, client uses)
  bool enable_datagrams = false;                // H3_DATAGRAM (needs QUIC DATAGRAM support)
  bool send_grease = true;                      // a reserved setting in our SETTINGS
  size_t max_buffered_body = kDefaultMaxBufferedBody;
  size_t max_pending_send = 256 * 1024;  // send_body accepts at most this much unsent per stream
  // Client: accept server push (§4.6): MAX_PUSH_ID is sent, keeping this many push IDs open
  // beyond the lowest unfinished one (clamped to kMaxPendingPushes).
  bool enable_push = false;
  uint64_t max_concurrent_pushes = 16;
  // HTTP datagrams of streams without a handler wait for recv_datagram() up to this many bytes
  // (payload + kDatagramRecordCost each); the oldest are dropped beyond it.
  size_t max_queued_datagram_bytes = kDefaultMaxQueuedDatagramBytes;
  // Route peer streams that start with 0x41 (bidirectional) or have type 0x54 (unidirectional)
  // to the handler of the session they name (WebTransport); off: such streams are parsed as
  // requests / ignored as unknown stream types, as RFC 9114 alone says.
  bool accept_session_streams = false;
  size_t max_pending_session_streams = kDefaultMaxPendingSessionStreams;
  // Extension settings to send (e.g. SETTINGS_WT_ENABLED); known IDs here are ignored.
  std::vector<std::pair<uint64_t, uint64_t>> extra_settings;
  // Server: the rapid-reset bound (see kDefaultMaxEarlyCancels).
  size_t max_early_cancels = kDefaultMaxEarlyCancels;
  quic::Duration early_cancel_window = kDefaultEarlyCancelWindow;
};

// Counters an operator and the tests read; datagram drops by reason.
struct SessionStats {
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_received = 0;                // HTTP datagrams taken from the transport
  uint64_t datagrams_to_handlers = 0;             // delivered to a StreamHandler
  uint64_t datagrams_queued = 0;                  // queued for recv_datagram()
  uint64_t datagrams_dropped_not_negotiated = 0;  // H3_DATAGRAM not enabled on both sides
  uint64_t datagrams_dropped_unknown_stream = 0;  // no open request stream (RFC 9297 §2.1)
  uint64_t datagrams_dropped_queue_full = 0;      // oldest dropped for the byte bound
  uint64_t datagrams_dropped_too_large = 0;       // larger than the whole byte bound
  uint64_t datagrams_truncated = 0;               // recv_datagram() buffer too small
  uint64_t capsules_delivered = 0;
  uint64_t capsules_skipped_unknown = 0;     // RFC 9297 §3.2
  uint64_t capsules_discarded_oversize = 0;  // DATAGRAM capsules above their cap (§3.5)
  uint64_t session_streams_routed = 0;       // peer 0x41 / 0x54 streams given to a handler
  uint64_t session_streams_rejected = 0;     // refused: over the pending bound, session gone
  uint64_t requests_cancelled_early = 0;     // server: aborted by the client before the response ended
};

// An HTTP datagram taken with Session::recv_datagram.
struct ReceivedDatagram {
  uint64_t stream_id;
  size_t length;  // its full length; `copied` is less when the buffer was too small
  size_t copied;
};

enum class EventKind : uint8_t {
  kSettings,        // the peer's SETTINGS arrived (peer_settings())
  kHeaders,         // a request head (server) or response head, 1xx included (client): fields
  kData,            // body bytes can be read with read_body()
  kTrailers,        // fields
  kFinished,        // the peer's message is complete; read_body() returns what is left
  kReset,           // the stream was aborted by the peer or by us (code); it is gone
  kStopSending,     // the peer no longer wants our data; our side was reset with `code`
  kWritable,        // send_body() has room again after a short count
  kGoaway,          // code = the peer's GOAWAY id
  kDatagram,        // HTTP datagrams wait for recv_datagram() (signalled once until drained)
  kPriorityUpdate,  // stream_id, priority (server: from PRIORITY_UPDATE)
  kPushPromise,     // client: stream_id = request stream, code = push ID, fields = its request
  kPushOpened,      // client: stream_id = push stream of push `code`; its response follows on it
  kPushCancelled,   // code = push ID: the peer sent CANCEL_PUSH for it
  kClosed,          // terminal: code, reason
};

struct Event {
  EventKind kind;
  uint64_t stream_id = 0;
  uint64_t code = 0;
  std::vector<Field> fields;
  Priority priority;
  std::string reason;
};

class Session {
 public:
  Session(quic::Connection& conn, Role role, SessionConfig config = {});
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // --- driving
  void on_transport_event(const quic::Event& e, quic::Instant now);
  void poll(quic::Instant now);
  // Convenience: feeds every pending connection event, then poll(now).
  void drive(quic::Instant now);
  std::optional<Event> poll_event();

  // --- client
  // Opens a request stream, sends HEADERS (and the body as one DATA frame when non-empty);
  // end_stream sends FIN. Fails on invalid fields, a GOAWAY received, or the stream limit.
  quic::Result<uint64_t> send_request(std::span<const Field> fields, quic::Bytes body = {},
                                      bool end_stream = true);
  // PRIORITY_UPDATE for one of our requests (RFC 9218 §7.1).
  quic::Status send_priority_update(uint64_t stream_id, Priority p);

  // --- server
  // Response head (1xx heads may precede the final one), optionally with body and FIN.
  quic::Status send_response(uint64_t stream_id, std::span<const Field> fields,
                             quic::Bytes body = {}, bool end_stream = true);

  // --- server push (§4.6, session_push.cc)
  // Server: PUSH_PROMISE on request `stream_id` (before its response ends) for `request` (a GET
  // or HEAD without body); returns the push ID. Fails without room under the client's
  // MAX_PUSH_ID or its GOAWAY, or with kMaxPendingPushes promises pending.
  quic::Result<uint64_t> promise_push(uint64_t stream_id, std::span<const Field> request);
  // Server: opens the push stream of a promised push and returns its stream ID; answer on it
  // with send_response / send_body / send_trailers as on a request stream.
  quic::Result<uint64_t> open_push_stream(uint64_t push_id);
  // Client: the push is not wanted; server: it will not be fulfilled. Sends CANCEL_PUSH, or
  // aborts the push stream (H3_REQUEST_CANCELLED) when it is already open.
  quic::Status cancel_push(uint64_t push_id);
  // Client: PRIORITY_UPDATE for a push (RFC 9218 §7.2).
  quic::Status send_push_priority_update(uint64_t push_id, Priority p);
  std::optional<uint64_t> push_id_of(uint64_t push_stream) const;
  std::optional<uint64_t> max_push_id_sent() const { return max_push_id_sent_; }

  // --- both
  // Frames up to max_pending_send bytes as one DATA frame; returns how much was accepted
  // (kWritable follows a short count). fin ends the stream once all of `data` is accepted.
  quic::Result<size_t> send_body(uint64_t stream_id, quic::Bytes data, bool fin);
  // The same without the session's copies: once nothing of this stream is still queued in the
  // session, a DATA frame's header and then fill's bytes (stream_buffers.h) go straight into
  // the QUIC stream's send buffer, as much as it has room for (0, then kWritable, while the
  // session still holds bytes of the stream). The frame's length is set before fill runs, so
  // fill must write everything it is offered: a short fill cancels the stream
  // (H3_INTERNAL_ERROR) and fails.
  quic::Result<size_t> send_body_with(uint64_t stream_id, size_t max, quic::FillBytes fill,
                                      bool fin);
  quic::Status send_trailers(uint64_t stream_id, std::span<const Field> fields);  // ends it
  // Received body bytes; *fin is set when the message is complete and fully read.
  size_t read_body(uint64_t stream_id, quic::MutBytes out, bool* fin);
  // Aborts both directions (RESET_STREAM + STOP_SENDING) with `code` (e.g. REQUEST_CANCELLED).
  quic::Status cancel(uint64_t stream_id, uint64_t code);
  // An HTTP datagram (RFC 9297 §2.1) for request stream `stream_id`, handed to the transport,
  // which drops it if still queued at `deadline`. The payload may come in up to
  // kMaxDatagramParts parts (a context ID, then the packet): the transport's queue joins them,
  // the only copy before the packet.
  static constexpr size_t kMaxDatagramParts = 4;
  quic::Status send_datagram(uint64_t stream_id, std::span<const quic::Bytes> payload,
                             std::optional<quic::Instant> deadline = std::nullopt,
                             quic::DatagramPriority priority = quic::DatagramPriority::kNormal);
  quic::Status send_datagram(uint64_t stream_id, quic::Bytes payload,
                             std::optional<quic::Instant> deadline = std::nullopt,
                             quic::DatagramPriority priority = quic::DatagramPriority::kNormal) {
    return send_datagram(stream_id, std::span<const quic::Bytes>(&payload, 1), deadline, priority);
  }
  // The oldest queued HTTP datagram of a stream without a handler, copied into `out`.
  std::optional<ReceivedDatagram> recv_datagram(quic::MutBytes out);

  // --- extensions (extension.h, session_ext.cc)
  // Streams whose extended CONNECT carries `protocol` get a handler from `factory`.
  void register_protocol(std::string protocol, HandlerFactory factory);
  StreamHandler* handler(uint64_t stream_id);
  // The handler's actions for stream `stream_id`, usable outside handler calls too (the
  // application's timers). Its operations fail once the stream has no handler.
  Outbox outbox(uint64_t stream_id) { return Outbox(*this, stream_id); }
  const SessionStats& stats() const { return stats_; }
  // Graceful shutdown (§5.2): GOAWAY; the connection closes with H3_NO_ERROR once drained.
  void goaway(quic::Instant now);
  void close(uint64_t code, std::string reason, quic::Instant now);

  // --- state
  Role role() const { return role_; }
  const std::optional<Settings>& peer_settings() const { return peer_settings_; }
  bool connect_protocol_enabled() const;  // both sides sent ENABLE_CONNECT_PROTOCOL=1
  bool datagrams_enabled() const;         // both sides sent H3_DATAGRAM=1
  std::optional<Priority> priority(uint64_t stream_id) const;
  std::optional<uint64_t> goaway_received() const { return goaway_received_; }
  bool is_closed() const { return closed_; }
  // The error we closed with, or the peer's, once closed.
  const std::optional<quic::Error>& close_error() const { return close_error_; }
  size_t active_requests() const { return requests_.size(); }

 private:
  friend class Outbox;
  struct SendQueue {
    std::vector<uint8_t> buf;
    size_t off = 0;
    bool fin = false, fin_sent = false;
    size_t size() const { return buf.size() - off; }
    bool idle() const { return size() == 0 && (!fin || fin_sent); }
    bool finished() const { return size() == 0 && fin && fin_sent; }
  };
  enum class Recv : uint8_t { kHead, kBody, kAfterTrailers, kDone };
  struct Request {
    explicit Request(size_t max_frame) : reader(max_frame) {}
    FrameReader reader;
    Recv recv = Recv::kHead;
    bool blocked = false;           // a HEADERS section waits for QPACK inserts
    bool transport_fin = false;     // FIN read from the transport, not yet acted on
    bool stalled = false;           // body buffer full: resume when the app reads
    bool data_signalled = false;    // a kData event is outstanding
    std::vector<uint8_t> leftover;  // read but unparsed (behind a blocked HEADERS)
    std::vector<uint8_t> body;
    size_t body_off = 0;
    ContentLengthCheck length;
    bool head_request = false;     // client: our request was HEAD
    bool final_head_sent = false;  // server: non-1xx response head sent; client: always
    bool want_writable = false;
    // send_body_with was short for want of room in the QUIC stream itself: kWritable waits
    // for the transport's writable event, not for the session's own buffer to drain.
    bool wait_transport = false;
    SendQueue out;
    Priority priority;
    bool priority_updated = false;            // PRIORITY_UPDATE wins over the field (RFC 9218 §7)
    std::optional<uint64_t> push_id;          // this is a push stream
    std::optional<uint64_t> blocked_promise;  // the blocked section is this PUSH_PROMISE's
    std::unique_ptr<StreamHandler> handler;   // extended CONNECT with a registered :protocol
    bool established = false;                 // 2xx sent / received: DATA carries capsules
    std::optional<CapsuleReader> capsules;
    bool cancel_counted = false;              // server: counted in early_cancels_
  };
  // A stream naming a session (0x41 / 0x54 + session ID), owned by that session's handler.
  struct SessionStream {
    uint64_t session_id;
    bool bidi;
    bool recv_done;  // FIN or reset read, or a stream we opened unidirectionally
    bool paused = false;
    SendQueue out;   // bidi, or a uni stream we opened
    bool send_side;  // we have a sending direction
  };
  struct PendingStream {
    uint64_t session_id;
    bool bidi;
  };
  // Accumulates one varint that may arrive a byte at a time.
  struct VarintAcc {
    uint8_t buf[8];
    size_t len = 0;
    std::optional<uint64_t> feed(uint8_t b);
  };
  struct Push {
    std::vector<Field> request;  // the promised request (empty: stream seen, promise not yet)
    bool promised = false;
    std::optional<uint64_t> stream;  // its push stream
    Priority priority;
  };
  // The header of a peer stream being read: a uni stream's type, then (push, session streams)
  // an ID; on a bidi stream the first varint (0x41 or a frame type), then the session ID.
  struct StreamHead {
    std::optional<uint64_t> type;
    VarintAcc type_acc, id_acc;
  };

  // session.cc
  void open_critical_streams();
  void queue(SendQueue& q, uint64_t id);
  void flush(uint64_t id, SendQueue& q);
  void flush_all();
  void connection_error(const quic::Error& e);
  void connection_error(uint64_t code, std::string reason);
  void stream_error(uint64_t id, uint64_t code);
  void forget_request(uint64_t id, uint64_t code = 0);
  void push(Event e) { events_.push_back(std::move(e)); }
  void check_drained();
  quic::Result<std::vector<uint8_t>> encode_section(uint64_t id, std::span<const Field> fields);
  Request* find(uint64_t id);
  // The request stream a body may be sent on (head sent, not finished), or the error.
  quic::Result<Request*> body_request(uint64_t stream_id);
  bool is_local(uint64_t id) const { return ((id & 1) != 0) == (role_ == Role::kServer); }
  void apply_priority(uint64_t id, const Priority& p);
  void on_peer_reset(uint64_t id, uint64_t code);
  void on_peer_stop_sending(uint64_t id, uint64_t code);
  void count_early_cancel();

  // session_recv.cc
  void read_stream(uint64_t id);
  void read_uni(uint64_t id);
  bool read_uni_header(uint64_t id);
  bool read_bidi_signal(uint64_t id);
  bool bidi_request(uint64_t id, bool fin);
  void on_uni_type(uint64_t id, uint64_t type);
  void on_uni_bytes(uint64_t id, quic::Bytes b);
  void on_control_frame(const FrameItem& item);
  void on_settings(quic::Bytes payload);
  void on_goaway(uint64_t id);
  void on_priority_update(uint64_t type, quic::Bytes payload);
  void read_request(uint64_t id);
  Request* request_for_read(uint64_t id);
  // Parses `in`; returns false when the stream stopped (blocked, aborted or error).
  bool parse_request(uint64_t id, Request& r, quic::Bytes in);
  void on_headers_frame(uint64_t id, Request& r, quic::Bytes payload, quic::Bytes rest);
  void on_field_section(uint64_t id, Request& r, std::vector<Field> fields);
  void on_request_end(uint64_t id, Request& r);
  void on_unblocked();
  void read_datagrams();
  void read_datagram(quic::Bytes d);

  // session_ext.cc
  void attach_handler(uint64_t id, Request& r, std::span<const Field> fields);
  void establish(uint64_t id, Request& r);
  void reject_handler(uint64_t id, Request& r);
  void close_handler(uint64_t id, Request& r, uint64_t code);
  bool feed_capsules(uint64_t id, Request& r, quic::Bytes data);
  void on_session_stream(uint64_t id, uint64_t session_id, bool bidi, bool fin);
  void refuse_stream(uint64_t id, uint64_t code);  // counted in stats
  void abort_stream(uint64_t id, uint64_t code);
  void read_session_stream(uint64_t id);
  void forget_session_stream(uint64_t id);
  bool on_session_stream_event(const quic::Event& e);
  SendQueue* send_queue(uint64_t id);
  StreamHandler* stream_owner(uint64_t stream_id, uint64_t session_id);
  // session_push.cc
  void send_initial_max_push_id();
  void on_push_promise_frame(uint64_t id, Request& r, quic::Bytes payload, quic::Bytes rest);
  void on_promised_fields(uint64_t id, Request& r, uint64_t push_id, std::vector<Field> fields);
  void on_push_stream(uint64_t id, uint64_t push_id, std::vector<uint8_t> rest, bool fin);
  void on_cancel_push(uint64_t push_id);
  void on_push_priority_update(uint64_t push_id, const Priority& p);
  void push_done(uint64_t push_id);

  quic::Connection& conn_;
  Role role_;
  SessionConfig config_;
  Settings local_settings_;
  std::optional<Settings> peer_settings_;
  qpack::Encoder encoder_;
  qpack::Decoder decoder_;

  bool critical_opened_ = false;
  uint64_t control_id_ = 0, encoder_id_ = 0, decoder_id_ = 0;
  SendQueue control_out_, encoder_out_, decoder_out_;

  std::optional<uint64_t> peer_control_id_, peer_encoder_id_, peer_decoder_id_;
  FrameReader control_reader_{kMaxSettingsPayload};
  std::map<uint64_t, StreamHead> uni_in_;   // peer uni streams whose type is read or known
  std::map<uint64_t, StreamHead> bidi_in_;  // peer bidi streams whose first varint is read
  quic::RangeSet ignored_uni_;              // peer uni streams (id / 4) we stopped reading
  std::map<uint64_t, Request> requests_;
  quic::RangeSet done_requests_;  // bidi streams (id / 4) finished or aborted
  uint64_t next_peer_bidi_ = 0;   // server: lowest client bidi stream ID not yet seen
  // Both are filled and drained on every turn of the event loop: sorted vectors that keep
  // their capacity (the spare_ set holds the storage of the last one drained).
  quic::IdSet readable_;
  quic::IdSet dirty_;  // request streams with queued bytes
  quic::IdSet spare_;
  std::map<uint64_t, Priority> pending_priorities_;
  std::deque<quic::Instant> early_cancels_;  // server: ≤ max_early_cancels + 1, oldest first

  std::optional<uint64_t> goaway_sent_, goaway_received_;
  std::optional<uint64_t> peer_max_push_id_;  // server: the client's MAX_PUSH_ID
  std::optional<uint64_t> max_push_id_sent_;  // client
  std::map<uint64_t, Push> pushes_;           // push ID → pending push (≤ kMaxPendingPushes)
  quic::RangeSet done_pushes_;                // push IDs finished or cancelled
  quic::RangeSet push_streams_seen_;          // client: push IDs that had a push stream
  quic::RangeSet done_push_streams_;          // push streams (id / 4) finished
  uint64_t next_push_id_ = 0;                 // server

  bool closed_ = false;
  bool close_requested_ = false;
  std::optional<quic::Error> close_error_;
  quic::Instant now_{};
  quic::Fifo<Event> events_;
  std::vector<uint8_t> scratch_;

  std::map<std::string, HandlerFactory, std::less<>> factories_;
  std::map<uint64_t, SessionStream> session_streams_;
  std::map<uint64_t, PendingStream> pending_streams_;  // ≤ max_pending_session_streams
  DatagramQueue datagrams_;
  bool datagram_signalled_ = false;    // a kDatagram event is outstanding
  SessionStats stats_;
};

}  // namespace h3

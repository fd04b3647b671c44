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
// Files: session.cc (API, sending, lifecycle), session_recv.cc (reading streams and frames),
// session_push.cc (server push, both sides).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "common/range_set.h"
#include "core/connection.h"
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
inline constexpr size_t kDefaultMaxBufferedBody = 256 * 1024;  // unread DATA per stream
inline constexpr size_t kMaxQueuedDatagramEvents = 256;        // older ones are dropped first
inline constexpr size_t kMaxPendingPriorities = 64;  // PRIORITY_UPDATEs for unopened streams
inline constexpr size_t kReadChunk = 16 * 1024;      // bytes taken from the transport at once
// Server push: promised pushes not yet finished or cancelled, per session. The client's
// MAX_PUSH_ID window (SessionConfig::max_concurrent_pushes) is clamped to it, so a server
// cannot make a client hold more; a server's promise_push() fails beyond it.
inline constexpr size_t kMaxPendingPushes = 64;

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
  kDatagram,        // stream_id, payload (HTTP datagram, RFC 9297)
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
  std::vector<uint8_t> payload;
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
  quic::Status send_trailers(uint64_t stream_id, std::span<const Field> fields);  // ends it
  // Received body bytes; *fin is set when the message is complete and fully read.
  size_t read_body(uint64_t stream_id, quic::MutBytes out, bool* fin);
  // Aborts both directions (RESET_STREAM + STOP_SENDING) with `code` (e.g. REQUEST_CANCELLED).
  quic::Status cancel(uint64_t stream_id, uint64_t code);
  quic::Status send_datagram(uint64_t stream_id, quic::Bytes payload);
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
    SendQueue out;
    Priority priority;
    bool priority_updated = false;           // PRIORITY_UPDATE wins over the field (RFC 9218 §7)
    std::optional<uint64_t> push_id;          // this is a push stream
    std::optional<uint64_t> blocked_promise;  // the blocked section is this PUSH_PROMISE's
  };
  struct Push {
    std::vector<Field> request;  // the promised request (empty: stream seen, promise not yet)
    bool promised = false;
    std::optional<uint64_t> stream;  // its push stream
    Priority priority;
  };
  struct UniIn {
    std::optional<uint64_t> type;
    uint8_t type_buf[8];
    size_t type_len = 0;
    uint8_t push_buf[8];  // a push stream's push ID, being read
    size_t push_len = 0;
  };

  // session.cc
  void open_critical_streams();
  void queue(SendQueue& q, uint64_t id);
  void flush(uint64_t id, SendQueue& q);
  void flush_all();
  void connection_error(const quic::Error& e);
  void connection_error(uint64_t code, std::string reason);
  void stream_error(uint64_t id, uint64_t code);
  void forget_request(uint64_t id);
  void push(Event e) { events_.push_back(std::move(e)); }
  void check_drained();
  quic::Result<std::vector<uint8_t>> encode_section(uint64_t id, std::span<const Field> fields);
  Request* find(uint64_t id);
  bool is_local(uint64_t id) const { return ((id & 1) != 0) == (role_ == Role::kServer); }
  void apply_priority(uint64_t id, const Priority& p);

  // session_recv.cc
  void read_stream(uint64_t id);
  void read_uni(uint64_t id);
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
  std::map<uint64_t, UniIn> uni_in_;  // peer uni streams whose type is being read or known
  quic::RangeSet ignored_uni_;        // peer uni streams (id / 4) we stopped reading
  std::map<uint64_t, Request> requests_;
  quic::RangeSet done_requests_;  // bidi streams (id / 4) finished or aborted
  uint64_t next_peer_bidi_ = 0;   // server: lowest client bidi stream ID not yet seen
  std::set<uint64_t> readable_;
  std::set<uint64_t> dirty_;  // request streams with queued bytes
  std::map<uint64_t, Priority> pending_priorities_;

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
  std::deque<Event> events_;
  size_t queued_datagrams_ = 0;
  std::vector<uint8_t> scratch_;
};

}  // namespace h3

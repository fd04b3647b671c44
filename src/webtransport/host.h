// WebTransport over HTTP/3 (draft-ietf-webtrans-http3), client and server, on one h3::Session.
// Sans-I/O like the layers below: the application drives the h3::Session as usual and hands
// every h3 event to Host::on_h3_event(), which consumes WebTransport's (CONNECT streams of
// sessions) and lets the rest through; then it drains Host::poll_event().
//
// The Host registers the upgrade tokens with the session (a SessionHandler per CONNECT
// stream, which forwards the h3 callbacks here), negotiates the draft version from both
// SETTINGS (codec.h), keeps per-session state (streams, flow control, datagrams, close) and
// per-stream receive buffers the application reads. It must outlive every poll of its
// h3::Session (declare it after the session so it is destroyed first).
//
// Files: host.cc (settings, sessions, capsules, close), host_streams.cc (streams, datagrams,
// flow control).
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/range_set.h"
#include "core/config.h"
#include "h3/session.h"
#include "webtransport/codec.h"

namespace webtransport {

// Peer-controlled bounds (each has a test driving past it).
inline constexpr uint64_t kDefaultMaxSessions = 100;            // per connection
inline constexpr size_t kDefaultMaxStreamBuffer = 256 * 1024;   // unread bytes per stream
inline constexpr size_t kDefaultMaxDatagramBytes = 256 * 1024;  // queued per session
inline constexpr size_t kDefaultMaxDatagrams = 1024;            // queued per session
// Peer streams read into our buffers at once (not read to the end by the application yet);
// further peer streams are paused as they open (their bytes wait in QUIC, whose stream limit
// holds the peer) until the application drains some.
inline constexpr size_t kMaxActivePeerStreams = 256;
// Reset codes of streams already forgotten that read() still reports (oldest dropped).
inline constexpr size_t kMaxRememberedResets = 256;
// A stream whose write() came up short is writable again once fewer bytes than this wait in
// its h3 send queue (and the session has credit).
inline constexpr size_t kWritableBelow = 128 * 1024;
// CONNECTs held until the client's SETTINGS arrive (draft §3.1 forbids processing earlier);
// beyond it they are refused with H3_REQUEST_REJECTED.
inline constexpr size_t kMaxHeldRequests = 64;

// Per-call outcomes of the Host's operations (quic::Error::code; never on the wire: above the
// varint range, like quic::kWouldBlock). kReset carries the peer's code in frame_type.
namespace status {
inline constexpr uint64_t kWouldBlock = quic::kWouldBlock;  // flow control, queue, limit
inline constexpr uint64_t kInvalid = ~uint64_t{0} - 1;      // misuse, or not allowed now
inline constexpr uint64_t kUnknown = ~uint64_t{0} - 2;      // no such session or stream
inline constexpr uint64_t kFinished = ~uint64_t{0} - 3;     // direction over, session closing
inline constexpr uint64_t kReset = ~uint64_t{0} - 4;        // the peer reset the stream
inline constexpr uint64_t kClosed = ~uint64_t{0} - 5;       // the connection is closed
}  // namespace status
inline std::unexpected<quic::Error> fail_with(uint64_t code, std::string reason,
                                              uint64_t detail = 0) {
  return std::unexpected(quic::Error{code, detail, std::move(reason), false});
}

struct Config {
  // Versions we offer (SETTINGS) and accept; the highest both sides offer is used.
  bool draft02 = true, draft07 = true, draft15 = true;
  // Server: concurrent sessions accepted (also the draft-07 setting); client: opened. Only one
  // is allowed when the peer does not do flow control (draft §5.1-5.2) and with draft-02.
  uint64_t max_sessions = kDefaultMaxSessions;
  // draft-15 flow control (§5): advertised when these are non-zero, used when the peer also
  // advertises some. Per session: streams the peer may open, body bytes it may send.
  uint64_t initial_max_streams_bidi = 100;
  uint64_t initial_max_streams_uni = 100;
  uint64_t initial_max_data = 4 << 20;
  size_t max_stream_buffer = kDefaultMaxStreamBuffer;
  size_t max_datagram_bytes = kDefaultMaxDatagramBytes;
  size_t max_datagrams = kDefaultMaxDatagrams;
  // Server: Origin values accepted (403 otherwise, draft §3.2); empty: any origin.
  std::vector<std::string> allowed_origins;
  // Client: application protocols offered in WT-Available-Protocols (§3.3), most preferred
  // first; require_protocol: a 2xx without a valid WT-Protocol ends the session (WT_ALPN_ERROR).
  std::vector<std::string> protocols;
  bool require_protocol = false;
};

// What an HTTP/3 session and its QUIC connection need for WebTransport: extended CONNECT,
// HTTP datagrams, session streams, our SETTINGS; DATAGRAM frames and RESET_STREAM_AT.
void configure_h3(h3::SessionConfig& c, const Config& wt);
void configure_transport(quic::ConnectionConfig& c);

enum class EventKind : uint8_t {
  kReady,             // the peer's SETTINGS: version() tells whether sessions are possible
  kRequest,           // server: session_id, fields; answer with accept() or reject()
  kEstablished,       // session_id (client: the 2xx response head in fields)
  kRejected,          // client: session_id, code = the status (0: the stream was reset)
  kStreamOpened,      // session_id, stream_id, bidi: a stream the peer opened
  kReadable,          // stream_id: read() has bytes or the end
  kWritable,          // stream_id: write() has room again
  kStreamReset,       // stream_id, code (app_error: a WebTransport application code)
  kStopSending,       // stream_id, code: the peer stopped reading; our side is reset
  kStreamsAvailable,  // session_id: the peer's stream limit grew (flow control)
  kDatagram,          // session_id: recv_datagram() has datagrams (signalled once)
  kDraining,          // session_id: WT_DRAIN_SESSION or GOAWAY received
  kClosed,            // session_id, code, reason; app_error: a WT_CLOSE_SESSION (or FIN)
};

struct Event {
  EventKind kind;
  uint64_t session_id = 0;
  uint64_t stream_id = 0;
  uint64_t code = 0;
  bool app_error = false;
  bool bidi = false;
  bool from_peer = false;
  std::string reason;
  std::vector<h3::Field> fields;
  // kRequest: the client's WT-Available-Protocols; kEstablished: the server's WT-Protocol.
  std::vector<std::string> protocols;
};

struct ReadResult {
  size_t bytes = 0;
  bool fin = false;
};

class SessionHandler;

class Host {
 public:
  Host(h3::Session& session, Config config);
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Every event of the h3 session goes here first; true: it was WebTransport's (consumed).
  bool on_h3_event(const h3::Event& e, quic::Instant now);
  std::optional<Event> poll_event();
  // kNone until the peer's SETTINGS arrived, or when no version is common.
  Version version() const { return version_; }
  bool flow_control() const { return flow_control_; }

  // --- client
  // Extended CONNECT for https://authority/path. Errors: not ready (no common version yet),
  // the session limit, GOAWAY.
  quic::Result<uint64_t> connect(std::string_view authority, std::string_view path,
                                 std::string_view origin, std::span<const h3::Field> extra = {});
  // --- server
  // `protocol`: one of the request's WT-Available-Protocols, sent as WT-Protocol (§3.3).
  quic::Status accept(uint64_t session_id, std::span<const h3::Field> extra = {},
                      std::string_view protocol = {});
  quic::Status reject(uint64_t session_id, uint16_t status);

  // --- both
  quic::Result<uint64_t> open_stream(uint64_t session_id, bool bidirectional);
  // Takes what the session's flow control and the stream's send queue allow (a short count
  // is a success; kWritable follows); fin once all of `data` is taken.
  quic::Result<size_t> write(uint64_t stream_id, Bytes data, bool fin);
  // Buffered bytes; fin with the last. Errors: kWouldBlock (nothing yet), kReset (the peer's
  // HTTP/3 code in frame_type), kFinished, kUnknown.
  quic::Result<ReadResult> read(uint64_t stream_id, quic::MutBytes out);
  // Aborts both directions with a WebTransport application error code (§4.4 mapping).
  quic::Status reset_stream(uint64_t stream_id, uint32_t code);
  quic::Status send_datagram(uint64_t session_id, Bytes payload,
                             std::optional<quic::Instant> deadline = std::nullopt);
  // The oldest queued datagram of the session, copied into `out`; its full length returned.
  std::optional<size_t> recv_datagram(uint64_t session_id, quic::MutBytes out);
  // WT_CLOSE_SESSION (code, reason cut to 1024 bytes at a UTF-8 boundary) and FIN (§6).
  quic::Status close_session(uint64_t session_id, uint32_t code, std::string_view reason);
  quic::Status drain_session(uint64_t session_id);  // WT_DRAIN_SESSION (§4.6)

  size_t session_count() const { return sessions_.size(); }
  bool session_open(uint64_t session_id) const;
  size_t datagrams_dropped() const { return datagrams_dropped_; }

 private:
  friend class SessionHandler;
  enum class State : uint8_t { kHeld, kRequested, kConnecting, kOpen, kClosing };
  struct Stream {
    uint64_t session_id;
    bool bidi, local;
    std::vector<uint8_t> buf;
    size_t off = 0;
    bool fin = false;        // the peer's FIN is buffered
    bool recv_done = false;  // FIN read, reset, or nothing to receive
    bool send_done = false;  // FIN written, reset, stopped, or nothing to send
    bool paused = false;
    bool held_back = false;  // paused at open: kMaxActivePeerStreams reached
    bool announced = false;  // kStreamOpened given (peer streams)
    std::optional<uint64_t> reset_code;
  };
  struct Flow {  // draft-15 §5, one direction's counters per session
    uint64_t max_data = 0, data = 0;
    uint64_t max_streams[2] = {0, 0}, streams[2] = {0, 0};  // [0] bidi, [1] uni
    uint64_t closed[2] = {0, 0};                            // receive side: peer streams finished
    uint64_t consumed = 0;                 // receive side: bytes the application read
    std::optional<uint64_t> blocked_sent;  // send side: limit of our last *_BLOCKED capsule
  };
  struct SessionState {
    State state = State::kHeld;
    std::vector<h3::Field> request;  // server, kHeld / kRequested
    std::set<uint64_t> streams;
    Flow send, recv;
    std::deque<std::vector<uint8_t>> datagrams;
    size_t datagram_bytes = 0;
    bool datagram_signalled = false;
    bool close_received = false;
    bool draft02_offer = false;        // the client sent sec-webtransport-http3-draft02
    std::vector<std::string> offered;  // server: the client's WT-Available-Protocols
  };

  // host.cc
  std::unique_ptr<h3::StreamHandler> make_handler(uint64_t id);
  void init_receive_limits(SessionState& s) const;
  void on_settings();
  void process_request(uint64_t id, SessionState& s);
  bool peer_supports(Version v) const;
  uint64_t session_limit() const;
  size_t live_sessions() const;
  void on_established(uint64_t id);
  void on_response(uint64_t id, const std::vector<h3::Field>& fields);
  void on_capsule(uint64_t id, uint64_t type, Bytes value);
  void on_skipped_capsules(uint64_t id);
  void on_flow_capsule(uint64_t id, SessionState& s, uint64_t type, Bytes value);
  void on_handler_closed(uint64_t id, uint64_t code);
  void end_session(uint64_t id, SessionState& s);
  void abort_session(uint64_t id, uint64_t h3_code);
  void forget_session(uint64_t id);  // with its streams' records
  void push(Event e) { events_.push_back(std::move(e)); }
  SessionState* find_session(uint64_t id);
  SessionState* usable_session(uint64_t id);
  // host_streams.cc
  void on_stream_opened(uint64_t session_id, uint64_t id, bool bidi);
  void on_stream_data(uint64_t session_id, uint64_t id, Bytes data, bool fin);
  void on_stream_reset(uint64_t id, uint64_t code);
  void on_stop_sending(uint64_t id, uint64_t code);
  void on_datagram(uint64_t session_id, Bytes payload);
  void announce(uint64_t id, Stream& st);
  void announce_streams(uint64_t session_id, SessionState& s);
  void maybe_forget(uint64_t id);
  void credit_read(uint64_t session_id, SessionState& s, size_t n);
  size_t active_peer_streams() const;
  void resume_held_back();
  void remember_reset(uint64_t id, uint64_t code);
  void send_flow_capsule(uint64_t session_id, uint64_t type, uint64_t value);
  void check_writable();

  h3::Session& h3_;
  Config config_;
  Version version_ = Version::kNone;
  bool settings_seen_ = false;
  bool flow_control_ = false;
  uint64_t peer_max_sessions_ = 1;
  Flow peer_initial_;  // the peer's initial limits (its SETTINGS) for our sending side
  quic::Instant now_{};
  std::map<uint64_t, SessionState> sessions_;
  std::map<uint64_t, Stream> streams_;
  std::set<uint64_t> want_writable_;            // streams whose last write came up short
  std::map<uint64_t, uint64_t> recent_resets_;  // stream -> code, ≤ kMaxRememberedResets
  std::deque<uint64_t> reset_order_;
  quic::RangeSet connect_streams_;  // id / 4 of every CONNECT stream of ours (events consumed)
  std::deque<Event> events_;
  size_t datagrams_dropped_ = 0;
};

}  // namespace webtransport

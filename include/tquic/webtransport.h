// WebTransport over HTTP/3 (draft-ietf-webtrans-http3), client and server, on a
// tquic::Connection. Sans-I/O like the rest: after the endpoint took input (datagrams,
// timeouts), call drive(now); poll the events and answer them; call drive(now) again after
// acting so queued bytes leave. The object runs HTTP/3 on the connection itself (do not also
// make an h3::Session on it); the connection is for WebTransport: a server answers ordinary
// requests with 404, and the client sends none.
//
// Versions: the draft text with SETTINGS_WT_ENABLED (draft-15, ":protocol webtransport-h3")
// and the older drafts browsers speak, draft-07 and draft-02 (Chromium's default,
// ":protocol webtransport"); both sides advertise every enabled version and the highest common
// one is used. Sessions, streams and datagrams behave the same in all three; flow control
// (and with it more than one session per connection) exists in draft-15 and, as a session
// count, in draft-07. See docs/webtransport.md.
//
// Errors follow docs/api.md: per-call Result codes (would_block: flow control, stream or
// session limit, nothing to read; unknown_stream: no such session or stream; stream_reset:
// the peer reset it, app_code = its WebTransport code when it had one; finished: this
// direction or the session is over; invalid_argument: misuse; connection_closed), and the
// session_closed / closed events for how sessions and the connection ended.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tquic/config.h"
#include "tquic/connection.h"
#include "tquic/error.h"
#include "tquic/h3.h"
#include "tquic/time.h"

namespace tquic::wt {

using Header = h3::Header;
using Role = h3::Role;

enum class Version : uint8_t { none = 0, draft02 = 2, draft07 = 7, draft15 = 15 };

struct Options {
  bool draft02 = true, draft07 = true, draft15 = true;  // versions offered and accepted
  // Server: concurrent sessions accepted (the draft-07 setting too); client: opened. One only
  // when the peer does no flow control, and with draft-02.
  uint64_t max_sessions = 100;
  // draft-15 flow control, per session: streams and body bytes the peer may send us; 0 for
  // all three: no flow control (then one session per connection).
  uint64_t initial_max_streams_bidi = 100;
  uint64_t initial_max_streams_uni = 100;
  uint64_t initial_max_data = 4 << 20;
  // Bounds on what a peer can make us hold: unread bytes per stream (reading pauses beyond,
  // QUIC flow control holds the rest), queued datagrams per session (oldest dropped).
  size_t max_stream_buffer = 256 * 1024;
  size_t max_datagram_bytes = 256 * 1024;
  size_t max_datagrams = 1024;
  // Server: accepted Origin values (others get 403); empty: any.
  std::vector<std::string> allowed_origins;
  // Client: application protocols offered (WT-Available-Protocols), most preferred first;
  // require_protocol: a 2xx without a valid WT-Protocol ends the session with WT_ALPN_ERROR.
  std::vector<std::string> protocols;
  bool require_protocol = false;
};

// Sets what the QUIC connection needs for WebTransport (draft §3.1): DATAGRAM frames
// (max_datagram_frame_size, 65535 unless set) and RESET_STREAM_AT. Use it on both sides'
// EndpointOptions::connection.
void configure(ConnectionOptions& options);

enum class EventKind : uint8_t {
  ready,                // the peer's SETTINGS: version() says whether sessions are possible
  session_request,      // server: session_id, headers (:path, origin, ...): accept() or reject()
  session_established,  // client: session_id, headers = the 2xx response
  session_rejected,     // client: session_id, code = the status (0: refused without answer)
  stream_opened,        // session_id, stream_id, bidirectional: the peer opened a stream
  stream_readable,      // stream_id: read() until would_block
  stream_writable,      // stream_id: write() has room again after a short count
  stream_reset,         // stream_id, code (app_error: a WebTransport code; else HTTP/3)
  stop_sending,         // stream_id, code: the peer stopped reading; our side was reset
  streams_available,    // session_id: the peer raised its stream limit
  datagram,             // session_id: recv_datagram() until would_block (signalled once)
  session_draining,     // session_id: the peer asked to wind the session down (or GOAWAY)
  session_closed,       // session_id, code, reason; app_error: WT_CLOSE_SESSION (or clean end)
  closed,               // the connection ended: code, reason
};

struct Event {
  EventKind kind = EventKind::closed;
  uint64_t session_id = 0;
  uint64_t stream_id = 0;
  uint64_t code = 0;
  bool app_error = false;
  bool bidirectional = false;
  std::string reason;
  std::vector<Header> headers;
  // session_request: the client's offered protocols; session_established: the server's pick.
  std::vector<std::string> protocols;
};

class WebTransport {
 public:
  // Starts HTTP/3 with WebTransport on `connection` (whose options went through configure()).
  // Errors: connection_closed.
  [[nodiscard]] static Result<WebTransport> create(Connection connection, Role role,
                                                   const Options& options = {});
  WebTransport(WebTransport&&) noexcept;
  WebTransport& operator=(WebTransport&&) noexcept;
  ~WebTransport();

  // Feeds the connection's pending transport events through HTTP/3 and sends what is due.
  void drive(Instant now);
  [[nodiscard]] std::optional<Event> poll_event();
  Version version() const;  // none until the peer's SETTINGS (or no common version)

  // Client: an extended CONNECT for https://authority/path. Errors: would_block (SETTINGS not
  // received yet, session or stream limit), invalid_argument (no common version, server
  // role, GOAWAY received), connection_closed.
  [[nodiscard]] Result<uint64_t> connect(std::string_view authority, std::string_view path,
                                         std::string_view origin = {},
                                         std::span<const Header> extra = {});
  // Server: answers a session_request with 200 (plus `extra`, and WT-Protocol when `protocol`,
  // one of the request's protocols, is given), or with a 3xx-5xx status. Errors:
  // unknown_stream (no pending request), invalid_argument (a protocol the client did not offer).
  [[nodiscard]] Result<void> accept(uint64_t session_id, std::span<const Header> extra = {},
                                    std::string_view protocol = {});
  [[nodiscard]] Result<void> reject(uint64_t session_id, uint16_t status);

  // Errors: unknown_stream (no usable session), would_block (the session's or QUIC's stream
  // limit), connection_closed.
  [[nodiscard]] Result<uint64_t> open_stream(uint64_t session_id, bool bidirectional);
  // A short count (flow control, send queue) is a success; would_block when nothing was
  // taken. Errors: unknown_stream, finished, connection_closed.
  [[nodiscard]] Result<size_t> write(uint64_t stream_id, std::span<const uint8_t> data, bool fin);
  // Errors: would_block, stream_reset, finished, unknown_stream, invalid_argument (empty
  // buffer, or our own unidirectional stream).
  [[nodiscard]] Result<ReadResult> read(uint64_t stream_id, std::span<uint8_t> out);
  // Aborts both directions with a WebTransport application error code (mapped to HTTP/3 as
  // the draft says; the stream header stays reliable through RESET_STREAM_AT).
  [[nodiscard]] Result<void> reset_stream(uint64_t stream_id, uint32_t code);
  [[nodiscard]] Result<void> send_datagram(uint64_t session_id, std::span<const uint8_t> payload,
                                           std::optional<Instant> deadline = std::nullopt);
  // The oldest queued datagram of the session; returns its length. Errors: would_block (none),
  // invalid_argument (`out` too small: truncated and gone).
  [[nodiscard]] Result<size_t> recv_datagram(uint64_t session_id, std::span<uint8_t> out);
  // WT_CLOSE_SESSION with `code` and `reason` (cut to 1024 bytes at a UTF-8 boundary), then
  // FIN; the session's streams end with WT_SESSION_GONE. The peer gets session_closed.
  [[nodiscard]] Result<void> close_session(uint64_t session_id, uint32_t code,
                                           std::string_view reason);
  [[nodiscard]] Result<void> drain_session(uint64_t session_id);  // WT_DRAIN_SESSION

  bool is_closed() const;
  Connection connection() const;

 private:
  struct Impl;
  explicit WebTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tquic::wt

// HTTP/3 (RFC 9114) over a tquic::Connection, client or server, with HTTP datagrams
// (RFC 9297). Sans-I/O like the rest: after the endpoint took input (datagrams, timeouts),
// call drive(now); then poll the session's events and answer them. The session consumes the
// connection's transport events, so do not call Connection::poll_event() yourself.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tquic/connection.h"
#include "tquic/error.h"
#include "tquic/time.h"

namespace tquic::h3 {

struct Header {
  std::string name;  // lowercase; pseudo-headers start with ':'
  std::string value;
};

enum class Role : uint8_t { client, server };

struct SessionOptions {
  // HTTP datagrams (RFC 9297); needs ConnectionOptions::max_datagram_frame_size > 0 on both
  // sides.
  bool enable_datagrams = false;
  bool enable_connect_protocol = false;  // extended CONNECT (RFC 9220)
  uint64_t max_field_section_size = 64 * 1024;
  size_t max_buffered_body = 256 * 1024;  // unread body bytes buffered per stream
  size_t max_pending_send = 256 * 1024;   // unsent body bytes accepted per stream
};

enum class EventKind : uint8_t {
  settings,      // the peer's SETTINGS arrived
  headers,       // stream_id, headers: a request (server) or a response head (client)
  data,          // stream_id: read_body() has bytes
  trailers,      // stream_id, headers
  finished,      // stream_id: the peer's message is complete; read_body() returns the rest
  reset,         // stream_id, code: the stream was aborted (by the peer or by us)
  stop_sending,  // stream_id, code: the peer no longer wants our data
  writable,      // stream_id: send_body() has room again after a short count
  goaway,        // code: the peer's GOAWAY id
  datagram,      // HTTP datagrams wait: read them with recv_datagram() until would_block
  closed,        // terminal: code, reason
};

struct Event {
  EventKind kind = EventKind::closed;
  uint64_t stream_id = 0;
  uint64_t code = 0;
  std::vector<Header> headers;
  std::string reason;
};

// An HTTP datagram read with Session::recv_datagram.
struct Datagram {
  uint64_t stream_id = 0;  // the request it belongs to
  size_t length = 0;       // bytes written into the caller's buffer
};

class Session {
 public:
  // Starts HTTP/3 on `connection` (opens the control and QPACK streams). The connection's
  // Endpoint must outlive the session. Errors: connection_closed.
  [[nodiscard]] static Result<Session> create(Connection connection, Role role,
                                              const SessionOptions& options = {});
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  // Feeds the connection's pending transport events to the session and sends what is due.
  void drive(Instant now);
  [[nodiscard]] std::optional<Event> poll_event();

  // Client: opens a request stream with `headers` (:method, :scheme, :authority, :path) and an
  // optional body; end_stream sends FIN. Errors: would_block (stream limit), invalid_argument
  // (malformed headers, GOAWAY received, server role), connection_closed.
  [[nodiscard]] Result<uint64_t> send_request(std::span<const Header> headers,
                                              std::span<const uint8_t> body = {},
                                              bool end_stream = true);
  // Server: response head (and optional body) on a request stream. Errors: invalid_argument
  // (no such request, head already sent, malformed, client role), connection_closed.
  [[nodiscard]] Result<void> send_response(uint64_t stream_id, std::span<const Header> headers,
                                           std::span<const uint8_t> body = {},
                                           bool end_stream = true);
  // Body bytes as one DATA frame; returns how many were accepted (writable follows a short
  // count). fin ends the message once all of `data` is accepted. Errors: would_block,
  // invalid_argument (no such request, head not sent yet, already ended), connection_closed.
  [[nodiscard]] Result<size_t> send_body(uint64_t stream_id, std::span<const uint8_t> data,
                                         bool fin);
  // Trailers; they end the message. Errors: invalid_argument (no such request, not now),
  // connection_closed.
  [[nodiscard]] Result<void> send_trailers(uint64_t stream_id, std::span<const Header> headers);
  // Received body bytes; fin once the message is complete and fully read (later calls return
  // 0 bytes with fin again). Errors: would_block (nothing buffered yet; also for a stream
  // this session does not know), invalid_argument (empty buffer), connection_closed.
  [[nodiscard]] Result<ReadResult> read_body(uint64_t stream_id, std::span<uint8_t> out);
  // Aborts both directions of a request with an HTTP/3 error code (e.g. 0x10c,
  // H3_REQUEST_CANCELLED). Errors: unknown_stream, connection_closed.
  [[nodiscard]] Result<void> cancel(uint64_t stream_id, uint64_t code);
  // An HTTP datagram bound to request `stream_id`, dropped by the transport if still queued
  // at `deadline`. Errors: would_block (the transport's send queue is full), invalid_argument
  // (not negotiated, too large, unknown request), connection_closed.
  [[nodiscard]] Result<void> send_datagram(uint64_t stream_id, std::span<const uint8_t> payload,
                                           std::optional<Instant> deadline = std::nullopt);
  // The oldest received HTTP datagram, copied into `out` (no allocation). Errors: would_block
  // (none queued), invalid_argument (`out` too small: the datagram was truncated and is gone),
  // connection_closed.
  [[nodiscard]] Result<Datagram> recv_datagram(std::span<uint8_t> out);
  // Graceful shutdown (GOAWAY); the connection closes once requests are done.
  void goaway(Instant now);
  void close(uint64_t code, std::string_view reason, Instant now);

  bool datagrams_enabled() const;  // both sides sent H3_DATAGRAM=1
  bool is_closed() const;
  Connection connection() const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tquic::h3

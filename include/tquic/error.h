// The TQUIC public error model. Three kinds of failure never share a type:
//  - Error: the result of one call (would block, unknown stream, stream reset by the peer ...);
//    the connection is fine unless the code says connection_closed.
//  - TransportError: why a connection ended (RFC 9000 §20 code, frame type, reason, whether an
//    application code, whether it came from the peer). Reported by the `closed` event and
//    Connection::close_error(); never returned by a stream call.
//  - IoError: a system call of the I/O driver failed (errno + what was attempted).
// Every result-returning function is [[nodiscard]] and returns std::expected.
#pragma once

#include <cstdint>
#include <expected>
#include <string>

namespace tquic {

enum class Errc : uint8_t {
  // No room now: stream or connection flow-control credit, the stream's send buffer, the peer's
  // stream limit, or nothing to read yet. Retry after the matching event (stream_writable,
  // streams_available, stream_readable).
  would_block = 1,
  // The stream ID was never opened (by us or by the peer).
  unknown_stream,
  // The peer abandoned its sending part (RESET_STREAM); Error::app_code holds its code.
  stream_reset,
  // The peer asked us to stop sending (STOP_SENDING); our sending part was reset with the
  // peer's code, which Error::app_code holds.
  stop_sending,
  // This direction of the stream is over: the end of stream was already read, FIN was already
  // written, we reset or stopped it ourselves, or the stream's state has been freed.
  finished,
  // API misuse: a bad argument, a call in a state that forbids it (for example a write on a
  // receive-only stream, a datagram larger than max_datagram_payload()).
  invalid_argument,
  // The connection is closing, draining or gone; close_error() says why.
  connection_closed,
};

struct Error {
  Errc code = Errc::invalid_argument;
  uint64_t app_code = 0;  // stream_reset / stop_sending: the peer's application error code
  std::string detail;     // human-readable context (never needed to act on the error)
};

template <class T>
using Result = std::expected<T, Error>;

// Why a connection ended.
struct TransportError {
  // RFC 9000 §20.1 transport code (application == false) or the application's code.
  uint64_t code = 0;
  uint64_t frame_type = 0;  // the frame that triggered a transport error, 0 when none/unknown
  std::string reason;
  bool application = false;  // CONNECTION_CLOSE of type 0x1d (an application close)
  bool from_peer = false;    // the peer closed (CONNECTION_CLOSE received, stateless reset)
};

// A failed system call of the I/O part (io.h).
struct IoError {
  int errno_value = 0;  // errno right after the failing call; 0 when not known
  std::string what;     // what was attempted, with the system's message
};

// "would_block", "stream_reset" ...
const char* errc_name(Errc code);
// One line for logs: "stream_reset (app code 7): ...".
std::string to_string(const Error& error);
// "transport error FLOW_CONTROL_ERROR (0x3) from the peer in frame 0x8: reason".
std::string to_string(const TransportError& error);

}  // namespace tquic

// Extension points of h3::Session for protocols built on extended CONNECT (RFC 9220): the
// capsule-protocol tunnels (CONNECT-UDP, RFC 9298; CONNECT-IP, RFC 9484) and WebTransport-style
// sessions that own further streams (draft-ietf-webtrans-http3 §4.2-4.3).
//
// The application registers a HandlerFactory per :protocol token with Session::register_protocol.
// When an extended CONNECT with that token is sent (client) or received (server), the session
// asks the factory for a StreamHandler for that stream; from then on the handler owns the
// stream's protocol logic: the capsules of its DATA (once the stream is established by a 2xx
// response), its HTTP datagrams, and, if it owns_streams(), the bidirectional (0x41) and
// unidirectional (0x54) streams that name its stream ID as their session ID.
//
// Handlers are called from inside the session's own entry points (poll(), on_transport_event(),
// and send_request / send_response, which create and establish them). They act only through
// the Outbox they are handed and must not call the Session: the Outbox queues capsules and
// stream bytes (sent by the next poll()) and hands datagrams to the transport; it never reads,
// polls or calls another handler, so a handler cannot re-enter the session. The application
// keeps driving the session as before; ordinary requests are untouched.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "common/time.h"
#include "core/datagram_queue.h"  // DatagramPriority
#include "h3/capsule.h"
#include "h3/fields.h"

namespace h3 {

// WebTransport over HTTP/3 codepoints the session's stream routing uses.
namespace wt {
inline constexpr uint64_t kBidiSignal = 0x41;     // WT_STREAM, first bytes of a bidi stream
inline constexpr uint64_t kUniStreamType = 0x54;  // unidirectional stream type
inline constexpr uint64_t kBufferedStreamRejected = 0x3994bd84;
inline constexpr uint64_t kSessionGone = 0x170d7b68;
}  // namespace wt

class Session;

// A handler's (or the application's) way to act on its CONNECT stream; see the file comment.
class Outbox {
 public:
  uint64_t stream_id() const { return id_; }
  // One capsule in a DATA frame on the CONNECT stream.
  quic::Status send_capsule(uint64_t type, quic::Bytes value);
  // An HTTP datagram of this stream (RFC 9297 §2.1), dropped by the transport if still queued
  // at `deadline`; kInteractive ones go first, on the lowest-RTT path (Connection).
  quic::Status send_datagram(quic::Bytes payload,
                             std::optional<quic::Instant> deadline = std::nullopt,
                             quic::DatagramPriority priority = quic::DatagramPriority::kNormal) {
    return send_datagram(std::span<const quic::Bytes>(&payload, 1), deadline, priority);
  }
  // The same, the payload in parts (a context ID before a packet), joined without a copy of
  // their own (Session::send_datagram).
  quic::Status send_datagram(std::span<const quic::Bytes> payload,
                             std::optional<quic::Instant> deadline = std::nullopt,
                             quic::DatagramPriority priority = quic::DatagramPriority::kNormal);
  // Ends our side of the CONNECT stream after what is queued.
  quic::Status finish();

  // --- streams of a handler that owns_streams()
  // Opens a stream naming this session (0x41 / 0x54 + session ID first); returns its ID.
  quic::Result<uint64_t> open_stream(bool bidirectional);
  // Queues up to SessionConfig::max_pending_send bytes; returns how many were taken.
  quic::Result<size_t> write(uint64_t stream_id, quic::Bytes data, bool fin);
  // Aborts both directions with `code` (RESET_STREAM and STOP_SENDING).
  quic::Status reset(uint64_t stream_id, uint64_t code);
  // Stops reading a stream (its data waits in the transport, under QUIC flow control) until
  // resume(); the handler's own backpressure.
  quic::Status pause(uint64_t stream_id);
  quic::Status resume(uint64_t stream_id);
  // Bytes written to one of this handler's streams that the transport has not taken yet (0
  // for a stream that is not ours): a handler's signal that write() has room again.
  size_t queued(uint64_t stream_id) const;

 private:
  friend class Session;
  Outbox(Session& s, uint64_t id) : s_(s), id_(id) {}
  Session& s_;
  uint64_t id_;
};

class StreamHandler {
 public:
  virtual ~StreamHandler() = default;

  // Capsule types delivered to on_capsule (DATAGRAM capsules go to on_datagram); every other
  // type is skipped (RFC 9297 §3.2). The span must outlive the handler.
  virtual std::span<const CapsuleType> capsule_types() const { return known_capsule_types(); }
  // The stream is established: a 2xx response was sent (server) or received (client). Capsule
  // parsing starts here; bytes the peer sent earlier are parsed now (RFC 9297 §3.1).
  virtual void on_established(Outbox&) {}
  virtual void on_capsule(Outbox&, uint64_t /*type*/, quic::Bytes /*value*/) {}
  // Capsules of types not in capsule_types() were skipped (RFC 9297 §3.2), before the next
  // on_capsule if one follows: for a protocol that forbids any data at some point
  // (WebTransport after WT_CLOSE_SESSION).
  virtual void on_skipped_capsules(Outbox&) {}
  // An HTTP datagram of this stream, from a QUIC DATAGRAM frame or a DATAGRAM capsule. The
  // span is valid during the call only.
  virtual void on_datagram(Outbox&, quic::Bytes /*payload*/) {}

  // --- WebTransport-style sessions
  virtual bool owns_streams() const { return false; }
  virtual void on_stream_opened(Outbox&, uint64_t /*id*/, bool /*bidirectional*/) {}
  // Bytes after the stream header; fin on the last call. Valid during the call only.
  virtual void on_stream_data(Outbox&, uint64_t /*id*/, quic::Bytes /*data*/, bool /*fin*/) {}
  // The peer reset its side (RESET_STREAM) or asked us to stop (STOP_SENDING; our side is then
  // reset with the same code, which the session does).
  virtual void on_stream_reset(Outbox&, uint64_t /*id*/, uint64_t /*code*/) {}
  virtual void on_stream_stop_sending(Outbox&, uint64_t /*id*/, uint64_t /*code*/) {}

  // Last call: the CONNECT stream is over. code 0: it ended cleanly (a FIN from the peer, or
  // both sides done); H3_REQUEST_REJECTED: a non-2xx final response; otherwise the reset or
  // stream error code. The session resets the streams this handler owned (WT_SESSION_GONE).
  virtual void on_closed(uint64_t /*code*/) {}
};

// Called with the stream ID and the request fields of an extended CONNECT carrying the
// registered :protocol; nullptr leaves the stream an ordinary request.
using HandlerFactory =
    std::function<std::unique_ptr<StreamHandler>(uint64_t stream_id, std::span<const Field>)>;

}  // namespace h3

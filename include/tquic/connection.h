// A QUIC connection: a small copyable handle onto a connection owned by its Endpoint. It stays
// usable while the Endpoint lives; once the connection has been reaped
// (Endpoint::reap_closed), every call returns Errc::connection_closed (or an empty value).
// Not thread-safe: use an Endpoint and its connections from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tquic/address.h"
#include "tquic/error.h"
#include "tquic/events.h"
#include "tquic/info.h"
#include "tquic/time.h"

namespace tquic {

namespace detail {
class EndpointCore;
}

struct ReadResult {
  size_t bytes = 0;
  bool fin = false;  // this read delivered the end of the stream
};

class Connection {
 public:
  // A stable identifier, unique within its Endpoint.
  uint64_t id() const { return id_; }
  friend bool operator==(const Connection& a, const Connection& b) {
    return a.core_ == b.core_ && a.id_ == b.id_;
  }

  // The next event, oldest first; nullopt when none is pending. Do not mix with
  // h3::Session::drive(), which consumes this connection's events itself.
  [[nodiscard]] std::optional<Event> poll_event();

  // --- streams (stream IDs as in RFC 9000 §2.1: bit 0 server-initiated, bit 1 unidirectional)
  // Opens a stream. would_block: the peer's stream limit is reached (wait for
  // streams_available); connection_closed.
  [[nodiscard]] Result<uint64_t> open_stream(bool bidirectional);
  // Queues bytes; returns how many were accepted (a short count when the send buffer fills).
  // fin ends the stream once all of `data` is accepted. Errors: would_block (nothing accepted:
  // wait for stream_writable), unknown_stream, stop_sending (the peer's code), finished (FIN
  // already written or the stream reset by us), invalid_argument (a receive-only stream),
  // connection_closed.
  [[nodiscard]] Result<size_t> stream_write(uint64_t stream_id, std::span<const uint8_t> data,
                                            bool fin = false);
  // Reads in-order bytes. Errors: would_block (nothing to read yet), unknown_stream,
  // stream_reset (the peer's code), finished (the end was already read, or we stopped
  // reading), invalid_argument (a send-only stream, an empty buffer), connection_closed.
  [[nodiscard]] Result<ReadResult> stream_read(uint64_t stream_id, std::span<uint8_t> out);
  // Zero-copy forms of the two, for bulk data: no copy through a buffer of the caller's.
  // `fill(std::span<uint8_t> dst) -> size_t` writes up to max bytes straight into the
  // stream's send buffer (one call, or two where it wraps) and returns how many it wrote;
  // `take(std::span<const std::span<const uint8_t>> spans) -> size_t` is handed received
  // bytes in place as consecutive spans (a writev's worth: up to 16 blocks of 4 KiB per call;
  // valid only during the call) and returns how many it consumed from their start. Writing
  // or taking fewer than offered ends the call there. Errors as for stream_write /
  // stream_read (max == 0 on a read is invalid_argument, like an empty buffer).
  template <class Fill>
  [[nodiscard]] Result<size_t> stream_write_with(uint64_t stream_id, size_t max, Fill&& fill,
                                                 bool fin = false) {
    return write_with(stream_id, max, &invoke<std::remove_reference_t<Fill>, std::span<uint8_t>>,
                      context(fill), fin);
  }
  template <class Take>
  [[nodiscard]] Result<ReadResult> stream_read_with(uint64_t stream_id, size_t max, Take&& take) {
    return read_with(stream_id, max, &invoke<std::remove_reference_t<Take>, Spans>, context(take));
  }
  // Abandons our sending part (RESET_STREAM with app_code). Errors: unknown_stream, finished
  // (already reset or everything acknowledged), stop_sending, invalid_argument (receive-only),
  // connection_closed.
  [[nodiscard]] Result<void> stream_reset(uint64_t stream_id, uint64_t app_code);
  // Asks the peer to stop sending (STOP_SENDING with app_code); unread data is discarded.
  // Errors: unknown_stream, finished (all data already arrived or was read, or already
  // stopped), stream_reset (the peer reset it first), invalid_argument (send-only),
  // connection_closed.
  [[nodiscard]] Result<void> stream_stop_sending(uint64_t stream_id, uint64_t app_code);
  // RFC 9218 priority of our sending part: urgency 0-7 (lower first), incremental streams
  // share round robin. Errors: invalid_argument (urgency > 7, receive-only), unknown_stream,
  // finished, connection_closed.
  [[nodiscard]] Result<void> set_stream_priority(uint64_t stream_id, uint8_t urgency,
                                                 bool incremental);

  // --- DATAGRAM frames (RFC 9221): unreliable; queues bounded in bytes (Config).
  // Queues a copy of `data`. With a deadline the datagram is dropped if still queued at that
  // time. Errors: would_block (the send queue is full: nothing older is dropped; wait for
  // datagrams_writable), invalid_argument (larger than max_datagram_payload(), or not
  // negotiated: payload 0), connection_closed.
  [[nodiscard]] Result<void> send_datagram(std::span<const uint8_t> data,
                                           std::optional<Instant> deadline = std::nullopt);
  // Moves the oldest received datagram into `out` (no allocation) and returns its size.
  // Errors: would_block (none queued), invalid_argument (`out` is smaller than the datagram,
  // which stays queued; next_datagram_size() tells its size), connection_closed.
  [[nodiscard]] Result<size_t> recv_datagram(std::span<uint8_t> out);
  [[nodiscard]] std::optional<size_t> next_datagram_size() const;
  // Convenience (allocates): the oldest received datagram; nullopt when none is queued.
  [[nodiscard]] std::optional<std::vector<uint8_t>> recv_datagram();
  // Largest payload send_datagram accepts now (0 before the handshake or without DATAGRAM).
  size_t max_datagram_payload() const;

  // --- paths (multipath-21 when negotiated; migration for a single-path client)
  // Client: opens an extra path (it waits until multipath is negotiated and the handshake
  // confirmed). Errors: invalid_argument (multipath off, server side, limits), connection_closed.
  [[nodiscard]] Result<void> add_path(const Address& local, const Address& remote,
                                      bool backup = false);
  // Abandons a path. Errors: invalid_argument (unknown or last path), connection_closed.
  [[nodiscard]] Result<void> abandon_path(uint64_t path_id, uint64_t app_code = 0);
  // Marks a path backup or available and tells the peer. Errors: invalid_argument,
  // connection_closed.
  [[nodiscard]] Result<void> set_path_backup(uint64_t path_id, bool backup);
  // How often this idle path is sent a PING (multipath): 100 ms to 600 s, or 0 for the
  // connection-wide interval (1 s). A path reopened on the same addresses after a failure keeps
  // it. In force: at most half the idle timeout (PathInfo::keepalive). Errors: invalid_argument
  // (unknown or closed path, out of range), connection_closed.
  [[nodiscard]] Result<void> set_path_keepalive(uint64_t path_id, Duration interval);
  // Client: moves path 0 to a new local address (RFC 9000 §9.2). Errors: invalid_argument,
  // connection_closed.
  [[nodiscard]] Result<void> migrate(const Address& new_local);

  // --- lifecycle
  // Closes with an application error code (CONNECTION_CLOSE 0x1d); the closed event follows.
  void close(uint64_t app_code, std::string_view reason, Instant now);
  bool handshake_complete() const;
  // Closing, draining or closed (or reaped).
  bool is_closed() const;
  // Why the connection ended; nullopt while it is open (and after it was reaped).
  std::optional<TransportError> close_error() const;
  // A snapshot of the connection's and its paths' figures. Errors: connection_closed once the
  // connection has been reaped.
  [[nodiscard]] Result<ConnectionInfo> info() const;
  // Client: the latest TLS session ticket and NEW_TOKEN token, to pass in ConnectParams of a
  // later connection to the same server (resumption, 0-RTT, no Retry). Empty until received.
  std::vector<uint8_t> session_ticket() const;
  std::vector<uint8_t> new_token() const;

 private:
  friend class detail::EndpointCore;
  Connection(detail::EndpointCore* core, uint64_t id) : core_(core), id_(id) {}
  template <class F, class Span>
  static size_t invoke(void* f, Span bytes) {
    return static_cast<size_t>((*static_cast<F*>(f))(bytes));
  }
  template <class F>  // (a const callable too: invoke casts back to its own type)
  static void* context(F& f) {
    return const_cast<void*>(static_cast<const void*>(&f));
  }
  using FillFn = size_t (*)(void*, std::span<uint8_t>);
  using Spans = std::span<const std::span<const uint8_t>>;
  using TakeFn = size_t (*)(void*, Spans);
  Result<size_t> write_with(uint64_t stream_id, size_t max, FillFn fill, void* ctx, bool fin);
  Result<ReadResult> read_with(uint64_t stream_id, size_t max, TakeFn take, void* ctx);
  detail::EndpointCore* core_ = nullptr;
  uint64_t id_ = 0;
};

}  // namespace tquic

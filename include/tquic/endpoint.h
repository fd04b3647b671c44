// A sans-I/O QUIC endpoint: all connections of one UDP socket (or of several, for multipath).
// The caller hands it datagrams with their addresses and the current time, asks it for
// datagrams to send, and wakes it at next_timeout(). It owns no thread, socket or clock; the
// io::Driver (io.h) runs it over real UDP sockets, or the application drives it itself.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "tquic/address.h"
#include "tquic/config.h"
#include "tquic/connection.h"
#include "tquic/error.h"
#include "tquic/time.h"

namespace tquic {

// A datagram to send, written into the caller's buffer by poll_transmit.
struct Transmit {
  Address local, remote;  // send from `local` (its IP may be unspecified) to `remote`
  uint8_t ecn = 0;        // ECN codepoint for the IP header (0 = Not-ECT)
  size_t size = 0;        // bytes written into the buffer
  size_t segment_size = 0;  // UDP GSO: every datagram but the last has this size
};

// Client inputs remembered from an earlier connection to the same server.
struct ConnectParams {
  std::vector<uint8_t> token;           // Connection::new_token(): skips the server's Retry
  std::vector<uint8_t> session_ticket;  // Connection::session_ticket(): resumption
  bool zero_rtt = false;  // send stream data and datagrams written before the handshake as 0-RTT
};

struct EndpointStats {
  uint64_t datagrams_dropped = 0, version_negotiations_sent = 0, connections_accepted = 0;
  uint64_t retries_sent = 0, stateless_resets_sent = 0, stateless_resets_received = 0;
};

class Endpoint {
 public:
  // Builds the TLS context and the endpoint. Errors: invalid_argument (no ALPN, unreadable or
  // bad certificate/key, out-of-range option), with the reason in Error::detail.
  [[nodiscard]] static Result<Endpoint> create(const EndpointOptions& options);
  Endpoint(Endpoint&&) noexcept;
  Endpoint& operator=(Endpoint&&) noexcept;
  ~Endpoint();

  // Client: starts a connection (the next poll_transmit yields its Initial). Errors:
  // invalid_argument (a server endpoint, bad parameters), with the reason in detail.
  [[nodiscard]] Result<Connection> connect(const Address& local, const Address& remote,
                                           Instant now, const ConnectParams& params = {});
  // One received UDP datagram (the buffer may be modified: it is decrypted in place).
  void on_datagram(Instant now, const Address& local, const Address& remote, uint8_t ecn,
                   std::span<uint8_t> datagram);
  // The next datagram to send, written into `buffer` (at least 1500 bytes); nullopt when
  // nothing is due before next_timeout(). With max_segments > 1 (your socket sends GSO runs:
  // UDP_SEGMENT) it may write a run of up to max_segments datagrams of one path, back to back,
  // every one but the last of exactly Transmit::segment_size bytes, as many as the buffer, the
  // congestion window and the pacer allow (Linux takes at most 64 segments and 64 KiB).
  // Without GSO, send each segment_size slice as a datagram of its own.
  [[nodiscard]] std::optional<Transmit> poll_transmit(Instant now, std::span<uint8_t> buffer,
                                                      size_t max_segments = 1);
  // When on_timeout must be called (kNever when nothing is scheduled).
  Instant next_timeout() const;
  void on_timeout(Instant now);

  // Server: the next connection a client opened, in arrival order.
  [[nodiscard]] std::optional<Connection> accept();
  size_t connection_count() const;
  // Frees connections that have finished closing; their handles then report
  // connection_closed. Poll a connection's `closed` event before reaping it.
  void reap_closed();
  EndpointStats stats() const;

 private:
  friend class detail::EndpointCore;
  explicit Endpoint(std::unique_ptr<detail::EndpointCore> core);
  std::unique_ptr<detail::EndpointCore> core_;
};

}  // namespace tquic

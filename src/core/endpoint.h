// An endpoint: one UDP socket's worth of connections. It routes datagrams to connections by
// destination connection ID, answers unknown versions with Version Negotiation, creates server
// connections from client Initials, and round-robins poll_transmit across connections.
// Sans-I/O like Connection: the owner drives it with datagrams, time and timeouts.
// Each call costs O(connections touched since the last one x log N), not O(N): a deadline
// queue and a FIFO of connections that may send (core/endpoint_schedule.h) follow the
// connections the endpoint called or handed out through connection().
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/connection.h"
#include "core/endpoint_schedule.h"
#include "core/reset_token_index.h"
#include "core/token.h"

namespace quic {

// Stateless resets we send are at most this large (and always smaller than their trigger).
inline constexpr size_t kMaxStatelessResetSize = 43;
// 0-RTT datagrams that arrive before their connection's Initial (reordering) are buffered
// (RFC 9000 §5.2.2 allows it) and replayed once the Initial creates the connection; beyond
// these bounds (per endpoint) the oldest is dropped.
inline constexpr size_t kMaxBufferedZeroRttDatagrams = 16;
inline constexpr size_t kMaxBufferedZeroRttBytes = 24 * 1024;

// When a server answers an Initial with Retry to validate the client's address first
// (RFC 9000 §8.1.2).
enum class RetryPolicy : uint8_t {
  kDisabled,
  kAlways,
  kUnderLoad,  // once retry_half_open_limit connections are still handshaking
};

struct EndpointConfig {
  bool server = false;
  ConnectionConfig connection;
  std::shared_ptr<const TlsContext> tls;
  size_t max_connections = 4096;       // further Initials are dropped
  size_t max_stateless_queue = 64;     // queued Version Negotiation / Retry packets
  RetryPolicy retry = RetryPolicy::kUnderLoad;
  size_t retry_half_open_limit = 256;
};

class Endpoint {
 public:
  Endpoint(EndpointConfig config, Random& random);
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Client side: start a connection; the handle stays valid until the connection is reaped.
  // `options`: a NEW_TOKEN token and/or session ticket from an earlier connection.
  Result<ConnectionHandle> connect(const SocketAddress& local, const SocketAddress& remote,
                                   Instant now, const ConnectOptions& options = {});

  void on_datagram(Instant now, const SocketAddress& local, const SocketAddress& remote,
                   uint8_t ecn, MutBytes datagram);
  // One datagram, or with max_segments > 1 a GSO run of one connection's path
  // (Connection::poll_transmit). Stateless replies are single datagrams.
  std::optional<Transmit> poll_transmit(Instant now, MutBytes buffer, size_t max_segments = 1);
  Instant next_timeout() const;
  void on_timeout(Instant now);

  // New server connections, in arrival order.
  std::optional<ConnectionHandle> accept();
  // Server: accept 0-RTT on connections created from now on (ConnectionConfig::accept_0rtt).
  void set_accept_0rtt(bool on) { config_.connection.accept_0rtt = on; }
  // The application's way to a connection. It counts as touching it: whatever the caller does
  // with the pointer before the endpoint's next poll_transmit / next_timeout / on_timeout /
  // reap_closed is seen (deadline re-read, polled for transmits). Code that keeps the pointer
  // and changes the connection later (a handler run between turns) calls connection() or
  // touch() again.
  Connection* connection(ConnectionHandle h);
  void touch(ConnectionHandle h);
  size_t connection_count() const { return conns_.size(); }
  // Drops closed connections (their handles become invalid) and returns their handles.
  std::vector<ConnectionHandle> reap_closed();

  // For an application that visits only the connections with news instead of all of them on
  // every turn: after track_activity(), take_activity() returns the connections that received
  // a datagram or a timer, sent, were created or were reaped (connection() returns nullptr)
  // since the last take, each once, in the order they first had news. Off by default: nobody
  // taking them would let the list grow.
  void track_activity() { track_activity_ = true; }
  std::vector<ConnectionHandle> take_activity();

  struct Stats {
    uint64_t datagrams_dropped = 0, version_negotiations_sent = 0, connections_accepted = 0;
    uint64_t retries_sent = 0, tokens_accepted = 0, tokens_rejected = 0;
    uint64_t invalid_token_closes = 0;  // stateless INVALID_TOKEN closes (bad Retry tokens)
    // received: the resets that ended a connection (a repeat of one does not count again)
    uint64_t stateless_resets_sent = 0, stateless_resets_received = 0;
    uint64_t zero_rtt_buffered = 0, zero_rtt_replayed = 0;  // 0-RTT ahead of its Initial
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Entry {
    std::unique_ptr<Connection> conn;
    std::vector<ConnectionId> routed;  // CIDs currently in the routing table for it
    uint64_t routed_generation = UINT64_MAX;  // Connection::local_cids_generation() of `routed`
    mutable uint64_t tokens_generation = UINT64_MAX;  // peer_reset_tokens_generation() indexed
    std::optional<ConnectionId> original_dcid;  // server: its key in by_original_dcid_
    mutable bool half_open = false;      // counted in half_open_
    mutable bool closed_listed = false;  // in closed_
    bool activity_listed = false;        // in activity_
  };
  ConnectionHandle add(std::unique_ptr<Connection> conn);
  // Re-reads the touched connections (schedule_.settle) and what follows from their state:
  // the half-open count, the closed list.
  void settle() const;
  std::optional<Instant> observe(ConnectionHandle h) const;
  void note_activity(ConnectionHandle h, Entry& e);
  void refresh_routes(ConnectionHandle h);
  std::optional<ConnectionHandle> route(const PacketHeader& hdr, const SocketAddress& remote) const;
  void handle_unrouted(Instant now, const SocketAddress& local, const SocketAddress& remote,
                       uint8_t ecn, const PacketHeader& hdr, MutBytes datagram);
  void handle_unrouted_short(Instant now, const SocketAddress& local, const SocketAddress& remote,
                             const PacketHeader& hdr, Bytes datagram);
  bool retry_required();
  void queue_stateless(const SocketAddress& local, const SocketAddress& remote,
                       std::vector<uint8_t> bytes);
  void send_retry(Instant now, const SocketAddress& local, const SocketAddress& remote,
                  const PacketHeader& hdr);
  bool initial_opens(const PacketHeader& hdr, Bytes datagram) const;
  void send_invalid_token_close(const SocketAddress& local, const SocketAddress& remote,
                                const PacketHeader& hdr);
  void drop_early_zero_rtt(const ConnectionId& dcid);
  void buffer_early_zero_rtt(const SocketAddress& local, const SocketAddress& remote,
                             uint8_t ecn, const PacketHeader& hdr, Bytes datagram);
  void replay_early_zero_rtt(ConnectionHandle h, const ConnectionId& dcid,
                             const SocketAddress& remote);
  void send_version_negotiation(const SocketAddress& local, const SocketAddress& remote,
                                const PacketHeader& hdr);

  EndpointConfig config_;
  Random& random_;
  TokenKey token_key_;
  Instant token_now_{};  // time of the call being served, for tokens minted in refresh_routes
  std::map<ConnectionHandle, Entry> conns_;  // ordered: deterministic iteration
  std::unordered_map<ConnectionId, ConnectionHandle> by_cid_;
  std::unordered_map<ConnectionId, ConnectionHandle> by_original_dcid_;
  // The peers' reset tokens, refreshed with the deadlines (observe()), so const there too.
  mutable ResetTokenIndex by_reset_token_;
  void index_reset_tokens(ConnectionHandle h, const Entry& e) const;
  ConnectionHandle next_handle_ = 1;
  // A cache of the connections' own deadlines and readiness: refreshed from const
  // next_timeout() too, hence mutable.
  mutable EndpointSchedule schedule_;
  mutable std::vector<ConnectionHandle> closed_;  // closed, not yet reaped
  mutable size_t half_open_ = 0;  // connections whose handshake is not complete (Retry policy)
  bool track_activity_ = false;
  std::vector<ConnectionHandle> activity_;
  std::deque<ConnectionHandle> accept_queue_;
  struct Stateless { SocketAddress local, remote; std::vector<uint8_t> bytes; };
  std::deque<Stateless> stateless_;
  struct EarlyZeroRtt {
    ConnectionId dcid;
    SocketAddress local, remote;
    uint8_t ecn;
    std::vector<uint8_t> bytes;
  };
  std::deque<EarlyZeroRtt> early_zero_rtt_;
  size_t early_zero_rtt_bytes_ = 0;
  Stats stats_;
};

}  // namespace quic

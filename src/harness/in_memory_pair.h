// Two endpoints joined in memory, in virtual time, with no network model: every datagram one
// side sends crosses at once. What the per-connection measurements share (heap per idle
// connection, harness/idle_memory.h; server CPU per handshake, harness/handshake_cost.h): the
// TLS contexts (ECDSA P-256 self-signed certificate, hq-interop), the endpoint configuration,
// the shuttle loop, and a bare GnuTLS handshake without QUIC around it.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "common/time.h"
#include "core/config.h"
#include "core/endpoint.h"
#include "tls/tls_session.h"

namespace harness {

// The two sides' addresses (the benchmarking range).
inline const quic::SocketAddress kPairServerAddr = quic::SocketAddress::v4(198, 18, 0, 1, 443);
inline const quic::SocketAddress kPairClientAddr = quic::SocketAddress::v4(198, 18, 0, 2, 50000);

// Wall time spent inside the server's calls, when a caller wants it (nullptr: not measured).
// The loops run on one thread, so on an otherwise idle core it is the server's CPU time.
using ServerClock = quic::Duration;

// The default self-signed certificate of the tools (ECDSA P-256), made once per process.
std::shared_ptr<const quic::TlsContext> tls_context(bool server);

quic::EndpointConfig endpoint_config(bool server, const quic::ConnectionConfig& config,
                                     size_t max_connections);

// Moves every datagram `from` has to send into `to` at `now` (GSO runs of up to max_segments
// split into their datagrams), timing each side's calls if asked; how many datagrams moved.
uint64_t shuttle(quic::Endpoint& from, quic::Endpoint& to, quic::Instant& now,
                 std::vector<uint8_t>& buf, size_t max_segments, ServerClock* from_time = nullptr,
                 ServerClock* to_time = nullptr);

// Advances `now` to both sides' next timer and fires it; false (nothing done) when neither has
// one or it is after `end`.
bool fire_timers(quic::Endpoint& client, quic::Endpoint& server, quic::Instant& now,
                 quic::Instant end, ServerClock* server_time = nullptr);

// Runs both endpoints until `end` (datagrams cross at once, timers fire in order), adding the
// time the server's calls take to *server_time if set.
void run_until(quic::Endpoint& client, quic::Endpoint& server, quic::Instant& now,
               quic::Instant end, ServerClock* server_time = nullptr);

// K client connections to the server's address; how many the client endpoint accepted.
size_t connect(quic::Endpoint& client, size_t k, quic::Instant now);

// What an application does with new server connections: accept them and read their events.
// How many completed their handshake and are open.
size_t accept_all(quic::Endpoint& server, ServerClock* server_time = nullptr);

// A client and a server TlsSession taken through a full TLS 1.3 handshake in memory, each
// flight crossing whole (as Connection reassembles CRYPTO frames), the server's session ticket
// sent once it completed (as Connection::on_handshake_completed does). Returns the server's
// session, or nullptr if the handshake failed. The server's calls are timed as above.
std::unique_ptr<quic::TlsSession> bare_tls_handshake(
    const std::shared_ptr<const quic::TlsContext>& client_ctx,
    const std::shared_ptr<const quic::TlsContext>& server_ctx, ServerClock* server_time = nullptr);

}  // namespace harness

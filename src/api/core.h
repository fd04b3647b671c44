// Internal side of the public API (include/tquic): the state the facade keeps next to the
// core's objects, and conversions between public and core types. Never installed.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "common/address.h"
#include "common/error.h"
#include "common/time.h"
#include "core/endpoint.h"
#include "core/random.h"
#include "tquic/endpoint.h"

namespace tquic::detail {

// Stream outcomes the core does not keep in a form we can tell apart later: a peer's
// STOP_SENDING resets our sending part exactly like our own reset would, and a freed stream's
// reset code is gone. Only streams that had such an outcome get a record.
struct StreamRecord {
  std::optional<uint64_t> peer_reset;  // RESET_STREAM from the peer (its code)
  std::optional<uint64_t> peer_stop;   // STOP_SENDING from the peer (its code)
  bool stop_sent = false;              // we asked the peer to stop
};

// Records of freed streams are swept once the map reaches this size (then twice the live
// size): memory stays proportional to the streams the core keeps.
inline constexpr size_t kStreamRecordSweep = 256;

// Per-connection facade state.
struct ConnState {
  // Core events already taken from the connection (so stream records are current), in order.
  std::deque<quic::Event> events;
  // Level-triggered kinds (readable, writable, datagram, streams available) are queued once
  // per (kind, stream) until polled, like the core does: a slow poller costs no memory.
  std::set<std::pair<uint8_t, uint64_t>> queued;
  std::unordered_map<uint64_t, StreamRecord> records;
  size_t sweep_at = kStreamRecordSweep;
  // Per stream type (ID & 3): one above the highest stream ID known to have existed, so a
  // freed stream is told apart from one never opened.
  uint64_t next_id[4] = {0, 0, 0, 0};
};

quic::Instant to_core(Instant t);
Instant from_core(quic::Instant t);
quic::SocketAddress to_core(const Address& a);
Address from_core(const quic::SocketAddress& a);
TransportError from_core(const quic::Error& e, bool from_peer);
Error make_error(Errc code, std::string detail = {}, uint64_t app_code = 0);
inline std::unexpected<Error> fail(Errc code, std::string detail = {}, uint64_t app_code = 0) {
  return std::unexpected(make_error(code, std::move(detail), app_code));
}

class EndpointCore {
 public:
  static Result<std::unique_ptr<EndpointCore>> create(const EndpointOptions& options);
  static EndpointCore& of(Endpoint& e) { return *e.core_; }
  static Endpoint wrap(std::unique_ptr<EndpointCore> core) { return Endpoint(std::move(core)); }

  quic::Endpoint& endpoint() { return *endpoint_; }
  bool server() const { return server_; }
  const quic::Endpoint& endpoint() const { return *endpoint_; }
  Connection handle(uint64_t id) { return Connection(this, id); }
  static EndpointCore* from(const Connection& c) { return c.core_; }
  // The core connection, or null once reaped.
  quic::Connection* conn(uint64_t id) { return endpoint_->connection(id); }
  ConnState& state(uint64_t id) { return states_[id]; }
  // Moves the connection's pending core events into its ConnState, updating stream records.
  void drain(uint64_t id);
  // Pops the oldest drained event (keeps `queued` in step).
  std::optional<quic::Event> pop_event(uint64_t id);
  // Reaps closed connections in the core and forgets their facade state.
  void reap_closed();

 private:
  EndpointCore() = default;
  std::unique_ptr<quic::Random> random_;  // outlives endpoint_, which refers to it
  std::unique_ptr<quic::Endpoint> endpoint_;
  std::unordered_map<uint64_t, ConnState> states_;
  bool server_ = false;
};

// Core stream ID type and direction helpers.
inline bool stream_is_local(uint64_t id, bool server) { return ((id & 1) != 0) == server; }
inline bool stream_is_uni(uint64_t id) { return (id & 2) != 0; }
void note_stream(ConnState& st, uint64_t stream_id);
bool stream_known(const ConnState& st, uint64_t stream_id);

}  // namespace tquic::detail

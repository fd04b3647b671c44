// Test fixture: an HTTP/3 client and server over the virtual-time simulator with real TLS and
// ALPN "h3". Either side can be a raw QUIC peer (no Session) that writes crafted bytes, so
// tests can play a misbehaving peer and assert the CONNECTION_CLOSE code it receives.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "h3/session.h"
#include "harness/sim_endpoint.h"
#include "sim/network.h"

namespace h3test {

using quic::Instant;

struct Peer : harness::App {
  bool is_server = false;
  bool raw = false;  // no Session: on_tick drives the Connection directly
  quic::SocketAddress local, remote;
  h3::SessionConfig config;
  std::optional<quic::ConnectionHandle> handle;
  quic::Connection* conn = nullptr;
  std::unique_ptr<h3::Session> session;
  std::vector<h3::Event> events;        // every session event, in order
  std::vector<quic::Event> raw_events;  // raw mode: every transport event
  std::optional<quic::Event> transport_closed;
  std::function<void(Peer&, const h3::Event&, Instant)> on_event;
  std::function<void(Peer&, Instant)> on_tick;
  std::function<void(Peer&)> on_session;  // right after the Session is made (registrations)

  void on_activity(quic::Endpoint& endpoint, Instant now) override;
  bool handshake_done() const { return conn != nullptr && conn->handshake_complete(); }
  // The peer's CONNECTION_CLOSE application code, once the peer closed us.
  std::optional<uint64_t> peer_close_code() const;
  size_t count(h3::EventKind k) const;
  const h3::Event* find(h3::EventKind k, uint64_t stream_id) const;
};

struct PairOptions {
  bool client_raw = false, server_raw = false;
  h3::SessionConfig client, server;
  quic::ConnectionConfig quic_client, quic_server;
  double rate_bps = 50e6;  // both directions
};

class Pair {
 public:
  explicit Pair(PairOptions opts = {});
  ~Pair();
  // Runs the simulation until done() or the virtual time limit; returns done().
  bool run_until(const std::function<bool()>& done,
                 quic::Duration limit = std::chrono::seconds(20));
  Peer client, server;

 private:
  std::unique_ptr<harness::SimEndpoint> client_ep_, server_ep_;
  std::unique_ptr<sim::Network> net_;
};

// Raw-peer helpers.
std::vector<uint8_t> bytes_of(std::string_view s);
// Opens a unidirectional stream and writes `data` (optionally with FIN); returns its ID.
uint64_t raw_uni(quic::Connection& c, const std::vector<uint8_t>& data, bool fin = false);
// A control stream header plus an empty SETTINGS frame.
std::vector<uint8_t> control_preamble();
// A HEADERS frame for `fields`, QPACK-encoded without the dynamic table.
std::vector<uint8_t> headers_frame(const std::vector<h3::Field>& fields);
std::vector<h3::Field> get_request(std::string path);

}  // namespace h3test

// Test fixture: an HTTP/3 client and server on test::Pair (tests/support/pair.h: virtual-time
// sim/ links) with real TLS and ALPN "h3". Either side can be a raw QUIC peer (no Session) that writes crafted bytes, so
// tests can play a misbehaving peer and assert the CONNECTION_CLOSE code it receives.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "h3/session.h"
#include "support/pair.h"

namespace h3test {

using quic::Instant;

struct Peer {
  bool is_server = false;
  bool raw = false;  // no Session: on_tick drives the Connection directly
  h3::SessionConfig config;
  quic::Connection* conn = nullptr;  // the Pair side's connection, once it exists
  std::unique_ptr<h3::Session> session;
  std::vector<h3::Event> events;        // every session event, in order
  std::vector<quic::Event> raw_events;  // raw mode: every transport event
  std::optional<quic::Event> transport_closed;
  std::function<void(Peer&, const h3::Event&, Instant)> on_event;
  std::function<void(Peer&, Instant)> on_tick;
  std::function<void(Peer&)> on_session;  // right after the Session is made (registrations)

  // The Pair side's activity hook: the application's turn after every event.
  void on_activity(quic::Connection* connection, Instant now);
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
  // Runs the simulation until done() or the virtual time limit; returns done().
  bool run_until(const std::function<bool()>& done,
                 quic::Duration limit = std::chrono::seconds(20));
  test::Pair& pair() { return *pair_; }

 private:
  std::unique_ptr<test::Pair> pair_;  // first: the peers' sessions point into its connections

 public:
  Peer client, server;
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

// A client and a server tquic::Endpoint joined by an in-process "wire" with a fixed one-way
// delay and virtual time (every datagram goes from its Transmit's local address to its remote
// one, so extra client addresses make extra paths): the facade is exercised exactly as an embedder drives it
// (on_datagram / poll_transmit / next_timeout / on_timeout), through public headers only.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "tquic/tquic.h"

namespace apitest {

using namespace std::chrono_literals;

// Endpoint options for the pair: a fresh self-signed certificate the client trusts, ALPN
// "echo", seeded randomness.
struct PairOptions {
  tquic::EndpointOptions client, server;
  PairOptions();
};

class Pair {
 public:
  explicit Pair(PairOptions options = {});

  // Steps until done() holds or `limit` of virtual time passed; returns done().
  bool run_until(const std::function<bool()>& done, tquic::Duration limit = 10s);
  // Runs until both sides completed the handshake (asserted by the caller).
  bool handshake();
  // Steps for `d` of virtual time.
  void run_for(tquic::Duration d);

  tquic::Instant now = tquic::instant_from_ns(1'000'000'000);  // first: connect() uses it
  tquic::Endpoint client_ep, server_ep;
  tquic::Connection client;
  std::optional<tquic::Connection> server;  // set once the server accepted
  // Return true to drop a datagram (to_server: client -> server).
  std::function<bool(bool to_server)> drop;
  static constexpr tquic::Address kClientAddr = tquic::Address::v4(10, 0, 0, 1, 5000);
  static constexpr tquic::Address kServerAddr = tquic::Address::v4(10, 0, 0, 2, 443);

 private:
  struct InFlight {
    tquic::Instant at;
    bool to_server;
    tquic::Address from, to;
    std::vector<uint8_t> bytes;
  };
  // Delivers due datagrams, fires due timers, queues new transmits; then moves time to the next
  // thing due (at most `end`). False when nothing will ever happen again.
  bool step(tquic::Instant end);
  void flush(tquic::Endpoint& ep, bool to_server);
  std::deque<InFlight> wire_;
  std::vector<uint8_t> buffer_ = std::vector<uint8_t>(64 * 1024);
};

// Every event of a connection polled so far, and helpers over them.
std::vector<tquic::Event> drain_events(tquic::Connection& c);
bool has_event(const std::vector<tquic::Event>& events, tquic::EventKind kind,
               uint64_t stream_id = UINT64_MAX);
std::vector<uint8_t> pattern(size_t n, uint8_t seed = 1);
// Runs until `c` reported `kind` (for `stream_id`); returns every event polled meanwhile.
std::vector<tquic::Event> wait_event(Pair& p, tquic::Connection& c, tquic::EventKind kind,
                                     uint64_t stream_id = UINT64_MAX);

}  // namespace apitest

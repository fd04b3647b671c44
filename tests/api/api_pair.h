// A client and a server tquic::Endpoint on test::PairCore (tests/support/pair.h: sim/ links of
// 10 ms one way, virtual time; every datagram goes from its Transmit's local address to its
// remote one): the facade is exercised exactly as an embedder drives it (on_datagram /
// poll_transmit / next_timeout / on_timeout). The tests use public headers only; the adapter
// to the harness lives in api_pair.cc.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tquic/tquic.h"

namespace test {
class PairCore;
}

namespace apitest {

using namespace std::chrono_literals;

// Endpoint options for the pair: a fresh self-signed certificate the client trusts, ALPN
// "echo", seeded randomness.
struct PairOptions {
  tquic::EndpointOptions client, server;
  size_t max_segments = 1;  // poll_transmit's: above 1 both sides may write GSO runs
  PairOptions();
};

// What one side's poll_transmit returned, for the GSO-run tests.
struct TransmitFigures {
  size_t transmits = 0, datagrams = 0;
  size_t longest_run = 0;     // datagrams in the longest GSO run
  size_t bad_segments = 0;    // a segment other than the last not of segment_size bytes
};

class Pair {
 public:
  explicit Pair(PairOptions options = {});
  ~Pair();

  // Steps until done() holds or `limit` of virtual time passed; returns done().
  bool run_until(const std::function<bool()>& done, tquic::Duration limit = 10s);
  // Runs until both sides completed the handshake (asserted by the caller).
  bool handshake();
  // Steps for `d` of virtual time.
  void run_for(tquic::Duration d);
  // The harness under the pair (interceptors, link changes).
  test::PairCore& core() { return *core_; }
  const TransmitFigures& client_transmits() const;
  const TransmitFigures& server_transmits() const;

  tquic::Instant now = tquic::instant_from_ns(1'000'000'000);  // the harness clock, mirrored
  tquic::Endpoint client_ep, server_ep;
  tquic::Connection client;
  std::optional<tquic::Connection> server;  // set once the server accepted
  static constexpr tquic::Address kClientAddr = tquic::Address::v4(10, 0, 0, 1, 5000);
  static constexpr tquic::Address kServerAddr = tquic::Address::v4(10, 0, 0, 2, 443);

 private:
  class Host;  // a tquic::Endpoint as a simulator node
  // After every step: mirror the clock, pick up the server's connection.
  void observe();
  std::unique_ptr<Host> client_host_, server_host_;
  std::unique_ptr<test::PairCore> core_;
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

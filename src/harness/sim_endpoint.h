// A QUIC Endpoint attached to the simulator as a sim::Node. After every event it gives the
// application (an App) a chance to act, so streams are read and written in virtual time.
#pragma once

#include <deque>
#include <functional>
#include <memory>

#include "core/endpoint.h"
#include "sim/node.h"

namespace harness {

using quic::Instant;

// What runs on top of a simulated endpoint (the transfer client/server below).
class App {
 public:
  virtual ~App() = default;
  virtual void on_activity(quic::Endpoint& endpoint, Instant now) = 0;
};

class SimEndpoint final : public sim::Node {
 public:
  SimEndpoint(quic::EndpointConfig config, uint64_t seed);
  quic::Endpoint& endpoint() { return endpoint_; }
  void set_app(App* app) { app_ = app; }
  // Called for every datagram this endpoint sends (tests observe the wire through it).
  std::function<void(const sim::Datagram&, Instant)> on_send;
  // Called for every datagram delivered to this endpoint, before it is processed.
  std::function<void(const sim::Datagram&, Instant)> on_receive;

  // Lets the endpoint build GSO runs of up to `n` datagrams (Endpoint::poll_transmit), which
  // leave one by one at the time they were built; 1 (the default): one datagram per poll.
  void set_max_segments(size_t n) { max_segments_ = n; }
  // Called for every transmit the endpoint returns (a run once, before its datagrams).
  std::function<void(const quic::Transmit&, Instant)> on_transmit;

  void on_datagram(Instant now, sim::Datagram d) override;
  std::optional<sim::Datagram> poll_transmit(Instant now) override;
  Instant next_timeout() const override;
  void on_timeout(Instant now) override;

 private:
  quic::SeededRandom random_;
  quic::Endpoint endpoint_;
  App* app_ = nullptr;
  std::vector<uint8_t> buf_;
  size_t max_segments_ = 1;
  std::deque<sim::Datagram> run_;  // the rest of the last run, sent before polling again
};

}  // namespace harness

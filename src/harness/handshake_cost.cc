#include "harness/handshake_cost.h"

#include "harness/in_memory_pair.h"

namespace harness {

namespace {
// Virtual time per handshake: a few in-memory round trips and the ACK delay of the last flight.
constexpr quic::Duration kHandshakeSettle = std::chrono::seconds(1);
}  // namespace

ServerHandshakes::ServerHandshakes(size_t max_connections)
    : server_(std::make_unique<quic::Endpoint>(endpoint_config(true, {}, max_connections),
                                               server_random_)),
      client_(std::make_unique<quic::Endpoint>(endpoint_config(false, {}, max_connections),
                                               client_random_)),
      now_(quic::instant_from_ns(1'000'000'000)) {}

std::optional<quic::Duration> ServerHandshakes::next() {
  ServerClock spent{0};
  if (connect(*client_, 1, now_) != 1) return std::nullopt;
  run_until(*client_, *server_, now_, now_ + kHandshakeSettle, &spent);
  size_t done = accept_all(*server_, &spent);
  if (done != 1) return std::nullopt;
  ++completed_;
  return spent;
}

}  // namespace harness

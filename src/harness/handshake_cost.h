// Server CPU per full handshake without the network stack (issue #16 item 4; figures in
// docs/performance.md "Handshake CPU"): connections are made one after another between two
// quic::Endpoints in memory and virtual time (harness/in_memory_pair.h), and only the server
// endpoint's calls are timed. bench/handshake_bench.cc sets it beside GnuTLS's own share, a bare
// TLS 1.3 handshake through the same certificate (bare_tls_handshake), so the two give the floor
// the TLS library sets and what QUIC adds on top. bench/many_connections.sh measures the same
// over real sockets, where the kernel's share comes on top.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "core/endpoint.h"
#include "core/random.h"

namespace harness {

class ServerHandshakes {
 public:
  // One server endpoint that keeps up to `max_connections` connections open.
  explicit ServerHandshakes(size_t max_connections);
  // One more client connection through a full handshake: every flight, HANDSHAKE_DONE, the
  // session ticket and the ACKs of the last flights, until both sides are idle. Returns the
  // wall time of the server endpoint's calls for it (its CPU time on an otherwise idle core),
  // or nullopt if the server did not complete it.
  std::optional<quic::Duration> next();
  size_t completed() const { return completed_; }

 private:
  quic::SeededRandom server_random_{2}, client_random_{1};
  std::unique_ptr<quic::Endpoint> server_, client_;
  quic::Instant now_;
  size_t completed_ = 0;
};

}  // namespace harness

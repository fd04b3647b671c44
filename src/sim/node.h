// What the simulator exchanges with an endpoint: a datagram with its addresses and ECN bits, and
// the sans-I/O contract (datagrams in, datagrams out, one timer) every QUIC endpoint adapter
// implements. Nothing here knows about QUIC.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/address.h"
#include "common/time.h"

namespace sim {

using quic::Duration;
using quic::Instant;
using quic::SocketAddress;

// ECN codepoints as they sit in the low two bits of the IP TOS / traffic class (RFC 3168 §5).
inline constexpr uint8_t kNotEct = 0;
inline constexpr uint8_t kEct1 = 1;
inline constexpr uint8_t kEct0 = 2;
inline constexpr uint8_t kCe = 3;

struct Datagram {
  SocketAddress src, dst;
  uint8_t ecn = kNotEct;
  std::vector<uint8_t> payload;  // the UDP payload
};

class Node {
 public:
  virtual ~Node() = default;
  virtual void on_datagram(Instant now, Datagram d) = 0;
  // Called repeatedly after every event that touched the node, until it returns nullopt.
  virtual std::optional<Datagram> poll_transmit(Instant now) = 0;
  // quic::kNever if the node needs no wake-up; a time in the past means "now".
  virtual Instant next_timeout() const = 0;
  virtual void on_timeout(Instant now) = 0;
};

}  // namespace sim

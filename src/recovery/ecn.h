// ECN counts of one packet-number space (RFC 9000 §13.4.1). The wire layer has its own ACK
// frame type; the connection converts, so recovery does not depend on the frame codec.
#pragma once

#include <cstdint>

namespace quic {

// The two-bit ECN field of the IP header (RFC 3168 §5).
inline constexpr uint8_t kEcnNotEct = 0;
inline constexpr uint8_t kEcnEct1 = 1;
inline constexpr uint8_t kEcnEct0 = 2;
inline constexpr uint8_t kEcnCe = 3;

// The ECT codepoint a sender marks: ECT(1) when asked for (L4S, RFC 9331), else ECT(0)
// (RFC 9000 §13.4); anything else, CE included, is never a sender's choice.
constexpr uint8_t ecn_marking(uint8_t configured) {
  return configured == kEcnEct1 ? kEcnEct1 : kEcnEct0;
}

struct EcnCounters {
  uint64_t ect0 = 0;
  uint64_t ect1 = 0;
  uint64_t ce = 0;
  friend bool operator==(const EcnCounters&, const EcnCounters&) = default;
};

}  // namespace quic

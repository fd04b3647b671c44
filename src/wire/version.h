// QUIC version numbers (RFC 9000 §15, RFC 9369 §3.1) and the checks the endpoint makes on them.
#pragma once

#include <cstdint>

namespace quic {

inline constexpr uint32_t kVersion1 = 0x00000001;  // RFC 9000
inline constexpr uint32_t kVersion2 = 0x6b3343cf;  // RFC 9369 §3.1
inline constexpr uint32_t kVersionNegotiationVersion = 0;  // RFC 9000 §17.2.1

// Versions whose packet formats this library parses beyond the RFC 8999 invariants.
constexpr bool is_supported_version(uint32_t v) { return v == kVersion1 || v == kVersion2; }

// Versions of the form 0x?a?a?a?a are reserved to exercise version negotiation (RFC 9000 §15)
// and are never selected.
constexpr bool is_reserved_version(uint32_t v) { return (v & 0x0f0f0f0f) == 0x0a0a0a0a; }

}  // namespace quic

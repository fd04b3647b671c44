// Packet number truncation and recovery (RFC 9000 §17.1, Appendix A.2 and A.3).
#pragma once

#include <cstddef>
#include <cstdint>

namespace quic {

inline constexpr uint64_t kMaxPacketNumber = (uint64_t{1} << 62) - 1;
// "No packet acknowledged / received yet" for the functions below.
inline constexpr uint64_t kNoPacketNumber = UINT64_MAX;

// Bytes (1..4) needed to send `pn` so that the receiver can recover it: the encoding must
// cover more than twice the range between `pn` and the largest acknowledged packet
// (RFC 9000 §17.1, Appendix A.2). `largest_acked` is kNoPacketNumber before any ACK.
constexpr size_t packet_number_length(uint64_t pn, uint64_t largest_acked) {
  uint64_t unacked = largest_acked == kNoPacketNumber || largest_acked >= pn
                         ? pn + 1
                         : pn - largest_acked;
  // Appendix A.2: log2(unacked) + 1 bits, i.e. the smallest n with 2 * unacked <= 2^(8n),
  // capped at 4 (a larger gap cannot be encoded; the sender must not let it grow that far).
  for (size_t n = 1; n < 4; ++n) {
    if (2 * unacked <= (uint64_t{1} << (8 * n))) return n;
  }
  return 4;
}

// Recovers the full packet number from its `pn_len`-byte truncation, choosing the value
// closest to largest_received + 1 (RFC 9000 Appendix A.3). `largest_received` is
// kNoPacketNumber when nothing was received yet in this packet number space.
constexpr uint64_t decode_packet_number(uint64_t largest_received, uint64_t truncated,
                                        size_t pn_len) {
  if (pn_len < 1 || pn_len > 4) return kNoPacketNumber;  // caller bug; never a valid pn
  const uint64_t expected = largest_received == kNoPacketNumber ? 0 : largest_received + 1;
  const uint64_t win = uint64_t{1} << (pn_len * 8);
  const uint64_t hwin = win / 2;
  const uint64_t mask = win - 1;
  const uint64_t candidate = (expected & ~mask) | (truncated & mask);
  // The comparisons are written to avoid unsigned underflow near 0 and overflow near 2^62.
  if (candidate + hwin <= expected && candidate + win <= kMaxPacketNumber) {
    return candidate + win;
  }
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

}  // namespace quic

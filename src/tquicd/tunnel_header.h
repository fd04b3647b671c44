// The tunnel header: what the tunnel's extra CONNECT-IP context ID (RFC 9484 §6, negotiated as
// the MASQUE layer defines) carries in front of each IP packet, after the context ID itself:
//
//   Tunnel Sequence Number (i)   -- per tunnel and direction, counts every IP packet sent from 0,
//                                   modulo 2^30
//   Send Time (i)                -- sender's clock, microseconds modulo 2^30 (~17.9 min)
//   IP Packet (..)
//
// Both fields are QUIC variable-length integers (RFC 9000 §16) below 2^30, so a header takes
// 2..8 bytes. The receiver uses the sequence number for its reorder buffer and duplicate
// filter, and send time differences across paths for the paths' one-way-delay spread (the two
// hosts' clocks need not agree: only differences between paths are used).
#pragma once

#include <cstdint>
#include <optional>

#include "common/time.h"
#include "wire/varint.h"

namespace bond {

inline constexpr uint64_t kSeqModulus = uint64_t{1} << 30;
inline constexpr uint64_t kTimestampModulus = uint64_t{1} << 30;
inline constexpr size_t kMaxTunnelHeaderBytes = 8;

struct TunnelHeader {
  uint32_t seq = 0;           // < kSeqModulus
  uint32_t send_time_us = 0;  // < kTimestampModulus
  friend bool operator==(const TunnelHeader&, const TunnelHeader&) = default;
};

struct TunnelPacket {
  TunnelHeader header;
  quic::Bytes ip_packet;  // a view into the parsed datagram
};

// The send-time field for local time `now`.
uint32_t tunnel_timestamp(quic::Instant now);

// Writes the header into `out`; returns the bytes written, 0 when `out` is too small or a field
// is out of range.
size_t encode_tunnel_header(const TunnelHeader& h, quic::MutBytes out);

// Parses a datagram payload (after the context ID). nullopt when truncated, when a field is
// 2^30 or more, or when no IP packet follows: the caller drops and counts it.
std::optional<TunnelPacket> parse_tunnel_packet(quic::Bytes payload);

}  // namespace bond

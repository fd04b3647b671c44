// Userspace GRO for the TUN write path (docs/performance-datagrams.md). Profiling CONNECT-IP
// showed the proxy spending about two thirds of its time in write() to the TUN device, one
// call per tunnelled packet, each carrying the kernel's whole forwarding path. Consecutive
// in-order segments of one IPv4 TCP flow are joined here into one super-packet that the
// device takes with a virtio-net GSO header (IFF_VNET_HDR): one write and one trip through
// the kernel's forwarding for up to kMaxCoalescedSegments segments, segmented again only if
// an outgoing device cannot take it whole (as after the kernel's own GRO).
//
// Packets come from the tunnel's peer: only segments that match strictly are joined (same
// addresses, ports, TOS, TTL, DF, ACK number, window and option bytes; ACK and at most PSH set;
// the next sequence number; equal payload sizes, a shorter or PSH segment ending the chain).
// Anything else is emitted unchanged, in order: the kernel sees the same bytes it would have
// seen, fewer times.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "wire/varint.h"  // quic::Bytes

namespace masque {

inline constexpr size_t kMaxCoalescedSegments = 64;
inline constexpr size_t kMaxCoalescedBytes = 65535;  // the IPv4 total length field

// How the emitted packet is to be segmented (gso_size 0: a plain packet).
struct GsoInfo {
  uint16_t header_len = 0;    // IPv4 + TCP header bytes
  uint16_t gso_size = 0;      // TCP payload bytes per segment
  uint16_t csum_start = 0;    // the TCP header's offset; its checksum holds the pseudo-header sum
  uint16_t csum_offset = 0;   // the checksum field within the TCP header
};

// The reverse, for reads from a device with TCP segmentation offload (TUN_F_TSO4): splits an
// IPv4 TCP super-packet into segments of gso.gso_size payload bytes, each with its own IPv4
// length, ID (incremented), header checksum, sequence number, flags (FIN and PSH on the last
// only, CWR on the first only) and full TCP checksum, and hands each to `out`. Only gso_size
// is used (headers are read from the packet). False (nothing handed over) when the packet is
// not an option-less IPv4 TCP packet with payload, or gso_size is 0, or more than
// kMaxSegmentsPerSuperPacket would result.
inline constexpr size_t kMaxSegmentsPerSuperPacket = 1024;
bool segment_tcp(quic::Bytes super, const GsoInfo& gso, std::vector<uint8_t>& scratch,
                 const std::function<void(quic::Bytes)>& out);

class TcpCoalescer {
 public:
  using Emit = std::function<void(quic::Bytes packet, const GsoInfo& gso)>;
  explicit TcpCoalescer(Emit emit);
  // Joins `packet` to the chain being built, or emits the chain and starts another, or emits
  // both (a packet that cannot be joined to anything).
  void add(quic::Bytes packet);
  // Emits the chain being built (call when a burst of packets ends).
  void flush();
  bool empty() const { return segments_ == 0; }
  uint64_t joined() const { return joined_; }  // segments that went inside a super-packet

 private:
  // The header length of an eligible segment, 0 if it is not one.
  static size_t eligible(quic::Bytes packet);
  bool joins(quic::Bytes packet, size_t header_len) const;

  Emit emit_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t used_ = 0, header_len_ = 0, gso_size_ = 0, segments_ = 0;
  uint32_t next_seq_ = 0;
  bool closed_ = false;  // the last segment was short or had PSH: nothing more joins
  uint64_t joined_ = 0;
};

}  // namespace masque

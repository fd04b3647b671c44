#include "tquicd/tunnel_header.h"

namespace bond {

uint32_t tunnel_timestamp(quic::Instant now) {
  auto us = static_cast<uint64_t>(quic::to_ns(now) / 1000);
  return static_cast<uint32_t>(us % kTimestampModulus);
}

size_t encode_tunnel_header(const TunnelHeader& h, quic::MutBytes out) {
  if (h.seq >= kSeqModulus || h.send_time_us >= kTimestampModulus) return 0;
  quic::Writer w(out);
  w.varint(h.seq);
  w.varint(h.send_time_us);
  return w.ok() ? w.written() : 0;
}

std::optional<TunnelPacket> parse_tunnel_packet(quic::Bytes payload) {
  quic::Reader r(payload);
  auto seq = r.varint();
  auto ts = r.varint();
  if (!seq || !ts || *seq >= kSeqModulus || *ts >= kTimestampModulus || r.empty()) return std::nullopt;
  return TunnelPacket{{static_cast<uint32_t>(*seq), static_cast<uint32_t>(*ts)}, r.rest()};
}

}  // namespace bond

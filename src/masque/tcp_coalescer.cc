#include "masque/tcp_coalescer.h"

#include <algorithm>
#include <cstring>

#include "masque/ip_packet.h"

namespace masque {

namespace {

constexpr size_t kIpv4Header = 20;  // only option-less IPv4 headers are joined
constexpr size_t kTcpMinHeader = 20;
constexpr uint8_t kTcpAck = 0x10, kTcpPsh = 0x08;
constexpr size_t kTcpChecksumAt = 16;

uint16_t be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

}  // namespace

TcpCoalescer::TcpCoalescer(Emit emit)
    : emit_(std::move(emit)), buf_(std::make_unique_for_overwrite<uint8_t[]>(kMaxCoalescedBytes)) {}

size_t TcpCoalescer::eligible(quic::Bytes p) {
  if (p.size() < kIpv4Header + kTcpMinHeader || p[0] != 0x45) return 0;  // v4, no options
  if (be16(&p[2]) != p.size() || (be16(&p[6]) & 0x3fff) != 0) return 0;  // exact, unfragmented
  if (p[9] != ipproto::kTcp) return 0;
  size_t tcp_len = static_cast<size_t>(p[kIpv4Header + 12] >> 4) * 4;
  if (tcp_len < kTcpMinHeader || kIpv4Header + tcp_len >= p.size()) return 0;  // no payload
  uint8_t flags = p[kIpv4Header + 13];
  // ACK, perhaps PSH, nothing else (SYN, FIN, RST, URG, ECE, CWR each end GRO in the kernel too).
  if ((flags & kTcpAck) == 0 || (flags & ~(kTcpAck | kTcpPsh)) != 0) return 0;
  return kIpv4Header + tcp_len;
}

bool TcpCoalescer::joins(quic::Bytes p, size_t header_len) const {
  if (segments_ == 0 || closed_ || header_len != header_len_) return false;
  size_t payload = p.size() - header_len;
  if (payload > gso_size_ || used_ + payload > kMaxCoalescedBytes ||
      segments_ >= kMaxCoalescedSegments) {
    return false;
  }
  const uint8_t* h = buf_.get();
  const uint8_t* q = p.data();
  // IPv4: TOS (ECN marks must not be merged away), flags/offset, TTL, protocol, addresses.
  if (h[1] != q[1] || be16(h + 6) != be16(q + 6) || h[8] != q[8] ||
      std::memcmp(h + 12, q + 12, 8) != 0) {
    return false;
  }
  const uint8_t* th = h + kIpv4Header;
  const uint8_t* tq = q + kIpv4Header;
  if (be32(tq + 4) != next_seq_) return false;
  // Ports, then ACK number, data offset, window, urgent pointer and options: byte-equal
  // (sequence number and flags excepted).
  return std::memcmp(th, tq, 4) == 0 && std::memcmp(th + 8, tq + 8, 5) == 0 &&
         std::memcmp(th + 14, tq + 14, 2) == 0 &&
         std::memcmp(th + 18, tq + 18, header_len - kIpv4Header - 18) == 0;
}

void TcpCoalescer::add(quic::Bytes p) {
  size_t header_len = eligible(p);
  bool psh = header_len != 0 && (p[kIpv4Header + 13] & kTcpPsh) != 0;
  if (header_len != 0 && joins(p, header_len)) {
    size_t payload = p.size() - header_len;
    std::memcpy(buf_.get() + used_, p.data() + header_len, payload);
    used_ += payload;
    ++segments_;
    next_seq_ += static_cast<uint32_t>(payload);
    if (psh) buf_[kIpv4Header + 13] |= kTcpPsh;
    closed_ = psh || payload < gso_size_;
    return;
  }
  flush();
  if (header_len == 0) {
    emit_(p, GsoInfo{});
    return;
  }
  std::memcpy(buf_.get(), p.data(), p.size());
  used_ = p.size();
  header_len_ = header_len;
  gso_size_ = p.size() - header_len;
  segments_ = 1;
  next_seq_ = be32(p.data() + kIpv4Header + 4) + static_cast<uint32_t>(gso_size_);
  closed_ = psh;
}

void TcpCoalescer::flush() {
  if (segments_ == 0) return;
  uint8_t* h = buf_.get();
  GsoInfo gso;
  if (segments_ > 1) {
    put16(h + 2, static_cast<uint16_t>(used_));
    put16(h + 10, 0);
    put16(h + 10, checksum_fold(checksum_add(0, quic::Bytes(h, kIpv4Header))));
    // CHECKSUM_PARTIAL convention: the field holds the pseudo-header sum, not complemented;
    // whoever segments (or the receiver's checksum check) adds the TCP header and payload.
    uint32_t pseudo = checksum_add(0, quic::Bytes(h + 12, 8)) + ipproto::kTcp +
                      static_cast<uint32_t>(used_ - kIpv4Header);
    put16(h + kIpv4Header + kTcpChecksumAt, static_cast<uint16_t>(~checksum_fold(pseudo)));
    gso = {static_cast<uint16_t>(header_len_), static_cast<uint16_t>(gso_size_),
           static_cast<uint16_t>(kIpv4Header), static_cast<uint16_t>(kTcpChecksumAt)};
    joined_ += segments_;
  }
  segments_ = 0;
  size_t n = used_;
  used_ = 0;
  emit_(quic::Bytes(h, n), gso);
}

bool segment_tcp(quic::Bytes p, const GsoInfo& gso, std::vector<uint8_t>& scratch,
                 const std::function<void(quic::Bytes)>& out) {
  // The header length comes from the packet: the device's hdr_len is the length of the skb's
  // linear part (virtio_net_hdr_from_skb), which may hold payload too.
  if (gso.gso_size == 0 || p.size() < kIpv4Header + kTcpMinHeader || p[0] != 0x45 ||
      p[9] != ipproto::kTcp) {
    return false;
  }
  size_t hl = kIpv4Header + static_cast<size_t>(p[kIpv4Header + 12] >> 4) * 4;
  if (hl < kIpv4Header + kTcpMinHeader || hl >= p.size()) return false;
  size_t payload = p.size() - hl;
  size_t count = (payload + gso.gso_size - 1) / gso.gso_size;
  if (count > kMaxSegmentsPerSuperPacket) return false;
  uint16_t id = be16(&p[4]);
  uint32_t seq = be32(&p[kIpv4Header + 4]);
  uint8_t flags = p[kIpv4Header + 13];
  constexpr uint8_t kFin = 0x01, kCwr = 0x80;
  for (size_t i = 0, at = hl; i < count; ++i, at += gso.gso_size) {
    size_t len = std::min<size_t>(gso.gso_size, p.size() - at);
    scratch.assign(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(hl));
    scratch.insert(scratch.end(), p.begin() + static_cast<std::ptrdiff_t>(at),
                   p.begin() + static_cast<std::ptrdiff_t>(at + len));
    uint8_t* h = scratch.data();
    uint8_t* t = h + kIpv4Header;
    put16(h + 2, static_cast<uint16_t>(scratch.size()));
    put16(h + 4, static_cast<uint16_t>(id + i));
    put16(h + 10, 0);
    put16(h + 10, checksum_fold(checksum_add(0, quic::Bytes(h, kIpv4Header))));
    uint32_t s = seq + static_cast<uint32_t>(i * gso.gso_size);
    for (int b = 0; b < 4; ++b) t[4 + b] = static_cast<uint8_t>(s >> (24 - 8 * b));
    uint8_t f = flags;
    if (i + 1 < count) f = static_cast<uint8_t>(f & ~(kFin | kTcpPsh));
    if (i > 0) f = static_cast<uint8_t>(f & ~kCwr);
    t[13] = f;
    put16(t + kTcpChecksumAt, 0);
    uint32_t sum = checksum_add(0, quic::Bytes(h + 12, 8)) + ipproto::kTcp +
                   static_cast<uint32_t>(scratch.size() - kIpv4Header);
    put16(t + kTcpChecksumAt,
          checksum_fold(checksum_add(sum, quic::Bytes(t, scratch.size() - kIpv4Header))));
    out(scratch);
  }
  return true;
}

}  // namespace masque

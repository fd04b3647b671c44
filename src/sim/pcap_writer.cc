#include "sim/pcap_writer.h"

#include <cstdint>
#include <vector>

namespace sim {
namespace {

constexpr uint32_t kPcapMagicNanos = 0xa1b23c4d;
constexpr uint32_t kLinktypeRaw = 101;
constexpr uint32_t kSnapLen = 65535;
constexpr size_t kIpv4Header = 20, kIpv6Header = 40, kUdpHeader = 8;
constexpr uint8_t kProtoUdp = 17;

void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

// Ones'-complement sum over 16-bit big-endian words (RFC 1071).
uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) acc += static_cast<uint32_t>(p[n - 1] << 8);
  return acc;
}

uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(~acc);
}

}  // namespace

PcapWriter::~PcapWriter() {
  close();
}

bool PcapWriter::open(const std::string& path) {
  close();
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) return false;
  // The global header is written in host byte order; readers detect it from the magic.
  struct {
    uint32_t magic;
    uint16_t major, minor;
    int32_t zone;
    uint32_t sigfigs, snaplen, linktype;
  } header{kPcapMagicNanos, 2, 4, 0, 0, kSnapLen, kLinktypeRaw};
  ok_ = std::fwrite(&header, sizeof header, 1, file_) == 1;
  return true;
}

void PcapWriter::close() {
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

void PcapWriter::write(Instant at, const Datagram& d) {
  if (!file_ || d.src.v6 != d.dst.v6) return;
  const bool v6 = d.src.v6;
  const size_t ip_len = v6 ? kIpv6Header : kIpv4Header;
  const size_t udp_len = kUdpHeader + d.payload.size();
  if (ip_len + udp_len > kSnapLen) return;
  const size_t addr_len = v6 ? 16 : 4;

  std::vector<uint8_t> pkt;
  pkt.reserve(ip_len + udp_len);
  if (v6) {
    // Version 6, traffic class carrying the ECN bits, flow label 0.
    pkt.push_back(static_cast<uint8_t>(0x60 | (d.ecn >> 4)));
    pkt.push_back(static_cast<uint8_t>((d.ecn & 0x0f) << 4));
    put16(pkt, 0);
    put16(pkt, static_cast<uint16_t>(udp_len));
    pkt.push_back(kProtoUdp);
    pkt.push_back(64);
  } else {
    pkt.push_back(0x45);
    pkt.push_back(d.ecn & 3);
    put16(pkt, static_cast<uint16_t>(ip_len + udp_len));
    put16(pkt, 0);
    put16(pkt, 0x4000);  // DF: QUIC datagrams must not be fragmented (RFC 9000 §14)
    pkt.push_back(64);
    pkt.push_back(kProtoUdp);
    put16(pkt, 0);  // checksum, filled below
  }
  pkt.insert(pkt.end(), d.src.ip.begin(), d.src.ip.begin() + addr_len);
  pkt.insert(pkt.end(), d.dst.ip.begin(), d.dst.ip.begin() + addr_len);
  if (!v6) {
    uint16_t c = fold(sum16(pkt.data(), kIpv4Header, 0));
    pkt[10] = static_cast<uint8_t>(c >> 8);
    pkt[11] = static_cast<uint8_t>(c);
  }
  const size_t udp_at = pkt.size();
  put16(pkt, d.src.port);
  put16(pkt, d.dst.port);
  put16(pkt, static_cast<uint16_t>(udp_len));
  put16(pkt, 0);
  pkt.insert(pkt.end(), d.payload.begin(), d.payload.end());

  // UDP checksum over the pseudo-header (addresses, protocol, length) and the datagram.
  uint32_t acc = sum16(d.src.ip.data(), addr_len, 0);
  acc = sum16(d.dst.ip.data(), addr_len, acc);
  acc += kProtoUdp + static_cast<uint32_t>(udp_len);
  acc = sum16(pkt.data() + udp_at, udp_len, acc);
  uint16_t c = fold(acc);
  if (c == 0) c = 0xffff;  // zero means "no checksum" (RFC 768)
  pkt[udp_at + 6] = static_cast<uint8_t>(c >> 8);
  pkt[udp_at + 7] = static_cast<uint8_t>(c);

  const int64_t ns = quic::to_ns(at);
  uint32_t rec[4] = {static_cast<uint32_t>(ns / 1000000000), static_cast<uint32_t>(ns % 1000000000),
                     static_cast<uint32_t>(pkt.size()), static_cast<uint32_t>(pkt.size())};
  if (std::fwrite(rec, sizeof rec, 1, file_) != 1 ||
      std::fwrite(pkt.data(), pkt.size(), 1, file_) != 1) {
    ok_ = false;
  }
}

}  // namespace sim

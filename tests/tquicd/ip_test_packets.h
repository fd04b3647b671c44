// Builders for the inner IP packets the tquicd tests feed to the classifier and the queue.
#pragma once

#include <cstdint>
#include <vector>

namespace bond::test {

// The IPv4 header checksum over the header (RFC 791), as stored.
inline uint16_t ipv4_checksum(const std::vector<uint8_t>& p) {
  size_t ihl = size_t{p[0] & 0x0fu} * 4;
  uint32_t sum = 0;
  for (size_t i = 0; i < ihl; i += 2) {
    if (i != 10) sum += uint32_t{p[i]} << 8 | p[i + 1];
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

inline void put16(std::vector<uint8_t>& p, size_t at, uint16_t v) {
  p[at] = static_cast<uint8_t>(v >> 8);
  p[at + 1] = static_cast<uint8_t>(v);
}

// IPv4 with a UDP/TCP/ICMP header of the right size; `size` is the whole packet.
inline std::vector<uint8_t> ipv4(uint8_t proto, uint16_t sport, uint16_t dport, size_t size = 100,
                                 uint8_t tos = 0, uint8_t src_last = 1) {
  std::vector<uint8_t> p(size, 0);
  p[0] = 0x45;
  p[1] = tos;
  put16(p, 2, static_cast<uint16_t>(size));
  p[8] = 64;
  p[9] = proto;
  p[12] = 198, p[13] = 18, p[14] = 0, p[15] = src_last;
  p[16] = 198, p[17] = 19, p[18] = 0, p[19] = 1;
  put16(p, 20, sport);
  put16(p, 22, dport);
  put16(p, 10, ipv4_checksum(p));
  return p;
}

// IPv6 with `ext` extension headers (each 8 bytes, destination options) before the transport.
inline std::vector<uint8_t> ipv6(uint8_t proto, uint16_t sport, uint16_t dport, size_t size = 100,
                                 uint8_t traffic_class = 0, size_t ext = 0) {
  std::vector<uint8_t> p(size, 0);
  p[0] = static_cast<uint8_t>(0x60 | traffic_class >> 4);
  p[1] = static_cast<uint8_t>(traffic_class << 4);
  put16(p, 4, static_cast<uint16_t>(size - 40));
  p[6] = ext > 0 ? 60 : proto;
  p[7] = 64;
  p[8] = 0x20, p[9] = 0x01, p[10] = 0x0d, p[11] = 0xb8, p[23] = 1;
  p[24] = 0x20, p[25] = 0x01, p[26] = 0x0d, p[27] = 0xb8, p[39] = 2;
  size_t at = 40;
  for (size_t i = 0; i < ext; ++i, at += 8) {
    p[at] = i + 1 < ext ? 60 : proto;
    p[at + 1] = 0;  // (0 + 1) * 8 bytes
  }
  put16(p, at, sport);
  put16(p, at + 2, dport);
  return p;
}

}  // namespace bond::test

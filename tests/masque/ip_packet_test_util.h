// Packet builders for the CONNECT-IP tests. The checksums these produce are checked against
// constants computed independently (Python, by the RFC 1071 definition) in ip_packet_test.cc.
#pragma once

#include <cstdint>
#include <vector>

#include "masque/ip_packet.h"

namespace masque::test {

// An address the test knows to be valid ("198.18.0.1", "2001:db8::1").
inline IpAddress ip(const char* s) { return IpAddress::parse(s).value(); }

struct PacketSpec {
  const char* src = "198.18.0.2";
  const char* dst = "198.18.1.2";
  uint8_t protocol = ipproto::kUdp;
  size_t payload = 8;  // bytes after the IP header (a UDP header counts as payload here)
  bool df = true;      // IPv4 only
  uint8_t ttl = 63;
  uint16_t id = 0x1234;
};

// A valid IPv4 or IPv6 packet (the version follows `src`); payload byte i is i & 0xff.
inline std::vector<uint8_t> make_packet(const PacketSpec& s) {
  IpAddress src = IpAddress::parse(s.src).value(), dst = IpAddress::parse(s.dst).value();
  std::vector<uint8_t> p;
  if (src.version == 4) {
    size_t total = kIpv4MinHeader + s.payload;
    p = {0x45,
         0,
         static_cast<uint8_t>(total >> 8),
         static_cast<uint8_t>(total),
         static_cast<uint8_t>(s.id >> 8),
         static_cast<uint8_t>(s.id),
         static_cast<uint8_t>(s.df ? 0x40 : 0),
         0,
         s.ttl,
         s.protocol,
         0,
         0};
    p.insert(p.end(), src.bytes.begin(), src.bytes.begin() + 4);
    p.insert(p.end(), dst.bytes.begin(), dst.bytes.begin() + 4);
    uint16_t c = checksum_fold(checksum_add(0, p));
    p[10] = static_cast<uint8_t>(c >> 8);
    p[11] = static_cast<uint8_t>(c);
  } else {
    p = {0x60,
         0,
         0,
         0,
         static_cast<uint8_t>(s.payload >> 8),
         static_cast<uint8_t>(s.payload),
         s.protocol,
         s.ttl};
    p.insert(p.end(), src.bytes.begin(), src.bytes.end());
    p.insert(p.end(), dst.bytes.begin(), dst.bytes.end());
  }
  for (size_t i = 0; i < s.payload; ++i) p.push_back(static_cast<uint8_t>(i));
  return p;
}

}  // namespace masque::test

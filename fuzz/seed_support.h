// Helpers shared by the seed generators of the packet-level fuzz targets: the record encoding
// "u8 ctl | u16 length | bytes" (see server_packets_driver.h), hand-written frames, and
// 1-RTT packets under null packet protection (payload in clear, zero tag and mask).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "crypto/aead.h"
#include "wire/packet.h"
#include "wire/varint.h"

namespace fuzz_seeds {

using Bytes8 = std::vector<uint8_t>;

struct Record {
  uint8_t ctl = 1;
  Bytes8 bytes;
};

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "seedgen: %s\n", what);
  std::exit(1);
}

// Writes dir/name: `head` (e.g. the mode byte), then the records.
inline void write_records(const std::string& dir, const std::string& name, const Bytes8& head,
                          const std::vector<Record>& records) {
  Bytes8 out = head;
  for (const auto& r : records) {
    out.push_back(r.ctl);
    out.push_back(static_cast<uint8_t>(r.bytes.size() >> 8));
    out.push_back(static_cast<uint8_t>(r.bytes.size()));
    out.insert(out.end(), r.bytes.begin(), r.bytes.end());
  }
  std::ofstream f(dir + "/" + name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
  if (!f) fail("cannot write a seed file");
  std::printf("%-40s %zu records, %zu bytes\n", name.c_str(), records.size(), out.size());
}

// frames -> one 1-RTT packet protected by the null AEAD (zero tag).
inline Bytes8 short_packet(const quic::ConnectionId& dcid, uint64_t pn, const Bytes8& frames,
                           bool key_phase = false) {
  Bytes8 b(1500);
  quic::Writer w(quic::MutBytes(b.data(), b.size()));
  if (!quic::write_short_header(w, dcid, key_phase, false, 4, pn)) fail("short header");
  w.bytes(quic::Bytes(frames.data(), frames.size()));
  w.zeros(quic::kAeadTagSize);
  b.resize(w.written());
  return b;
}

// Frame byte strings (RFC 9000 §19), written by hand so seeds also cover odd encodings.
struct F {
  Bytes8 b;
  F& v(uint64_t x) {
    uint8_t t[8];
    quic::Writer w(quic::MutBytes(t, 8));
    w.varint(x);
    b.insert(b.end(), t, t + w.written());
    return *this;
  }
  F& raw(std::initializer_list<uint8_t> x) {
    b.insert(b.end(), x);
    return *this;
  }
  F& str(const std::string& s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  F& n(size_t count, uint8_t byte) {
    b.insert(b.end(), count, byte);
    return *this;
  }
};

}  // namespace fuzz_seeds

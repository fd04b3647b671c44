// Fuzzer frames sealed with real packet protection into a fresh server Endpoint (real AEAD,
// OpenSSL or GnuTLS as the build picks): the harness plays a client whose first Destination
// Connection ID is fixed, derives the Initial keys from it (RFC 9001 §5.2) and seals each input
// record's bytes as the payload of one Initial packet (AES-128-GCM plus header protection), so
// the server's real decryption succeeds and the fuzzer reaches Initial frame handling and the
// TLS ClientHello parser through CRYPTO frames. See docs/fuzzing.md.
//
// Input: records u8 ctl | u16 big-endian length | frame bytes (at most 64, the last truncated).
//   ctl bits 0-6: milliseconds the clock advances first;
//   ctl bit 7: do not pad the datagram to 1200 bytes (RFC 9000 §14.1: the server must drop it).
// Record n is sent with packet number n.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "crypto/packet_protector.h"
#include "server_packets_driver.h"
#include "wire/packet.h"
#include "wire/version.h"

namespace fuzz_sealed_packets {

using fuzz_server_packets::die;

inline constexpr std::array<uint8_t, 8> kDcid = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
inline constexpr std::array<uint8_t, 8> kScid = {0xc1, 0x1e, 0x47, 0x00, 0x00, 0x00, 0x00, 0x01};
inline constexpr size_t kPnLen = 4;
inline constexpr size_t kMinInitialDatagram = 1200;  // RFC 9000 §14.1
inline constexpr size_t kMaxFrameBytes = 1400;       // frames beyond this are cut off

inline quic::ConnectionId cid(std::span<const uint8_t> b) {
  return quic::ConnectionId::from(quic::Bytes(b.data(), b.size()));
}

// The client Initial protector for kDcid: the same keys seal (here) and open (seed generator).
inline std::unique_ptr<quic::PacketProtector> client_initial_protector() {
  auto secrets = quic::derive_initial_secrets(quic::kVersion1, quic::Bytes(kDcid.data(), kDcid.size()));
  auto p = quic::PacketProtector::create(quic::CipherSuite::kAes128Gcm, secrets.client,
                                         quic::kVersion1);
  if (!p) die("Initial protector");
  return std::move(*p);
}

// Seals `frames` into a protected Initial packet with packet number pn; returns its size.
inline size_t seal_initial(quic::PacketProtector& prot, uint64_t pn, std::span<const uint8_t> frames,
                           bool pad, std::span<uint8_t> out) {
  quic::Writer w(quic::MutBytes(out.data(), out.size()));
  auto layout = quic::write_long_header(w, quic::kVersion1, quic::LongType::kInitial, cid(kDcid),
                                        cid(kScid), {}, kPnLen, pn, 2);
  if (!layout) die("Initial header");
  w.bytes(quic::Bytes(frames.data(), std::min(frames.size(), kMaxFrameBytes)));
  if (pad && w.written() + quic::kAeadTagSize < kMinInitialDatagram)
    w.zeros(kMinInitialDatagram - w.written() - quic::kAeadTagSize);  // PADDING frames
  size_t hdr = layout->pn_offset + layout->pn_len;
  size_t payload = w.written() - hdr;
  if (!w.ok() || !quic::patch_length(quic::MutBytes(out.data(), out.size()), *layout,
                                     kPnLen + payload + quic::kAeadTagSize)) {
    die("Initial length");
  }
  if (!prot.seal(pn, 0, quic::Bytes(out.data(), hdr), out.data() + hdr, payload))
    die("Initial seal");
  size_t total = hdr + payload + quic::kAeadTagSize;
  if (!prot.protect_header(out.data(), total, layout->pn_offset, kPnLen)) die("Initial hp");
  return total;
}

// Parses and runs one fuzz input.
inline void run_input(const uint8_t* data, size_t size) {
  fuzz_server_packets::Session s(fuzz_server_packets::Mode::kFresh, quic::AeadBackend::kAuto);
  auto prot = client_initial_protector();
  std::array<uint8_t, 2048> pkt{};
  uint64_t pn = 0;
  fuzz_server_packets::for_each_record(data, size, [&](uint8_t ctl, std::span<uint8_t> frames) {
    size_t n = seal_initial(*prot, pn++, frames, (ctl & 0x80) == 0, pkt);
    s.deliver(ctl & 0x7f, std::span<uint8_t>(pkt.data(), n));
  });
  s.run_timers();
}

}  // namespace fuzz_sealed_packets

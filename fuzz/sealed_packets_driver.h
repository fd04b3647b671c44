// Fuzzer frames sealed with real packet protection (OpenSSL or GnuTLS, as the build picks) into
// a server Endpoint, so the server's real decryption succeeds and the fuzzer reaches frame
// handling behind it (server_packets uses the null AEAD). See docs/fuzzing.md.
//
// Input: byte 0 mode % 2, then records u8 ctl | u16 big-endian length | frame bytes (at most
// 64, the last truncated); record n is sealed with packet number n (mode 1: 1000 + n).
//   mode 0  fresh server. The harness plays a client whose first Destination Connection ID is
//           fixed, derives the Initial keys from it (RFC 9001 §5.2) and seals each record as one
//           Initial packet (AES-128-GCM + header protection): Initial frames and the TLS
//           ClientHello parser via CRYPTO. ctl bit 7: no padding to 1200 bytes (must be dropped).
//   mode 1  established server. A real client (ChaCha20-Poly1305 only, real AEAD) completes the
//           handshake in memory and logs its secrets; the harness takes CLIENT_TRAFFIC_SECRET_0
//           and seals each record as one 1-RTT packet to the server's connection ID.
//   ctl bits 0-6: milliseconds the clock advances first.
#pragma once

#include <unistd.h>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>

#include "crypto/packet_protector.h"
#include "server_packets_driver.h"
#include "tls/test_certs.h"
#include "tls/tls_context.h"
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
  auto secrets =
      quic::derive_initial_secrets(quic::kVersion1, quic::Bytes(kDcid.data(), kDcid.size()));
  auto p =
      quic::PacketProtector::create(quic::CipherSuite::kAes128Gcm, secrets.client, quic::kVersion1);
  if (!p) die("Initial protector");
  return std::move(*p);
}

// Seals `frames` into a protected Initial packet with packet number pn; returns its size.
inline size_t seal_initial(quic::PacketProtector& prot, uint64_t pn,
                           std::span<const uint8_t> frames, bool pad, std::span<uint8_t> out) {
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

enum class Mode : uint8_t { kInitial = 0, kOneRtt = 1 };
inline constexpr uint8_t kModes = 2;
inline constexpr uint64_t kFirstOneRttPn = 1000;  // above what the client sent in the handshake

// The key log of this process's mode-1 clients (one file per process; appended per handshake).
inline const std::string& keylog_path() {
  // Never destroyed, so the exit handler that removes the file can still read it.
  static const std::string* path = [] {
    auto* p = new std::string((std::filesystem::temp_directory_path() /
                               ("tquic-fuzz-keylog-" + std::to_string(::getpid())))
                                  .string());
    std::atexit([] { std::remove(keylog_path().c_str()); });
    return p;
  }();
  return *path;
}

// A "localhost" server and a client that trusts it, offers only ChaCha20-Poly1305 (a fixed
// suite: the harness must know it) and logs its secrets.
inline const quic::TestTlsPair& logging_tls() {
  static const quic::TestTlsPair pair = [] {
    auto cert = quic::make_self_signed("localhost");
    quic::TlsConfig s, c;
    s.server = true;
    s.alpn = c.alpn = {"hq-interop"};
    if (cert) s.cert_pem = cert->cert_pem, s.key_pem = cert->key_pem, c.ca_pem = cert->ca_pem;
    c.server_name = "localhost";
    c.chacha20_only = true;
    c.keylog_file = keylog_path();
    auto sc = quic::make_tls_context(s);
    auto cc = quic::make_tls_context(c);
    if (!cert || !sc || !cc) die("logging TLS contexts");
    return quic::TestTlsPair{*sc, *cc};
  }();
  return pair;
}

// CLIENT_TRAFFIC_SECRET_0 from the key log (truncated before each handshake).
inline quic::Secret last_client_1rtt_secret() {
  std::ifstream in(keylog_path());
  std::string line, hex;
  const std::string label = "CLIENT_TRAFFIC_SECRET_0 ";
  while (std::getline(in, line)) {
    if (line.rfind(label, 0) == 0) hex = line.substr(line.rfind(' ') + 1);
  }
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  if (bytes.size() != 32) die("no CLIENT_TRAFFIC_SECRET_0 in the key log");
  return quic::Secret::from(quic::Bytes(bytes.data(), bytes.size()));
}

// Seals `frames` into a protected 1-RTT packet to `dcid`; returns its size.
inline size_t seal_one_rtt(quic::PacketProtector& prot, const quic::ConnectionId& dcid, uint64_t pn,
                           std::span<const uint8_t> frames, std::span<uint8_t> out) {
  quic::Writer w(quic::MutBytes(out.data(), out.size()));
  auto layout = quic::write_short_header(w, dcid, false, false, kPnLen, pn);
  if (!layout) die("1-RTT header");
  w.bytes(quic::Bytes(frames.data(), std::min(frames.size(), kMaxFrameBytes)));
  // With a 4-byte packet number the tag alone covers the header-protection sample (RFC 9001
  // §5.4.2), so even an empty payload (a PROTOCOL_VIOLATION, RFC 9000 §12.4) is sealed.
  size_t hdr = layout->pn_offset + kPnLen, payload = w.written() - hdr;
  if (!w.ok() || !prot.seal(pn, 0, quic::Bytes(out.data(), hdr), out.data() + hdr, payload))
    die("1-RTT seal");
  size_t total = hdr + payload + quic::kAeadTagSize;
  if (!prot.protect_header(out.data(), total, layout->pn_offset, kPnLen)) die("1-RTT hp");
  return total;
}

// An established server with real AEAD and what a client needs to talk 1-RTT to it.
struct Established {
  fuzz_server_packets::Session session{fuzz_server_packets::Mode::kEstablished,
                                       quic::AeadBackend::kAuto, logging_tls()};
  quic::ConnectionId server_cid;
  std::unique_ptr<quic::PacketProtector> client_1rtt;

  Established() {
    std::ofstream(keylog_path(), std::ios::trunc);  // the log then holds this handshake only
    session.on_client_datagram = [this](std::span<const uint8_t> d) {
      if (!d.empty() && (d[0] & 0x80) == 0 && d.size() > 9)
        server_cid = quic::ConnectionId::from(quic::Bytes(d.data() + 1, 8));
    };
    if (!session.prefix(fuzz_server_packets::Mode::kEstablished) || server_cid.len == 0)
      die("real-AEAD handshake prefix failed");
    auto p = quic::PacketProtector::create(quic::CipherSuite::kChaCha20Poly1305,
                                           last_client_1rtt_secret(), quic::kVersion1);
    if (!p) die("1-RTT protector");
    client_1rtt = std::move(*p);
  }
};

// Parses and runs one fuzz input.
inline void run_input(const uint8_t* data, size_t size) {
  if (size == 0) return;
  std::array<uint8_t, 2048> pkt{};
  if (static_cast<Mode>(data[0] % kModes) == Mode::kOneRtt) {
    Established e;
    uint64_t pn = kFirstOneRttPn;
    fuzz_server_packets::for_each_record(
        data + 1, size - 1, [&](uint8_t ctl, std::span<uint8_t> f) {
          size_t n = seal_one_rtt(*e.client_1rtt, e.server_cid, pn++, f, pkt);
          e.session.deliver(ctl & 0x7f, std::span<uint8_t>(pkt.data(), n));
        });
    e.session.run_timers();
    return;
  }
  fuzz_server_packets::Session s(fuzz_server_packets::Mode::kFresh, quic::AeadBackend::kAuto);
  auto prot = client_initial_protector();
  uint64_t pn = 0;
  fuzz_server_packets::for_each_record(data + 1, size - 1, [&](uint8_t ctl, std::span<uint8_t> f) {
    size_t n = seal_initial(*prot, pn++, f, (ctl & 0x80) == 0, pkt);
    s.deliver(ctl & 0x7f, std::span<uint8_t>(pkt.data(), n));
  });
  s.run_timers();
}

}  // namespace fuzz_sealed_packets

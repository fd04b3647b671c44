// QUIC packet protection for one direction at one encryption level and key phase
// (RFC 9001 §5): AEAD payload protection, header protection, key update (§6), Initial secrets
// (§5.2, RFC 9369 §3.3.1) and the multipath nonce (draft-ietf-quic-multipath-21 §"Nonce
// Calculation after Handshake Completion").
//
// One PacketProtector can both seal (the sender's view) and open (the receiver's view) with the
// same keys, which is how tests and the simulator use one secret from both ends. Not thread-safe:
// seal/open/mask reuse one library context each (one connection = one thread).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "common/error.h"
#include "crypto/aead.h"
#include "crypto/cipher_suite.h"
#include "wire/packet_number.h"  // kMaxPacketNumber
#include "wire/varint.h"

namespace quic {

// Key material of one direction, derived from a traffic secret (RFC 9001 §5.1).
struct PacketKeys {
  CipherSuite suite = CipherSuite::kAes128Gcm;
  std::array<uint8_t, kMaxKeySize> key{};
  std::array<uint8_t, kAeadNonceSize> iv{};
  std::array<uint8_t, kMaxKeySize> hp{};

  Bytes key_view() const { return Bytes(key.data(), suite_key_size(suite)); }
  Bytes iv_view() const { return Bytes(iv.data(), iv.size()); }
  Bytes hp_view() const { return Bytes(hp.data(), suite_hp_key_size(suite)); }
};

// key/iv/hp = HKDF-Expand-Label(secret, "quic key"/"quic iv"/"quic hp" (v2: "quicv2 …"), "", len)
// with the suite's hash. Fails if the secret length is not the hash length.
Result<PacketKeys> derive_packet_keys(CipherSuite suite, const Secret& secret, uint32_t version);

// RFC 9001 §6.1: the secret of the next key phase, Expand-Label(secret, "quic ku", "", hash_len).
Result<Secret> next_traffic_secret(CipherSuite suite, const Secret& secret, uint32_t version);

// The AEAD nonce: IV XOR (path_id (32) || 0b00 || packet number (62)), big-endian over 96 bits.
// path_id 0 is exactly RFC 9001 §5.3 (IV XOR packet number).
std::array<uint8_t, kAeadNonceSize> make_nonce(const std::array<uint8_t, kAeadNonceSize>& iv,
                                               uint64_t pn, uint32_t path_id);

class PacketProtector {
 public:
  static Result<std::unique_ptr<PacketProtector>> create(CipherSuite suite,
                                                         const Secret& traffic_secret,
                                                         uint32_t version,
                                                         AeadBackend backend = AeadBackend::kAuto);

  // Encrypts payload[0, payload_len) in place and writes the 16-byte tag right after it, so the
  // buffer needs payload_len + kAeadTagSize bytes. aad = the unprotected header bytes.
  // path_id is 0 except for 1-RTT packets on a multipath connection. False on pn > 2^62-1, an
  // oversized payload or a library failure.
  [[nodiscard]] bool seal(uint64_t pn, uint32_t path_id, Bytes aad, uint8_t* payload,
                          size_t payload_len);
  // Decrypts in place; payload[0, len_with_tag - 16) is then the plaintext. False on
  // authentication failure (or len_with_tag < 16): drop the packet.
  [[nodiscard]] bool open(uint64_t pn, uint32_t path_id, Bytes aad, uint8_t* payload,
                          size_t len_with_tag);

  // RFC 9001 §5.4.1: masks pkt[0] (low 4 bits for a long header, 5 for a short one) and the
  // pn_len packet-number bytes at pn_offset, using the sample at pn_offset + 4. False if
  // pn_len is not 1..4 or does not match pkt[0], or the packet is too short for the sample.
  [[nodiscard]] bool protect_header(uint8_t* pkt, size_t pkt_len, size_t pn_offset, size_t pn_len);
  // Inverse of protect_header: returns {pn length 1..4, truncated packet number}. nullopt if
  // the packet is too short to hold pn_offset + 4 + 16 bytes (RFC 9001 §5.4.2); pkt is then
  // untouched.
  std::optional<std::pair<size_t, uint64_t>> unprotect_header(uint8_t* pkt, size_t pkt_len,
                                                              size_t pn_offset);

  // RFC 9001 §6: the protector of the next key phase. New secret, key and IV; the header
  // protection key (and its initialised context) is shared, never updated.
  Result<std::unique_ptr<PacketProtector>> next_key_phase() const;

  CipherSuite suite() const { return suite_; }
  AeadBackend backend() const { return backend_; }  // never kAuto
  uint32_t version() const { return version_; }

 private:
  PacketProtector() = default;

  CipherSuite suite_ = CipherSuite::kAes128Gcm;
  AeadBackend backend_ = AeadBackend::kOpenSsl;
  uint32_t version_ = 0;
  Secret secret_;
  std::array<uint8_t, kAeadNonceSize> iv_{};
  std::unique_ptr<Aead> aead_;
  std::shared_ptr<HeaderProtector> hp_;
};

// RFC 9001 §5.2 / RFC 9369 §3.3.1: both Initial secrets from the client's first Destination
// Connection ID. Always AES-128-GCM with SHA-256. QUIC v2 (0x6b3343cf) uses the v2 salt; every
// other version the v1 salt (callers only derive keys for versions they support).
struct InitialSecrets {
  Secret client, server;
};
InitialSecrets derive_initial_secrets(uint32_t version, Bytes client_dcid);

}  // namespace quic

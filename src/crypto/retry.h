// Retry Integrity Tag (RFC 9001 §5.8; QUIC v2 key and nonce: RFC 9369 §3.3.3): AES-128-GCM with
// a fixed, published key over the Retry pseudo-packet and an empty plaintext. It detects
// corruption and off-path injection, not a malicious on-path server.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "wire/varint.h"

namespace quic {

inline constexpr size_t kRetryIntegrityTagSize = 16;
// RFC 9000 §17.2: v1/v2 connection IDs are at most 20 bytes; the pseudo-packet's ODCID Length is
// checked against it so a peer cannot make us authenticate an arbitrary prefix.
inline constexpr size_t kMaxRetryOdcidLen = 20;

// Tag over a caller-built pseudo-packet: ODCID Length (1) | ODCID | Retry packet without tag.
// QUIC v2 (0x6b3343cf) uses the v2 key/nonce, any other version those of v1. Returns all zeros
// only if the crypto library fails (a bug; verify_retry_integrity_tag never accepts then).
std::array<uint8_t, kRetryIntegrityTagSize> retry_integrity_tag(uint32_t version,
                                                                Bytes pseudo_packet);

// The same tag without building the pseudo-packet: odcid = the client's original Destination
// Connection ID, retry_without_tag = the Retry packet up to (excluding) its tag.
// nullopt if odcid is longer than kMaxRetryOdcidLen or the library fails.
std::optional<std::array<uint8_t, kRetryIntegrityTagSize>> retry_integrity_tag(
    uint32_t version, Bytes odcid, Bytes retry_without_tag);

// True if the last 16 bytes of retry_packet are the tag for (odcid, the bytes before them).
// Constant-time comparison. False for packets shorter than a tag or an over-long odcid.
bool verify_retry_integrity_tag(uint32_t version, Bytes odcid, Bytes retry_packet);

}  // namespace quic

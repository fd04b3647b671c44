// HKDF (RFC 5869) and the TLS 1.3 HKDF-Expand-Label (RFC 8446 §7.1) with the QUIC labels of
// RFC 9001 §5.1 (v1) and RFC 9369 §3.3.2 (v2). Used on key installation and key update only,
// never per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/cipher_suite.h"
#include "wire/varint.h"

namespace quic {

// RFC 8446 §7.1: the HkdfLabel fields are one-byte lengths, so "tls13 " + label and the context
// are each at most 255 bytes.
inline constexpr size_t kMaxHkdfLabelSize = 255 - 6;
inline constexpr size_t kMaxHkdfContextSize = 255;

// PRK = HKDF-Extract(salt, ikm); out->len becomes the hash size.
[[nodiscard]] bool hkdf_extract(HashAlg hash, Bytes salt, Bytes ikm, Secret* out);

// HKDF-Expand(secret, HkdfLabel{out_len, "tls13 " + label, context}, out_len). False on an
// over-long label/context, an out_len beyond 255 hash blocks, or a library failure.
[[nodiscard]] bool hkdf_expand_label(HashAlg hash, Bytes secret, std::string_view label,
                                     Bytes context, uint8_t* out, size_t out_len);

// The four per-version packet protection labels.
struct QuicLabels {
  std::string_view key, iv, hp, ku;
};

// RFC 9369 §3.3.2: QUIC v2 (0x6b3343cf) uses "quicv2 …"; every other version gets the v1 labels
// (the endpoint only derives keys for versions it supports).
const QuicLabels& quic_labels(uint32_t version);
bool is_quic_v2(uint32_t version);

}  // namespace quic

// TLS 1.3 extension lists (RFC 8446 §4.2): `extensions<u16>` of entries `type<u16> data<u16>`.
// Used where we read a handshake message GnuTLS has not parsed for us (a ClientHello's QUIC
// transport parameters for compatible version negotiation, a NewSessionTicket's early_data).
#pragma once

#include <cstdint>
#include <optional>

#include "wire/varint.h"

namespace quic {

// Reads the u16-length extension block at `r` and returns the data of the first extension of
// `type`; nullopt when the block is malformed or the extension is absent.
inline std::optional<Bytes> find_tls_extension(Reader& r, uint16_t type) {
  auto block_len = r.u16();
  if (!block_len) return std::nullopt;
  auto block = r.bytes(*block_len);
  if (!block) return std::nullopt;
  Reader e(*block);
  while (!e.empty()) {
    auto ext_type = e.u16();
    auto len = e.u16();
    if (!ext_type || !len) return std::nullopt;
    auto data = e.bytes(*len);
    if (!data) return std::nullopt;
    if (*ext_type == type) return *data;
  }
  return std::nullopt;
}

}  // namespace quic

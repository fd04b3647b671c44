// Prefixed integers (RFC 7541 §5.1, used by RFC 9204 §4.1.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "h3/qpack/qpack_error.h"
#include "wire/varint.h"

namespace h3::qpack {

// Values above 2^62-1 cannot be QUIC quantities (stream IDs, counts): rejected as kInvalid.
inline constexpr uint64_t kMaxPrefixedInt = (uint64_t{1} << 62) - 1;
// 10 continuation bytes hold 70 bits, enough for any 62-bit value plus redundant zero groups;
// an 11th is never needed and is rejected so a peer cannot stream endless 0x80 bytes.
inline constexpr size_t kMaxIntContinuationBytes = 10;

struct IntParse {
  Parse status = Parse::kIncomplete;
  uint64_t value = 0;
  size_t consumed = 0;
};

// Decodes an integer whose prefix is the low `prefix_bits` (1..8) bits of in[0].
IntParse decode_prefixed_int(quic::Bytes in, int prefix_bits);

// Appends `value` with an N-bit prefix; `flags` supplies the first byte's high bits.
void encode_prefixed_int(std::vector<uint8_t>& out, uint8_t flags, int prefix_bits, uint64_t value);

}  // namespace h3::qpack

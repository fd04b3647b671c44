// String literals (RFC 9204 §4.1.2): an H bit, an N-bit prefixed length, then raw or
// Huffman-coded bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "h3/qpack/qpack_error.h"
#include "wire/varint.h"

namespace h3::qpack {

struct StringParse {
  Parse status = Parse::kIncomplete;
  size_t consumed = 0;
  // With kIncomplete: total bytes (from the start of the literal) known to be needed, so an
  // incremental caller can wait for them instead of re-parsing on every byte.
  size_t need = 0;
};

// Decodes a literal whose H bit is bit `prefix_bits` of in[0] and whose length uses the low
// `prefix_bits` bits. The decoded string is written to `out` (replacing it) and may not exceed
// max_len bytes; an encoded length that could not decode to <= max_len is rejected before any
// of it is buffered.
StringParse decode_string(quic::Bytes in, int prefix_bits, size_t max_len, std::string& out);

// Appends the literal, Huffman-coded when allowed and shorter. `flags` gives the first byte's
// bits above the H bit.
void encode_string(std::vector<uint8_t>& out, uint8_t flags, int prefix_bits, std::string_view s,
                   bool allow_huffman = true);

}  // namespace h3::qpack

// The static Huffman code of HPACK (RFC 7541 Appendix B), used by QPACK string literals
// (RFC 9204 §4.1.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "h3/qpack/qpack_error.h"
#include "wire/varint.h"

namespace h3::qpack {

// Bytes needed to Huffman-encode s.
size_t huffman_encoded_size(std::string_view s);
// Appends the Huffman encoding of s, padded with the most significant bits of EOS.
void huffman_encode(std::string_view s, std::vector<uint8_t>& out);
// Appends the decoding of `in` to out. kTooLarge if more than max_out bytes would be produced;
// kInvalid for EOS in the data, padding longer than 7 bits, or padding that is not all ones
// (RFC 7541 §5.2).
Parse huffman_decode(quic::Bytes in, size_t max_out, std::string& out);

// Longest code in the table, in bits: a decoded byte costs at most this many input bits.
inline constexpr size_t kHuffmanMaxCodeBits = 30;

}  // namespace h3::qpack

#include "h3/qpack/string_literal.h"

#include "h3/qpack/huffman.h"
#include "h3/qpack/prefixed_int.h"

namespace h3::qpack {

StringParse decode_string(quic::Bytes in, int prefix_bits, size_t max_len, std::string& out) {
  StringParse r;
  if (in.empty()) {
    r.need = 1;
    return r;
  }
  const bool huffman = (in[0] >> prefix_bits) & 1u;
  const IntParse len = decode_prefixed_int(in, prefix_bits);
  if (len.status == Parse::kIncomplete) {
    r.need = in.size() + 1;
    return r;
  }
  if (len.status != Parse::kOk) return {len.status, 0, 0};
  // Every decoded byte costs at least 5 and at most 30 bits, so a Huffman string of L bytes
  // decodes to at least 8L/30 bytes: a longer L cannot fit in max_len.
  uint64_t max_encoded = max_len;
  if (huffman) {
    max_encoded = max_len < (uint64_t{1} << 58)
                      ? (static_cast<uint64_t>(max_len) * kHuffmanMaxCodeBits + 7) / 8
                      : UINT64_MAX;
  }
  if (len.value > max_encoded) return {Parse::kTooLarge, 0, 0};
  const uint64_t total = len.consumed + len.value;
  if (in.size() < total) {
    r.need = static_cast<size_t>(total);
    return r;
  }
  quic::Bytes body = in.subspan(len.consumed, static_cast<size_t>(len.value));
  out.clear();
  if (huffman) {
    const Parse p = huffman_decode(body, max_len, out);
    if (p != Parse::kOk) return {p, 0, 0};
  } else {
    out.assign(reinterpret_cast<const char*>(body.data()), body.size());
  }
  return {Parse::kOk, static_cast<size_t>(total), 0};
}

void encode_string(std::vector<uint8_t>& out, uint8_t flags, int prefix_bits, std::string_view s,
                   bool allow_huffman) {
  const size_t huff_len = allow_huffman ? huffman_encoded_size(s) : s.size();
  if (huff_len < s.size()) {
    encode_prefixed_int(out, static_cast<uint8_t>(flags | (1u << prefix_bits)), prefix_bits,
                        huff_len);
    huffman_encode(s, out);
  } else {
    encode_prefixed_int(out, flags, prefix_bits, s.size());
    out.insert(out.end(), s.begin(), s.end());
  }
}

}  // namespace h3::qpack

#include "h3/qpack/prefixed_int.h"

namespace h3::qpack {

IntParse decode_prefixed_int(quic::Bytes in, int prefix_bits) {
  IntParse r;
  if (in.empty()) return r;
  const uint64_t mask = (uint64_t{1} << prefix_bits) - 1;
  uint64_t value = in[0] & mask;
  if (value < mask) return {Parse::kOk, value, 1};
  unsigned shift = 0;
  for (size_t i = 1;; ++i) {
    if (i > kMaxIntContinuationBytes) return {Parse::kInvalid, 0, 0};
    if (i >= in.size()) return r;  // incomplete
    const uint64_t group = in[i] & 0x7f;
    // shift <= 63 here; the check keeps value + (group << shift) <= kMaxPrefixedInt.
    if (group > ((kMaxPrefixedInt - value) >> shift)) return {Parse::kInvalid, 0, 0};
    value += group << shift;
    if ((in[i] & 0x80) == 0) return {Parse::kOk, value, i + 1};
    shift += 7;
  }
}

void encode_prefixed_int(std::vector<uint8_t>& out, uint8_t flags, int prefix_bits,
                         uint64_t value) {
  const uint64_t mask = (uint64_t{1} << prefix_bits) - 1;
  if (value < mask) {
    out.push_back(static_cast<uint8_t>(flags | value));
    return;
  }
  out.push_back(static_cast<uint8_t>(flags | mask));
  value -= mask;
  while (value >= 0x80) {
    out.push_back(static_cast<uint8_t>(0x80 | (value & 0x7f)));
    value >>= 7;
  }
  out.push_back(static_cast<uint8_t>(value));
}

}  // namespace h3::qpack

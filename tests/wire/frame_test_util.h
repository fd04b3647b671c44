// Helpers shared by the wire codec tests (frames, packets, transport parameters).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "support/hex.h"
#include "wire/frame.h"
#include "wire/packet.h"

namespace quic::test {

// "8394c8f0 3e515708" -> that connection ID; spaces are ignored.
inline ConnectionId cid(std::string_view h) { return ConnectionId::from(unhex(h)); }

// "03 40 64" -> {0x03, 0x40, 0x64}; spaces are ignored.
inline std::vector<uint8_t> from_hex(std::string_view s) { return unhex(s); }

// Encodes f into a fresh buffer sized by encoded_size(); empty when not encodable.
inline std::vector<uint8_t> encode(const Frame& f) {
  std::vector<uint8_t> buf(encoded_size(f));
  if (buf.empty()) return buf;
  Writer w(buf);
  if (!encode_frame(w, f) || w.written() != buf.size()) return {};
  return buf;
}

// Decodes exactly one frame that must consume all of b.
inline Result<Frame> decode_one(const std::vector<uint8_t>& b) {
  Reader r(b);
  auto f = decode_frame(r);
  if (f && !r.empty()) return fail(err::kInternalError, "trailing bytes");
  return f;
}
// Decoded frames are views into their input: decoding a temporary would dangle.
Result<Frame> decode_one(std::vector<uint8_t>&&) = delete;

// True when b holds exactly one valid frame.
inline bool decodes(const std::vector<uint8_t>& b) {
  return decode_one(b).has_value();
}

}  // namespace quic::test

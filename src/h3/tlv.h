// One incremental reader for the length-prefixed type-length-value layout that HTTP/3 frames
// (RFC 9114 §7.1) and capsules (RFC 9297 §3.2) share: Type (i), Length (i), Value (..).
//
// The reader only splits bytes; its owner decides, after each header, what happens to the
// value: buffered whole (the owner checked the length against its cap first), streamed through
// in chunks (DATA), or skipped without being stored (unknown types). So a header announcing
// 2^62 bytes costs nothing until the bytes arrive, and nothing at all when skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/error.h"
#include "wire/varint.h"

namespace h3 {

// Two 8-byte varints.
inline constexpr size_t kMaxTlvHeaderSize = 16;

class TlvReader {
 public:
  enum class Mode : uint8_t { kBuffer, kStream, kSkip };
  struct Item {
    enum class Kind : uint8_t {
      kHeader,  // type and length are known; call set_mode() before the next next()
      kWhole,   // a buffered value, complete
      kChunk,   // part of a streamed value; `last` marks its end
    };
    Kind kind;
    uint64_t type = 0;
    uint64_t length = 0;
    quic::Bytes payload;  // valid until the next call to next() or until `in` is released
    bool last = false;
  };

  // Consumes bytes from the front of `in`; nullopt when `in` is exhausted mid-item. Skipped
  // values and zero-length streamed values produce no items after their header.
  std::optional<Item> next(quic::Bytes& in);
  // After a kHeader item: what to do with its value.
  void set_mode(Mode m);
  // True between items (nothing partially read).
  bool at_boundary() const { return state_ == State::kHeader && header_len_ == 0; }
  uint64_t type() const { return type_; }
  uint64_t items_read() const { return items_; }

 private:
  enum class State : uint8_t { kHeader, kDecide, kBuffer, kStream, kSkip };
  State state_ = State::kHeader;
  uint8_t header_[kMaxTlvHeaderSize];
  size_t header_len_ = 0;
  uint64_t type_ = 0, length_ = 0, remaining_ = 0;
  std::vector<uint8_t> buf_;
  uint64_t items_ = 0;
};

}  // namespace h3

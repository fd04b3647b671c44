// QPACK error codes (RFC 9204 §6) and the outcome types shared by the QPACK codecs.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"

namespace h3::qpack {

inline constexpr uint64_t kDecompressionFailed = 0x200;  // QPACK_DECOMPRESSION_FAILED
inline constexpr uint64_t kEncoderStreamError = 0x201;   // QPACK_ENCODER_STREAM_ERROR
inline constexpr uint64_t kDecoderStreamError = 0x202;   // QPACK_DECODER_STREAM_ERROR
// A field section larger than our SETTINGS_MAX_FIELD_SECTION_SIZE. This is a stream-level
// outcome (RFC 9114 §4.2.2: the request is refused, e.g. with 431), reported with
// H3_MESSAGE_ERROR so the HTTP/3 layer can tell it apart from connection errors.
inline constexpr uint64_t kFieldSectionTooLarge = 0x10e;

// QPACK errors are HTTP/3 application error codes (CONNECTION_CLOSE 0x1d).
[[nodiscard]] inline std::unexpected<quic::Error> qpack_fail(uint64_t code, std::string reason) {
  return std::unexpected(quic::Error{code, 0, std::move(reason), true});
}

// Result of parsing one primitive or instruction from a possibly truncated buffer.
enum class Parse : uint8_t {
  kOk,
  kIncomplete,  // more bytes are needed; nothing was consumed
  kTooLarge,    // a length or value exceeds the caller's limit
  kInvalid,     // malformed (integer overflow, bad Huffman code, ...)
};

}  // namespace h3::qpack

// Error model shared by every protocol layer (docs/style.md "Our conventions").
//
// A TransportError closes the connection with an RFC error code; "done / blocked" outcomes are
// statuses of the calling API, never errors; broken invariants use TQUIC_BUG.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <utility>

namespace quic {

// RFC 9000 §20.1, RFC 9368 §10.2, draft-ietf-quic-multipath-21 §10.
namespace err {
inline constexpr uint64_t kNoError = 0x00;
inline constexpr uint64_t kInternalError = 0x01;
inline constexpr uint64_t kConnectionRefused = 0x02;
inline constexpr uint64_t kFlowControlError = 0x03;
inline constexpr uint64_t kStreamLimitError = 0x04;
inline constexpr uint64_t kStreamStateError = 0x05;
inline constexpr uint64_t kFinalSizeError = 0x06;
inline constexpr uint64_t kFrameEncodingError = 0x07;
inline constexpr uint64_t kTransportParameterError = 0x08;
inline constexpr uint64_t kConnectionIdLimitError = 0x09;
inline constexpr uint64_t kProtocolViolation = 0x0a;
inline constexpr uint64_t kInvalidToken = 0x0b;
inline constexpr uint64_t kApplicationError = 0x0c;
inline constexpr uint64_t kCryptoBufferExceeded = 0x0d;
inline constexpr uint64_t kKeyUpdateError = 0x0e;
inline constexpr uint64_t kAeadLimitReached = 0x0f;
inline constexpr uint64_t kNoViablePath = 0x10;
inline constexpr uint64_t kVersionNegotiationError = 0x11;
inline constexpr uint64_t kCryptoErrorBase = 0x0100;  // + TLS alert description
// draft-ietf-quic-multipath-21 §10.2 (PATH_ABANDON error codes and transport error codes).
// (The codes draft-15 used, 0x004150504142414e and so on, are gone: §9.3 of draft-21.)
inline constexpr uint64_t kApplicationAbandonPath = 0x3e;
inline constexpr uint64_t kPathResourceLimitReached = 0x3e75;
inline constexpr uint64_t kPathUnstableOrPoor = 0x3e76;
inline constexpr uint64_t kNoCidAvailableForPath = 0x3e77;
}  // namespace err

struct Error {
  uint64_t code = err::kInternalError;
  uint64_t frame_type = 0;  // the frame that triggered it, 0 when none/unknown
  std::string reason;
  bool application = false;  // true: an application error code (CONNECTION_CLOSE 0x1d)
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

[[nodiscard]] inline std::unexpected<Error> fail(uint64_t code, std::string reason,
                                                 uint64_t frame_type = 0) {
  return std::unexpected(Error{code, frame_type, std::move(reason), false});
}

// Name of a transport error code for logs and test messages ("FRAME_ENCODING_ERROR").
const char* error_name(uint64_t code);

}  // namespace quic

// A broken internal invariant: aborts in debug builds; in release the caller must turn the
// returned false into an INTERNAL_ERROR close. Never used for peer input.
#ifdef NDEBUG
#define TQUIC_BUG_IF(cond) (cond)
#else
#include <cstdio>
#include <cstdlib>
#define TQUIC_BUG_IF(cond)                                                                \
  ((cond) ? (std::fprintf(stderr, "TQUIC bug: %s at %s:%d\n", #cond, __FILE__, __LINE__), \
             std::abort(), true)                                                          \
          : false)
#endif

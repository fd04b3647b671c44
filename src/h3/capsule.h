// The Capsule Protocol (RFC 9297 §3.2) carried in the DATA of an extended CONNECT stream, and
// HTTP Datagrams in QUIC DATAGRAM frames (RFC 9297 §2.1): quarter stream ID, then payload;
// protocols such as CONNECT-UDP/IP start the payload with a context ID (RFC 9298 §4,
// RFC 9484 §6).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "h3/frames.h"

namespace h3 {

namespace capsule {
inline constexpr uint64_t kDatagram = 0x00;  // RFC 9297 §3.5
}

// Largest DATAGRAM capsule we buffer; a larger one is H3_GENERAL_PROTOCOL_ERROR (the
// capsule is malformed for us, RFC 9297 §3.3); unknown capsules of any size are skipped
// without buffering.
inline constexpr size_t kMaxCapsulePayload = 65535;
// The largest stream ID a quarter stream ID can name (RFC 9297 §2.1: at most 2^60 - 1).
inline constexpr uint64_t kMaxQuarterStreamId = (uint64_t{1} << 60) - 1;

void append_capsule(std::vector<uint8_t>& out, uint64_t type, Bytes payload);
void append_datagram_capsule(std::vector<uint8_t>& out, Bytes payload);

struct Capsule {
  uint64_t type;
  Bytes payload;  // valid until the next CapsuleReader::next call
};

// Incremental capsule parser for the bytes of an extended CONNECT stream's DATA frames.
class CapsuleReader {
 public:
  // `known` capsules are buffered up to max_payload; others are skipped as they stream by.
  explicit CapsuleReader(size_t max_payload = kMaxCapsulePayload) : max_payload_(max_payload) {}
  // Consumes from the front of `in`; nullopt when `in` is exhausted mid-capsule. Errors:
  // H3_GENERAL_PROTOCOL_ERROR for a DATAGRAM capsule larger than max_payload.
  quic::Result<std::optional<Capsule>> next(Bytes& in);
  // The stream ended: a truncated capsule is malformed (RFC 9297 §3.3).
  quic::Status finish() const;

 private:
  enum class State : uint8_t { kHeader, kBuffer, kSkip };
  size_t max_payload_;
  State state_ = State::kHeader;
  uint8_t header_[16];
  size_t header_len_ = 0;
  uint64_t type_ = 0, remaining_ = 0;
  std::vector<uint8_t> buf_;
};

// HTTP Datagram in a QUIC DATAGRAM frame (RFC 9297 §2.1).
struct HttpDatagram {
  uint64_t stream_id;  // a client-initiated bidirectional stream (quarter stream ID * 4)
  Bytes payload;
};
// Fails (H3_INTERNAL_ERROR) for a stream ID that is not client-bidirectional or too large.
quic::Result<std::vector<uint8_t>> encode_http_datagram(uint64_t stream_id, Bytes payload);
// H3_DATAGRAM_ERROR when the quarter stream ID is missing or above 2^60 - 1.
quic::Result<HttpDatagram> decode_http_datagram(Bytes datagram);

// A context-ID-prefixed payload (CONNECT-UDP, CONNECT-IP): context 0 carries the raw packet.
struct ContextPayload {
  uint64_t context_id;
  Bytes payload;
};
void append_context_payload(std::vector<uint8_t>& out, uint64_t context_id, Bytes payload);
std::optional<ContextPayload> parse_context_payload(Bytes payload);

}  // namespace h3

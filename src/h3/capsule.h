// The Capsule Protocol (RFC 9297 §3.2) carried in the DATA of an extended CONNECT stream, and
// HTTP Datagrams in QUIC DATAGRAM frames (RFC 9297 §2.1): quarter stream ID, then payload;
// protocols such as CONNECT-UDP/IP start the payload with a context ID (RFC 9298 §4,
// RFC 9484 §6).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "h3/frames.h"
#include "h3/tlv.h"

namespace h3 {

namespace capsule {
inline constexpr uint64_t kDatagram = 0x00;            // RFC 9297 §3.5
inline constexpr uint64_t kAddressAssign = 0x01;       // RFC 9484 §4.7.1
inline constexpr uint64_t kAddressRequest = 0x02;      // RFC 9484 §4.7.2
inline constexpr uint64_t kRouteAdvertisement = 0x03;  // RFC 9484 §4.7.3
inline constexpr uint64_t kWtCloseSession = 0x2843;    // draft-ietf-webtrans-http3 §6
inline constexpr uint64_t kWtDrainSession = 0x78ae;    // draft-ietf-webtrans-http3 §4.6
}  // namespace capsule

// Largest DATAGRAM capsule we take; a larger one is discarded unbuffered (RFC 9297 §3.5).
inline constexpr size_t kMaxCapsulePayload = 65535;
// RFC 9484 address and route capsules: lists of 26- and 34-byte entries. A peer sending more
// than this many bytes in one is exceeding what we will hold (H3_EXCESSIVE_LOAD).
inline constexpr size_t kMaxAddressCapsule = 4096;
inline constexpr size_t kMaxRouteCapsule = 16384;
// WT_CLOSE_SESSION: a 32-bit code and at most 1024 bytes of message (a longer one is
// H3_MESSAGE_ERROR by the draft's §6); WT_DRAIN_SESSION is empty.
inline constexpr size_t kMaxWtCloseSession = 4 + 1024;
// The largest stream ID a quarter stream ID can name (RFC 9297 §2.1: at most 2^60 - 1).
inline constexpr uint64_t kMaxQuarterStreamId = (uint64_t{1} << 60) - 1;

// What a receiver does with a known capsule whose length is above its cap.
enum class Oversize : uint8_t {
  kDiscard,    // skip it unbuffered and count it (DATAGRAM, RFC 9297 §3.5)
  kMalformed,  // the spec bounds it: malformed message, H3_MESSAGE_ERROR (RFC 9297 §3.3)
  kExcessive,  // only our resource limit: H3_EXCESSIVE_LOAD
};

struct CapsuleType {
  uint64_t type;
  const char* name;
  size_t max_length;
  Oversize oversize;
};

// The capsule types this stack knows (delivered to handlers); every other type is skipped as
// RFC 9297 §3.2 requires. Extensions can pass their own table to CapsuleReader.
std::span<const CapsuleType> known_capsule_types();
const CapsuleType* find_capsule_type(std::span<const CapsuleType> table, uint64_t type);

void append_capsule(std::vector<uint8_t>& out, uint64_t type, Bytes payload);
void append_datagram_capsule(std::vector<uint8_t>& out, Bytes payload);

struct Capsule {
  uint64_t type;
  Bytes payload;  // valid until the next CapsuleReader::next call
};

// Incremental capsule parser for the bytes of an extended CONNECT stream's DATA frames.
// Errors are stream errors for the CONNECT stream (a malformed message, RFC 9297 §3.3).
class CapsuleReader {
 public:
  explicit CapsuleReader(std::span<const CapsuleType> table = known_capsule_types())
      : table_(table) {}
  // Consumes from the front of `in`; nullopt when `in` is exhausted mid-capsule. Only known
  // types are returned. Errors: H3_MESSAGE_ERROR / H3_EXCESSIVE_LOAD for a known capsule above
  // its cap, by the table's Oversize rule.
  quic::Result<std::optional<Capsule>> next(Bytes& in);
  // The stream ended: a truncated capsule is malformed (H3_MESSAGE_ERROR, RFC 9297 §3.3).
  quic::Status finish() const;
  uint64_t skipped_unknown() const { return skipped_unknown_; }
  uint64_t discarded_oversize() const { return discarded_oversize_; }

 private:
  std::span<const CapsuleType> table_;
  TlvReader tlv_;
  uint64_t skipped_unknown_ = 0, discarded_oversize_ = 0;
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

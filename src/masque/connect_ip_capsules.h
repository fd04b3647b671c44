// The CONNECT-IP capsules (RFC 9484 §4.7): ADDRESS_ASSIGN (0x01), ADDRESS_REQUEST (0x02) and
// ROUTE_ADVERTISEMENT (0x03), as sans-I/O codecs that enforce every validity rule of §4.7,
// plus the per-stream request-ID bookkeeping the rules about request IDs need.
//
// Each violation is a named CapsuleError; capsule_error_code() maps it to the HTTP/3 answer:
// a malformed field is a malformed message (RFC 9297 §3.3 -> RFC 9114 §4.1.2, the stream is
// reset with H3_MESSAGE_ERROR); the rules §4.7 answers with "MUST abort the IP proxying request
// stream" (empty request, route order and overlap, request-ID reuse) abort it with
// H3_GENERAL_PROTOCOL_ERROR; more entries than we hold is H3_EXCESSIVE_LOAD.
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "masque/ip_packet.h"

namespace masque {

// Entries one capsule may carry. The h3 capsule table already caps the bytes (4096 for the
// address capsules, 16384 for routes); these bound what a handler stores and walks.
inline constexpr size_t kMaxAddressesPerCapsule = 64;
inline constexpr size_t kMaxRoutesPerCapsule = 256;
// Distinct request IDs one stream tracks (ours sent, the peer's seen); beyond: excessive.
inline constexpr size_t kMaxRequestIds = 1024;

enum class CapsuleError : uint8_t {
  kTruncated,           // an entry cut short
  kBadIpVersion,        // IP Version not 4 or 6
  kPrefixTooLong,       // prefix length above 32 / 128
  kHostBitsSet,         // bits past the prefix length not zero
  kZeroRequestId,       // ADDRESS_REQUEST with Request ID 0 (§4.7.2 "MUST NOT be zero")
  kEmptyRequest,        // ADDRESS_REQUEST with no entries (§4.7.2: abort)
  kDuplicateRequestId,  // the same Request ID twice in one capsule
  kReusedRequestId,     // a Request ID the peer already used (§4.7.2 "MUST NOT be reused")
  kUnknownRequestId,    // ADDRESS_ASSIGN naming a Request ID we never sent (§4.7.1)
  kVersionMismatch,     // ADDRESS_ASSIGN answering a v4 request with v6 or the reverse
  kRangeStartAfterEnd,  // ROUTE_ADVERTISEMENT start > end (§4.7.3)
  kRangesOutOfOrder,    // version / protocol order, or end of A not below start of B
  kRangesOverlap,       // protocol-0 range overlapping a same-version non-zero one
  kTooManyEntries,      // above kMaxAddressesPerCapsule / kMaxRoutesPerCapsule / kMaxRequestIds
};
const char* capsule_error_name(CapsuleError e);
// The HTTP/3 error code the CONNECT stream is reset with.
uint64_t capsule_error_code(CapsuleError e);

// One Assigned Address or Requested Address (the same wire shape, §4.7.1 and §4.7.2).
struct AddressEntry {
  uint64_t request_id = 0;
  IpPrefix prefix;
  friend bool operator==(const AddressEntry&, const AddressEntry&) = default;
};

// One IP Address Range of a ROUTE_ADVERTISEMENT (§4.7.3).
struct IpRange {
  IpAddress start, end;
  uint8_t protocol = 0;  // 0: every protocol
  bool contains(const IpAddress& a) const {
    return a.version == start.version && start <= a && a <= end;
  }
  static IpRange of(const IpPrefix& p, uint8_t protocol = 0) {
    return IpRange{p.address, p.last(), protocol};
  }
  friend bool operator==(const IpRange&, const IpRange&) = default;
};

template <class T>
using CapsuleResult = std::expected<T, CapsuleError>;

// --- decoding: the capsule value (after type and length), checked against §4.7 alone.
CapsuleResult<std::vector<AddressEntry>> decode_address_assign(Bytes value);
CapsuleResult<std::vector<AddressEntry>> decode_address_request(Bytes value);
CapsuleResult<std::vector<IpRange>> decode_route_advertisement(Bytes value);

// --- encoding: the value of a capsule, refusing to put an invalid list on the wire.
CapsuleResult<std::vector<uint8_t>> encode_address_assign(std::span<const AddressEntry> a);
CapsuleResult<std::vector<uint8_t>> encode_address_request(std::span<const AddressEntry> r);
// Sorts `routes` into the §4.7.3 order first; then checks them as a receiver would.
CapsuleResult<std::vector<uint8_t>> encode_route_advertisement(std::vector<IpRange> routes);

// The order §4.7.3 requires (version, protocol, start).
void sort_routes(std::vector<IpRange>& routes);
// The §4.7.3 order and overlap rules over a whole list.
std::expected<void, CapsuleError> check_routes(std::span<const IpRange> routes);

// The rejection entry for a request we do not grant (§4.7.2: all-zero, full length).
AddressEntry rejection(const AddressEntry& request);
bool is_rejection(const AddressEntry& e);

// Request IDs of one CONNECT-IP stream, both directions (§4.7.1, §4.7.2).
class RequestIds {
 public:
  // Our own next ID (1, 2, ...): never zero, never reused.
  uint64_t next_ours();
  // Records what we sent, so that assignments naming it can be checked.
  std::expected<void, CapsuleError> sent(std::span<const AddressEntry> requests);
  // A peer ADDRESS_REQUEST after decoding: IDs not reused across capsules, within bounds.
  std::expected<void, CapsuleError> on_peer_request(std::span<const AddressEntry> requests);
  // A peer ADDRESS_ASSIGN after decoding: every non-zero ID is one we sent, of its version.
  std::expected<void, CapsuleError> on_peer_assign(std::span<const AddressEntry> assigned) const;

 private:
  uint64_t next_ = 1;
  std::unordered_map<uint64_t, uint8_t> ours_;  // request ID -> IP version
  std::unordered_set<uint64_t> theirs_;
};

}  // namespace masque

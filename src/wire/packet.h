// QUIC packet headers: the unprotected part of long and short headers (RFC 9000 §17, RFC 8999),
// QUIC v2 type bits (RFC 9369 §3.2), Version Negotiation, Retry, and coalesced packets
// (RFC 9000 §12.2). Pure codecs: header protection and the Retry integrity tag live in crypto/.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "common/error.h"
#include "wire/packet_number.h"
#include "wire/varint.h"
#include "wire/version.h"

namespace quic {

// RFC 9000 §17.2: v1 (and v2) connection IDs are at most 20 bytes.
inline constexpr size_t kMaxCidLength = 20;
// RFC 9000 §17.2: a Retry packet ends with a 128-bit integrity tag.
inline constexpr size_t kRetryTagLength = 16;
// Versions kept from one Version Negotiation packet; the rest are scanned but not stored.
inline constexpr size_t kMaxVnVersions = 64;
// Packets taken from one datagram (RFC 9000 §12.2); the rest of the datagram is dropped.
// Real senders coalesce at most Initial + 0-RTT/Handshake + 1-RTT.
inline constexpr size_t kMaxCoalescedPackets = 16;

struct ConnectionId {
  uint8_t len = 0;
  std::array<uint8_t, kMaxCidLength> bytes{};

  Bytes view() const { return Bytes(bytes.data(), len); }
  // b must be at most kMaxCidLength bytes (callers check lengths of peer input first);
  // a longer span is a caller bug and yields an empty ID.
  static ConnectionId from(Bytes b);
  friend bool operator==(const ConnectionId& a, const ConnectionId& b) {
    return a.len == b.len && std::equal(a.bytes.begin(), a.bytes.begin() + a.len, b.bytes.begin());
  }
};

struct ConnectionIdHash {
  size_t operator()(const ConnectionId& c) const;
};

// Logical long-header packet type; the wire bits differ between versions (RFC 9369 §3.2).
enum class LongType : uint8_t { kInitial, kZeroRtt, kHandshake, kRetry };

// The two Long Packet Type bits (first byte 0x30) of `type` in `version`.
uint8_t long_type_bits(uint32_t version, LongType type);
LongType long_type_from_bits(uint32_t version, uint8_t bits);

struct PacketHeader {
  bool long_header = false;
  uint8_t first_byte = 0;  // still header-protected: pn length / key phase / reserved bits raw
  bool fixed_bit = false;  // 0x40; may legitimately be 0 if we sent grease_quic_bit (RFC 9287)
  uint32_t version = 0;    // long header only; 0 = Version Negotiation
  LongType type = LongType::kInitial;  // supported versions only
  // Connection IDs; for versions we do not support they may be longer than kMaxCidLength
  // (RFC 8999 §5.1), then only the raw views are set so that Version Negotiation can echo them.
  ConnectionId dcid, scid;
  Bytes dcid_raw, scid_raw;
  Bytes token;          // Initial: token; Retry: Retry Token (the tag excluded)
  uint64_t length = 0;  // Length field of Initial/0-RTT/Handshake: packet number + payload
  size_t pn_offset = 0;    // offset of the packet number; 0 when the packet has none
  size_t packet_size = 0;  // bytes of this packet within the datagram
  bool spin = false, key_phase = false;  // short header bits, still protected (raw)

  // False for Retry, Version Negotiation and versions we do not parse.
  bool has_packet_number() const { return pn_offset != 0; }
};

// Parses the unprotected header of the packet at the start of `datagram`, up to the packet
// number. `short_dcid_len` is the length of our connection IDs (short headers carry no length).
// Fails with PROTOCOL_VIOLATION on malformed input; callers drop such packets. For versions
// other than v1/v2 (and Version Negotiation) only the RFC 8999 invariant fields are parsed and
// the packet takes the rest of the datagram.
Result<PacketHeader> parse_header(Bytes datagram, size_t short_dcid_len);

// ---- Version Negotiation (RFC 9000 §17.2.1, RFC 9368 §4) ----

// Writes a Version Negotiation packet: dcid is the client's SCID, scid the client's DCID
// (both echoed raw, any length up to 255). `random_bits` fill the unused first-byte bits; 0x40
// is always set (RFC 9000 §17.2.1). Returns the size, 0 if `out` is too small.
size_t build_version_negotiation(MutBytes out, Bytes dcid, Bytes scid,
                                 std::span<const uint32_t> versions, uint8_t random_bits);
size_t build_version_negotiation(MutBytes out, const ConnectionId& dcid, const ConnectionId& scid,
                                 std::span<const uint32_t> versions, uint8_t random_bits);

struct VersionNegotiation {
  Bytes dcid, scid;
  std::vector<uint32_t> versions;  // at most kMaxVnVersions, in packet order
  // The packet lists the version the client chose: the client MUST discard it
  // (RFC 9000 §6.2, RFC 9368 §4). Scanned over the whole list, not only the kept part.
  bool lists_original_version = false;
};

// Parses a whole Version Negotiation packet (a datagram whose version field is 0).
// An empty version list or one that is not a multiple of 4 bytes is malformed.
Result<VersionNegotiation> parse_version_negotiation(Bytes pkt, uint32_t original_version);

// ---- Retry (RFC 9000 §17.2.5, RFC 9001 §5.8) ----

struct RetryPacket {
  uint32_t version = 0;
  ConnectionId dcid, scid;
  Bytes token;
  Bytes tag;          // kRetryTagLength bytes
  Bytes without_tag;  // the packet up to the tag, input to the pseudo-packet
};

// Parses a Retry packet (the whole datagram); an empty token is malformed (§17.2.5.2).
Result<RetryPacket> parse_retry(Bytes pkt);

// Writes a Retry packet without its integrity tag; the caller appends the tag computed over
// the pseudo-packet. Returns the size written, 0 if `out` is too small or the version unknown.
size_t write_retry(MutBytes out, uint32_t version, const ConnectionId& dcid,
                   const ConnectionId& scid, Bytes token, uint8_t random_bits);

// Writes the Retry pseudo-packet (RFC 9001 §5.8): ODCID length, ODCID, then the Retry packet
// without its tag. Returns the size, 0 if `out` is too small.
size_t build_retry_pseudo_packet(MutBytes out, const ConnectionId& odcid, Bytes retry_without_tag);

// ---- Send path ----

// Where the fields the packet builder fills in later sit, as offsets into the Writer's buffer.
struct HeaderLayout {
  size_t start = 0;             // first byte of the packet
  size_t length_offset = 0;     // long header: the Length field (0 for short headers)
  size_t length_field_len = 0;  // bytes reserved for Length (1, 2, 4 or 8)
  size_t pn_offset = 0;
  size_t pn_len = 0;
};

// Writes a long header for Initial, 0-RTT or Handshake up to and including the truncated
// packet number, with Length reserved in `length_field_len` bytes (2 lets the caller patch in
// up to 16383). `token` only for Initial. Reserved bits are 0 (RFC 9000 §17.2). `fixed_bit`
// may be false only where RFC 9287 §3 allows it (the peer sent grease_quic_bit).
// Returns nullopt if the buffer is too small or an argument is invalid.
std::optional<HeaderLayout> write_long_header(Writer& w, uint32_t version, LongType type,
                                              const ConnectionId& dcid, const ConnectionId& scid,
                                              Bytes token, size_t pn_len, uint64_t pn,
                                              size_t length_field_len = 2, bool fixed_bit = true);

// Sets the Length field once the payload (and the AEAD tag's room) is known:
// length = pn_len + payload + tag. False if it does not fit the reserved width.
bool patch_length(MutBytes buf, const HeaderLayout& layout, uint64_t length);

// Writes a 1-RTT short header up to the truncated packet number (RFC 9000 §17.3.1).
std::optional<HeaderLayout> write_short_header(Writer& w, const ConnectionId& dcid, bool key_phase,
                                               bool spin, size_t pn_len, uint64_t pn,
                                               bool fixed_bit = true);

// ---- Coalesced packets (RFC 9000 §12.2) ----

struct DatagramPacket {
  PacketHeader header;
  Bytes bytes;  // the whole packet: header, packet number, payload
  size_t offset = 0;  // where it starts in the datagram
};

// Walks the packets of one UDP datagram. Stops at the end, at a packet that cannot be parsed
// (its bytes and everything after are dropped: no boundary can be found), at a packet whose
// DCID differs from the first one (receivers SHOULD ignore those), or after
// kMaxCoalescedPackets packets.
class CoalescedPackets {
 public:
  CoalescedPackets(Bytes datagram, size_t short_dcid_len)
      : datagram_(datagram), short_dcid_len_(short_dcid_len) {}

  std::optional<DatagramPacket> next();

  size_t count() const { return count_; }
  // Bytes left unprocessed when iteration stopped early (0 after a clean end).
  size_t dropped_bytes() const { return datagram_.size() - offset_; }
  // Why the first unparseable packet was rejected, if that is what stopped the walk.
  const std::optional<Error>& error() const { return error_; }

 private:
  Bytes datagram_;
  size_t short_dcid_len_;
  size_t offset_ = 0;
  size_t count_ = 0;
  bool stopped_ = false;
  Bytes first_dcid_;
  std::optional<Error> error_;
};

}  // namespace quic

template <>
struct std::hash<quic::ConnectionId> : quic::ConnectionIdHash {};

// QUIC transport parameters (RFC 9000 §7.4 and §18) with the extensions TQUIC speaks:
// max_datagram_frame_size (RFC 9221), version_information (RFC 9368), grease_quic_bit
// (RFC 9287), min_ack_delay (draft-ietf-quic-ack-frequency), reset_stream_at
// (draft-ietf-quic-reliable-stream-reset), initial_max_path_id (draft-ietf-quic-multipath-21). The codec validates everything a single blob can show;
// checks against the handshake (CIDs matching the Initial packets, whether a Retry happened,
// the chosen version matching the packet's) belong to the connection.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/error.h"
#include "wire/packet.h"
#include "wire/varint.h"

namespace quic {

// Transport parameter IDs.
namespace tp {
inline constexpr uint64_t kOriginalDestinationConnectionId = 0x00;
inline constexpr uint64_t kMaxIdleTimeout = 0x01;
inline constexpr uint64_t kStatelessResetToken = 0x02;
inline constexpr uint64_t kMaxUdpPayloadSize = 0x03;
inline constexpr uint64_t kInitialMaxData = 0x04;
inline constexpr uint64_t kInitialMaxStreamDataBidiLocal = 0x05;
inline constexpr uint64_t kInitialMaxStreamDataBidiRemote = 0x06;
inline constexpr uint64_t kInitialMaxStreamDataUni = 0x07;
inline constexpr uint64_t kInitialMaxStreamsBidi = 0x08;
inline constexpr uint64_t kInitialMaxStreamsUni = 0x09;
inline constexpr uint64_t kAckDelayExponent = 0x0a;
inline constexpr uint64_t kMaxAckDelay = 0x0b;
inline constexpr uint64_t kDisableActiveMigration = 0x0c;
inline constexpr uint64_t kPreferredAddress = 0x0d;
inline constexpr uint64_t kActiveConnectionIdLimit = 0x0e;
inline constexpr uint64_t kInitialSourceConnectionId = 0x0f;
inline constexpr uint64_t kRetrySourceConnectionId = 0x10;
inline constexpr uint64_t kVersionInformation = 0x11;      // RFC 9368 §10.1
inline constexpr uint64_t kMaxDatagramFrameSize = 0x20;    // RFC 9221 §3
inline constexpr uint64_t kInitialMaxPathId = 0x3e;        // draft-ietf-quic-multipath-21 §2.1
inline constexpr uint64_t kGreaseQuicBit = 0x2ab2;         // RFC 9287 §3
inline constexpr uint64_t kMinAckDelay = 0xff04de1b;       // draft-ietf-quic-ack-frequency §3
inline constexpr uint64_t kResetStreamAt = 0x17f7586d2cb571;  // reliable-stream-reset §3
}  // namespace tp

// Limits enforced on peer values (RFC 9000 §18.2 and the extension drafts).
inline constexpr uint64_t kMinMaxUdpPayloadSize = 1200;
inline constexpr uint64_t kMaxAckDelayExponent = 20;
inline constexpr uint64_t kMaxMaxAckDelayMs = (uint64_t{1} << 14) - 1;
inline constexpr uint64_t kMinActiveConnectionIdLimit = 2;
inline constexpr uint64_t kMaxStreamsLimit = uint64_t{1} << 60;       // RFC 9000 §4.6
inline constexpr uint64_t kMaxInitialMaxPathId = (uint64_t{1} << 32) - 1;
// Available Versions accepted in version_information (RFC 9368 §3); a longer list is a
// TRANSPORT_PARAMETER_ERROR. Real lists hold a few versions plus a greased one or two.
inline constexpr size_t kMaxAvailableVersions = 64;

struct PreferredAddress {
  std::array<uint8_t, 4> ipv4{};
  uint16_t ipv4_port = 0;
  std::array<uint8_t, 16> ipv6{};
  uint16_t ipv6_port = 0;
  ConnectionId cid;
  std::array<uint8_t, 16> reset_token{};
  friend bool operator==(const PreferredAddress&, const PreferredAddress&) = default;
};

struct VersionInformation {
  uint32_t chosen = 0;
  std::vector<uint32_t> available;  // at most kMaxAvailableVersions when decoded
  friend bool operator==(const VersionInformation&, const VersionInformation&) = default;
};

struct TransportParameters {
  std::optional<ConnectionId> original_destination_connection_id;
  std::optional<ConnectionId> initial_source_connection_id;
  std::optional<ConnectionId> retry_source_connection_id;
  uint64_t max_idle_timeout_ms = 0;
  std::optional<std::array<uint8_t, 16>> stateless_reset_token;
  uint64_t max_udp_payload_size = 65527;
  uint64_t initial_max_data = 0;
  uint64_t initial_max_stream_data_bidi_local = 0;
  uint64_t initial_max_stream_data_bidi_remote = 0;
  uint64_t initial_max_stream_data_uni = 0;
  uint64_t initial_max_streams_bidi = 0;
  uint64_t initial_max_streams_uni = 0;
  uint64_t ack_delay_exponent = 3;
  uint64_t max_ack_delay_ms = 25;
  bool disable_active_migration = false;
  std::optional<PreferredAddress> preferred_address;
  uint64_t active_connection_id_limit = 2;
  std::optional<uint64_t> max_datagram_frame_size;
  std::optional<VersionInformation> version_information;
  bool grease_quic_bit = false;
  std::optional<uint64_t> min_ack_delay_us;
  bool reset_stream_at = false;  // empty parameter: RESET_STREAM_AT frames accepted
  std::optional<uint64_t> initial_max_path_id;

  friend bool operator==(const TransportParameters&, const TransportParameters&) = default;
};

enum class Role { kClient, kServer };

// One reserved parameter (RFC 9000 §18.1) to keep peers tolerant of unknown IDs:
// ID 31 * n + 27 with `value` as its content. The caller supplies the randomness.
struct TransportParamGrease {
  uint64_t n = 0;  // keep below 2^57 so the ID fits a varint
  Bytes value;
};

// Encodes `params`; parameters equal to their default are omitted. Fails with INTERNAL_ERROR
// if `out` is too small or a value cannot be encoded (e.g. above 2^62 - 1).
Result<size_t> encode_transport_params(const TransportParameters& params, MutBytes out,
                                       const TransportParamGrease* grease = nullptr);

// Decodes the parameters the peer sent; `sender` is the peer's role. Every rule of RFC 9000
// §7.3, §7.4, §18.2 and of the extensions that a lone blob can show is checked; failures are
// TRANSPORT_PARAMETER_ERROR with a reason. Unknown (including greased) parameters are skipped.
Result<TransportParameters> decode_transport_params(Bytes in, Role sender);

}  // namespace quic

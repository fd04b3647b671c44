// Version negotiation (RFC 9368) between the versions TQUIC speaks, QUIC v1 (RFC 9000) and v2
// (RFC 9369): the pure decisions (which version to pick from a Version Negotiation packet or
// from a client's version_information, whether the peer's version_information proves that no
// downgrade happened) and the per-connection state conn_version.cc keeps. Pure functions here
// are unit-tested on their own; the Connection glue lives in conn_version.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "crypto/packet_protector.h"
#include "wire/packet.h"
#include "wire/transport_params.h"
#include "wire/version.h"

namespace quic {

struct ConnectionConfig;
class TlsContext;

// ClientHello bytes a server buffers to read the client's version_information before TLS
// sees them (compatible negotiation must pick the version before the server's transport
// parameters are encoded). Same bound as the TLS adapter's kMaxHandshakeMessageBytes: a
// larger ClientHello is handed to TLS unread, without compatible negotiation.
inline constexpr size_t kMaxBufferedClientHello = 65536;

// The versions an endpoint supports, most preferred first: config.versions (without versions
// the library cannot speak), or when that is empty `config.version` (if v1 or v2) followed by
// the other one. Never empty.
std::vector<uint32_t> supported_versions(const ConnectionConfig& config);

// RFC 9369 §4: v1 and v2 are compatible with each other in both directions; nothing else is.
constexpr bool versions_compatible(uint32_t from, uint32_t to) {
  return is_supported_version(from) && is_supported_version(to);
}

// Client, incompatible negotiation (RFC 9368 §2.2): the first of our versions (in our order)
// that the server lists; reserved versions are never picked.
std::optional<uint32_t> choose_from_version_negotiation(std::span<const uint32_t> ours,
                                                        std::span<const uint32_t> offered);

// Server, compatible negotiation (RFC 9368 §2.3): the version to switch the client's
// `original` first flight to. Candidates are the client's Available Versions that we support
// and that `original` is compatible with; `own_order` picks by our preference, otherwise by the
// client's. Returns `original` when nothing better applies (including a missing or lying
// version_information, which the handshake then rejects).
uint32_t choose_compatible_version(std::span<const uint32_t> ours, bool own_order,
                                   uint32_t original, const std::optional<VersionInformation>& vi);

// The body of the quic_transport_parameters extension (0x39) of a complete ClientHello
// handshake message (4-byte header included), or nullopt if `msg` is not a well-formed
// ClientHello or has no such extension. Bounds-checked against hostile input.
std::optional<Bytes> client_hello_transport_params(Bytes msg);

// Downgrade protection (RFC 9368 §4). The checks an endpoint makes on the peer's
// version_information once the handshake has authenticated it; failures are
// VERSION_NEGOTIATION_ERROR (0x11).
struct ClientVersionView {
  uint32_t negotiated = 0;               // the version in use (server's long headers)
  std::vector<uint32_t> offered;         // the Available Versions we sent
  std::vector<uint32_t> supported;       // our preference order
  std::optional<uint32_t> vn_attempted;  // set when we restarted after a VN packet
};
Status check_server_version_information(const ClientVersionView& us,
                                        const std::optional<VersionInformation>& vi);
// `original`: the version of the Initial packets that carried the client's parameters.
Status check_client_version_information(uint32_t original,
                                        const std::optional<VersionInformation>& vi);

// Per-connection state of conn_version.cc.
struct VersionNegotiationState {
  uint32_t original = 0;  // client: the first flight's version; server: the client's Initials'
  // Client: a reserved version written over the version field of our Initials (RFC 9000 §6.3:
  // eliciting Version Negotiation); the packets themselves are built as v1. 0: none.
  uint32_t disguise = 0;
  bool vn_acted = false;      // client: restarted the handshake after a VN packet
  uint32_t vn_attempted = 0;  // client: the version picked from that packet
  bool server_decided = false;  // server: compatible negotiation done, TLS fed
  std::vector<uint8_t> client_hello;  // server: buffered until the decision
  ConnectionId initial_dcid;  // the DCID Initial keys derive from (any version)
  // Client: keys of a version seen in a server Initial, adopted once one authenticates.
  uint32_t candidate_version = 0;
  std::unique_ptr<PacketProtector> candidate_seal, candidate_open;
  // Server: the original version's Initial receive key, kept for the client's Initials until
  // the Initial space is discarded (RFC 9369 §4.1).
  std::unique_ptr<PacketProtector> original_open;
  // Client: what a restarted handshake needs.
  std::shared_ptr<const TlsContext> tls;
  std::vector<uint8_t> session_ticket;
};

}  // namespace quic

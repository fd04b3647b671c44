// Version negotiation decisions (RFC 9368 §2, §4; RFC 9369 §4): pure functions, no state.
#include "core/version_negotiation.h"

#include <algorithm>

#include "core/config.h"
#include "tls/tls_extensions.h"

namespace quic {

namespace {

bool contains(std::span<const uint32_t> list, uint32_t v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::string hex32(uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += kDigits[(v >> shift) & 0xf];
  return s;
}

// TLS 1.3 (RFC 8446 §4.1.2) ClientHello and extension type of quic_transport_parameters
// (RFC 9001 §8.2).
constexpr uint8_t kClientHello = 1;
constexpr uint16_t kQuicTransportParametersExt = 0x39;

}  // namespace

std::vector<uint32_t> supported_versions(const ConnectionConfig& config) {
  std::vector<uint32_t> out;
  for (uint32_t v : config.versions) {
    if (is_supported_version(v) && !contains(out, v)) out.push_back(v);
  }
  if (!out.empty()) return out;
  if (is_supported_version(config.version)) out.push_back(config.version);
  for (uint32_t v : {kVersion1, kVersion2}) {
    if (!contains(out, v)) out.push_back(v);
  }
  return out;
}

std::optional<uint32_t> choose_from_version_negotiation(std::span<const uint32_t> ours,
                                                        std::span<const uint32_t> offered) {
  for (uint32_t v : ours) {
    if (is_supported_version(v) && !is_reserved_version(v) && contains(offered, v)) return v;
  }
  return std::nullopt;
}

uint32_t choose_compatible_version(std::span<const uint32_t> ours, bool own_order,
                                   uint32_t original, const std::optional<VersionInformation>& vi) {
  // A client whose Chosen Version is not the version of its Initials is lying; the handshake
  // closes with VERSION_NEGOTIATION_ERROR, in the original version.
  if (!vi || vi->chosen != original) return original;
  auto acceptable = [&](uint32_t v) {
    return !is_reserved_version(v) && contains(ours, v) && contains(vi->available, v) &&
           (v == original || versions_compatible(original, v));
  };
  std::span<const uint32_t> order = own_order ? ours : std::span<const uint32_t>(vi->available);
  for (uint32_t v : order) {
    if (acceptable(v)) return v;
  }
  return original;
}

std::optional<Bytes> client_hello_transport_params(Bytes msg) {
  Reader r(msg);
  auto type = r.u8();
  auto len = r.uint_n(3);
  if (!type || *type != kClientHello || !len || *len != r.remaining()) return std::nullopt;
  if (!r.skip(2 + 32)) return std::nullopt;  // legacy_version, random
  auto session_id_len = r.u8();
  if (!session_id_len || !r.skip(*session_id_len)) return std::nullopt;
  auto suites_len = r.u16();
  if (!suites_len || !r.skip(*suites_len)) return std::nullopt;
  auto compression_len = r.u8();
  if (!compression_len || !r.skip(*compression_len)) return std::nullopt;
  return find_tls_extension(r, kQuicTransportParametersExt);
}

Status check_server_version_information(const ClientVersionView& us,
                                        const std::optional<VersionInformation>& vi) {
  std::optional<VersionInformation> info = vi;
  if (!info) {
    if (!us.vn_attempted) return {};  // RFC 9368 §4: we MAY complete without it
    // §8: a v1 server that predates RFC 9368 is taken to have said "v1, available v1".
    if (us.negotiated != kVersion1) {
      return fail(err::kVersionNegotiationError,
                  "no version_information from the server after Version Negotiation");
    }
    info = VersionInformation{kVersion1, {kVersion1}};
  }
  if (info->chosen != us.negotiated) {
    return fail(err::kVersionNegotiationError,
                "server's chosen version " + hex32(info->chosen) + " is not the version in use " +
                    hex32(us.negotiated));
  }
  if (!contains(us.offered, info->chosen)) {
    return fail(err::kVersionNegotiationError,
                "server chose version " + hex32(info->chosen) + " that we did not offer");
  }
  if (us.vn_attempted) {
    // We would have picked the same version from a VN packet listing what the server really
    // supports; otherwise the VN packet we acted on was forged to downgrade us.
    std::vector<uint32_t> genuine = info->available;
    if (genuine.empty()) {
      return fail(err::kVersionNegotiationError,
                  "server lists no available versions after Version Negotiation");
    }
    genuine.push_back(us.negotiated);
    auto pick = choose_from_version_negotiation(us.supported, genuine);
    if (!pick || (*pick != *us.vn_attempted && *pick != us.negotiated)) {
      return fail(err::kVersionNegotiationError,
                  "Version Negotiation packet was not genuine: the server supports " +
                      hex32(pick.value_or(0)));
    }
  }
  return {};
}

Status check_client_version_information(uint32_t original,
                                        const std::optional<VersionInformation>& vi) {
  if (!vi) return {};  // RFC 9368 §4: servers MAY complete without it
  if (vi->chosen != original) {
    return fail(err::kVersionNegotiationError,
                "client's chosen version " + hex32(vi->chosen) +
                    " is not the version of its Initial packets " + hex32(original));
  }
  return {};
}

}  // namespace quic

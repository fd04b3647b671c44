#include "wire/transport_params.h"

#include <string>

namespace quic {
namespace {

std::unexpected<Error> tp_error(const std::string& why) {
  return fail(err::kTransportParameterError, why);
}

// Known parameters get a bit each so that duplicates are caught (RFC 9000 §7.4: an endpoint
// MAY treat a duplicate as TRANSPORT_PARAMETER_ERROR; we do for every parameter we parse).
// Duplicates of unknown IDs are ignored with the parameters themselves.
int known_index(uint64_t id) {
  if (id <= tp::kVersionInformation) return static_cast<int>(id);
  switch (id) {
    case tp::kMaxDatagramFrameSize: return 18;
    case tp::kInitialMaxPathId: return 19;
    case tp::kGreaseQuicBit: return 20;
    case tp::kMinAckDelay: return 21;
    case tp::kResetStreamAt: return 22;
    default: return -1;
  }
}

const char* param_name(uint64_t id) {
  switch (id) {
    case tp::kOriginalDestinationConnectionId: return "original_destination_connection_id";
    case tp::kMaxIdleTimeout: return "max_idle_timeout";
    case tp::kStatelessResetToken: return "stateless_reset_token";
    case tp::kMaxUdpPayloadSize: return "max_udp_payload_size";
    case tp::kInitialMaxData: return "initial_max_data";
    case tp::kInitialMaxStreamDataBidiLocal: return "initial_max_stream_data_bidi_local";
    case tp::kInitialMaxStreamDataBidiRemote: return "initial_max_stream_data_bidi_remote";
    case tp::kInitialMaxStreamDataUni: return "initial_max_stream_data_uni";
    case tp::kInitialMaxStreamsBidi: return "initial_max_streams_bidi";
    case tp::kInitialMaxStreamsUni: return "initial_max_streams_uni";
    case tp::kAckDelayExponent: return "ack_delay_exponent";
    case tp::kMaxAckDelay: return "max_ack_delay";
    case tp::kDisableActiveMigration: return "disable_active_migration";
    case tp::kPreferredAddress: return "preferred_address";
    case tp::kActiveConnectionIdLimit: return "active_connection_id_limit";
    case tp::kInitialSourceConnectionId: return "initial_source_connection_id";
    case tp::kRetrySourceConnectionId: return "retry_source_connection_id";
    case tp::kVersionInformation: return "version_information";
    case tp::kMaxDatagramFrameSize: return "max_datagram_frame_size";
    case tp::kInitialMaxPathId: return "initial_max_path_id";
    case tp::kGreaseQuicBit: return "grease_quic_bit";
    case tp::kMinAckDelay: return "min_ack_delay";
    case tp::kResetStreamAt: return "reset_stream_at";
    default: return "unknown";
  }
}

// An integer parameter is exactly one varint: trailing bytes are malformed.
std::optional<uint64_t> whole_varint(Bytes v) {
  Reader r(v);
  auto x = r.varint();
  if (!x || !r.empty()) return std::nullopt;
  return x;
}

std::optional<ConnectionId> whole_cid(Bytes v) {
  if (v.size() > kMaxCidLength) return std::nullopt;
  return ConnectionId::from(v);
}

std::optional<PreferredAddress> parse_preferred_address(Bytes v) {
  Reader r(v);
  PreferredAddress pa;
  auto ip4 = r.bytes(4);
  auto port4 = r.u16();
  auto ip6 = r.bytes(16);
  auto port6 = r.u16();
  auto cid_len = r.u8();
  if (!ip4 || !port4 || !ip6 || !port6 || !cid_len || *cid_len > kMaxCidLength) return {};
  auto cid = r.bytes(*cid_len);
  auto token = r.bytes(16);
  if (!cid || !token || !r.empty()) return std::nullopt;
  std::copy(ip4->begin(), ip4->end(), pa.ipv4.begin());
  pa.ipv4_port = *port4;
  std::copy(ip6->begin(), ip6->end(), pa.ipv6.begin());
  pa.ipv6_port = *port6;
  pa.cid = ConnectionId::from(*cid);
  std::copy(token->begin(), token->end(), pa.reset_token.begin());
  return pa;
}

// RFC 9368 §4: too short, not a multiple of 4, a zero version, or (client) a Chosen Version
// missing from Available Versions are all parsing failures.
Result<VersionInformation> parse_version_information(Bytes v, Role sender) {
  if (v.size() < 4 || v.size() % 4 != 0) return tp_error("version_information: bad length");
  if (v.size() / 4 - 1 > kMaxAvailableVersions) {
    return tp_error("version_information: more available versions than we accept");
  }
  Reader r(v);
  VersionInformation vi;
  vi.chosen = *r.u32();
  vi.available.reserve(v.size() / 4 - 1);
  if (vi.chosen == 0) return tp_error("version_information: chosen version 0");
  bool chosen_listed = false;
  while (!r.empty()) {
    uint32_t a = *r.u32();
    if (a == 0) return tp_error("version_information: available version 0");
    chosen_listed |= a == vi.chosen;
    vi.available.push_back(a);
  }
  if (sender == Role::kClient && !chosen_listed) {
    return tp_error("version_information: chosen version not in available versions");
  }
  return vi;
}

bool server_only(uint64_t id) {
  return id == tp::kOriginalDestinationConnectionId || id == tp::kPreferredAddress ||
         id == tp::kRetrySourceConnectionId || id == tp::kStatelessResetToken;
}

// Checks a value only where it's defined on its own; cross-parameter rules run after the loop.
Status apply_param(TransportParameters& p, uint64_t id, Bytes v, Role sender) {
  const std::string name = param_name(id);
  // RFC 9000 §18.2: a server MUST treat these from a client as TRANSPORT_PARAMETER_ERROR.
  if (sender == Role::kClient && server_only(id)) return tp_error(name + " sent by a client");

  switch (id) {
    case tp::kOriginalDestinationConnectionId:
    case tp::kInitialSourceConnectionId:
    case tp::kRetrySourceConnectionId: {
      auto cid = whole_cid(v);
      if (!cid) return tp_error(name + ": longer than 20 bytes");
      (id == tp::kOriginalDestinationConnectionId ? p.original_destination_connection_id
       : id == tp::kInitialSourceConnectionId     ? p.initial_source_connection_id
                                                  : p.retry_source_connection_id) = *cid;
      return {};
    }
    case tp::kStatelessResetToken: {
      if (v.size() != 16) return tp_error(name + ": not 16 bytes");
      std::array<uint8_t, 16> t;
      std::copy(v.begin(), v.end(), t.begin());
      p.stateless_reset_token = t;
      return {};
    }
    case tp::kDisableActiveMigration:
    case tp::kGreaseQuicBit:
    case tp::kResetStreamAt:
      if (!v.empty()) return tp_error(name + ": must be empty");
      (id == tp::kDisableActiveMigration ? p.disable_active_migration
       : id == tp::kGreaseQuicBit        ? p.grease_quic_bit
                                         : p.reset_stream_at) = true;
      return {};
    case tp::kPreferredAddress: {
      auto pa = parse_preferred_address(v);
      if (!pa) return tp_error(name + ": malformed");
      if (pa->cid.len == 0) return tp_error(name + ": zero-length connection ID");
      p.preferred_address = *pa;
      return {};
    }
    case tp::kVersionInformation: {
      auto vi = parse_version_information(v, sender);
      if (!vi) return std::unexpected(vi.error());
      p.version_information = std::move(*vi);
      return {};
    }
    default:
      break;
  }

  // Every other known parameter is one varint.
  auto x = whole_varint(v);
  if (!x) return tp_error(name + ": value is not exactly one varint");
  switch (id) {
    case tp::kMaxIdleTimeout: p.max_idle_timeout_ms = *x; break;
    case tp::kMaxUdpPayloadSize:
      if (*x < kMinMaxUdpPayloadSize) return tp_error(name + ": below 1200");
      p.max_udp_payload_size = *x;
      break;
    case tp::kInitialMaxData: p.initial_max_data = *x; break;
    case tp::kInitialMaxStreamDataBidiLocal: p.initial_max_stream_data_bidi_local = *x; break;
    case tp::kInitialMaxStreamDataBidiRemote: p.initial_max_stream_data_bidi_remote = *x; break;
    case tp::kInitialMaxStreamDataUni: p.initial_max_stream_data_uni = *x; break;
    case tp::kInitialMaxStreamsBidi:
    case tp::kInitialMaxStreamsUni:
      // RFC 9000 §4.6: stream counts above 2^60 cannot be expressed as stream IDs.
      if (*x > kMaxStreamsLimit) return tp_error(name + ": above 2^60");
      (id == tp::kInitialMaxStreamsBidi ? p.initial_max_streams_bidi : p.initial_max_streams_uni) =
          *x;
      break;
    case tp::kAckDelayExponent:
      if (*x > kMaxAckDelayExponent) return tp_error(name + ": above 20");
      p.ack_delay_exponent = *x;
      break;
    case tp::kMaxAckDelay:
      if (*x > kMaxMaxAckDelayMs) return tp_error(name + ": 2^14 or more");
      p.max_ack_delay_ms = *x;
      break;
    case tp::kActiveConnectionIdLimit:
      if (*x < kMinActiveConnectionIdLimit) return tp_error(name + ": below 2");
      p.active_connection_id_limit = *x;
      break;
    case tp::kMaxDatagramFrameSize: p.max_datagram_frame_size = *x; break;
    case tp::kInitialMaxPathId:
      if (*x > kMaxInitialMaxPathId) return tp_error(name + ": above 2^32-1");
      p.initial_max_path_id = *x;
      break;
    case tp::kMinAckDelay: p.min_ack_delay_us = *x; break;
    default: break;
  }
  return {};
}

void put_varint_param(Writer& w, uint64_t id, uint64_t v) {
  w.varint(id);
  w.varint(varint_size(v));
  w.varint(v);
}

void put_bytes_param(Writer& w, uint64_t id, Bytes v) {
  w.varint(id);
  w.varint(v.size());
  w.bytes(v);
}

}  // namespace

Result<TransportParameters> decode_transport_params(Bytes in, Role sender) {
  TransportParameters p;
  uint32_t seen = 0;
  Reader r(in);
  while (!r.empty()) {
    auto id = r.varint();
    if (!id) return tp_error("truncated parameter ID");
    auto len = r.varint();
    if (!len) return tp_error("truncated parameter length");
    auto value = r.bytes(*len);
    if (!value) return tp_error("parameter value beyond end of transport parameters");
    int idx = known_index(*id);
    if (idx < 0) continue;  // RFC 9000 §7.4.2: unknown (and greased, §18.1) are ignored
    if (seen & (uint32_t{1} << idx)) return tp_error(std::string("duplicate ") + param_name(*id));
    seen |= uint32_t{1} << idx;
    auto st = apply_param(p, *id, *value, sender);
    if (!st) return std::unexpected(st.error());
  }

  // RFC 9000 §7.3: both endpoints MUST send initial_source_connection_id, the server also
  // original_destination_connection_id.
  if (!p.initial_source_connection_id) return tp_error("missing initial_source_connection_id");
  if (sender == Role::kServer && !p.original_destination_connection_id) {
    return tp_error("missing original_destination_connection_id");
  }
  // draft-ietf-quic-ack-frequency §3: min_ack_delay (us) MUST NOT exceed max_ack_delay (ms).
  if (p.min_ack_delay_us && *p.min_ack_delay_us > p.max_ack_delay_ms * 1000) {
    return tp_error("min_ack_delay greater than max_ack_delay");
  }
  // draft-ietf-quic-multipath-21 §2.1: multipath needs non-zero-length CIDs; the SCID of the
  // carrying packet is the one initial_source_connection_id echoes.
  if (p.initial_max_path_id && p.initial_source_connection_id->len == 0) {
    return fail(err::kProtocolViolation, "initial_max_path_id with a zero-length connection ID");
  }
  return p;
}

Result<size_t> encode_transport_params(const TransportParameters& p, MutBytes out,
                                       const TransportParamGrease* grease) {
  const TransportParameters d;  // defaults are omitted: the peer assumes them (§18.2)
  Writer w(out);
  auto varint_if = [&](uint64_t id, uint64_t v, uint64_t def) {
    if (v != def) put_varint_param(w, id, v);
  };
  if (p.original_destination_connection_id) {
    put_bytes_param(w, tp::kOriginalDestinationConnectionId,
                    p.original_destination_connection_id->view());
  }
  varint_if(tp::kMaxIdleTimeout, p.max_idle_timeout_ms, d.max_idle_timeout_ms);
  if (p.stateless_reset_token) put_bytes_param(w, tp::kStatelessResetToken, *p.stateless_reset_token);
  varint_if(tp::kMaxUdpPayloadSize, p.max_udp_payload_size, d.max_udp_payload_size);
  varint_if(tp::kInitialMaxData, p.initial_max_data, d.initial_max_data);
  varint_if(tp::kInitialMaxStreamDataBidiLocal, p.initial_max_stream_data_bidi_local,
            d.initial_max_stream_data_bidi_local);
  varint_if(tp::kInitialMaxStreamDataBidiRemote, p.initial_max_stream_data_bidi_remote,
            d.initial_max_stream_data_bidi_remote);
  varint_if(tp::kInitialMaxStreamDataUni, p.initial_max_stream_data_uni,
            d.initial_max_stream_data_uni);
  varint_if(tp::kInitialMaxStreamsBidi, p.initial_max_streams_bidi, d.initial_max_streams_bidi);
  varint_if(tp::kInitialMaxStreamsUni, p.initial_max_streams_uni, d.initial_max_streams_uni);
  varint_if(tp::kAckDelayExponent, p.ack_delay_exponent, d.ack_delay_exponent);
  varint_if(tp::kMaxAckDelay, p.max_ack_delay_ms, d.max_ack_delay_ms);
  if (p.disable_active_migration) put_bytes_param(w, tp::kDisableActiveMigration, {});
  if (p.preferred_address) {
    const PreferredAddress& pa = *p.preferred_address;
    w.varint(tp::kPreferredAddress);
    w.varint(4 + 2 + 16 + 2 + 1 + pa.cid.len + 16);
    w.bytes(pa.ipv4);
    w.u16(pa.ipv4_port);
    w.bytes(pa.ipv6);
    w.u16(pa.ipv6_port);
    w.u8(pa.cid.len);
    w.bytes(pa.cid.view());
    w.bytes(pa.reset_token);
  }
  varint_if(tp::kActiveConnectionIdLimit, p.active_connection_id_limit,
            d.active_connection_id_limit);
  if (p.initial_source_connection_id) {
    put_bytes_param(w, tp::kInitialSourceConnectionId, p.initial_source_connection_id->view());
  }
  if (p.retry_source_connection_id) {
    put_bytes_param(w, tp::kRetrySourceConnectionId, p.retry_source_connection_id->view());
  }
  if (p.version_information) {
    const VersionInformation& vi = *p.version_information;
    w.varint(tp::kVersionInformation);
    w.varint(4 * (1 + vi.available.size()));
    w.u32(vi.chosen);
    for (uint32_t v : vi.available) w.u32(v);
  }
  if (p.max_datagram_frame_size) {
    put_varint_param(w, tp::kMaxDatagramFrameSize, *p.max_datagram_frame_size);
  }
  if (p.grease_quic_bit) put_bytes_param(w, tp::kGreaseQuicBit, {});
  if (p.min_ack_delay_us) put_varint_param(w, tp::kMinAckDelay, *p.min_ack_delay_us);
  if (p.reset_stream_at) put_bytes_param(w, tp::kResetStreamAt, {});
  if (p.initial_max_path_id) put_varint_param(w, tp::kInitialMaxPathId, *p.initial_max_path_id);
  if (grease) {
    // RFC 9000 §18.1: reserved IDs are 31 * N + 27.
    if (grease->n > (kMaxVarint - 27) / 31) return fail(err::kInternalError, "grease N too large");
    put_bytes_param(w, 31 * grease->n + 27, grease->value);
  }
  if (!w.ok()) return fail(err::kInternalError, "transport parameters do not fit or overflow");
  return w.written();
}

}  // namespace quic

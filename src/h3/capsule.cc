#include "h3/capsule.h"

#include <algorithm>

namespace h3 {

void append_capsule(std::vector<uint8_t>& out, uint64_t type, Bytes payload) {
  append_varint(out, type);
  append_varint(out, payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
}

void append_datagram_capsule(std::vector<uint8_t>& out, Bytes payload) {
  append_capsule(out, capsule::kDatagram, payload);
}

namespace {

constexpr CapsuleType kKnownCapsules[] = {
    {capsule::kDatagram, "DATAGRAM", kMaxCapsulePayload, Oversize::kDiscard},
    {capsule::kAddressAssign, "ADDRESS_ASSIGN", kMaxAddressCapsule, Oversize::kExcessive},
    {capsule::kAddressRequest, "ADDRESS_REQUEST", kMaxAddressCapsule, Oversize::kExcessive},
    {capsule::kRouteAdvertisement, "ROUTE_ADVERTISEMENT", kMaxRouteCapsule, Oversize::kExcessive},
    {capsule::kWtCloseSession, "WT_CLOSE_SESSION", kMaxWtCloseSession, Oversize::kMalformed},
    {capsule::kWtDrainSession, "WT_DRAIN_SESSION", 0, Oversize::kMalformed},
};

}  // namespace

std::span<const CapsuleType> known_capsule_types() {
  return kKnownCapsules;
}

const CapsuleType* find_capsule_type(std::span<const CapsuleType> table, uint64_t type) {
  for (const CapsuleType& t : table) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

quic::Result<std::optional<Capsule>> CapsuleReader::next(Bytes& in) {
  using Kind = TlvReader::Item::Kind;
  using Mode = TlvReader::Mode;
  while (auto item = tlv_.next(in)) {
    if (item->kind != Kind::kHeader) return Capsule{item->type, item->payload};
    const CapsuleType* known = find_capsule_type(table_, item->type);
    if (known == nullptr) {
      ++skipped_unknown_;  // RFC 9297 §3.2: unknown types are skipped
      tlv_.set_mode(Mode::kSkip);
      continue;
    }
    if (item->length <= known->max_length) {
      tlv_.set_mode(Mode::kBuffer);
      continue;
    }
    switch (known->oversize) {
      case Oversize::kDiscard:
        ++discarded_oversize_;
        tlv_.set_mode(Mode::kSkip);
        continue;
      case Oversize::kMalformed:
        return fail(err::kMessageError, std::string(known->name) + " capsule too long");
      case Oversize::kExcessive:
        return fail(err::kExcessiveLoad, std::string(known->name) + " capsule above our limit");
    }
  }
  return std::nullopt;
}

quic::Status CapsuleReader::finish() const {
  if (!tlv_.at_boundary()) return fail(err::kMessageError, "stream ended inside a capsule");
  return {};
}

quic::Result<std::vector<uint8_t>> encode_http_datagram(uint64_t stream_id, Bytes payload) {
  if (stream_id % 4 != 0 || stream_id / 4 > kMaxQuarterStreamId) {
    return fail(err::kInternalError, "not a client-initiated bidirectional stream");
  }
  std::vector<uint8_t> out;
  out.reserve(8 + payload.size());
  append_varint(out, stream_id / 4);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

quic::Result<HttpDatagram> decode_http_datagram(Bytes datagram) {
  quic::Reader r(datagram);
  auto q = r.varint();
  if (!q) return fail(err::kDatagramError, "HTTP datagram without quarter stream ID");
  if (*q > kMaxQuarterStreamId) return fail(err::kDatagramError, "quarter stream ID too large");
  return HttpDatagram{*q * 4, r.rest()};
}

void append_context_payload(std::vector<uint8_t>& out, uint64_t context_id, Bytes payload) {
  append_varint(out, context_id);
  out.insert(out.end(), payload.begin(), payload.end());
}

std::optional<ContextPayload> parse_context_payload(Bytes payload) {
  quic::Reader r(payload);
  auto id = r.varint();
  if (!id) return std::nullopt;
  return ContextPayload{*id, r.rest()};
}

}  // namespace h3

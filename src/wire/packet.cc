#include "wire/packet.h"

#include <cstring>

namespace quic {
namespace {

// RFC 8999 §5.1: the invariant long header allows connection IDs up to 255 bytes.
constexpr size_t kMaxInvariantCidLength = 255;

std::unexpected<Error> malformed(const char* why) { return fail(err::kProtocolViolation, why); }

}  // namespace

ConnectionId ConnectionId::from(Bytes b) {
  ConnectionId c;
  if (TQUIC_BUG_IF(b.size() > kMaxCidLength)) return c;
  c.len = static_cast<uint8_t>(b.size());
  if (!b.empty()) std::memcpy(c.bytes.data(), b.data(), b.size());
  return c;
}

size_t ConnectionIdHash::operator()(const ConnectionId& c) const {
  // FNV-1a: CIDs we route on are chosen by us (random), so a simple mix is enough.
  uint64_t h = 0xcbf29ce484222325ULL ^ c.len;
  for (size_t i = 0; i < c.len; ++i) h = (h ^ c.bytes[i]) * 0x100000001b3ULL;
  return static_cast<size_t>(h);
}

// RFC 9000 §17.2 (v1: Initial 0, 0-RTT 1, Handshake 2, Retry 3) and RFC 9369 §3.2
// (v2: Initial 1, 0-RTT 2, Handshake 3, Retry 0): v2 is v1 rotated by one.
uint8_t long_type_bits(uint32_t version, LongType type) {
  uint8_t v1 = static_cast<uint8_t>(type);
  return version == kVersion2 ? static_cast<uint8_t>((v1 + 1) & 3) : v1;
}

LongType long_type_from_bits(uint32_t version, uint8_t bits) {
  bits &= 3;
  return static_cast<LongType>(version == kVersion2 ? (bits + 3) & 3 : bits);
}

Result<PacketHeader> parse_header(Bytes datagram, size_t short_dcid_len) {
  Reader r(datagram);
  PacketHeader h;
  auto first = r.u8();
  if (!first) return malformed("empty packet");
  h.first_byte = *first;
  h.fixed_bit = (*first & 0x40) != 0;
  h.long_header = (*first & 0x80) != 0;

  if (!h.long_header) {
    // Short header (RFC 9000 §17.3.1): the DCID length is ours, not on the wire.
    if (short_dcid_len > kMaxCidLength) return malformed("local CID length too long");
    auto dcid = r.bytes(short_dcid_len);
    if (!dcid) return malformed("short header truncated in DCID");
    h.dcid_raw = *dcid;
    h.dcid = ConnectionId::from(*dcid);
    h.spin = (*first & 0x20) != 0;
    h.key_phase = (*first & 0x04) != 0;
    h.pn_offset = r.offset();
    h.packet_size = datagram.size();  // a short-header packet always ends the datagram
    return h;
  }

  // Invariant long header fields (RFC 8999 §5.1).
  auto version = r.u32();
  if (!version) return malformed("long header truncated in version");
  h.version = *version;
  auto dcid_len = r.u8();
  if (!dcid_len) return malformed("long header truncated in DCID length");
  auto dcid = r.bytes(*dcid_len);
  if (!dcid) return malformed("long header truncated in DCID");
  auto scid_len = r.u8();
  if (!scid_len) return malformed("long header truncated in SCID length");
  auto scid = r.bytes(*scid_len);
  if (!scid) return malformed("long header truncated in SCID");
  static_assert(kMaxInvariantCidLength == 255, "a u8 length cannot exceed the invariant bound");
  h.dcid_raw = *dcid;
  h.scid_raw = *scid;

  if (!is_supported_version(h.version)) {
    // Version Negotiation or a version we do not speak: nothing after the CIDs is parseable
    // and the packet cannot be coalesced with anything we understand.
    if (dcid->size() <= kMaxCidLength) h.dcid = ConnectionId::from(*dcid);
    if (scid->size() <= kMaxCidLength) h.scid = ConnectionId::from(*scid);
    h.packet_size = datagram.size();
    return h;
  }

  // RFC 9000 §17.2: v1 endpoints MUST drop packets with a CID longer than 20 bytes.
  if (dcid->size() > kMaxCidLength || scid->size() > kMaxCidLength) {
    return malformed("connection ID longer than 20 bytes");
  }
  h.dcid = ConnectionId::from(*dcid);
  h.scid = ConnectionId::from(*scid);
  h.type = long_type_from_bits(h.version, static_cast<uint8_t>(*first >> 4));

  if (h.type == LongType::kRetry) {
    // RFC 9000 §17.2.5: Retry Token fills everything up to the 16-byte integrity tag.
    if (r.remaining() < kRetryTagLength) return malformed("Retry shorter than its integrity tag");
    h.token = *r.bytes(r.remaining() - kRetryTagLength);
    h.packet_size = datagram.size();
    return h;
  }

  if (h.type == LongType::kInitial) {
    auto token_len = r.varint();
    if (!token_len) return malformed("Initial truncated in token length");
    auto token = r.bytes(*token_len);
    if (!token) return malformed("Initial token length beyond datagram");
    h.token = *token;
  }
  auto length = r.varint();
  if (!length) return malformed("long header truncated in Length");
  if (*length > r.remaining()) return malformed("Length beyond datagram");
  h.length = *length;
  h.pn_offset = r.offset();
  h.packet_size = h.pn_offset + static_cast<size_t>(*length);
  return h;
}

size_t build_version_negotiation(MutBytes out, Bytes dcid, Bytes scid,
                                 std::span<const uint32_t> versions, uint8_t random_bits) {
  if (versions.empty() || dcid.size() > kMaxInvariantCidLength ||
      scid.size() > kMaxInvariantCidLength) {
    return 0;
  }
  Writer w(out);
  w.u8(static_cast<uint8_t>(0xc0 | (random_bits & 0x3f)));
  w.u32(kVersionNegotiationVersion);
  w.u8(static_cast<uint8_t>(dcid.size()));
  w.bytes(dcid);
  w.u8(static_cast<uint8_t>(scid.size()));
  w.bytes(scid);
  for (uint32_t v : versions) w.u32(v);
  return w.ok() ? w.written() : 0;
}

size_t build_version_negotiation(MutBytes out, const ConnectionId& dcid, const ConnectionId& scid,
                                 std::span<const uint32_t> versions, uint8_t random_bits) {
  return build_version_negotiation(out, dcid.view(), scid.view(), versions, random_bits);
}

Result<VersionNegotiation> parse_version_negotiation(Bytes pkt, uint32_t original_version) {
  auto h = parse_header(pkt, 0);
  if (!h) return std::unexpected(h.error());
  if (!h->long_header || h->version != kVersionNegotiationVersion) {
    return malformed("not a Version Negotiation packet");
  }
  size_t list_offset = 1 + 4 + 1 + h->dcid_raw.size() + 1 + h->scid_raw.size();
  Bytes list = pkt.subspan(list_offset);
  if (list.empty()) return malformed("Version Negotiation lists no version");
  if (list.size() % 4 != 0) return malformed("Version Negotiation list not a multiple of 4");

  VersionNegotiation vn;
  vn.dcid = h->dcid_raw;
  vn.scid = h->scid_raw;
  const size_t count = list.size() / 4;
  vn.versions.reserve(std::min(count, kMaxVnVersions));
  Reader r(list);
  for (size_t i = 0; i < count; ++i) {
    uint32_t v = *r.u32();
    if (v == original_version) vn.lists_original_version = true;
    if (vn.versions.size() < kMaxVnVersions) vn.versions.push_back(v);
  }
  return vn;
}

Result<RetryPacket> parse_retry(Bytes pkt) {
  auto h = parse_header(pkt, 0);
  if (!h) return std::unexpected(h.error());
  if (!h->long_header || !is_supported_version(h->version) || h->type != LongType::kRetry) {
    return malformed("not a Retry packet");
  }
  // RFC 9000 §17.2.5.2: a client MUST discard a Retry with a zero-length token.
  if (h->token.empty()) return malformed("Retry with empty token");
  RetryPacket rp;
  rp.version = h->version;
  rp.dcid = h->dcid;
  rp.scid = h->scid;
  rp.token = h->token;
  rp.without_tag = pkt.first(pkt.size() - kRetryTagLength);
  rp.tag = pkt.last(kRetryTagLength);
  return rp;
}

size_t write_retry(MutBytes out, uint32_t version, const ConnectionId& dcid,
                   const ConnectionId& scid, Bytes token, uint8_t random_bits) {
  if (!is_supported_version(version) || token.empty()) return 0;
  Writer w(out);
  w.u8(static_cast<uint8_t>(0xc0 | long_type_bits(version, LongType::kRetry) << 4 |
                            (random_bits & 0x0f)));
  w.u32(version);
  w.u8(dcid.len);
  w.bytes(dcid.view());
  w.u8(scid.len);
  w.bytes(scid.view());
  w.bytes(token);
  return w.ok() ? w.written() : 0;
}

size_t build_retry_pseudo_packet(MutBytes out, const ConnectionId& odcid,
                                 Bytes retry_without_tag) {
  Writer w(out);
  w.u8(odcid.len);
  w.bytes(odcid.view());
  w.bytes(retry_without_tag);
  return w.ok() ? w.written() : 0;
}

std::optional<HeaderLayout> write_long_header(Writer& w, uint32_t version, LongType type,
                                              const ConnectionId& dcid, const ConnectionId& scid,
                                              Bytes token, size_t pn_len, uint64_t pn,
                                              size_t length_field_len, bool fixed_bit) {
  bool valid_len_field = length_field_len == 1 || length_field_len == 2 ||
                         length_field_len == 4 || length_field_len == 8;
  if (!is_supported_version(version) || type == LongType::kRetry || pn_len < 1 || pn_len > 4 ||
      !valid_len_field || (type != LongType::kInitial && !token.empty())) {
    return std::nullopt;
  }
  HeaderLayout l;
  l.start = w.written();
  uint8_t first = static_cast<uint8_t>(0x80 | (fixed_bit ? 0x40 : 0) |
                                       long_type_bits(version, type) << 4 | (pn_len - 1));
  w.u8(first);
  w.u32(version);
  w.u8(dcid.len);
  w.bytes(dcid.view());
  w.u8(scid.len);
  w.bytes(scid.view());
  if (type == LongType::kInitial) {
    w.varint(token.size());
    w.bytes(token);
  }
  l.length_offset = w.written();
  l.length_field_len = length_field_len;
  w.varint_len(0, length_field_len);
  l.pn_offset = w.written();
  l.pn_len = pn_len;
  w.uint_n(pn, pn_len);  // uint_n keeps the low pn_len bytes: the truncation of §17.1
  if (!w.ok()) return std::nullopt;
  return l;
}

bool patch_length(MutBytes buf, const HeaderLayout& layout, uint64_t length) {
  if (layout.length_field_len == 0 || layout.length_offset > buf.size() ||
      buf.size() - layout.length_offset < layout.length_field_len) {
    return false;
  }
  Writer w(buf.subspan(layout.length_offset, layout.length_field_len));
  return w.varint_len(length, layout.length_field_len);
}

std::optional<HeaderLayout> write_short_header(Writer& w, const ConnectionId& dcid, bool key_phase,
                                               bool spin, size_t pn_len, uint64_t pn,
                                               bool fixed_bit) {
  if (pn_len < 1 || pn_len > 4) return std::nullopt;
  HeaderLayout l;
  l.start = w.written();
  w.u8(static_cast<uint8_t>((fixed_bit ? 0x40 : 0) | (spin ? 0x20 : 0) | (key_phase ? 0x04 : 0) |
                            (pn_len - 1)));
  w.bytes(dcid.view());
  l.pn_offset = w.written();
  l.pn_len = pn_len;
  w.uint_n(pn, pn_len);
  if (!w.ok()) return std::nullopt;
  return l;
}

std::optional<DatagramPacket> CoalescedPackets::next() {
  if (stopped_ || offset_ >= datagram_.size()) return std::nullopt;
  if (count_ >= kMaxCoalescedPackets) {
    stopped_ = true;
    return std::nullopt;
  }
  Bytes rest = datagram_.subspan(offset_);
  auto h = parse_header(rest, short_dcid_len_);
  if (!h) {
    error_ = h.error();
    stopped_ = true;
    return std::nullopt;
  }
  if (count_ == 0) {
    first_dcid_ = h->dcid_raw;
  } else if (!std::equal(h->dcid_raw.begin(), h->dcid_raw.end(), first_dcid_.begin(),
                         first_dcid_.end())) {
    // RFC 9000 §12.2: receivers SHOULD ignore packets with a different DCID than the first.
    stopped_ = true;
    return std::nullopt;
  }
  DatagramPacket p{*h, rest.first(h->packet_size), offset_};
  offset_ += h->packet_size;
  ++count_;
  return p;
}

}  // namespace quic

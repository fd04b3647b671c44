#include "masque/connect_ip_capsules.h"

#include <algorithm>
#include <tuple>

#include "h3/frames.h"

namespace masque {

const char* capsule_error_name(CapsuleError e) {
  switch (e) {
    case CapsuleError::kTruncated:
      return "truncated entry";
    case CapsuleError::kBadIpVersion:
      return "IP version not 4 or 6";
    case CapsuleError::kPrefixTooLong:
      return "prefix length too long";
    case CapsuleError::kHostBitsSet:
      return "bits past the prefix length set";
    case CapsuleError::kZeroRequestId:
      return "request ID zero in ADDRESS_REQUEST";
    case CapsuleError::kEmptyRequest:
      return "empty ADDRESS_REQUEST";
    case CapsuleError::kDuplicateRequestId:
      return "duplicate request ID in one capsule";
    case CapsuleError::kReusedRequestId:
      return "request ID reused";
    case CapsuleError::kUnknownRequestId:
      return "ADDRESS_ASSIGN names a request never sent";
    case CapsuleError::kVersionMismatch:
      return "ADDRESS_ASSIGN version differs from request";
    case CapsuleError::kRangeStartAfterEnd:
      return "route start after end";
    case CapsuleError::kRangesOutOfOrder:
      return "routes out of order";
    case CapsuleError::kRangesOverlap:
      return "protocol-0 route overlaps another";
    case CapsuleError::kTooManyEntries:
      return "too many entries";
  }
  return "?";
}

uint64_t capsule_error_code(CapsuleError e) {
  switch (e) {
    case CapsuleError::kTruncated:
    case CapsuleError::kBadIpVersion:
    case CapsuleError::kPrefixTooLong:
    case CapsuleError::kHostBitsSet:
    case CapsuleError::kZeroRequestId:
    case CapsuleError::kRangeStartAfterEnd:
      return h3::err::kMessageError;  // malformed field: RFC 9297 §3.3
    case CapsuleError::kTooManyEntries:
      return h3::err::kExcessiveLoad;  // only our bound
    default:
      return h3::err::kGeneralProtocolError;  // §4.7 "MUST abort the ... request stream"
  }
}

namespace {

std::unexpected<CapsuleError> bad(CapsuleError e) {
  return std::unexpected(e);
}

CapsuleResult<IpAddress> read_address(quic::Reader& r, uint8_t version) {
  auto b = r.bytes(version == 4 ? 4 : 16);
  if (!b) return bad(CapsuleError::kTruncated);
  return IpAddress::from(version, *b);
}

CapsuleResult<uint8_t> read_version(quic::Reader& r) {
  auto v = r.u8();
  if (!v) return bad(CapsuleError::kTruncated);
  if (*v != 4 && *v != 6) return bad(CapsuleError::kBadIpVersion);
  return *v;
}

CapsuleResult<AddressEntry> read_entry(quic::Reader& r) {
  auto id = r.varint();
  if (!id) return bad(CapsuleError::kTruncated);
  auto version = read_version(r);
  if (!version) return bad(version.error());
  auto addr = read_address(r, *version);
  if (!addr) return bad(addr.error());
  auto len = r.u8();
  if (!len) return bad(CapsuleError::kTruncated);
  AddressEntry e{*id, IpPrefix{*addr, *len}};
  if (*len > addr->bits()) return bad(CapsuleError::kPrefixTooLong);
  if (!e.prefix.valid()) return bad(CapsuleError::kHostBitsSet);
  return e;
}

CapsuleResult<std::vector<AddressEntry>> read_entries(Bytes value) {
  quic::Reader r(value);
  std::vector<AddressEntry> out;
  while (!r.empty()) {
    if (out.size() == kMaxAddressesPerCapsule) return bad(CapsuleError::kTooManyEntries);
    auto e = read_entry(r);
    if (!e) return bad(e.error());
    out.push_back(*e);
  }
  return out;
}

// Non-zero request IDs appear at most once in one capsule.
std::expected<void, CapsuleError> unique_ids(std::span<const AddressEntry> entries) {
  std::unordered_set<uint64_t> seen;
  for (const AddressEntry& e : entries) {
    if (e.request_id != 0 && !seen.insert(e.request_id).second) {
      return bad(CapsuleError::kDuplicateRequestId);
    }
  }
  return {};
}

std::expected<void, CapsuleError> check_request(std::span<const AddressEntry> requests) {
  if (requests.empty()) return bad(CapsuleError::kEmptyRequest);
  for (const AddressEntry& e : requests) {
    if (e.request_id == 0) return bad(CapsuleError::kZeroRequestId);
  }
  return unique_ids(requests);
}

std::expected<void, CapsuleError> check_entries(std::span<const AddressEntry> entries) {
  if (entries.size() > kMaxAddressesPerCapsule) return bad(CapsuleError::kTooManyEntries);
  for (const AddressEntry& e : entries) {
    if (e.prefix.address.version != 4 && e.prefix.address.version != 6) {
      return bad(CapsuleError::kBadIpVersion);
    }
    if (e.prefix.length > e.prefix.address.bits()) return bad(CapsuleError::kPrefixTooLong);
    if (!e.prefix.valid()) return bad(CapsuleError::kHostBitsSet);
  }
  return {};
}

void write_entries(std::vector<uint8_t>& out, std::span<const AddressEntry> entries) {
  for (const AddressEntry& e : entries) {
    h3::append_varint(out, e.request_id);
    out.push_back(e.prefix.address.version);
    Bytes a = e.prefix.address.view();
    out.insert(out.end(), a.begin(), a.end());
    out.push_back(e.prefix.length);
  }
}

auto route_key(const IpRange& r) {
  return std::tie(r.start.version, r.protocol, r.start);
}

}  // namespace

CapsuleResult<std::vector<AddressEntry>> decode_address_assign(Bytes value) {
  auto entries = read_entries(value);
  if (!entries) return entries;
  if (auto u = unique_ids(*entries); !u) return bad(u.error());
  return entries;
}

CapsuleResult<std::vector<AddressEntry>> decode_address_request(Bytes value) {
  auto entries = read_entries(value);
  if (!entries) return entries;
  if (auto c = check_request(*entries); !c) return bad(c.error());
  return entries;
}

CapsuleResult<std::vector<IpRange>> decode_route_advertisement(Bytes value) {
  quic::Reader r(value);
  std::vector<IpRange> out;
  while (!r.empty()) {
    if (out.size() == kMaxRoutesPerCapsule) return bad(CapsuleError::kTooManyEntries);
    auto version = read_version(r);
    if (!version) return bad(version.error());
    auto start = read_address(r, *version);
    if (!start) return bad(start.error());
    auto end = read_address(r, *version);
    if (!end) return bad(end.error());
    auto proto = r.u8();
    if (!proto) return bad(CapsuleError::kTruncated);
    out.push_back(IpRange{*start, *end, *proto});
  }
  if (auto c = check_routes(out); !c) return bad(c.error());
  return out;
}

std::expected<void, CapsuleError> check_routes(std::span<const IpRange> routes) {
  if (routes.size() > kMaxRoutesPerCapsule) return bad(CapsuleError::kTooManyEntries);
  for (size_t i = 0; i < routes.size(); ++i) {
    const IpRange& b = routes[i];
    if (b.start.version != 4 && b.start.version != 6) return bad(CapsuleError::kBadIpVersion);
    if (b.end.version != b.start.version) return bad(CapsuleError::kBadIpVersion);
    if (b.end < b.start) return bad(CapsuleError::kRangeStartAfterEnd);
    if (i == 0) continue;
    const IpRange& a = routes[i - 1];
    bool same_class = a.start.version == b.start.version && a.protocol == b.protocol;
    if (route_key(a) > route_key(b) || (same_class && !(a.end < b.start))) {
      return bad(CapsuleError::kRangesOutOfOrder);
    }
  }
  // The optional §4.7.3 check, done: a protocol-0 range must not overlap a range of the same
  // version with a specific protocol. Protocol-0 ranges sort first within their version.
  for (const IpRange& any : routes) {
    if (any.protocol != 0) continue;
    for (const IpRange& r : routes) {
      if (r.protocol != 0 && r.start.version == any.start.version && !(r.end < any.start) &&
          !(any.end < r.start)) {
        return bad(CapsuleError::kRangesOverlap);
      }
    }
  }
  return {};
}

void sort_routes(std::vector<IpRange>& routes) {
  std::sort(routes.begin(), routes.end(),
            [](const IpRange& a, const IpRange& b) { return route_key(a) < route_key(b); });
}

CapsuleResult<std::vector<uint8_t>> encode_address_assign(std::span<const AddressEntry> a) {
  if (auto c = check_entries(a); !c) return bad(c.error());
  if (auto u = unique_ids(a); !u) return bad(u.error());
  std::vector<uint8_t> out;
  write_entries(out, a);
  return out;
}

CapsuleResult<std::vector<uint8_t>> encode_address_request(std::span<const AddressEntry> r) {
  if (auto c = check_entries(r); !c) return bad(c.error());
  if (auto c = check_request(r); !c) return bad(c.error());
  std::vector<uint8_t> out;
  write_entries(out, r);
  return out;
}

CapsuleResult<std::vector<uint8_t>> encode_route_advertisement(std::vector<IpRange> routes) {
  sort_routes(routes);
  if (auto c = check_routes(routes); !c) return bad(c.error());
  std::vector<uint8_t> out;
  for (const IpRange& r : routes) {
    out.push_back(r.start.version);
    Bytes s = r.start.view(), e = r.end.view();
    out.insert(out.end(), s.begin(), s.end());
    out.insert(out.end(), e.begin(), e.end());
    out.push_back(r.protocol);
  }
  return out;
}

AddressEntry rejection(const AddressEntry& request) {
  IpAddress zero;
  zero.version = request.prefix.address.version;
  return AddressEntry{request.request_id, IpPrefix{zero, static_cast<uint8_t>(zero.bits())}};
}

bool is_rejection(const AddressEntry& e) {
  return e.prefix.address.is_zero() && e.prefix.length == e.prefix.address.bits();
}

uint64_t RequestIds::next_ours() {
  return next_++;
}

std::expected<void, CapsuleError> RequestIds::sent(std::span<const AddressEntry> requests) {
  if (ours_.size() + requests.size() > kMaxRequestIds) return bad(CapsuleError::kTooManyEntries);
  for (const AddressEntry& e : requests) ours_[e.request_id] = e.prefix.address.version;
  return {};
}

std::expected<void, CapsuleError> RequestIds::on_peer_request(
    std::span<const AddressEntry> requests) {
  for (const AddressEntry& e : requests) {
    if (theirs_.contains(e.request_id)) return bad(CapsuleError::kReusedRequestId);
  }
  if (theirs_.size() + requests.size() > kMaxRequestIds) {
    return bad(CapsuleError::kTooManyEntries);
  }
  for (const AddressEntry& e : requests) theirs_.insert(e.request_id);
  return {};
}

std::expected<void, CapsuleError> RequestIds::on_peer_assign(
    std::span<const AddressEntry> assigned) const {
  for (const AddressEntry& e : assigned) {
    if (e.request_id == 0) continue;
    auto it = ours_.find(e.request_id);
    if (it == ours_.end()) return bad(CapsuleError::kUnknownRequestId);
    if (it->second != e.prefix.address.version) return bad(CapsuleError::kVersionMismatch);
  }
  return {};
}

}  // namespace masque

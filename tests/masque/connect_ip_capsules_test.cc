// RFC 9484 §4.7 capsules: byte-exact encodings and every validity rule, each with its named
// error and the HTTP/3 code the stream is reset with.
#include "masque/connect_ip_capsules.h"

#include <gtest/gtest.h>

#include "h3/frames.h"
#include "masque/ip_packet_test_util.h"

namespace masque {
namespace {

using test::ip;
using Wire = std::vector<uint8_t>;

IpPrefix pfx(const char* s) {
  auto p = IpPrefix::parse(s);
  EXPECT_TRUE(p) << s;
  return p.value_or(IpPrefix{});
}

CapsuleError assign_error(const Wire& w) {
  return decode_address_assign(w).error();
}
CapsuleError request_error(const Wire& w) {
  return decode_address_request(w).error();
}
CapsuleError route_error(const Wire& w) {
  return decode_route_advertisement(w).error();
}

// One v4 route entry on the wire.
Wire v4_range(uint8_t s3, uint8_t e3, uint8_t proto) {
  return Wire{4, 198, 18, 0, s3, 198, 18, 0, e3, proto};
}
Wire cat(std::initializer_list<Wire> parts) {
  Wire out;
  for (const Wire& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(ConnectIpCapsules, AddressAssignIsByteExactAndRoundTrips) {
  std::vector<AddressEntry> a = {{0, pfx("198.18.0.7")}, {0x41, pfx("2001:db8::/64")}};
  auto w = encode_address_assign(a);
  ASSERT_TRUE(w);
  Wire want = {0x00, 4, 198, 18, 0, 7, 32, 0x40, 0x41, 6, 0x20, 0x01, 0x0d, 0xb8};
  want.insert(want.end(), 12, 0);
  want.push_back(64);
  EXPECT_EQ(*w, want);
  auto back = decode_address_assign(*w);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, a);
  // Empty: every address withdrawn (§4.7.1).
  EXPECT_TRUE(decode_address_assign({})->empty());
}

TEST(ConnectIpCapsules, AddressRequestRoundTripsWithUnspecifiedAddress) {
  std::vector<AddressEntry> r = {{1, pfx("0.0.0.0/32")}, {2, pfx("::/128")}};
  auto w = encode_address_request(r);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->size(), 7u + 19u);
  EXPECT_EQ(*decode_address_request(*w), r);
}

TEST(ConnectIpCapsules, RouteAdvertisementIsSortedByteExactAndRoundTrips) {
  std::vector<IpRange> routes = {IpRange::of(pfx("2001:db8::/32")),
                                 IpRange{ip("198.18.0.10"), ip("198.18.0.20"), 6},
                                 IpRange::of(pfx("198.18.1.0/24"))};
  auto w = encode_route_advertisement(routes);
  ASSERT_TRUE(w);
  // v4 protocol 0 first, then v4 protocol 6, then v6 (§4.7.3 order).
  Wire want = cat({Wire{4, 198, 18, 1, 0, 198, 18, 1, 255, 0}, v4_range(10, 20, 6)});
  Wire v6 = {6, 0x20, 0x01, 0x0d, 0xb8};
  v6.insert(v6.end(), 12, 0);
  v6.insert(v6.end(), {0x20, 0x01, 0x0d, 0xb8});
  v6.insert(v6.end(), 12, 0xff);
  v6.push_back(0);
  EXPECT_EQ(*w, cat({want, v6}));
  auto back = decode_route_advertisement(*w);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[1], routes[1]);
  EXPECT_TRUE((*back)[0].contains(ip("198.18.1.77")));
  EXPECT_FALSE((*back)[0].contains(ip("198.18.2.0")));
}

TEST(ConnectIpCapsules, MalformedAddressFieldsAreMessageErrors) {
  // Truncated at every byte of a valid entry.
  Wire ok = {0x05, 4, 198, 18, 0, 7, 32};
  for (size_t n = 1; n < ok.size(); ++n) {
    Wire cut(ok.begin(), ok.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(assign_error(cut), CapsuleError::kTruncated) << n;
    EXPECT_EQ(request_error(cut), CapsuleError::kTruncated) << n;
  }
  EXPECT_EQ(assign_error({0, 5, 1, 2, 3, 4, 32}), CapsuleError::kBadIpVersion);
  EXPECT_EQ(assign_error({0, 0, 1, 2, 3, 4, 32}), CapsuleError::kBadIpVersion);
  EXPECT_EQ(assign_error({0, 4, 198, 18, 0, 7, 33}), CapsuleError::kPrefixTooLong);
  Wire v6 = {0, 6};
  v6.insert(v6.end(), 16, 0);
  v6.push_back(129);
  EXPECT_EQ(assign_error(v6), CapsuleError::kPrefixTooLong);
  v6.back() = 128;
  EXPECT_TRUE(decode_address_assign(v6));
  EXPECT_EQ(assign_error({0, 4, 198, 18, 0, 7, 24}), CapsuleError::kHostBitsSet);
  EXPECT_EQ(request_error({1, 4, 198, 18, 0, 128, 24}), CapsuleError::kHostBitsSet);
  EXPECT_EQ(request_error({0, 4, 0, 0, 0, 0, 32}), CapsuleError::kZeroRequestId);
  for (CapsuleError e : {CapsuleError::kTruncated, CapsuleError::kBadIpVersion,
                         CapsuleError::kPrefixTooLong, CapsuleError::kHostBitsSet,
                         CapsuleError::kZeroRequestId, CapsuleError::kRangeStartAfterEnd}) {
    EXPECT_EQ(capsule_error_code(e), h3::err::kMessageError) << capsule_error_name(e);
  }
}

TEST(ConnectIpCapsules, RequestRulesAbortTheStream) {
  EXPECT_EQ(request_error({}), CapsuleError::kEmptyRequest);
  EXPECT_EQ(request_error(
                {7, 4, 0, 0, 0, 0, 32, 7, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128}),
            CapsuleError::kDuplicateRequestId);
  // Two assignments answering the same request in one capsule.
  EXPECT_EQ(assign_error({3, 4, 198, 18, 0, 7, 32, 3, 4, 198, 18, 0, 8, 32}),
            CapsuleError::kDuplicateRequestId);
  // Unprompted assignments (ID 0) may repeat.
  EXPECT_TRUE(decode_address_assign(Wire{0, 4, 198, 18, 0, 7, 32, 0, 4, 198, 18, 0, 8, 32}));
  for (CapsuleError e : {CapsuleError::kEmptyRequest, CapsuleError::kDuplicateRequestId,
                         CapsuleError::kReusedRequestId, CapsuleError::kUnknownRequestId,
                         CapsuleError::kVersionMismatch, CapsuleError::kRangesOutOfOrder,
                         CapsuleError::kRangesOverlap}) {
    EXPECT_EQ(capsule_error_code(e), h3::err::kGeneralProtocolError) << capsule_error_name(e);
  }
  EXPECT_EQ(capsule_error_code(CapsuleError::kTooManyEntries), h3::err::kExcessiveLoad);
}

TEST(ConnectIpCapsules, RequestIdsAcrossCapsules) {
  RequestIds ids;
  uint64_t a = ids.next_ours(), b = ids.next_ours();
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 2u);
  std::vector<AddressEntry> sent = {{a, pfx("0.0.0.0/32")}, {b, pfx("::/128")}};
  ASSERT_TRUE(ids.sent(sent));
  std::vector<AddressEntry> ok = {{a, pfx("198.18.0.9")}, {0, pfx("198.18.0.10")}};
  EXPECT_TRUE(ids.on_peer_assign(ok));
  std::vector<AddressEntry> unknown = {{9, pfx("198.18.0.9")}};
  EXPECT_EQ(ids.on_peer_assign(unknown).error(), CapsuleError::kUnknownRequestId);
  std::vector<AddressEntry> wrong_version = {{b, pfx("198.18.0.9")}};
  EXPECT_EQ(ids.on_peer_assign(wrong_version).error(), CapsuleError::kVersionMismatch);
  // The peer's IDs: fresh ones fine, a reused one is a violation (§4.7.2).
  std::vector<AddressEntry> r1 = {{5, pfx("0.0.0.0/32")}}, r2 = {{6, pfx("0.0.0.0/32")}};
  EXPECT_TRUE(ids.on_peer_request(r1));
  EXPECT_TRUE(ids.on_peer_request(r2));
  EXPECT_EQ(ids.on_peer_request(r1).error(), CapsuleError::kReusedRequestId);
}

TEST(ConnectIpCapsules, RequestIdBoundIsExcessive) {
  RequestIds ids;
  std::vector<AddressEntry> batch;
  for (uint64_t id = 1; id <= kMaxRequestIds; ++id) {
    batch.push_back({id, pfx("0.0.0.0/32")});
    if (batch.size() == kMaxAddressesPerCapsule) {
      ASSERT_TRUE(ids.on_peer_request(batch));
      batch.clear();
    }
  }
  ASSERT_TRUE(batch.empty());
  std::vector<AddressEntry> one_more = {{kMaxRequestIds + 1, pfx("0.0.0.0/32")}};
  EXPECT_EQ(ids.on_peer_request(one_more).error(), CapsuleError::kTooManyEntries);
}

TEST(ConnectIpCapsules, EntryCountsAboveTheBoundAreExcessive) {
  Wire w;
  for (size_t i = 0; i < kMaxAddressesPerCapsule; ++i) {
    w.insert(w.end(), {0, 4, 198, 18, 0, static_cast<uint8_t>(i), 32});
  }
  EXPECT_TRUE(decode_address_assign(w));
  w.insert(w.end(), {0, 4, 198, 18, 1, 0, 32});
  EXPECT_EQ(assign_error(w), CapsuleError::kTooManyEntries);
  Wire r;
  for (size_t i = 0; i < kMaxRoutesPerCapsule; ++i) {
    uint8_t hi = static_cast<uint8_t>(i >> 8), lo = static_cast<uint8_t>(i);
    r.insert(r.end(), {4, 10, hi, lo, 0, 10, hi, lo, 255, 0});
  }
  EXPECT_TRUE(decode_route_advertisement(r));
  r.insert(r.end(), {4, 11, 0, 0, 0, 11, 0, 0, 0, 0});
  EXPECT_EQ(route_error(r), CapsuleError::kTooManyEntries);
}

TEST(ConnectIpCapsules, RouteRules) {
  EXPECT_TRUE(decode_route_advertisement({})->empty());
  for (size_t n = 1; n < 10; ++n) {
    Wire cut = v4_range(1, 2, 0);
    cut.resize(n);
    EXPECT_EQ(route_error(cut), CapsuleError::kTruncated) << n;
  }
  EXPECT_EQ(route_error({5, 1, 1, 1, 1, 1, 1, 1, 1, 0}), CapsuleError::kBadIpVersion);
  EXPECT_EQ(route_error(v4_range(9, 8, 0)), CapsuleError::kRangeStartAfterEnd);
  EXPECT_TRUE(decode_route_advertisement(v4_range(8, 8, 0)));  // a single address
  // Same version and protocol: end of A strictly below start of B.
  EXPECT_TRUE(decode_route_advertisement(cat({v4_range(1, 4, 6), v4_range(5, 9, 6)})));
  EXPECT_EQ(route_error(cat({v4_range(1, 5, 6), v4_range(5, 9, 6)})),
            CapsuleError::kRangesOutOfOrder);
  EXPECT_EQ(route_error(cat({v4_range(5, 9, 6), v4_range(1, 4, 6)})),
            CapsuleError::kRangesOutOfOrder);
  // Protocol order within a version, version order overall.
  EXPECT_EQ(route_error(cat({v4_range(1, 4, 17), v4_range(10, 12, 6)})),
            CapsuleError::kRangesOutOfOrder);
  Wire v6 = {6};
  v6.insert(v6.end(), 32, 0);
  v6.push_back(0);
  EXPECT_TRUE(decode_route_advertisement(cat({v4_range(1, 4, 0), v6})));
  EXPECT_EQ(route_error(cat({v6, v4_range(1, 4, 0)})), CapsuleError::kRangesOutOfOrder);
  // Different protocols may overlap each other, but not a protocol-0 range (§4.7.3).
  EXPECT_TRUE(decode_route_advertisement(cat({v4_range(1, 9, 6), v4_range(1, 9, 17)})));
  EXPECT_EQ(route_error(cat({v4_range(1, 9, 0), v4_range(9, 12, 6)})),
            CapsuleError::kRangesOverlap);
  EXPECT_TRUE(decode_route_advertisement(cat({v4_range(1, 8, 0), v4_range(9, 12, 6)})));
}

TEST(ConnectIpCapsules, EncodersRefuseInvalidLists) {
  IpPrefix bad_host{ip("198.18.0.7"), 24};
  std::vector<AddressEntry> a = {{0, bad_host}};
  EXPECT_EQ(encode_address_assign(a).error(), CapsuleError::kHostBitsSet);
  std::vector<AddressEntry> empty;
  EXPECT_EQ(encode_address_request(empty).error(), CapsuleError::kEmptyRequest);
  std::vector<AddressEntry> zero = {{0, pfx("0.0.0.0/32")}};
  EXPECT_EQ(encode_address_request(zero).error(), CapsuleError::kZeroRequestId);
  std::vector<IpRange> overlap = {IpRange::of(pfx("198.18.0.0/24")),
                                  IpRange::of(pfx("198.18.0.128/25"))};
  EXPECT_EQ(encode_route_advertisement(overlap).error(), CapsuleError::kRangesOutOfOrder);
  std::vector<IpRange> backwards = {IpRange{ip("198.18.0.9"), ip("198.18.0.1"), 0}};
  EXPECT_EQ(encode_route_advertisement(backwards).error(), CapsuleError::kRangeStartAfterEnd);
}

TEST(ConnectIpCapsules, RejectionEntry) {
  AddressEntry r = rejection({4, pfx("198.18.0.0/24")});
  EXPECT_EQ(r.request_id, 4u);
  EXPECT_EQ(r.prefix.to_string(), "0.0.0.0/32");
  EXPECT_TRUE(is_rejection(r));
  AddressEntry r6 = rejection({5, pfx("2001:db8::/64")});
  EXPECT_EQ(r6.prefix.to_string(), "::/128");
  EXPECT_FALSE(is_rejection({1, pfx("0.0.0.0/0")}));
}

}  // namespace
}  // namespace masque

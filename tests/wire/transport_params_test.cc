#include "wire/transport_params.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "support/hex.h"
#include "frame_test_util.h"

namespace quic {
namespace {

using test::cid;
using test::unhex;

// The quic_transport_parameters extension body of the RFC 9001 Appendix A.2 ClientHello.
constexpr std::string_view kRfc9001ClientParams =
    "0408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e515708"
    "06048000ffff";

// Appends one parameter with a raw value.
void put(std::vector<uint8_t>& out, uint64_t id, const std::vector<uint8_t>& value) {
  uint8_t buf[16];
  Writer w(buf);
  w.varint(id);
  w.varint(value.size());
  out.insert(out.end(), buf, buf + w.written());
  out.insert(out.end(), value.begin(), value.end());
}

std::vector<uint8_t> varint_bytes(uint64_t v, size_t len = 0) {
  uint8_t buf[8];
  Writer w(buf);
  if (len) w.varint_len(v, len); else w.varint(v);
  return {buf, buf + w.written()};
}

// Minimal valid blob for the given sender.
std::vector<uint8_t> base(Role sender) {
  std::vector<uint8_t> b;
  put(b, tp::kInitialSourceConnectionId, unhex("0102030405060708"));
  if (sender == Role::kServer) put(b, tp::kOriginalDestinationConnectionId, unhex("a1a2a3a4"));
  return b;
}

std::vector<uint8_t> with(Role sender, uint64_t id, const std::vector<uint8_t>& value) {
  auto b = base(sender);
  put(b, id, value);
  return b;
}

void expect_tp_error(const std::vector<uint8_t>& blob, Role sender,
                     uint64_t code = err::kTransportParameterError) {
  auto r = decode_transport_params(blob, sender);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, code) << r.error().reason;
  EXPECT_FALSE(r.error().reason.empty());
}

TransportParameters full_server_set() {
  TransportParameters p;
  p.original_destination_connection_id = cid("8394c8f03e515708");
  p.initial_source_connection_id = cid("f067a5502a4262b5");
  p.retry_source_connection_id = cid("0011223344");
  p.max_idle_timeout_ms = 30000;
  p.stateless_reset_token = std::array<uint8_t, 16>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                                    15, 16};
  p.max_udp_payload_size = 1452;
  p.initial_max_data = kMaxVarint;
  p.initial_max_stream_data_bidi_local = 1 << 20;
  p.initial_max_stream_data_bidi_remote = 1 << 21;
  p.initial_max_stream_data_uni = 1 << 22;
  p.initial_max_streams_bidi = kMaxStreamsLimit;
  p.initial_max_streams_uni = 100;
  p.ack_delay_exponent = 20;
  p.max_ack_delay_ms = kMaxMaxAckDelayMs;
  p.disable_active_migration = true;
  PreferredAddress pa;
  pa.ipv4 = {192, 0, 2, 1};
  pa.ipv4_port = 443;
  pa.ipv6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  pa.ipv6_port = 4433;
  pa.cid = cid("0a0b0c0d0e0f10111213141516171819202122ff");
  pa.reset_token.fill(0x77);
  p.preferred_address = pa;
  p.active_connection_id_limit = 8;
  p.max_datagram_frame_size = 65535;
  p.version_information = VersionInformation{kVersion1, {kVersion2, 0x1a2a3a4a}};
  p.grease_quic_bit = true;
  p.min_ack_delay_us = 1000;
  p.reset_stream_at = true;
  p.initial_max_path_id = kMaxInitialMaxPathId;
  return p;
}

TEST(TransportParams, Rfc9001AppendixA2ClientParameters) {
  auto blob = unhex(kRfc9001ClientParams);
  ASSERT_EQ(blob.size(), 0x32u);
  auto p = decode_transport_params(blob, Role::kClient);
  ASSERT_TRUE(p) << p.error().reason;
  EXPECT_EQ(p->initial_max_data, kMaxVarint);
  EXPECT_EQ(p->initial_max_stream_data_bidi_local, 0xffffu);
  EXPECT_EQ(p->initial_max_stream_data_bidi_remote, 0xffffu);
  EXPECT_EQ(p->initial_max_stream_data_uni, 0xffffu);
  EXPECT_EQ(p->initial_max_streams_bidi, 16u);
  EXPECT_EQ(p->initial_max_streams_uni, 16u);
  EXPECT_EQ(p->max_idle_timeout_ms, 30000u);
  EXPECT_EQ(p->initial_source_connection_id, cid("8394c8f03e515708"));
  // Absent parameters take the RFC 9000 §18.2 defaults.
  EXPECT_EQ(p->max_udp_payload_size, 65527u);
  EXPECT_EQ(p->ack_delay_exponent, 3u);
  EXPECT_EQ(p->max_ack_delay_ms, 25u);
  EXPECT_EQ(p->active_connection_id_limit, 2u);
  EXPECT_FALSE(p->max_datagram_frame_size);
}

TEST(TransportParams, FullSetRoundTrip) {
  auto p = full_server_set();
  std::vector<uint8_t> out(512);
  auto n = encode_transport_params(p, out);
  ASSERT_TRUE(n) << n.error().reason;
  auto back = decode_transport_params(Bytes(out).first(*n), Role::kServer);
  ASSERT_TRUE(back) << back.error().reason;
  EXPECT_EQ(*back, p);
}

TEST(TransportParams, DefaultsAreOmittedAndRoundTrip) {
  TransportParameters p;
  p.initial_source_connection_id = ConnectionId{};  // zero-length CIDs are legal
  std::vector<uint8_t> out(64);
  auto n = encode_transport_params(p, out);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2u);  // only initial_source_connection_id, empty
  auto back = decode_transport_params(Bytes(out).first(*n), Role::kClient);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, p);
}

TEST(TransportParams, GreasedParameterIsWrittenAndIgnored) {
  TransportParameters p;
  p.initial_source_connection_id = cid("01");
  std::vector<uint8_t> out(64);
  auto junk = unhex("deadbeef");
  TransportParamGrease g{5, junk};
  auto n = encode_transport_params(p, out, &g);
  ASSERT_TRUE(n);
  // 31 * 5 + 27 = 182 = 0x40b6 as a 2-byte varint, then length 4 and the value.
  auto tail = std::vector<uint8_t>(out.begin() + *n - 7, out.begin() + *n);
  EXPECT_EQ(tail, unhex("40b604deadbeef"));
  auto back = decode_transport_params(Bytes(out).first(*n), Role::kClient);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, p);
  TransportParamGrease too_big{uint64_t{1} << 58, {}};
  EXPECT_FALSE(encode_transport_params(p, out, &too_big));
}

TEST(TransportParams, UnknownParametersIgnoredEvenTwice) {
  auto b = base(Role::kClient);
  put(b, 0x1b, unhex("00"));           // reserved 31*0+27
  put(b, 0x7fff, unhex("01020304"));   // unknown
  put(b, 0x7fff, unhex("01020304"));   // duplicates of unknown IDs are not tracked
  put(b, 0x1234567, {});
  auto r = decode_transport_params(b, Role::kClient);
  ASSERT_TRUE(r) << r.error().reason;
}

TEST(TransportParams, EncodeFailsWhenBufferTooSmall) {
  auto p = full_server_set();
  std::vector<uint8_t> out(40);
  auto n = encode_transport_params(p, out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, err::kInternalError);
}

TEST(TransportParams, EncodeFailsForValueAboveVarintRange) {
  TransportParameters p;
  p.initial_source_connection_id = cid("01");
  p.initial_max_data = kMaxVarint + 1;
  std::vector<uint8_t> out(64);
  EXPECT_FALSE(encode_transport_params(p, out));
}

// ---- h3spec-style validation cases: each must be TRANSPORT_PARAMETER_ERROR ----

TEST(TransportParamsInvalid, DuplicateParameter) {
  auto b = with(Role::kClient, tp::kInitialMaxData, varint_bytes(10));
  put(b, tp::kInitialMaxData, varint_bytes(10));
  expect_tp_error(b, Role::kClient);
  auto c = base(Role::kClient);
  put(c, tp::kInitialSourceConnectionId, unhex("01"));
  expect_tp_error(c, Role::kClient);
}

TEST(TransportParamsInvalid, MissingInitialSourceConnectionId) {
  std::vector<uint8_t> b;
  put(b, tp::kInitialMaxData, varint_bytes(10));
  expect_tp_error(b, Role::kClient);
  expect_tp_error({}, Role::kClient);
}

TEST(TransportParamsInvalid, ServerMissingOriginalDestinationConnectionId) {
  expect_tp_error(base(Role::kClient), Role::kServer);
}

TEST(TransportParamsInvalid, ClientSendsOriginalDestinationConnectionId) {
  expect_tp_error(with(Role::kClient, tp::kOriginalDestinationConnectionId, unhex("0102")),
                  Role::kClient);
}

TEST(TransportParamsInvalid, ClientSendsPreferredAddress) {
  std::vector<uint8_t> pa(4 + 2 + 16 + 2, 0);
  pa.push_back(1);
  pa.push_back(0xaa);
  pa.resize(pa.size() + 16, 0x11);
  ASSERT_TRUE(decode_transport_params(with(Role::kServer, tp::kPreferredAddress, pa),
                                      Role::kServer));
  expect_tp_error(with(Role::kClient, tp::kPreferredAddress, pa), Role::kClient);
}

TEST(TransportParamsInvalid, ClientSendsRetrySourceConnectionId) {
  expect_tp_error(with(Role::kClient, tp::kRetrySourceConnectionId, unhex("0102")), Role::kClient);
}

TEST(TransportParamsInvalid, ClientSendsStatelessResetToken) {
  expect_tp_error(with(Role::kClient, tp::kStatelessResetToken, std::vector<uint8_t>(16, 1)),
                  Role::kClient);
}

TEST(TransportParamsInvalid, StatelessResetTokenWrongLength) {
  expect_tp_error(with(Role::kServer, tp::kStatelessResetToken, std::vector<uint8_t>(15, 1)),
                  Role::kServer);
  expect_tp_error(with(Role::kServer, tp::kStatelessResetToken, std::vector<uint8_t>(17, 1)),
                  Role::kServer);
}

TEST(TransportParamsInvalid, MaxUdpPayloadSizeBelow1200) {
  ASSERT_TRUE(decode_transport_params(with(Role::kClient, tp::kMaxUdpPayloadSize,
                                           varint_bytes(1200)), Role::kClient));
  expect_tp_error(with(Role::kClient, tp::kMaxUdpPayloadSize, varint_bytes(1199)), Role::kClient);
}

TEST(TransportParamsInvalid, AckDelayExponentAbove20) {
  ASSERT_TRUE(decode_transport_params(with(Role::kClient, tp::kAckDelayExponent,
                                           varint_bytes(20)), Role::kClient));
  expect_tp_error(with(Role::kClient, tp::kAckDelayExponent, varint_bytes(21)), Role::kClient);
}

TEST(TransportParamsInvalid, MaxAckDelayAtLeast2Pow14) {
  ASSERT_TRUE(decode_transport_params(with(Role::kClient, tp::kMaxAckDelay,
                                           varint_bytes((1 << 14) - 1)), Role::kClient));
  expect_tp_error(with(Role::kClient, tp::kMaxAckDelay, varint_bytes(1 << 14)), Role::kClient);
}

TEST(TransportParamsInvalid, ActiveConnectionIdLimitBelow2) {
  expect_tp_error(with(Role::kClient, tp::kActiveConnectionIdLimit, varint_bytes(1)),
                  Role::kClient);
  expect_tp_error(with(Role::kClient, tp::kActiveConnectionIdLimit, varint_bytes(0)),
                  Role::kClient);
}

TEST(TransportParamsInvalid, InitialMaxStreamsAbove2Pow60) {
  for (uint64_t id : {tp::kInitialMaxStreamsBidi, tp::kInitialMaxStreamsUni}) {
    ASSERT_TRUE(decode_transport_params(with(Role::kClient, id, varint_bytes(kMaxStreamsLimit)),
                                        Role::kClient));
    expect_tp_error(with(Role::kClient, id, varint_bytes(kMaxStreamsLimit + 1)), Role::kClient);
  }
}

TEST(TransportParamsInvalid, InitialMaxPathIdAbove2Pow32Minus1) {
  ASSERT_TRUE(decode_transport_params(
      with(Role::kClient, tp::kInitialMaxPathId, varint_bytes(kMaxInitialMaxPathId)),
      Role::kClient));
  expect_tp_error(with(Role::kClient, tp::kInitialMaxPathId, varint_bytes(uint64_t{1} << 32)),
                  Role::kClient);
}

TEST(TransportParamsInvalid, InitialMaxPathIdWithZeroLengthSourceCidIsProtocolViolation) {
  std::vector<uint8_t> b;
  put(b, tp::kInitialSourceConnectionId, {});
  put(b, tp::kInitialMaxPathId, varint_bytes(2));
  expect_tp_error(b, Role::kClient, err::kProtocolViolation);
}

TEST(TransportParamsInvalid, PreferredAddressZeroLengthCid) {
  std::vector<uint8_t> pa(4 + 2 + 16 + 2, 0);
  pa.push_back(0);
  pa.resize(pa.size() + 16, 0x11);
  expect_tp_error(with(Role::kServer, tp::kPreferredAddress, pa), Role::kServer);
}

TEST(TransportParamsInvalid, PreferredAddressBadLengths) {
  std::vector<uint8_t> pa(4 + 2 + 16 + 2, 0);
  pa.push_back(21);  // CID longer than 20
  pa.resize(pa.size() + 21 + 16, 0x11);
  expect_tp_error(with(Role::kServer, tp::kPreferredAddress, pa), Role::kServer);
  std::vector<uint8_t> pb(4 + 2 + 16 + 2, 0);
  pb.push_back(4);
  pb.resize(pb.size() + 4 + 16 + 1, 0x11);  // one trailing byte
  expect_tp_error(with(Role::kServer, tp::kPreferredAddress, pb), Role::kServer);
  std::vector<uint8_t> truncated(pb.begin(), pb.end() - 2);  // reset token one byte short
  expect_tp_error(with(Role::kServer, tp::kPreferredAddress, truncated), Role::kServer);
}

TEST(TransportParamsInvalid, VarintValueWithTrailingBytes) {
  auto v = varint_bytes(10);
  v.push_back(0);
  expect_tp_error(with(Role::kClient, tp::kInitialMaxData, v), Role::kClient);
  expect_tp_error(with(Role::kClient, tp::kMaxIdleTimeout, {}), Role::kClient);  // empty
  expect_tp_error(with(Role::kClient, tp::kMinAckDelay, unhex("40")), Role::kClient);  // short
  // A non-minimal but exact varint is fine.
  ASSERT_TRUE(decode_transport_params(with(Role::kClient, tp::kInitialMaxData,
                                           varint_bytes(10, 8)), Role::kClient));
}

TEST(TransportParamsInvalid, FlagParametersMustBeEmpty) {
  expect_tp_error(with(Role::kClient, tp::kDisableActiveMigration, unhex("00")), Role::kClient);
  expect_tp_error(with(Role::kClient, tp::kGreaseQuicBit, unhex("01")), Role::kClient);
  expect_tp_error(with(Role::kClient, tp::kResetStreamAt, unhex("00")), Role::kClient);
  auto ok = decode_transport_params(with(Role::kClient, tp::kResetStreamAt, {}), Role::kClient);
  ASSERT_TRUE(ok) << ok.error().reason;
  EXPECT_TRUE(ok->reset_stream_at);
}

TEST(TransportParamsInvalid, ConnectionIdLongerThan20) {
  std::vector<uint8_t> b;
  put(b, tp::kInitialSourceConnectionId, std::vector<uint8_t>(21, 1));
  expect_tp_error(b, Role::kClient);
}

TEST(TransportParamsInvalid, TruncatedInput) {
  auto blob = unhex(kRfc9001ClientParams);
  // Every proper prefix ends mid-parameter or lacks initial_source_connection_id, except the
  // one that stops right after it (44 bytes), which is a valid shorter set.
  for (size_t n = 0; n < blob.size(); ++n) {
    if (n == 44) {
      EXPECT_TRUE(decode_transport_params(Bytes(blob).first(n), Role::kClient));
      continue;
    }
    auto r = decode_transport_params(Bytes(blob).first(n), Role::kClient);
    ASSERT_FALSE(r) << "prefix " << n;
    EXPECT_EQ(r.error().code, err::kTransportParameterError);
  }
  expect_tp_error(unhex("0f"), Role::kClient);            // ID without length
  expect_tp_error(unhex("0f0901"), Role::kClient);        // value beyond end
  expect_tp_error(unhex("0fc0"), Role::kClient);          // length varint truncated
}

TEST(TransportParamsInvalid, MinAckDelayAboveMaxAckDelay) {
  // Default max_ack_delay 25 ms = 25000 us.
  ASSERT_TRUE(decode_transport_params(with(Role::kClient, tp::kMinAckDelay, varint_bytes(25000)),
                                      Role::kClient));
  expect_tp_error(with(Role::kClient, tp::kMinAckDelay, varint_bytes(25001)), Role::kClient);
  auto b = with(Role::kClient, tp::kMaxAckDelay, varint_bytes(100));
  put(b, tp::kMinAckDelay, varint_bytes(100001));
  expect_tp_error(b, Role::kClient);
}

TEST(TransportParamsInvalid, VersionInformationChosenZero) {
  expect_tp_error(with(Role::kServer, tp::kVersionInformation, unhex("00000000" "00000001")),
                  Role::kServer);
}

TEST(TransportParamsInvalid, VersionInformationMalformedListLength) {
  expect_tp_error(with(Role::kServer, tp::kVersionInformation, unhex("000001")), Role::kServer);
  expect_tp_error(with(Role::kServer, tp::kVersionInformation, unhex("00000001" "000001")),
                  Role::kServer);
  expect_tp_error(with(Role::kServer, tp::kVersionInformation, {}), Role::kServer);
}

TEST(TransportParamsInvalid, VersionInformationAvailableZero) {
  expect_tp_error(with(Role::kServer, tp::kVersionInformation,
                       unhex("00000001" "00000001" "00000000")), Role::kServer);
}

TEST(TransportParamsInvalid, ClientVersionInformationChosenNotAvailable) {
  // RFC 9368 §4: servers may omit the chosen version, clients must list it.
  auto ok = decode_transport_params(
      with(Role::kServer, tp::kVersionInformation, unhex("00000001" "6b3343cf")), Role::kServer);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->version_information->available, std::vector<uint32_t>{kVersion2});
  auto empty = decode_transport_params(
      with(Role::kServer, tp::kVersionInformation, unhex("00000001")), Role::kServer);
  ASSERT_TRUE(empty);  // a server's Available Versions MAY be empty
  EXPECT_TRUE(empty->version_information->available.empty());
  expect_tp_error(with(Role::kClient, tp::kVersionInformation, unhex("00000001" "6b3343cf")),
                  Role::kClient);
}

TEST(TransportParamsInvalid, VersionInformationAboveMaxAvailableVersions) {
  std::vector<uint8_t> v = unhex("6b3343cf");
  for (size_t i = 0; i < kMaxAvailableVersions - 1; ++i) {
    auto x = unhex("1a2a3a4a");
    v.insert(v.end(), x.begin(), x.end());
  }
  auto chosen = unhex("6b3343cf");
  v.insert(v.end(), chosen.begin(), chosen.end());  // exactly kMaxAvailableVersions
  auto r = decode_transport_params(with(Role::kClient, tp::kVersionInformation, v), Role::kClient);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->version_information->available.size(), kMaxAvailableVersions);
  EXPECT_EQ(r->version_information->available.back(), kVersion2);
  v.insert(v.end(), chosen.begin(), chosen.end());  // one more
  expect_tp_error(with(Role::kClient, tp::kVersionInformation, v), Role::kClient);
}

}  // namespace
}  // namespace quic

// The pure decisions of version negotiation (core/version_negotiation.h): which version a
// client picks from a Version Negotiation packet, which version a server switches a compatible
// first flight to, reading version_information out of a ClientHello, and the downgrade checks
// of RFC 9368 §4.
#include <gtest/gtest.h>

#include "core/config.h"
#include "core/version_negotiation.h"

namespace quic {
namespace {

constexpr uint32_t kReserved = 0x1a2a3a4a;
constexpr uint32_t kDraft29 = 0xff00001d;

TEST(SupportedVersions, DefaultIsVersionThenTheOther) {
  ConnectionConfig c;
  EXPECT_EQ(supported_versions(c), (std::vector<uint32_t>{kVersion1, kVersion2}));
  c.version = kVersion2;
  EXPECT_EQ(supported_versions(c), (std::vector<uint32_t>{kVersion2, kVersion1}));
  c.version = kReserved;  // eliciting VN: the reserved version is not something we speak
  EXPECT_EQ(supported_versions(c), (std::vector<uint32_t>{kVersion1, kVersion2}));
}

TEST(SupportedVersions, ExplicitListKeepsOrderDropsUnknownAndDuplicates) {
  ConnectionConfig c;
  c.versions = {kVersion2, kDraft29, kVersion2, kReserved, kVersion1};
  EXPECT_EQ(supported_versions(c), (std::vector<uint32_t>{kVersion2, kVersion1}));
  c.versions = {kDraft29};  // nothing usable: fall back to the default
  EXPECT_EQ(supported_versions(c), (std::vector<uint32_t>{kVersion1, kVersion2}));
}

TEST(ChooseFromVersionNegotiation, OurPreferenceNeverReservedOrUnknown) {
  std::vector<uint32_t> ours{kVersion2, kVersion1};
  std::vector<uint32_t> offered{kReserved, kVersion1, kVersion2};
  EXPECT_EQ(choose_from_version_negotiation(ours, offered), kVersion2);
  ours = {kVersion1, kVersion2};
  EXPECT_EQ(choose_from_version_negotiation(ours, offered), kVersion1);
  std::vector<uint32_t> none{kReserved, kDraft29};
  EXPECT_EQ(choose_from_version_negotiation(ours, none), std::nullopt);
  std::vector<uint32_t> ours_with_reserved{kReserved, kDraft29};
  EXPECT_EQ(choose_from_version_negotiation(ours_with_reserved, none), std::nullopt);
}

TEST(ChooseCompatibleVersion, ServerOrderOrClientOrder) {
  std::vector<uint32_t> server{kVersion2, kVersion1};
  VersionInformation vi{kVersion1, {kVersion1, kVersion2}};
  EXPECT_EQ(choose_compatible_version(server, true, kVersion1, vi), kVersion2);
  EXPECT_EQ(choose_compatible_version(server, false, kVersion1, vi), kVersion1);
  vi.available = {kVersion2, kVersion1};
  EXPECT_EQ(choose_compatible_version(server, false, kVersion1, vi), kVersion2);
  // v2 -> v1 is compatible too (RFC 9369 §4).
  std::vector<uint32_t> v1_first{kVersion1, kVersion2};
  VersionInformation from_v2{kVersion2, {kVersion2, kVersion1}};
  EXPECT_EQ(choose_compatible_version(v1_first, true, kVersion2, from_v2), kVersion1);
}

TEST(ChooseCompatibleVersion, StaysWithoutOfferOrWithALie) {
  std::vector<uint32_t> server{kVersion2, kVersion1};
  EXPECT_EQ(choose_compatible_version(server, true, kVersion1, std::nullopt), kVersion1);
  VersionInformation only_v1{kVersion1, {kVersion1}};
  EXPECT_EQ(choose_compatible_version(server, true, kVersion1, only_v1), kVersion1);
  VersionInformation reserved{kVersion1, {kReserved, kVersion1}};
  std::vector<uint32_t> with_reserved{kReserved, kVersion1};
  EXPECT_EQ(choose_compatible_version(with_reserved, true, kVersion1, reserved), kVersion1);
  // Chosen Version differs from the Initials' version: no switch, the handshake rejects it.
  VersionInformation lying{kVersion2, {kVersion2, kVersion1}};
  EXPECT_EQ(choose_compatible_version(server, true, kVersion1, lying), kVersion1);
  // A version we do not speak is never chosen even if the client lists it first.
  VersionInformation unknown{kVersion1, {kDraft29, kVersion1}};
  EXPECT_EQ(choose_compatible_version(server, false, kVersion1, unknown), kVersion1);
}

std::vector<uint8_t> client_hello(const std::vector<uint8_t>& tp_body, bool with_tp = true) {
  std::vector<uint8_t> body{0x03, 0x03};
  body.insert(body.end(), 32, 0x11);                   // random
  body.insert(body.end(), {4, 1, 2, 3, 4});            // session id
  body.insert(body.end(), {0x00, 0x02, 0x13, 0x01});   // cipher suites
  body.insert(body.end(), {0x01, 0x00});               // compression
  std::vector<uint8_t> exts{0x00, 0x10, 0x00, 0x03, 0x02, 'h', '3'};  // ALPN first
  if (with_tp) {
    exts.insert(exts.end(), {0x00, 0x39, 0x00, static_cast<uint8_t>(tp_body.size())});
    exts.insert(exts.end(), tp_body.begin(), tp_body.end());
  }
  body.push_back(static_cast<uint8_t>(exts.size() >> 8));
  body.push_back(static_cast<uint8_t>(exts.size()));
  body.insert(body.end(), exts.begin(), exts.end());
  std::vector<uint8_t> msg{0x01, 0x00, static_cast<uint8_t>(body.size() >> 8),
                           static_cast<uint8_t>(body.size())};
  msg.insert(msg.end(), body.begin(), body.end());
  return msg;
}

TEST(ClientHelloTransportParams, FindsTheExtension) {
  std::vector<uint8_t> tp{0x0f, 0x04, 1, 2, 3, 4,  // initial_source_connection_id
                          0x11, 0x0c, 0, 0, 0, 1, 0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf};
  auto msg = client_hello(tp);
  auto found = client_hello_transport_params(msg);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(std::vector<uint8_t>(found->begin(), found->end()), tp);
  auto decoded = decode_transport_params(*found, Role::kClient);
  ASSERT_TRUE(decoded) << decoded.error().reason;
  EXPECT_EQ(decoded->version_information, (VersionInformation{kVersion1, {kVersion1, kVersion2}}));
  EXPECT_FALSE(client_hello_transport_params(client_hello(tp, false)).has_value());
}

TEST(ClientHelloTransportParams, EveryTruncationAndAWrongTypeAreRejected) {
  auto msg = client_hello({0x01, 0x01, 0x05});
  for (size_t n = 0; n < msg.size(); ++n) {
    EXPECT_FALSE(client_hello_transport_params(Bytes(msg.data(), n)).has_value()) << n;
  }
  // Truncated with a consistent header length: the inner lengths must catch it.
  for (size_t n = 4; n < msg.size(); ++n) {
    std::vector<uint8_t> cut(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(n));
    cut[2] = static_cast<uint8_t>((n - 4) >> 8);
    cut[3] = static_cast<uint8_t>(n - 4);
    EXPECT_FALSE(client_hello_transport_params(cut).has_value()) << n;
  }
  msg[0] = 2;  // ServerHello
  EXPECT_FALSE(client_hello_transport_params(msg).has_value());
  msg = client_hello({0x01, 0x01, 0x05});
  msg[msg.size() - 5] = 0x7f;  // the last extension claims more bytes than there are
  EXPECT_FALSE(client_hello_transport_params(msg).has_value());
}

ClientVersionView view(uint32_t negotiated, std::optional<uint32_t> vn_attempted = std::nullopt,
                       std::vector<uint32_t> supported = {kVersion1, kVersion2}) {
  ClientVersionView v;
  v.negotiated = negotiated;
  v.offered = supported;
  v.supported = supported;
  v.vn_attempted = vn_attempted;
  return v;
}

void expect_vn_error(const Status& st) {
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, err::kVersionNegotiationError);
}

TEST(DowngradeCheck, ServerChosenMustBeTheVersionInUseAndOffered) {
  EXPECT_TRUE(check_server_version_information(view(kVersion1), std::nullopt));  // MAY complete
  EXPECT_TRUE(check_server_version_information(view(kVersion2),
                                               VersionInformation{kVersion2, {kVersion1, kVersion2}}));
  expect_vn_error(check_server_version_information(
      view(kVersion1), VersionInformation{kVersion2, {kVersion1, kVersion2}}));
  auto only_v1 = view(kVersion1, std::nullopt, {kVersion1});
  expect_vn_error(check_server_version_information(only_v1, VersionInformation{kDraft29, {}}));
}

TEST(DowngradeCheck, AfterVersionNegotiation) {
  // §8: a v1 server without version_information is taken as {v1, [v1]}.
  EXPECT_TRUE(check_server_version_information(view(kVersion1, kVersion1), std::nullopt));
  expect_vn_error(check_server_version_information(view(kVersion2, kVersion2), std::nullopt));
  // An empty Available Versions list cannot prove anything.
  expect_vn_error(check_server_version_information(view(kVersion1, kVersion1),
                                                   VersionInformation{kVersion1, {}}));
  // We prefer v2; the (forged) VN made us try v1, but the server really supports v2.
  auto prefers_v2 = view(kVersion1, kVersion1, {kVersion2, kVersion1});
  expect_vn_error(check_server_version_information(
      prefers_v2, VersionInformation{kVersion1, {kVersion1, kVersion2}}));
  // The server really supports only v1: the VN was genuine.
  EXPECT_TRUE(check_server_version_information(prefers_v2, VersionInformation{kVersion1, {kVersion1}}));
  // VN then compatible negotiation to v2 (RFC 9368 §2.3 example): fine.
  auto switched = view(kVersion2, kVersion1, {kVersion2, kVersion1});
  EXPECT_TRUE(check_server_version_information(
      switched, VersionInformation{kVersion2, {kVersion1, kVersion2}}));
}

TEST(DowngradeCheck, ClientChosenMustBeTheInitialsVersion) {
  EXPECT_TRUE(check_client_version_information(kVersion1, std::nullopt));
  EXPECT_TRUE(check_client_version_information(kVersion1, VersionInformation{kVersion1, {kVersion1}}));
  expect_vn_error(check_client_version_information(
      kVersion1, VersionInformation{kVersion2, {kVersion2, kVersion1}}));
}

}  // namespace
}  // namespace quic

// Whole-packet protection against RFC 9001 A.2–A.5 and RFC 9369 A.2–A.5, for every real
// backend: seal + header protection must give the published bytes exactly, and header
// removal + open must give back the header and payload.
#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/packet_protector.h"
#include "crypto/retry.h"
#include "support/hex.h"
#include "rfc_vectors.h"
#include "wire/version.h"

namespace quic {
namespace {

using test::hex;
using test::unhex;

const std::vector<uint8_t> kRfcDcid = unhex(test::kAppendixADcid);

struct Vector {
  CipherSuite suite;
  uint32_t version;
  Secret secret;
  std::string header;  // unprotected header, hex
  std::vector<uint8_t> payload;
  uint64_t pn;
  size_t pn_len;
  std::string protected_packet;  // hex
};

std::vector<uint8_t> client_payload() {
  std::vector<uint8_t> p = unhex(test::kClientCryptoFrame);
  p.resize(1162, 0x00);  // PADDING to the RFC's 1162-byte payload
  return p;
}

class RfcPackets : public ::testing::TestWithParam<AeadBackend> {
 protected:
  // Protects v's packet, compares it with the RFC bytes, then reverses every step.
  void check(const Vector& v) {
    auto p = PacketProtector::create(v.suite, v.secret, v.version, GetParam());
    ASSERT_TRUE(p) << p.error().reason;
    std::vector<uint8_t> hdr = unhex(v.header);
    size_t pn_offset = hdr.size() - v.pn_len;
    std::vector<uint8_t> pkt = hdr;
    pkt.insert(pkt.end(), v.payload.begin(), v.payload.end());
    pkt.resize(pkt.size() + kAeadTagSize);
    ASSERT_TRUE((*p)->seal(v.pn, 0, hdr, pkt.data() + hdr.size(), v.payload.size()));
    ASSERT_TRUE((*p)->protect_header(pkt.data(), pkt.size(), pn_offset, v.pn_len));
    EXPECT_EQ(hex(pkt), v.protected_packet);

    // Receiver side, starting from the published bytes.
    std::vector<uint8_t> rx = unhex(v.protected_packet);
    auto pn = (*p)->unprotect_header(rx.data(), rx.size(), pn_offset);
    ASSERT_TRUE(pn);
    EXPECT_EQ(pn->first, v.pn_len);
    EXPECT_EQ(pn->second, v.pn & ((uint64_t{1} << (8 * v.pn_len)) - 1));
    EXPECT_EQ(hex(Bytes(rx).first(hdr.size())), v.header);
    ASSERT_TRUE((*p)->open(v.pn, 0, Bytes(rx).first(hdr.size()), rx.data() + hdr.size(),
                           rx.size() - hdr.size()));
    EXPECT_EQ(hex(Bytes(rx).subspan(hdr.size(), v.payload.size())), hex(v.payload));
  }
};

TEST_P(RfcPackets, Rfc9001A2ClientInitial) {
  check({CipherSuite::kAes128Gcm, kVersion1, derive_initial_secrets(kVersion1, kRfcDcid).client,
         "c300000001088394c8f03e5157080000449e00000002", client_payload(), 2, 4,
         std::string(test::kV1ClientInitialProtected)});
}

TEST_P(RfcPackets, Rfc9001A3ServerInitial) {
  check({CipherSuite::kAes128Gcm, kVersion1, derive_initial_secrets(kVersion1, kRfcDcid).server,
         "c1000000010008f067a5502a4262b50040750001", unhex(test::kServerPayload), 1, 2,
         std::string(test::kV1ServerInitialProtected)});
}

TEST_P(RfcPackets, Rfc9001A5ChaCha20ShortHeader) {
  check({CipherSuite::kChaCha20Poly1305,
         kVersion1,
         Secret::from(unhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b")),
         "4200bff4",
         {0x01},
         654360564,
         3,
         "4cfe4189655e5cd55c41f69080575d7999c25a5bfb"});
}

TEST_P(RfcPackets, Rfc9369A2ClientInitialV2) {
  check({CipherSuite::kAes128Gcm, kVersion2, derive_initial_secrets(kVersion2, kRfcDcid).client,
         "d36b3343cf088394c8f03e5157080000449e00000002", client_payload(), 2, 4,
         std::string(test::kV2ClientInitialProtected)});
}

TEST_P(RfcPackets, Rfc9369A3ServerInitialV2) {
  check({CipherSuite::kAes128Gcm, kVersion2, derive_initial_secrets(kVersion2, kRfcDcid).server,
         "d16b3343cf0008f067a5502a4262b50040750001", unhex(test::kServerPayload), 1, 2,
         std::string(test::kV2ServerInitialProtected)});
}

TEST_P(RfcPackets, Rfc9369A5ChaCha20ShortHeaderV2) {
  check({CipherSuite::kChaCha20Poly1305,
         kVersion2,
         Secret::from(unhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b")),
         "4200bff4",
         {0x01},
         654360564,
         3,
         "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba"});
}

INSTANTIATE_TEST_SUITE_P(Backends, RfcPackets,
                         ::testing::Values(AeadBackend::kOpenSsl, AeadBackend::kGnuTls,
                                           AeadBackend::kAuto),
                         [](const auto& p) { return std::string(backend_name(p.param)); });

// ---- Retry (RFC 9001 A.4, RFC 9369 A.4) ----

constexpr std::string_view kV1Retry =
    "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba";
constexpr std::string_view kV2Retry =
    "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6";

void check_retry(uint32_t version, std::string_view packet_hex) {
  std::vector<uint8_t> pkt = unhex(packet_hex);
  Bytes body = Bytes(pkt).first(pkt.size() - kRetryIntegrityTagSize);
  std::string tag = hex(Bytes(pkt).last(kRetryIntegrityTagSize));

  std::vector<uint8_t> pseudo = {uint8_t(kRfcDcid.size())};
  pseudo.insert(pseudo.end(), kRfcDcid.begin(), kRfcDcid.end());
  pseudo.insert(pseudo.end(), body.begin(), body.end());
  EXPECT_EQ(hex(retry_integrity_tag(version, pseudo)), tag);
  auto t = retry_integrity_tag(version, kRfcDcid, body);
  ASSERT_TRUE(t);
  EXPECT_EQ(hex(*t), tag);
  EXPECT_TRUE(verify_retry_integrity_tag(version, kRfcDcid, pkt));

  // Any changed bit (in the packet, the tag or the ODCID) fails verification.
  for (size_t i : {size_t{0}, size_t{9}, pkt.size() - 1}) {
    std::vector<uint8_t> bad = pkt;
    bad[i] ^= 0x01;
    EXPECT_FALSE(verify_retry_integrity_tag(version, kRfcDcid, bad)) << i;
  }
  std::vector<uint8_t> other_dcid = kRfcDcid;
  other_dcid[7] ^= 0x80;
  EXPECT_FALSE(verify_retry_integrity_tag(version, other_dcid, pkt));
  // The other version's key gives another tag.
  const uint32_t other = version == kVersion1 ? kVersion2 : kVersion1;
  EXPECT_FALSE(verify_retry_integrity_tag(other, kRfcDcid, pkt));
}

TEST(CryptoRetry, Rfc9001A4RetryTag) {
  check_retry(kVersion1, kV1Retry);
}
TEST(CryptoRetry, Rfc9369A4RetryTagV2) {
  check_retry(kVersion2, kV2Retry);
}

TEST(CryptoRetry, OverlongOdcidAndShortPacketRejected) {
  std::vector<uint8_t> pkt = unhex(kV1Retry);
  std::vector<uint8_t> odcid(kMaxRetryOdcidLen + 1, 0x11);
  EXPECT_FALSE(retry_integrity_tag(kVersion1, odcid, pkt));
  EXPECT_FALSE(verify_retry_integrity_tag(kVersion1, odcid, pkt));
  odcid.resize(kMaxRetryOdcidLen);
  EXPECT_TRUE(retry_integrity_tag(kVersion1, odcid, pkt));
  EXPECT_FALSE(
      verify_retry_integrity_tag(kVersion1, kRfcDcid,
                                 Bytes(pkt).first(kRetryIntegrityTagSize - 1)));
  EXPECT_FALSE(verify_retry_integrity_tag(kVersion1, kRfcDcid, Bytes()));
}

}  // namespace
}  // namespace quic

// Key schedule: RFC 9001 A.1 / A.5, RFC 9369 A.1 / A.5, key update (RFC 9001 §6), and
// HKDF-Expand-Label cross-checked against OpenSSL's independent HKDF.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto/hkdf.h"
#include "crypto/packet_protector.h"
#include "rfc_vectors.h"
#include "support/hex.h"
#include "wire/version.h"

namespace quic {
namespace {

using test::hex;
using test::unhex;

const std::vector<uint8_t> kDcid = unhex(test::kAppendixADcid);

Secret secret_of(std::string_view h) {
  return Secret::from(unhex(h));
}

TEST(CryptoKeys, Rfc9001A1InitialSecretsAndKeys) {
  InitialSecrets s = derive_initial_secrets(kVersion1, kDcid);
  EXPECT_EQ(hex(s.client.view()),
            "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
  EXPECT_EQ(hex(s.server.view()),
            "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b");
  auto c = derive_packet_keys(CipherSuite::kAes128Gcm, s.client, kVersion1);
  ASSERT_TRUE(c);
  EXPECT_EQ(hex(c->key_view()), "1f369613dd76d5467730efcbe3b1a22d");
  EXPECT_EQ(hex(c->iv_view()), "fa044b2f42a3fd3b46fb255c");
  EXPECT_EQ(hex(c->hp_view()), "9f50449e04a0e810283a1e9933adedd2");
  auto sv = derive_packet_keys(CipherSuite::kAes128Gcm, s.server, kVersion1);
  ASSERT_TRUE(sv);
  EXPECT_EQ(hex(sv->key_view()), "cf3a5331653c364c88f0f379b6067e37");
  EXPECT_EQ(hex(sv->iv_view()), "0ac1493ca1905853b0bba03e");
  EXPECT_EQ(hex(sv->hp_view()), "c206b8d9b9f0f37644430b490eeaa314");
}

TEST(CryptoKeys, Rfc9369A1InitialSecretsAndKeysV2) {
  InitialSecrets s = derive_initial_secrets(kVersion2, kDcid);
  EXPECT_EQ(hex(s.client.view()),
            "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b");
  EXPECT_EQ(hex(s.server.view()),
            "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1");
  auto c = derive_packet_keys(CipherSuite::kAes128Gcm, s.client, kVersion2);
  ASSERT_TRUE(c);
  EXPECT_EQ(hex(c->key_view()), "8b1a0bc121284290a29e0971b5cd045d");
  EXPECT_EQ(hex(c->iv_view()), "91f73e2351d8fa91660e909f");
  EXPECT_EQ(hex(c->hp_view()), "45b95e15235d6f45a6b19cbcb0294ba9");
  auto sv = derive_packet_keys(CipherSuite::kAes128Gcm, s.server, kVersion2);
  ASSERT_TRUE(sv);
  EXPECT_EQ(hex(sv->key_view()), "82db637861d55e1d011f19ea71d5d2a7");
  EXPECT_EQ(hex(sv->iv_view()), "dd13c276499c0249d3310652");
  EXPECT_EQ(hex(sv->hp_view()), "edf6d05c83121201b436e16877593c3a");
}

constexpr std::string_view kChaChaSecret =
    "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b";

TEST(CryptoKeys, Rfc9001A5ChaCha20KeysAndKu) {
  Secret s = secret_of(kChaChaSecret);
  auto k = derive_packet_keys(CipherSuite::kChaCha20Poly1305, s, kVersion1);
  ASSERT_TRUE(k);
  EXPECT_EQ(hex(k->key_view()), "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8");
  EXPECT_EQ(hex(k->iv_view()), "e0459b3474bdd0e44a41c144");
  EXPECT_EQ(hex(k->hp_view()), "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4");
  auto ku = next_traffic_secret(CipherSuite::kChaCha20Poly1305, s, kVersion1);
  ASSERT_TRUE(ku);
  EXPECT_EQ(hex(ku->view()), "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9");
}

TEST(CryptoKeys, Rfc9369A5ChaCha20KeysAndKuV2) {
  Secret s = secret_of(kChaChaSecret);
  auto k = derive_packet_keys(CipherSuite::kChaCha20Poly1305, s, kVersion2);
  ASSERT_TRUE(k);
  EXPECT_EQ(hex(k->key_view()), "3bfcddd72bcf02541d7fa0dd1f5f9eeea817e09a6963a0e6c7df0f9a1bab90f2");
  EXPECT_EQ(hex(k->iv_view()), "a6b5bc6ab7dafce30ffff5dd");
  EXPECT_EQ(hex(k->hp_view()), "d659760d2ba434a226fd37b35c69e2da8211d10c4f12538787d65645d5d1b8e2");
  auto ku = next_traffic_secret(CipherSuite::kChaCha20Poly1305, s, kVersion2);
  ASSERT_TRUE(ku);
  EXPECT_EQ(hex(ku->view()), "c69374c49e3d2a9466fa689e49d476db5d0dfbc87d32ceeaa6343fd0ae4c7d88");
}

TEST(CryptoKeys, SecretOfWrongLengthIsRejected) {
  Secret s32 = secret_of(kChaChaSecret);
  // AES-256-GCM is a SHA-384 suite: its traffic secrets are 48 bytes.
  EXPECT_FALSE(derive_packet_keys(CipherSuite::kAes256Gcm, s32, kVersion1));
  EXPECT_FALSE(next_traffic_secret(CipherSuite::kAes256Gcm, s32, kVersion1));
  EXPECT_FALSE(PacketProtector::create(CipherSuite::kAes256Gcm, s32, kVersion1));
  EXPECT_FALSE(PacketProtector::create(CipherSuite::kAes128Gcm, Secret{}, kVersion1));
  std::vector<uint8_t> too_long(kMaxSecretSize + 1, 7);
  EXPECT_EQ(Secret::from(too_long).len, 0);
}

// Independent HKDF-Expand from OpenSSL's KDF provider, fed a hand-built HkdfLabel.
std::vector<uint8_t> openssl_expand_label(const char* digest, Bytes secret, std::string label,
                                          size_t len) {
  std::vector<uint8_t> info = {uint8_t(len >> 8), uint8_t(len)};
  std::string full = "tls13 " + label;
  info.push_back(uint8_t(full.size()));
  info.insert(info.end(), full.begin(), full.end());
  info.push_back(0);
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret.data()),
                                        secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  std::vector<uint8_t> out(len);
  EXPECT_EQ(EVP_KDF_derive(ctx, out.data(), out.size(), params), 1);
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  return out;
}

TEST(CryptoKeys, ExpandLabelMatchesOpenSslHkdfForSha256AndSha384) {
  std::vector<uint8_t> s48(48);
  for (size_t i = 0; i < s48.size(); ++i) s48[i] = uint8_t(i * 7 + 1);
  for (size_t len : {12u, 16u, 32u, 48u, 80u}) {
    std::vector<uint8_t> out(len);
    ASSERT_TRUE(hkdf_expand_label(HashAlg::kSha384, s48, "quic key", {}, out.data(), len));
    EXPECT_EQ(hex(out), hex(openssl_expand_label("SHA384", s48, "quic key", len))) << len;
    Bytes s32(s48.data(), 32);
    ASSERT_TRUE(hkdf_expand_label(HashAlg::kSha256, s32, "quicv2 hp", {}, out.data(), len));
    EXPECT_EQ(hex(out), hex(openssl_expand_label("SHA256", s32, "quicv2 hp", len))) << len;
  }
}

TEST(CryptoKeys, ExpandLabelRejectsOverlongLabelAndOutput) {
  uint8_t s[32] = {1};
  uint8_t out[64];
  std::string label(kMaxHkdfLabelSize + 1, 'a');
  EXPECT_FALSE(hkdf_expand_label(HashAlg::kSha256, s, label, {}, out, 16));
  EXPECT_TRUE(hkdf_expand_label(HashAlg::kSha256, s, label.substr(1), {}, out, 16));
  std::vector<uint8_t> ctx(kMaxHkdfContextSize + 1);
  EXPECT_FALSE(hkdf_expand_label(HashAlg::kSha256, s, "x", ctx, out, 16));
  std::vector<uint8_t> big(255 * 32 + 1);
  EXPECT_FALSE(hkdf_expand_label(HashAlg::kSha256, s, "x", {}, big.data(), big.size()));
}

TEST(CryptoKeys, QuicLabelsPerVersion) {
  EXPECT_EQ(quic_labels(kVersion1).ku, "quic ku");
  EXPECT_EQ(quic_labels(kVersion2).key, "quicv2 key");
  EXPECT_EQ(quic_labels(kVersion2).iv, "quicv2 iv");
  EXPECT_EQ(quic_labels(kVersion2).hp, "quicv2 hp");
  EXPECT_EQ(quic_labels(kVersion2).ku, "quicv2 ku");
}

// RFC 9001 §6.1: key update changes key and IV, never the header protection key.
TEST(CryptoKeys, KeyUpdateChangesKeyAndIvButNotHp) {
  for (CipherSuite suite :
       {CipherSuite::kAes128Gcm, CipherSuite::kAes256Gcm, CipherSuite::kChaCha20Poly1305}) {
    Secret s;
    s.len = uint8_t(hash_size(suite_hash(suite)));
    for (size_t i = 0; i < s.len; ++i) s.bytes[i] = uint8_t(0xa0 + i);
    auto next = next_traffic_secret(suite, s, kVersion1);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->len, s.len);
    EXPECT_NE(hex(next->view()), hex(s.view()));
    auto k0 = derive_packet_keys(suite, s, kVersion1);
    auto k1 = derive_packet_keys(suite, *next, kVersion1);
    ASSERT_TRUE(k0 && k1);
    EXPECT_NE(hex(k0->key_view()), hex(k1->key_view())) << suite_name(suite);
    EXPECT_NE(hex(k0->iv_view()), hex(k1->iv_view()));

    // A protector's next phase opens what a protector built from the next secret seals,
    // while its header protection still matches phase 0.
    auto p0 = PacketProtector::create(suite, s, kVersion1);
    ASSERT_TRUE(p0);
    auto p1 = (*p0)->next_key_phase();
    ASSERT_TRUE(p1);
    auto direct = PacketProtector::create(suite, *next, kVersion1);
    ASSERT_TRUE(direct);
    std::vector<uint8_t> hdr = unhex("41aabbccdd");  // short header, 2-byte pn at offset 3
    std::vector<uint8_t> pkt(64, 0x5a);
    std::copy(hdr.begin(), hdr.end(), pkt.begin());
    size_t payload_len = pkt.size() - hdr.size() - kAeadTagSize;
    ASSERT_TRUE((*direct)->seal(9, 0, hdr, pkt.data() + hdr.size(), payload_len));
    std::vector<uint8_t> copy = pkt;
    EXPECT_TRUE((*p1)->open(9, 0, hdr, copy.data() + hdr.size(), payload_len + kAeadTagSize));
    copy = pkt;
    EXPECT_FALSE((*p0)->open(9, 0, hdr, copy.data() + hdr.size(), payload_len + kAeadTagSize));

    std::vector<uint8_t> a = pkt, b = pkt;
    ASSERT_TRUE((*p0)->protect_header(a.data(), a.size(), 3, 2));
    ASSERT_TRUE((*p1)->protect_header(b.data(), b.size(), 3, 2));
    EXPECT_EQ(hex(a), hex(b));
    // Two updates in a row keep going (phase 2 differs from phase 1).
    auto p2 = (*p1)->next_key_phase();
    ASSERT_TRUE(p2);
    copy = pkt;
    EXPECT_FALSE((*p2)->open(9, 0, hdr, copy.data() + hdr.size(), payload_len + kAeadTagSize));
  }
}

}  // namespace
}  // namespace quic

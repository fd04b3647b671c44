// PacketProtector behaviour beyond the RFC vectors: the multipath nonce, tamper detection,
// agreement between backends, the null backend, and the bounds on peer-controlled lengths.
#include <gtest/gtest.h>

#include <numeric>

#include "crypto/packet_protector.h"
#include "support/hex.h"
#include "wire/version.h"

namespace quic {
namespace {

using test::hex;
using test::unhex;

constexpr CipherSuite kSuites[] = {CipherSuite::kAes128Gcm, CipherSuite::kAes256Gcm,
                                   CipherSuite::kChaCha20Poly1305};

Secret test_secret(CipherSuite suite, uint8_t seed = 0x42) {
  Secret s;
  s.len = uint8_t(hash_size(suite_hash(suite)));
  for (size_t i = 0; i < s.len; ++i) s.bytes[i] = uint8_t(seed + 13 * i);
  return s;
}

std::unique_ptr<PacketProtector> make(CipherSuite suite, AeadBackend b, uint8_t seed = 0x42) {
  auto p = PacketProtector::create(suite, test_secret(suite, seed), kVersion1, b);
  EXPECT_TRUE(p) << suite_name(suite) << " " << backend_name(b);
  return p ? std::move(*p) : nullptr;
}

TEST(CryptoNonce, MultipathDraft21Vector) {
  std::array<uint8_t, 12> iv;
  auto b = unhex("6b26114b9cba2b63a9e8dd4f");
  std::copy(b.begin(), b.end(), iv.begin());
  EXPECT_EQ(hex(make_nonce(iv, 54321, 3)), "6b2611489cba2b63a9e8097e");
  // Path 0 is RFC 9001 §5.3: IV XOR packet number.
  EXPECT_EQ(hex(make_nonce(iv, 54321, 0)), "6b26114b9cba2b63a9e8097e");
}

TEST(CryptoNonce, MaxPathAndPacketNumberFlipExactlyTheirBits) {
  std::array<uint8_t, 12> iv{};
  EXPECT_EQ(hex(make_nonce(iv, kMaxPacketNumber, 0xffffffff)), "ffffffff3fffffffffffffff");
}

TEST(CryptoNonce, PathIdChangesCiphertext) {
  for (CipherSuite suite : kSuites) {
    auto p = make(suite, AeadBackend::kAuto);
    ASSERT_TRUE(p);
    uint8_t hdr[] = {0x40, 1, 2};
    std::vector<uint8_t> a(40, 7), b(40, 7);
    ASSERT_TRUE(p->seal(5, 0, hdr, a.data(), 24));
    ASSERT_TRUE(p->seal(5, 1, hdr, b.data(), 24));
    EXPECT_NE(hex(a), hex(b));
    EXPECT_FALSE(p->open(5, 0, hdr, b.data(), 40));  // wrong path: wrong nonce
  }
}

// Identical bytes from both libraries for every suite and size, and each opens the other's.
TEST(CryptoBackends, EveryBackendGivesIdenticalBytes) {
  for (CipherSuite suite : kSuites) {
    auto ossl = make(suite, AeadBackend::kOpenSsl);
    auto gtls = make(suite, AeadBackend::kGnuTls);
    ASSERT_TRUE(ossl && gtls);
    for (size_t len : {0u, 1u, 15u, 16u, 17u, 63u, 64u, 65u, 1200u, 1350u, 1452u}) {
      for (uint32_t path : {0u, 7u}) {
        std::vector<uint8_t> hdr = {0x43, 9, 8, 7, 6, 5, 4, 3, 2, 1};
        std::vector<uint8_t> plain(len);
        std::iota(plain.begin(), plain.end(), uint8_t(len));
        std::vector<uint8_t> a = plain, b = plain;
        a.resize(len + kAeadTagSize);
        b.resize(len + kAeadTagSize);
        uint64_t pn = 0x1234567 + len;
        ASSERT_TRUE(ossl->seal(pn, path, hdr, a.data(), len));
        ASSERT_TRUE(gtls->seal(pn, path, hdr, b.data(), len));
        EXPECT_EQ(hex(a), hex(b)) << suite_name(suite) << " len " << len;
        ASSERT_TRUE(gtls->open(pn, path, hdr, a.data(), a.size())) << suite_name(suite);
        ASSERT_TRUE(ossl->open(pn, path, hdr, b.data(), b.size())) << suite_name(suite);
        EXPECT_EQ(hex(Bytes(a).first(len)), hex(plain));
        EXPECT_EQ(hex(Bytes(b).first(len)), hex(plain));
      }
    }
    // Header protection masks agree for long and short headers.
    for (uint8_t first : {uint8_t{0xc3}, uint8_t{0x43}}) {
      std::vector<uint8_t> pkt(60);
      std::iota(pkt.begin(), pkt.end(), uint8_t(3));
      pkt[0] = first;
      std::vector<uint8_t> a = pkt, b = pkt;
      ASSERT_TRUE(ossl->protect_header(a.data(), a.size(), 10, 4));
      ASSERT_TRUE(gtls->protect_header(b.data(), b.size(), 10, 4));
      EXPECT_EQ(hex(a), hex(b)) << suite_name(suite);
      EXPECT_NE(hex(a), hex(pkt));
    }
  }
}

TEST(CryptoBackends, AutoResolvesToARealBackend) {
  for (CipherSuite suite : kSuites) {
    AeadBackend b = default_backend(suite);
    EXPECT_TRUE(b == AeadBackend::kOpenSsl || b == AeadBackend::kGnuTls);
    auto p = make(suite, AeadBackend::kAuto);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->backend(), b);
    EXPECT_EQ(p->suite(), suite);
  }
}

TEST(CryptoTamper, AnyFlippedBitIsRejected) {
  for (CipherSuite suite : kSuites) {
    for (AeadBackend backend : {AeadBackend::kOpenSsl, AeadBackend::kGnuTls}) {
      auto p = make(suite, backend);
      ASSERT_TRUE(p);
      std::vector<uint8_t> hdr = {0x41, 0xaa, 0xbb, 0x00, 0x05};
      std::vector<uint8_t> sealed(100 + kAeadTagSize, 0x33);
      ASSERT_TRUE(p->seal(5, 0, hdr, sealed.data(), 100));
      std::vector<uint8_t> ok = sealed;
      ASSERT_TRUE(p->open(5, 0, hdr, ok.data(), ok.size()));
      for (size_t i : {size_t{0}, size_t{50}, size_t{99}, size_t{100}, sealed.size() - 1}) {
        std::vector<uint8_t> bad = sealed;
        bad[i] ^= 0x04;
        EXPECT_FALSE(p->open(5, 0, hdr, bad.data(), bad.size()))
            << suite_name(suite) << " " << backend_name(backend) << " byte " << i;
      }
      std::vector<uint8_t> bad_hdr = hdr;
      bad_hdr[4] ^= 1;
      std::vector<uint8_t> c = sealed;
      EXPECT_FALSE(p->open(5, 0, bad_hdr, c.data(), c.size()));
      c = sealed;
      EXPECT_FALSE(p->open(6, 0, hdr, c.data(), c.size()));  // wrong packet number
      c = sealed;
      auto other = make(suite, backend, 0x43);  // wrong key
      EXPECT_FALSE(other->open(5, 0, hdr, c.data(), c.size()));
      c = sealed;
      EXPECT_FALSE(p->open(5, 0, hdr, c.data(), c.size() - 1));  // truncated
    }
  }
}

TEST(CryptoNull, SealsInClearWithZeroTagAndZeroMask) {
  auto p = make(CipherSuite::kAes128Gcm, AeadBackend::kNull);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->backend(), AeadBackend::kNull);
  uint8_t hdr[] = {0x40, 0x01};
  std::vector<uint8_t> buf = {1,    2,    3,    4,    5,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  ASSERT_TRUE(p->seal(1, 0, hdr, buf.data(), 5));
  EXPECT_EQ(hex(buf), "0102030405" + std::string(32, '0'));
  EXPECT_TRUE(p->open(99, 3, hdr, buf.data(), buf.size()));
  EXPECT_EQ(hex(Bytes(buf).first(5)), "0102030405");
  buf[10] = 1;  // non-zero tag: not a null-sealed packet
  EXPECT_FALSE(p->open(1, 0, hdr, buf.data(), buf.size()));

  std::vector<uint8_t> pkt(30, 0x77);
  pkt[0] = 0x41;
  std::vector<uint8_t> orig = pkt;
  ASSERT_TRUE(p->protect_header(pkt.data(), pkt.size(), 1, 2));
  EXPECT_EQ(hex(pkt), hex(orig));
  auto pn = p->unprotect_header(pkt.data(), pkt.size(), 1);
  ASSERT_TRUE(pn);
  EXPECT_EQ(pn->first, 2u);
  EXPECT_EQ(pn->second, 0x7777u);
  // Key update works under null protection too (simulations exercise it).
  EXPECT_TRUE(p->next_key_phase());
}

TEST(CryptoLimits, PacketNumberAndLengthBounds) {
  auto p = make(CipherSuite::kAes128Gcm, AeadBackend::kAuto);
  ASSERT_TRUE(p);
  uint8_t hdr[] = {0x40};
  std::vector<uint8_t> buf(kMaxAeadPayload + 1 + kAeadTagSize);
  EXPECT_TRUE(p->seal(kMaxPacketNumber, 0, hdr, buf.data(), 16));
  EXPECT_TRUE(p->open(kMaxPacketNumber, 0, hdr, buf.data(), 32));
  EXPECT_FALSE(p->seal(kMaxPacketNumber + 1, 0, hdr, buf.data(), 16));
  EXPECT_FALSE(p->open(kMaxPacketNumber + 1, 0, hdr, buf.data(), 32));
  EXPECT_TRUE(p->seal(1, 0, hdr, buf.data(), kMaxAeadPayload));
  EXPECT_TRUE(p->open(1, 0, hdr, buf.data(), kMaxAeadPayload + kAeadTagSize));
  EXPECT_FALSE(p->seal(1, 0, hdr, buf.data(), kMaxAeadPayload + 1));
  EXPECT_FALSE(p->open(1, 0, hdr, buf.data(), kMaxAeadPayload + 1 + kAeadTagSize));
  for (size_t short_len = 0; short_len < kAeadTagSize; ++short_len) {
    EXPECT_FALSE(p->open(1, 0, hdr, buf.data(), short_len));
  }
}

TEST(CryptoLimits, HeaderTooShortForSampleIsLeftUntouched) {
  for (AeadBackend b : {AeadBackend::kOpenSsl, AeadBackend::kGnuTls}) {
    auto p = make(CipherSuite::kChaCha20Poly1305, b);
    ASSERT_TRUE(p);
    // Short header, pn at offset 9: the sample needs 9 + 4 + 16 = 29 bytes.
    std::vector<uint8_t> pkt(29, 0x5c);
    pkt[0] = 0x40;
    std::vector<uint8_t> orig = pkt;
    EXPECT_FALSE(p->unprotect_header(pkt.data(), 28, 9));
    EXPECT_FALSE(p->protect_header(pkt.data(), 28, 9, 1));
    EXPECT_EQ(hex(pkt), hex(orig));
    EXPECT_FALSE(p->unprotect_header(pkt.data(), 29, 30));  // pn_offset past the end
    EXPECT_FALSE(p->unprotect_header(pkt.data(), 29, 0));   // pn cannot overlap byte 0
    EXPECT_FALSE(p->unprotect_header(pkt.data(), 0, 1));
    EXPECT_FALSE(p->unprotect_header(pkt.data(), 29, SIZE_MAX));
    EXPECT_TRUE(p->protect_header(pkt.data(), 29, 9, 1));
    auto r = p->unprotect_header(pkt.data(), 29, 9);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 1u);
    EXPECT_EQ(hex(pkt), hex(orig));
  }
}

TEST(CryptoLimits, ProtectHeaderRejectsPnLengthMismatch) {
  auto p = make(CipherSuite::kAes128Gcm, AeadBackend::kAuto);
  ASSERT_TRUE(p);
  std::vector<uint8_t> pkt(40, 0);
  pkt[0] = 0xc1;  // long header, pn length bits say 2
  EXPECT_FALSE(p->protect_header(pkt.data(), pkt.size(), 10, 4));
  EXPECT_FALSE(p->protect_header(pkt.data(), pkt.size(), 10, 0));
  EXPECT_FALSE(p->protect_header(pkt.data(), pkt.size(), 10, 5));
  EXPECT_TRUE(p->protect_header(pkt.data(), pkt.size(), 10, 2));
}

// Long headers keep their top 4 bits, short headers their top 3 (RFC 9001 §5.4.1).
TEST(CryptoHeader, FirstByteMaskCoversOnlyProtectedBits) {
  auto p = make(CipherSuite::kAes128Gcm, AeadBackend::kAuto);
  ASSERT_TRUE(p);
  for (int trial = 0; trial < 64; ++trial) {
    std::vector<uint8_t> pkt(40);
    std::iota(pkt.begin(), pkt.end(), uint8_t(trial * 5));
    pkt[0] = 0xc0;
    std::vector<uint8_t> l = pkt;
    ASSERT_TRUE(p->protect_header(l.data(), l.size(), 8, 1));
    EXPECT_EQ(l[0] & 0xf0, 0xc0);
    pkt[0] = 0x40;
    std::vector<uint8_t> s = pkt;
    ASSERT_TRUE(p->protect_header(s.data(), s.size(), 8, 1));
    EXPECT_EQ(s[0] & 0xe0, 0x40);
  }
}

}  // namespace
}  // namespace quic

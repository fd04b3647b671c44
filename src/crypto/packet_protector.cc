#include "crypto/packet_protector.h"

#include "crypto/hkdf.h"

namespace quic {
namespace {

// RFC 9001 §5.2 and RFC 9369 §3.3.1.
constexpr uint8_t kInitialSaltV1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                        0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
constexpr uint8_t kInitialSaltV2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                        0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};

bool secret_fits(CipherSuite suite, const Secret& s) {
  return s.len == hash_size(suite_hash(suite));
}

}  // namespace

Result<PacketKeys> derive_packet_keys(CipherSuite suite, const Secret& secret, uint32_t version) {
  if (!secret_fits(suite, secret)) return fail(err::kInternalError, "traffic secret length");
  const QuicLabels& l = quic_labels(version);
  HashAlg h = suite_hash(suite);
  PacketKeys k;
  k.suite = suite;
  if (!hkdf_expand_label(h, secret.view(), l.key, {}, k.key.data(), suite_key_size(suite)) ||
      !hkdf_expand_label(h, secret.view(), l.iv, {}, k.iv.data(), k.iv.size()) ||
      !hkdf_expand_label(h, secret.view(), l.hp, {}, k.hp.data(), suite_hp_key_size(suite))) {
    return fail(err::kInternalError, "HKDF-Expand-Label failed");
  }
  return k;
}

Result<Secret> next_traffic_secret(CipherSuite suite, const Secret& secret, uint32_t version) {
  if (!secret_fits(suite, secret)) return fail(err::kInternalError, "traffic secret length");
  Secret next;
  next.len = secret.len;
  if (!hkdf_expand_label(suite_hash(suite), secret.view(), quic_labels(version).ku, {},
                         next.bytes.data(), next.len)) {
    return fail(err::kInternalError, "HKDF-Expand-Label failed");
  }
  return next;
}

std::array<uint8_t, kAeadNonceSize> make_nonce(const std::array<uint8_t, kAeadNonceSize>& iv,
                                               uint64_t pn, uint32_t path_id) {
  std::array<uint8_t, kAeadNonceSize> n = iv;
  for (size_t i = 0; i < 4; ++i) n[i] ^= static_cast<uint8_t>(path_id >> (8 * (3 - i)));
  for (size_t i = 0; i < 8; ++i) n[4 + i] ^= static_cast<uint8_t>(pn >> (8 * (7 - i)));
  return n;
}

Result<std::unique_ptr<PacketProtector>> PacketProtector::create(CipherSuite suite,
                                                                 const Secret& traffic_secret,
                                                                 uint32_t version,
                                                                 AeadBackend backend) {
  if (backend == AeadBackend::kAuto) backend = default_backend(suite);
  auto keys = derive_packet_keys(suite, traffic_secret, version);
  if (!keys) return std::unexpected(keys.error());
  auto aead = make_aead(suite, backend, keys->key_view());
  if (!aead) return std::unexpected(aead.error());
  auto hp = make_header_protector(suite, backend, keys->hp_view());
  if (!hp) return std::unexpected(hp.error());
  std::unique_ptr<PacketProtector> p(new PacketProtector());
  p->suite_ = suite;
  p->backend_ = backend;
  p->version_ = version;
  p->secret_ = traffic_secret;
  p->iv_ = keys->iv;
  p->aead_ = std::move(*aead);
  p->hp_ = std::move(*hp);
  return p;
}

bool PacketProtector::seal(uint64_t pn, uint32_t path_id, Bytes aad, uint8_t* payload,
                           size_t payload_len) {
  if (pn > kMaxPacketNumber || payload_len > kMaxAeadPayload || aad.size() > kMaxAeadAad) {
    return false;
  }
  auto nonce = make_nonce(iv_, pn, path_id);
  return aead_->seal(nonce.data(), aad, payload, payload_len);
}

bool PacketProtector::open(uint64_t pn, uint32_t path_id, Bytes aad, uint8_t* payload,
                           size_t len_with_tag) {
  if (pn > kMaxPacketNumber || len_with_tag < kAeadTagSize ||
      len_with_tag - kAeadTagSize > kMaxAeadPayload || aad.size() > kMaxAeadAad) {
    return false;
  }
  auto nonce = make_nonce(iv_, pn, path_id);
  return aead_->open(nonce.data(), aad, payload, len_with_tag);
}

// RFC 9001 §5.4.2: the sample starts 4 bytes after the packet number field begins, whatever
// the packet number length, so a packet must hold pn_offset + 4 + 16 bytes.
static bool sample_fits(size_t pkt_len, size_t pn_offset) {
  return pn_offset >= 1 && pn_offset <= pkt_len && pkt_len - pn_offset >= 4 + kHpSampleSize;
}

static uint8_t first_byte_mask(uint8_t first) {
  return (first & 0x80) ? 0x0f : 0x1f;
}

bool PacketProtector::protect_header(uint8_t* pkt, size_t pkt_len, size_t pn_offset,
                                     size_t pn_len) {
  if (!sample_fits(pkt_len, pn_offset)) return false;
  if (pn_len < 1 || pn_len > 4 || (pkt[0] & 0x03) + 1u != pn_len) return false;
  uint8_t mask[kHpMaskSize];
  if (!hp_->mask(pkt + pn_offset + 4, mask)) return false;
  pkt[0] ^= mask[0] & first_byte_mask(pkt[0]);
  for (size_t i = 0; i < pn_len; ++i) pkt[pn_offset + i] ^= mask[1 + i];
  return true;
}

std::optional<std::pair<size_t, uint64_t>> PacketProtector::unprotect_header(uint8_t* pkt,
                                                                             size_t pkt_len,
                                                                             size_t pn_offset) {
  if (!sample_fits(pkt_len, pn_offset)) return std::nullopt;
  uint8_t mask[kHpMaskSize];
  if (!hp_->mask(pkt + pn_offset + 4, mask)) return std::nullopt;
  pkt[0] ^= mask[0] & first_byte_mask(pkt[0]);
  size_t pn_len = (pkt[0] & 0x03) + 1u;
  uint64_t pn = 0;
  for (size_t i = 0; i < pn_len; ++i) {
    pkt[pn_offset + i] ^= mask[1 + i];
    pn = (pn << 8) | pkt[pn_offset + i];
  }
  return std::pair{pn_len, pn};
}

Result<std::unique_ptr<PacketProtector>> PacketProtector::next_key_phase() const {
  auto next = next_traffic_secret(suite_, secret_, version_);
  if (!next) return std::unexpected(next.error());
  auto keys = derive_packet_keys(suite_, *next, version_);
  if (!keys) return std::unexpected(keys.error());
  auto aead = make_aead(suite_, backend_, keys->key_view());
  if (!aead) return std::unexpected(aead.error());
  std::unique_ptr<PacketProtector> p(new PacketProtector());
  p->suite_ = suite_;
  p->backend_ = backend_;
  p->version_ = version_;
  p->secret_ = *next;
  p->iv_ = keys->iv;
  p->aead_ = std::move(*aead);
  p->hp_ = hp_;
  return p;
}

InitialSecrets derive_initial_secrets(uint32_t version, Bytes client_dcid) {
  InitialSecrets out;
  Bytes salt = is_quic_v2(version) ? Bytes(kInitialSaltV2) : Bytes(kInitialSaltV1);
  Secret initial;
  if (!hkdf_extract(HashAlg::kSha256, salt, client_dcid, &initial)) return out;  // len 0: unusable
  out.client.len = out.server.len = 32;
  if (!hkdf_expand_label(HashAlg::kSha256, initial.view(), "client in", {}, out.client.bytes.data(),
                         32) ||
      !hkdf_expand_label(HashAlg::kSha256, initial.view(), "server in", {}, out.server.bytes.data(),
                         32)) {
    return InitialSecrets{};
  }
  return out;
}

}  // namespace quic

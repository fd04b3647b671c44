#include "crypto/hkdf.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

namespace quic {
namespace {

constexpr uint32_t kQuicV2 = 0x6b3343cf;  // RFC 9369 §3.1

gnutls_mac_algorithm_t mac_of(HashAlg h) {
  return h == HashAlg::kSha384 ? GNUTLS_MAC_SHA384 : GNUTLS_MAC_SHA256;
}

gnutls_datum_t datum(Bytes b) {
  // GnuTLS takes non-const pointers but only reads key/salt/info.
  return gnutls_datum_t{const_cast<uint8_t*>(b.data()), static_cast<unsigned>(b.size())};
}

constexpr QuicLabels kV1Labels{"quic key", "quic iv", "quic hp", "quic ku"};
constexpr QuicLabels kV2Labels{"quicv2 key", "quicv2 iv", "quicv2 hp", "quicv2 ku"};

}  // namespace

bool is_quic_v2(uint32_t version) {
  return version == kQuicV2;
}

const QuicLabels& quic_labels(uint32_t version) {
  return is_quic_v2(version) ? kV2Labels : kV1Labels;
}

bool hkdf_extract(HashAlg hash, Bytes salt, Bytes ikm, Secret* out) {
  gnutls_datum_t key = datum(ikm);
  gnutls_datum_t s = datum(salt);
  if (gnutls_hkdf_extract(mac_of(hash), &key, &s, out->bytes.data()) < 0) return false;
  out->len = static_cast<uint8_t>(hash_size(hash));
  return true;
}

bool hkdf_expand_label(HashAlg hash, Bytes secret, std::string_view label, Bytes context,
                       uint8_t* out, size_t out_len) {
  static constexpr std::string_view kPrefix = "tls13 ";
  if (label.size() > kMaxHkdfLabelSize || context.size() > kMaxHkdfContextSize ||
      out_len > 255 * hash_size(hash) || out_len > 0xffff || secret.empty()) {
    return false;
  }
  // struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel;
  uint8_t info[2 + 1 + 255 + 1 + 255];
  size_t n = 0;
  info[n++] = static_cast<uint8_t>(out_len >> 8);
  info[n++] = static_cast<uint8_t>(out_len);
  info[n++] = static_cast<uint8_t>(kPrefix.size() + label.size());
  std::memcpy(info + n, kPrefix.data(), kPrefix.size());
  n += kPrefix.size();
  std::memcpy(info + n, label.data(), label.size());
  n += label.size();
  info[n++] = static_cast<uint8_t>(context.size());
  if (!context.empty()) std::memcpy(info + n, context.data(), context.size());
  n += context.size();
  gnutls_datum_t prk = datum(secret);
  gnutls_datum_t inf = datum(Bytes(info, n));
  return gnutls_hkdf_expand(mac_of(hash), &prk, &inf, out, out_len) >= 0;
}

}  // namespace quic

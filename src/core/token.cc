#include "core/token.h"

namespace quic {

namespace {
constexpr size_t kNonceLen = kAeadNonceSize;
constexpr size_t kClearLen = kTokenMarkerLength + kNonceLen;  // the additional data
// issued, v6 flag, 16 IP bytes, two CIDs with their lengths.
constexpr size_t kMinPlain = 8 + 1 + 16 + 2;
constexpr size_t kMaxPlain = 8 + 1 + 16 + 2 * (1 + kMaxCidLength);
}  // namespace

TokenKey::TokenKey(Random& random) {
  std::array<uint8_t, 16> key;
  random.fill(key);
  aead_ = make_aead(CipherSuite::kAes128Gcm, AeadBackend::kAuto, key).value();
}

std::optional<TokenType> TokenKey::marked_type(Bytes token) {
  if (token.size() < kTokenMarkerLength || token[0] != kTokenMarkerPrefix) return std::nullopt;
  switch (static_cast<TokenType>(token[1])) {
    case TokenType::kRetry: return TokenType::kRetry;
    case TokenType::kNewToken: return TokenType::kNewToken;
  }
  return std::nullopt;
}

std::vector<uint8_t> TokenKey::mint(const TokenData& d, Random& random) const {
  std::vector<uint8_t> out(kClearLen + kMaxPlain + kAeadTagSize);
  out[0] = kTokenMarkerPrefix;
  out[1] = static_cast<uint8_t>(d.type);
  random.fill(MutBytes(out.data() + kTokenMarkerLength, kNonceLen));
  Writer w(MutBytes(out.data() + kClearLen, kMaxPlain));
  w.u64(static_cast<uint64_t>(to_ns(d.issued)));
  w.u8(d.client.v6 ? 1 : 0);
  w.bytes(d.client.ip);
  w.u8(d.original_dcid.len);
  w.bytes(d.original_dcid.view());
  w.u8(d.retry_scid.len);
  w.bytes(d.retry_scid.view());
  size_t n = w.written();
  // Marker and nonce are the additional data: a token cannot be relabelled or re-assembled
  // from pieces.
  if (!aead_->seal(out.data() + kTokenMarkerLength, Bytes(out.data(), kClearLen),
                   out.data() + kClearLen, n)) {
    return {};
  }
  out.resize(kClearLen + n + kAeadTagSize);
  return out;
}

std::optional<TokenData> TokenKey::validate(Bytes token, const SocketAddress& client,
                                            Instant now) const {
  auto type = marked_type(token);
  if (!type || token.size() < kClearLen + kMinPlain + kAeadTagSize ||
      token.size() > kMaxTokenLength) {
    return std::nullopt;
  }
  std::array<uint8_t, kMaxTokenLength> buf;
  std::copy(token.begin(), token.end(), buf.begin());
  if (!aead_->open(buf.data() + kTokenMarkerLength, Bytes(buf.data(), kClearLen),
                   buf.data() + kClearLen, token.size() - kClearLen)) {
    return std::nullopt;
  }
  Reader r(Bytes(buf.data() + kClearLen, token.size() - kClearLen - kAeadTagSize));
  TokenData d;
  auto issued = r.u64();
  auto v6 = r.u8();
  auto ip = r.bytes(16);
  if (!issued || !v6 || !ip) return std::nullopt;
  d.type = *type;
  d.issued = instant_from_ns(static_cast<int64_t>(*issued));
  d.client.v6 = *v6 != 0;
  std::copy(ip->begin(), ip->end(), d.client.ip.begin());
  for (ConnectionId* cid : {&d.original_dcid, &d.retry_scid}) {
    auto len = r.u8();
    if (!len || *len > kMaxCidLength) return std::nullopt;
    auto b = r.bytes(*len);
    if (!b) return std::nullopt;
    *cid = ConnectionId::from(*b);
  }
  Duration lifetime = d.type == TokenType::kRetry ? kRetryTokenLifetime : kNewTokenLifetime;
  if (now < d.issued || now - d.issued > lifetime) return std::nullopt;
  if (!d.client.same_ip(client)) return std::nullopt;
  return d;
}

}  // namespace quic

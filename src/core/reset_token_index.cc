#include "core/reset_token_index.h"

#include <cstring>

namespace quic {

ResetTokenIndex::ResetTokenIndex(Random& random) { random.fill(MutBytes(key_.data(), key_.size())); }

uint64_t ResetTokenIndex::key_of(const uint8_t* token) const {
  auto mac = stateless_reset_token(key_, Bytes(token, kResetTokenSize));
  uint64_t k;
  std::memcpy(&k, mac.data(), sizeof k);
  return k;
}

void ResetTokenIndex::add(ConnectionHandle h, const std::vector<ResetToken>& tokens) {
  for (const ResetToken& t : tokens) map_[key_of(t.data())] = h;
}

void ResetTokenIndex::remove(ConnectionHandle h, const std::vector<ResetToken>& tokens) {
  for (const ResetToken& t : tokens) {
    auto it = map_.find(key_of(t.data()));
    if (it != map_.end() && it->second == h) map_.erase(it);
  }
}

std::optional<ConnectionHandle> ResetTokenIndex::find(const uint8_t* tail) const {
  auto it = map_.find(key_of(tail));
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

}  // namespace quic

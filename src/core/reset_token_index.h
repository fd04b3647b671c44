// The peers' stateless reset tokens of all an endpoint's connections, so that a short-header
// datagram that routes to no connection costs one lookup to tell whether it resets one of
// ours, not a walk over every connection (RFC 9000 §10.3.1). Without it that walk was the
// endpoint's last O(N) cost, and one a peer chose how often to pay.
//
// Keys are the tokens under a keyed PRF (HMAC-SHA256 with a random key, 8 bytes kept): §10.3.1
// asks that comparing a datagram with the tokens leak nothing about them, and a table probed
// with the raw token would (its timing depends on how the guess hashes and compares). A match
// is only a candidate: the connection then checks the datagram itself in constant time.
//
// The index may hold tokens a connection has since retired (they stay until the next rebuild
// or the connection's removal); a lookup that finds one is simply not confirmed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/random.h"
#include "core/cid_sets.h"
#include "core/endpoint_schedule.h"

namespace quic {

class ResetTokenIndex {
 public:
  explicit ResetTokenIndex(Random& random);

  // Indexes `tokens` for `h`, replacing whatever connection a token pointed to before.
  void add(ConnectionHandle h, const std::vector<ResetToken>& tokens);
  // Drops the entries of `tokens` that point to `h`.
  void remove(ConnectionHandle h, const std::vector<ResetToken>& tokens);
  // The connection whose token the last 16 bytes of a datagram may be.
  std::optional<ConnectionHandle> find(const uint8_t* tail) const;
  void clear() { map_.clear(); }
  size_t size() const { return map_.size(); }

 private:
  uint64_t key_of(const uint8_t* token) const;

  std::array<uint8_t, kResetKeySize> key_;
  std::unordered_map<uint64_t, ConnectionHandle> map_;
};

}  // namespace quic

// Connection IDs per path (RFC 9000 §5.1; multipath-21 §3.3: each path ID has its own
// sequence-number space). PeerCids holds what the peer issued for one path: the CID we send
// with and spares for migration. LocalCids holds what we issued for one path: the CIDs the
// peer may address us with, and their reset tokens.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/error.h"
#include "crypto/reset_token.h"
#include "wire/packet.h"

namespace quic {

using ResetToken = std::array<uint8_t, kResetTokenSize>;

struct IssuedCid {
  uint64_t seq = 0;
  ConnectionId cid;
  ResetToken token{};
};

class PeerCids {
 public:
  // The CID in use before any NEW_CONNECTION_ID (the handshake's, sequence 0).
  void set_current(const ConnectionId& cid, std::optional<ResetToken> token = std::nullopt);
  void set_current_token(const ResetToken& token) {
    current_token_ = token;
    ++generation_;
  }

  // A (PATH_)NEW_CONNECTION_ID. Sequence numbers to retire are appended to `retire`.
  // CONNECTION_ID_LIMIT_ERROR when the peer exceeds `limit` active CIDs or leaves none.
  Status on_new(uint64_t seq, const ConnectionId& cid, const ResetToken& token,
                uint64_t retire_prior_to, uint64_t limit, std::vector<uint64_t>& retire);

  bool has_current() const { return has_current_; }
  const ConnectionId& current() const { return current_; }
  uint64_t current_seq() const { return current_seq_; }
  size_t spares() const { return spares_.size(); }
  // Switches to a spare CID (migration, RFC 9000 §9.5); the old one is retired. False if none.
  bool rotate(std::vector<uint64_t>& retire);
  // A new path takes its first CID: true if one is available.
  bool take_first();
  // Takes the lowest spare out of the set (for a probe to another address); nullopt if none.
  std::optional<IssuedCid> take_spare();
  // Swaps the CID in use with `other` (sending one packet with another CID, or adopting it).
  void exchange_current(IssuedCid& other);
  // PATH_ABANDON (multipath-21 §3.4): every CID of the path is retired at once.
  void retire_all(std::vector<uint64_t>& retire);
  // Whether `tail` (the last 16 bytes of a datagram) is one of this path's reset tokens.
  bool matches_reset_token(const uint8_t* tail) const;
  // The token of the CID we send with, if it has one: RFC 9000 §10.3.1 asks to compare with
  // the tokens of the CIDs recently used to send, and a peer that lost its state answers our
  // packets, which carry that CID. Spares were never sent with.
  void current_reset_token(std::vector<ResetToken>& out) const;
  // Counts the calls that may have changed the reset tokens (the endpoint's token index).
  uint64_t generation() const { return generation_; }

 private:
  ConnectionId current_;
  uint64_t current_seq_ = 0;
  bool has_current_ = false;
  std::optional<ResetToken> current_token_;
  std::vector<IssuedCid> spares_;
  uint64_t retire_prior_to_ = 0;
  uint64_t generation_ = 0;
};

class LocalCids {
 public:
  const std::vector<IssuedCid>& active() const { return active_; }
  // Active CIDs not asked to be retired (sequence >= retire_prior_to).
  size_t live() const;
  uint64_t next_seq() const { return next_seq_; }
  // Sent in every (PATH_)NEW_CONNECTION_ID for this set; raising it asks the peer to retire
  // every CID issued before (RFC 9000 §19.15). Never lowered.
  uint64_t retire_prior_to() const { return retire_prior_to_; }
  void retire_all_issued() { retire_prior_to_ = next_seq_; }
  const IssuedCid& add(const ConnectionId& cid, const ResetToken& token);
  // RETIRE_CONNECTION_ID: PROTOCOL_VIOLATION for a sequence never issued (RFC 9000 §19.16).
  // Returns whether a CID was actually removed.
  Result<bool> retire(uint64_t seq);
  const IssuedCid* find(uint64_t seq) const;
  void clear() { active_.clear(); }

 private:
  std::vector<IssuedCid> active_;
  uint64_t next_seq_ = 0;
  uint64_t retire_prior_to_ = 0;
};

}  // namespace quic

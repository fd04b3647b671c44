#include "core/cid_sets.h"

#include <algorithm>


namespace quic {

void PeerCids::set_current(const ConnectionId& cid, std::optional<ResetToken> token) {
  ++generation_;
  current_ = cid;
  current_token_ = token;
  has_current_ = true;
}

Status PeerCids::on_new(uint64_t seq, const ConnectionId& cid, const ResetToken& token,
                        uint64_t retire_prior_to, uint64_t limit, std::vector<uint64_t>& retire) {
  ++generation_;
  if (seq < retire_prior_to_) {
    // Already retired by an earlier retire_prior_to: retire it at once (RFC 9000 §19.15).
    retire.push_back(seq);
    return {};
  }
  bool known = (has_current_ && seq == current_seq_) ||
               std::any_of(spares_.begin(), spares_.end(),
                           [&](const IssuedCid& c) { return c.seq == seq; });
  if (!known) spares_.push_back(IssuedCid{seq, cid, token});
  if (retire_prior_to > retire_prior_to_) {
    retire_prior_to_ = retire_prior_to;
    std::erase_if(spares_, [&](const IssuedCid& c) {
      if (c.seq >= retire_prior_to_) return false;
      retire.push_back(c.seq);
      return true;
    });
    if (has_current_ && current_seq_ < retire_prior_to_) {
      retire.push_back(current_seq_);
      has_current_ = false;
      if (spares_.empty()) {
        return fail(err::kConnectionIdLimitError, "retire_prior_to left no connection ID");
      }
      take_first();
    }
  }
  // RFC 9000 §5.1.1: more active CIDs than our limit is an error.
  if (spares_.size() + (has_current_ ? 1 : 0) > limit) {
    return fail(err::kConnectionIdLimitError, "peer exceeded active_connection_id_limit");
  }
  return {};
}

bool PeerCids::take_first() {
  ++generation_;
  if (spares_.empty()) return false;
  auto it = std::min_element(spares_.begin(), spares_.end(),
                             [](const IssuedCid& a, const IssuedCid& b) { return a.seq < b.seq; });
  current_ = it->cid;
  current_seq_ = it->seq;
  current_token_ = it->token;
  has_current_ = true;
  spares_.erase(it);
  return true;
}

std::optional<IssuedCid> PeerCids::take_spare() {
  ++generation_;
  if (spares_.empty()) return std::nullopt;
  auto it = std::min_element(spares_.begin(), spares_.end(),
                             [](const IssuedCid& a, const IssuedCid& b) { return a.seq < b.seq; });
  IssuedCid c = *it;
  spares_.erase(it);
  return c;
}

void PeerCids::exchange_current(IssuedCid& other) {
  ++generation_;
  // A tokenless current CID (a server's first: the client's handshake SCID) is lent out with
  // an all-zero token; taken back, it has none again, or any datagram ending in 16 zero bytes
  // would match it.
  IssuedCid mine{current_seq_, current_, current_token_.value_or(ResetToken{})};
  current_ = other.cid;
  current_seq_ = other.seq;
  current_token_.reset();
  if (other.token != ResetToken{}) current_token_ = other.token;
  other = mine;
}

bool PeerCids::rotate(std::vector<uint64_t>& retire) {
  ++generation_;
  if (spares_.empty()) return false;
  if (has_current_) retire.push_back(current_seq_);
  has_current_ = false;
  return take_first();
}

void PeerCids::retire_all(std::vector<uint64_t>& retire) {
  ++generation_;
  if (has_current_) retire.push_back(current_seq_);
  for (const IssuedCid& c : spares_) retire.push_back(c.seq);
  spares_.clear();
  has_current_ = false;
  current_token_.reset();
}

bool PeerCids::matches_reset_token(const uint8_t* tail) const {
  if (current_token_ && reset_token_equal(tail, current_token_->data())) return true;
  return std::any_of(spares_.begin(), spares_.end(),
                     [&](const IssuedCid& c) { return reset_token_equal(tail, c.token.data()); });
}

void PeerCids::current_reset_token(std::vector<ResetToken>& out) const {
  if (has_current_ && current_token_) out.push_back(*current_token_);
}

const IssuedCid& LocalCids::add(const ConnectionId& cid, const ResetToken& token) {
  active_.push_back(IssuedCid{next_seq_++, cid, token});
  return active_.back();
}

size_t LocalCids::live() const {
  return static_cast<size_t>(std::count_if(active_.begin(), active_.end(), [&](const IssuedCid& c) {
    return c.seq >= retire_prior_to_;
  }));
}

Result<bool> LocalCids::retire(uint64_t seq) {
  if (seq >= next_seq_) {
    return std::unexpected(
        Error{err::kProtocolViolation, 0, "RETIRE_CONNECTION_ID for an unissued sequence"});
  }
  auto it = std::find_if(active_.begin(), active_.end(),
                         [&](const IssuedCid& c) { return c.seq == seq; });
  if (it == active_.end()) return false;
  active_.erase(it);
  return true;
}

const IssuedCid* LocalCids::find(uint64_t seq) const {
  for (const IssuedCid& c : active_) {
    if (c.seq == seq) return &c;
  }
  return nullptr;
}

}  // namespace quic

#include "io/send_queue.h"

#include <algorithm>

namespace io {

namespace {

// The arena holds one sendmmsg batch; every transmit gets at least a full datagram's room.
constexpr size_t kSendArena = 1 << 20;
constexpr size_t kSlot = 1500;  // the core never builds datagrams above its max_mtu (< 1500)

}  // namespace

size_t datagram_count(size_t size, size_t segment) {
  if (segment == 0 || size == 0) return 1;
  return (size + segment - 1) / segment;
}

SendQueue::SendQueue() : arena_(kSendArena) {
  pending_.reserve(kSendBatch);
  batch_.reserve(kSendBatch);
}

quic::MutBytes SendQueue::slot() {
  if (pending_.size() >= kSendBatch || arena_.size() - used_ < kSlot) return {};
  return quic::MutBytes(arena_.data() + used_, std::min(arena_.size() - used_, kMaxUdpPayload));
}

void SendQueue::reset() {
  pending_.clear();
  head_ = 0;
  used_ = 0;
}

bool SendQueue::extend_run(UdpSocket* s, const quic::Transmit& t, quic::Instant not_before,
                           quic::Bytes data) {
  if (pending_.size() == head_ || !s->gso_enabled() || t.segment_size != 0) return false;
  Pending& last = pending_.back();
  size_t seg = last.msg.segment_size == 0 ? last.msg.data.size() : last.msg.segment_size;
  // The datagram extends the last message when it continues a run of equal-size datagrams to
  // the same peer with the same ECN mark and send time; a shorter one ends the run.
  if (last.closed || last.socket != s || last.msg.remote != t.remote || last.msg.local != t.local ||
      last.msg.ecn != t.ecn || last.not_before != not_before || t.size > seg ||
      last.msg.data.data() + last.msg.data.size() != data.data() ||
      last.msg.data.size() + t.size > kMaxUdpPayload ||
      last.msg.data.size() / seg + 1 > kMaxGsoSegments) {
    return false;
  }
  last.msg.data = quic::Bytes(last.msg.data.data(), last.msg.data.size() + t.size);
  last.msg.segment_size = seg;
  last.closed = t.size < seg;
  ++stats_.merged;
  return true;
}

void SendQueue::push(UdpSocket* s, const quic::Transmit& t, quic::Instant now) {
  quic::Bytes data(arena_.data() + used_, t.size);
  used_ += t.size;
  quic::Instant not_before = t.send_at > now ? t.send_at : quic::Instant{};
  if (not_before != quic::Instant{}) ++stats_.held;
  if (extend_run(s, t, not_before, data)) return;
  Pending p{s, SendMessage{t.local, t.remote, t.ecn, data, t.segment_size}, not_before, false};
  if (t.segment_size != 0 && t.segment_size < t.size && !s->gso_enabled()) {
    // The core built a GSO run itself but GSO is off here: one message per datagram.
    for (size_t off = 0; off < t.size; off += t.segment_size) {
      p.msg.data = data.subspan(off, std::min(t.segment_size, t.size - off));
      p.msg.segment_size = 0;
      pending_.push_back(p);
    }
    return;
  }
  p.closed = t.segment_size != 0;
  pending_.push_back(p);
}

quic::Result<SendQueue::State> SendQueue::send(quic::Instant now) {
  while (head_ < pending_.size()) {
    if (pending_[head_].not_before > now) return State::kHeld;
    UdpSocket* s = pending_[head_].socket;
    batch_.clear();
    for (size_t i = head_; i < pending_.size(); ++i) {
      if (pending_[i].socket != s || pending_[i].not_before > now) break;
      batch_.push_back(pending_[i].msg);
    }
    auto n = s->send(batch_);
    if (!n) return std::unexpected(n.error());
    stats_.messages += *n;
    head_ += *n;
    if (*n < batch_.size()) {
      ++stats_.blocked;
      return State::kBlocked;
    }
  }
  reset();
  return State::kDrained;
}

quic::Instant SendQueue::held_until() const {
  return head_ < pending_.size() ? pending_[head_].not_before : quic::kNever;
}

uint64_t SendQueue::drop(const UdpSocket* s) {
  uint64_t dropped = 0;
  auto first = pending_.begin() + static_cast<std::ptrdiff_t>(head_);
  auto keep = std::remove_if(first, pending_.end(), [&](const Pending& p) {
    if (p.socket != s) return false;
    dropped += datagram_count(p.msg.data.size(), p.msg.segment_size);
    return true;
  });
  // The arena is not compacted: a later transmit lands past the gap, so it cannot extend a
  // run across it (extend_run requires adjacency).
  pending_.erase(keep, pending_.end());
  if (empty()) reset();
  stats_.dropped_removed += dropped;
  return dropped;
}

}  // namespace io

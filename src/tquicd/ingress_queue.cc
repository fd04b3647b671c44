#include "tquicd/ingress_queue.h"

#include <cmath>

#include "tquicd/ip_header.h"

namespace bond {

bool IngressQueue::enqueue(quic::Instant now, quic::Bytes packet) {
  if (bytes_ + packet.size() > limits_.max_bytes || queue_.size() >= kIngressMaxPackets) {
    ++stats_.tail_drops;
    return false;
  }
  queue_.push_back({now, std::vector<uint8_t>(packet.begin(), packet.end())});
  bytes_ += packet.size();
  ++stats_.enqueued;
  return true;
}

quic::Duration IngressQueue::head_sojourn(quic::Instant now) const {
  return queue_.empty() ? quic::Duration::zero() : now - queue_.front().enqueued;
}

std::optional<IngressQueue::Entry> IngressQueue::pop() {
  if (queue_.empty()) return std::nullopt;
  Entry e = std::move(queue_.front());
  queue_.pop_front();
  bytes_ -= e.bytes.size();
  return e;
}

size_t IngressQueue::expire(quic::Instant now, quic::Duration max_sojourn) {
  size_t dropped = 0;
  // FIFO: the head is the oldest, so the first young enough packet ends the scan.
  while (!queue_.empty() && now - queue_.front().enqueued > max_sojourn) {
    (void)pop();
    ++dropped;
  }
  stats_.outage_drops += dropped;
  return dropped;
}

void IngressQueue::note_tunnel(quic::Instant now, bool tunnel_up) {
  // The turn the tunnel comes back sweeps once more: the loop's last turn without it may
  // have been a while ago, and nothing older than the bound may go out first.
  if (!tunnel_up || !tunnel_up_) expire(now, kIngressOutageMaxSojourn);
  if (tunnel_up && !tunnel_up_) {
    // What waited through the outage is no standing queue of the senders' making: CoDel
    // judges it afresh (an interval above target before it drops). A dropping state left
    // from before the outage would otherwise catch up on its missed drop times in one burst.
    dropping_ = false;
    first_above_set_ = false;
  }
  tunnel_up_ = tunnel_up;
}

// RFC 8289 §5.3 dodequeue(): true once the sojourn time has stayed above target for an
// interval (and more than one packet's worth is queued).
bool IngressQueue::should_drop(const Entry& e, quic::Instant now) {
  if (now - e.enqueued < limits_.target || bytes_ + e.bytes.size() <= kIngressMinQueueBytes) {
    first_above_set_ = false;
    return false;
  }
  if (!first_above_set_) {
    first_above_set_ = true;
    first_above_time_ = now + limits_.interval;
    return false;
  }
  return now >= first_above_time_;
}

bool IngressQueue::drop_or_mark(Entry& e) {
  if (set_ce(e.bytes)) {
    ++stats_.ce_marks;
    return true;
  }
  ++stats_.codel_drops;
  return false;
}

quic::Instant IngressQueue::control_law(quic::Instant t) const {
  auto step = std::chrono::duration_cast<quic::Duration>(limits_.interval / std::sqrt(static_cast<double>(count_)));
  return t + step;
}

// RFC 8289 §5.4 dequeue(), with ECN: a CE-marked packet counts as a drop but is sent.
std::optional<std::vector<uint8_t>> IngressQueue::dequeue(quic::Instant now) {
  std::optional<Entry> e = pop();
  if (!e) {
    dropping_ = false;
    first_above_set_ = false;
    return std::nullopt;
  }
  bool ok_to_drop = should_drop(*e, now);
  if (dropping_) {
    if (!ok_to_drop) {
      dropping_ = false;
    } else {
      while (now >= drop_next_ && dropping_) {
        ++count_;
        if (drop_or_mark(*e)) {
          drop_next_ = control_law(drop_next_);
          break;
        }
        e = pop();
        if (!e || !should_drop(*e, now)) {
          dropping_ = false;
        } else {
          drop_next_ = control_law(drop_next_);
        }
      }
    }
  } else if (ok_to_drop) {
    // Entering the dropping state; a recent episode resumes near its old drop rate (§5.4).
    uint32_t delta = count_ - last_count_;
    count_ = (delta > 1 && now - drop_next_ < 16 * limits_.interval) ? delta : 1;
    if (!drop_or_mark(*e)) {
      e = pop();
      if (e) should_drop(*e, now);  // keeps first_above_time current for the new head
    }
    dropping_ = true;
    drop_next_ = control_law(now);
    last_count_ = count_;
  }
  if (!e) return std::nullopt;
  ++stats_.dequeued;
  return std::move(e->bytes);
}

}  // namespace bond

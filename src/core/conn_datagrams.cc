// Connection: DATAGRAM frames (RFC 9221) into packets. Queued datagrams whose deadline passed
// are dropped (stats().datagrams_expired); under the deadline scheduler a packet that is not
// meant for deadline data leaves those queued (conn_deadline.cc); under the redundant
// scheduler every datagram is also owed, as a copy, to each other usable path.
//
// RFC 9221 gives a DATAGRAM frame no identifier, so the receiver cannot tell a copy from an
// application that sent the same bytes twice (silence frames, keepalives): the receiver does
// not de-duplicate, and an application using the redundant scheduler sees each datagram once
// per path that delivered it (docs/multipath.md). Applications that care number their
// datagrams (RTP already does).
#include <algorithm>

#include "core/connection.h"

namespace quic {

void Connection::write_datagram_frames(Instant now, Path& path, Writer& w, bool& ack_eliciting) {
  const bool copy = multipath_ && scheduler_->duplicates() && has_other_data_path(path);
  for (auto it = datagrams_out_.begin(); it != datagrams_out_.end();) {
    if (it->deadline <= now) {  // too late to arrive in time: sending it wastes capacity
      it = datagrams_out_.erase(it);
      ++stats_.datagrams_expired;
      continue;
    }
    if (lane_ == DeadlineLane::kHold && it->deadline != kNever) {
      ++it;  // waits for the path the deadline scheduler picks for it
      continue;
    }
    DatagramFrame f{Bytes(it->data.data(), it->data.size()), true};
    if (encoded_size(f) > w.room()) break;  // stays queued for the next packet
    encode_frame(w, f);
    if (zero_rtt_.building && zero_rtt_.datagrams_sent.size() < config_.datagram_send_queue) {
      zero_rtt_.datagrams_sent.push_back(it->data);  // resent if the server rejects 0-RTT
    }
    if (copy) {
      if (dup_datagrams_.size() >= kMaxDuplicateDatagrams) dup_datagrams_.pop_front();
      dup_datagrams_.push_back(
          DupDatagram{std::move(it->data), it->deadline, uint64_t{1} << (path.id & 63)});
    }
    it = datagrams_out_.erase(it);
    ++path.datagrams_sent;
    ack_eliciting = true;
  }
}

bool Connection::dup_datagram_pending_for(const Path& path) const {
  uint64_t bit = uint64_t{1} << (path.id & 63);
  return std::any_of(dup_datagrams_.begin(), dup_datagrams_.end(),
                     [&](const DupDatagram& d) { return (d.served & bit) == 0; });
}

void Connection::write_dup_datagrams(Instant now, Path& path, Writer& w, bool& ack_eliciting) {
  uint64_t bit = uint64_t{1} << (path.id & 63);
  uint64_t all = 0;
  for (const auto& p : paths_) {
    if (is_data_path(*p)) all |= uint64_t{1} << (p->id & 63);
  }
  for (auto it = dup_datagrams_.begin(); it != dup_datagrams_.end();) {
    if (it->deadline <= now || (it->served & all) == all) {
      it = dup_datagrams_.erase(it);  // late, or every usable path has carried it
      continue;
    }
    if ((it->served & bit) != 0) {
      ++it;
      continue;
    }
    DatagramFrame f{Bytes(it->data.data(), it->data.size()), true};
    if (encoded_size(f) > w.room()) return;
    encode_frame(w, f);
    it->served |= bit;
    ++path.datagrams_sent;
    ++stats_.datagram_copies_sent;
    ack_eliciting = true;
    ++it;
  }
}

}  // namespace quic

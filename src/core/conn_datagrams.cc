// Connection: DATAGRAM frames (RFC 9221), docs/datagrams.md. Payloads wait in byte rings
// (datagram_queue.h) bounded in bytes: a full send queue refuses more (would block) and says
// when it drained (kDatagramsWritable); a full receive queue drops. Queued datagrams whose
// deadline passed are dropped (stats().datagrams_expired), and so are those no usable path's
// MTU fits any more (datagrams_too_large); under the deadline scheduler a packet that is not
// meant for deadline data leaves those queued (conn_deadline.cc); under the redundant
// scheduler every datagram is also owed, as a copy, to each other usable path. With
// datagram_resend_on_path_failure, copies of datagrams in flight are kept (bounded) and sent
// again on another path when reinject() gives up on theirs.
//
// RFC 9221 gives a DATAGRAM frame no identifier, so the receiver cannot tell a copy from an
// application that sent the same bytes twice (silence frames, keepalives): the receiver does
// not de-duplicate, and an application using the redundant scheduler or re-sending sees some
// datagrams more than once (docs/multipath.md). Applications that care number their datagrams
// (RTP already does; a tunnel has its own sequence numbers).
#include <algorithm>

#include "core/connection.h"

namespace quic {

namespace {

// sent::Datagram::copy of a DATAGRAM whose copy was re-sent (or given up on) already.
constexpr uint64_t kCopyHandled = UINT64_MAX;

// The largest payload p whose DATAGRAM frame (type, varint length, p) fits in `room` bytes.
size_t payload_within(uint64_t room) {
  room = std::min<uint64_t>(room, DatagramQueue::kMaxEntryBytes + 16);
  for (uint64_t len : {1, 2, 4, 8}) {
    if (room < 1 + len) return 0;
    uint64_t p = room - 1 - len;
    if (varint_size(p) <= len) return static_cast<size_t>(p);
  }
  return 0;
}

}  // namespace

// --- limits

size_t Connection::datagram_payload_on(const Path& path) const {
  // Short header (1 + CID + 4-byte pn), AEAD tag, and room for an ACK before the frame.
  size_t overhead = 1 + dcid_of(path).len + 4 + kAeadTagSize + kDatagramAckReserve;
  return path.mtu > overhead ? payload_within(path.mtu - overhead) : 0;
}

// The smallest and the largest payload over the usable paths (path 0's before any is usable:
// 0-RTT, a migrating path 0), within the peer's max_datagram_frame_size (RFC 9221 §3: it
// bounds the whole frame).
std::pair<size_t, size_t> Connection::datagram_payload_bounds() const {
  // Before the handshake's parameters arrive, a 0-RTT client uses the remembered ones.
  const TransportParameters* pp = peer_params_received_ ? &peer_params_ : zero_rtt_limits();
  if (!pp || !pp->max_datagram_frame_size || paths_.empty()) return {0, 0};
  size_t lo = SIZE_MAX, hi = 0;
  for (const auto& p : paths_) {
    if (!p->usable()) continue;
    const size_t on = datagram_payload_on(*p);
    lo = std::min(lo, on);
    hi = std::max(hi, on);
  }
  if (lo == SIZE_MAX) lo = hi = datagram_payload_on(*paths_.front());
  size_t by_frame = payload_within(*pp->max_datagram_frame_size);
  return {std::min(lo, by_frame), std::min(hi, by_frame)};
}

size_t Connection::max_datagram_payload() const { return datagram_payload_bounds().first; }

// --- the application's side

Status Connection::send_datagram(std::span<const Bytes> parts, std::optional<Instant> deadline,
                                 DatagramPriority priority) {
  size_t length = 0;
  for (Bytes p : parts) length += p.size();
  if (length > max_datagram_payload()) {
    return fail(err::kProtocolViolation, "datagram larger than the peer accepts");
  }
  // (The entry's tag is its queueing time, for interactive_spill_at.)
  if (priority == DatagramPriority::kInteractive &&
      datagrams_urgent_.push(parts, deadline.value_or(kNever),
                             static_cast<uint64_t>(to_ns(now_)))) {
    ++stats_.datagrams_interactive;
    return {};
  }
  if (!datagrams_out_.push(parts, deadline.value_or(kNever))) {
    datagrams_blocked_ = true;
    ++stats_.datagrams_refused;
    return fail(kWouldBlock, "queue full");  // short: no allocation for the reason
  }
  return {};
}

std::optional<size_t> Connection::next_datagram_size() const {
  auto d = peek_datagram();
  if (!d) return std::nullopt;
  return d->size();
}

std::optional<Bytes> Connection::peek_datagram() const {
  auto seq = datagrams_in_.front_seq();
  if (!seq) return std::nullopt;
  return datagrams_in_.data(*datagrams_in_.find(*seq));
}

void Connection::pop_datagram() {
  if (auto seq = datagrams_in_.front_seq()) datagrams_in_.remove(*seq);
}

Result<size_t> Connection::recv_datagram(MutBytes out) {
  auto d = peek_datagram();
  if (!d) return fail(kWouldBlock, "no datagram");
  if (d->size() > out.size()) return fail(err::kInternalError, "short buffer");
  std::copy(d->begin(), d->end(), out.begin());
  pop_datagram();
  return d->size();
}

std::optional<std::vector<uint8_t>> Connection::recv_datagram() {
  auto d = peek_datagram();
  if (!d) return std::nullopt;
  std::vector<uint8_t> out(d->begin(), d->end());
  pop_datagram();
  return out;
}

void Connection::on_datagram_frame(Bytes data) {
  if (!datagrams_in_.push(data)) {
    ++stats_.datagrams_recv_dropped;  // the peer's input stays bounded
    return;
  }
  ++stats_.datagrams_received;
  // Edge-triggered (one event until the queue was read empty), so a flood of datagrams does
  // not also grow the event queue.
  if (datagrams_in_.size() == 1) push_event({EventKind::kDatagramReceived});
}

void Connection::pump_datagram_events() {
  if (datagrams_blocked_) {
    size_t low = config_.datagram_send_low_water != 0 ? config_.datagram_send_low_water
                                                       : datagrams_out_.max_bytes() / 2;
    if (datagrams_out_.bytes() <= low &&
        datagrams_out_.size() <= datagrams_out_.max_entries() / 2) {
      datagrams_blocked_ = false;
      push_event({EventKind::kDatagramsWritable});
    }
  }
  size_t max = max_datagram_payload();
  if (max != datagram_payload_told_) {
    datagram_payload_told_ = max;
    push_event({EventKind::kDatagramPayloadChanged, max});
  }
}

// --- into packets

void Connection::write_datagram_frames(Instant now, Path& path, PacketBuilder& b) {
  if (!datagrams_queued()) return;
  const size_t widest = datagram_payload_bounds().second;
  const size_t on_path = std::min(widest, datagram_payload_on(path));
  // Interactive ones first, on their path only; then re-sent ones: they are older than
  // anything still queued.
  DatagramQueue* urgent = &datagrams_urgent_;
  bool spill = false;
  if (datagrams_urgent_.empty()) {
    urgent = nullptr;
  } else if (const InteractiveChoice ic = interactive_choice(); ic.fast != &path) {
    // Past the spill time any other path may take them, but not one whose PTO fired.
    spill = interactive_spill_at(ic) <= now && interactive_candidate(path, ic.skip_pto);
    if (!spill) urgent = nullptr;
  }
  for (DatagramQueue* q : {urgent, &datagrams_resend_, &datagrams_out_}) {
    if (q == nullptr) continue;
    for (uint64_t s = q->begin_seq(); s < q->end_seq(); ++s) {
      const DatagramQueue::Entry* e = q->find(s);
      if (e == nullptr) continue;
      if (e->deadline <= now) {  // too late to arrive in time: sending it wastes capacity
        q->remove(s);
        ++stats_.datagrams_expired;
        continue;
      }
      if (sched_.lane == mp::DeadlineLane::kHold && e->deadline != kNever) {
        continue;  // waits for the path the deadline scheduler picks for it
      }
      if (e->length > widest) {  // the limit shrank below it since it was queued
        q->remove(s);
        ++stats_.datagrams_too_large;
        continue;
      }
      if (e->length > on_path) continue;  // waits for a path with a larger MTU
      if (!write_one_datagram(path, b.w, b.sent, *q, s)) return;  // the next packet takes it
      b.ack_eliciting = true;
      if (q == urgent && spill) ++stats_.interactive_spills;
    }
  }
}

bool Connection::write_one_datagram(Path& path, Writer& w,
                                    SentFrames& sent, DatagramQueue& q,
                                    uint64_t seq) {
  const DatagramQueue::Entry& e = *q.find(seq);
  DatagramFrame f{q.data(e), true};
  if (encoded_size(f) > w.room()) return false;
  encode_frame(w, f);
  if (zero_rtt_.building && zero_rtt_.datagrams_sent.size() < config_.datagram_send_queue) {
    zero_rtt_.datagrams_sent.emplace_back(f.data.begin(), f.data.end());  // 0-RTT rejected
  }
  if (multipath_ && scheduler_->duplicates() && has_other_data_path(path)) {
    (void)dup_datagrams_.push_evicting(f.data, e.deadline, path_bit(path.id));
  }
  if (config_.datagram_resend_on_path_failure || config_.datagram_resend_on_loss) {
    // Kept until the packet is acknowledged or lost; the oldest copies go first when the
    // budget is spent (counted if their path then fails).
    if (auto copy = datagram_copies_.push_evicting(f.data, e.deadline)) {
      sent.push_back(sent::Datagram{*copy, path.id, f.data.size()});
    }
  }
  q.remove(seq);
  ++path.datagrams_sent;
  ++stats_.datagrams_sent;
  return true;
}

// A path whose PTO fired (pto_count > 0: no ACK for a PTO since) may have gone dark: its probe
// would carry a waiting interactive datagram into the dark, and the datagram would arrive, if
// re-sent at all, after the path is suspected. While another data path has no PTO pending,
// interactive datagrams leave such a path alone.
bool Connection::interactive_candidate(const Path& p, bool skip_pto) const {
  auto cids = peer_cids_.find(p.id);
  if (!is_data_path(p) || cids == peer_cids_.end() || !cids->second.has_current()) return false;
  return !skip_pto || p.pto_count == 0;
}

Connection::InteractiveChoice Connection::interactive_choice() const {
  InteractiveChoice ic;
  ic.skip_pto = std::any_of(paths_.begin(), paths_.end(), [this](const auto& p) {
    return p->pto_count == 0 && interactive_candidate(*p, false);
  });
  for (const auto& p : paths_) {
    if (!interactive_candidate(*p, ic.skip_pto)) continue;
    if (ic.fast == nullptr || p->rtt.smoothed() < ic.fast->rtt.smoothed()) ic.fast = p.get();
  }
  return ic;
}

Instant Connection::interactive_spill_at(const InteractiveChoice& ic) const {
  auto oldest = datagrams_urgent_.front_seq();
  if (!oldest || ic.fast == nullptr) return kNever;
  Duration next = Duration::max();
  for (const auto& p : paths_) {
    if (p.get() != ic.fast && interactive_candidate(*p, ic.skip_pto)) {
      next = std::min(next, p->rtt.smoothed());
    }
  }
  if (next == Duration::max()) return kNever;
  const Duration patience =
      std::max<Duration>(std::chrono::milliseconds(1), (next - ic.fast->rtt.smoothed()) / 2);
  return instant_from_ns(static_cast<int64_t>(datagrams_urgent_.find(*oldest)->tag)) + patience;
}

std::optional<Connection::DeadlineItem> Connection::earliest_datagram_deadline(Instant now) {
  std::optional<DeadlineItem> best;
  for (DatagramQueue* q : {&datagrams_resend_, &datagrams_out_}) {
    for (uint64_t s = q->begin_seq(); s < q->end_seq(); ++s) {
      const DatagramQueue::Entry* e = q->find(s);
      if (e == nullptr || e->deadline == kNever) continue;
      if (e->deadline <= now) {  // it cannot arrive in time any more: sending it wastes room
        q->remove(s);
        ++stats_.datagrams_expired;
        continue;
      }
      if (!best || e->deadline < best->at) best = DeadlineItem{e->deadline, e->length};
    }
  }
  return best;
}

// --- re-sending

// Called by reinject() for each packet in flight on a path given up on (suspected, failed,
// abandoned, migrated), and with datagram_resend_on_loss for each packet declared lost: the
// datagrams it carried go to the re-send queue, once per sending. `limit` becomes their
// deadline: a datagram re-sent after a loss expires datagram_resend_window after that first
// loss, however often its copies are lost again.
void Connection::resend_datagrams(std::span<SentFrame> frames, Instant limit) {
  for (SentFrame& frame : frames) {
    auto* f = std::get_if<sent::Datagram>(&frame);
    if (f == nullptr || f->copy == kCopyHandled) continue;
    const uint64_t seq = f->copy;
    f->copy = kCopyHandled;
    const DatagramQueue::Entry* e = datagram_copies_.find(seq);
    if (e == nullptr) {
      ++stats_.datagrams_resend_exhausted;  // its copy made room for newer ones
      continue;
    }
    if (e->deadline <= now_) {
      ++stats_.datagrams_expired;
    } else if (datagrams_resend_.push(datagram_copies_.data(*e), std::min(e->deadline, limit))) {
      ++stats_.datagrams_resent;
    } else {
      ++stats_.datagrams_resend_exhausted;
    }
    datagram_copies_.remove(seq);
  }
}

// Client, 0-RTT rejected: what went in 0-RTT goes again first, in its original order (without
// deadlines: they are not remembered).
void Connection::requeue_zero_rtt_datagrams() {
  for (const auto& d : zero_rtt_.datagrams_sent) {
    if (!datagrams_resend_.push(d)) ++stats_.datagrams_resend_exhausted;
  }
  zero_rtt_.datagrams_sent.clear();
}

// --- redundant scheduler copies

bool Connection::dup_datagram_pending_for(const Path& path) const {
  const uint64_t bit = path_bit(path.id);
  for (uint64_t s = dup_datagrams_.begin_seq(); s < dup_datagrams_.end_seq(); ++s) {
    const DatagramQueue::Entry* e = dup_datagrams_.find(s);
    if (e != nullptr && (e->tag & bit) == 0) return true;
  }
  return false;
}

void Connection::write_dup_datagrams(Instant now, Path& path, PacketBuilder& b) {
  const uint64_t bit = path_bit(path.id);
  uint64_t all = 0;
  for (const auto& p : paths_) {
    if (is_data_path(*p)) all |= path_bit(p->id);
  }
  for (uint64_t s = dup_datagrams_.begin_seq(); s < dup_datagrams_.end_seq(); ++s) {
    DatagramQueue::Entry* e = dup_datagrams_.find(s);
    if (e == nullptr) continue;
    if (e->deadline <= now || (e->tag & all) == all) {
      dup_datagrams_.remove(s);  // late, or every usable path has carried it
      continue;
    }
    if ((e->tag & bit) != 0) continue;
    DatagramFrame f{dup_datagrams_.data(*e), true};
    if (encoded_size(f) > b.w.room()) return;
    encode_frame(b.w, f);
    e->tag |= bit;
    ++path.datagrams_sent;
    ++stats_.datagram_copies_sent;
    b.ack_eliciting = true;
  }
}

}  // namespace quic

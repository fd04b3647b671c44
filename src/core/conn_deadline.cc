// Connection: deadline-aware scheduling (docs/multipath.md "Deadline scheduler"). The
// application gives streams and DATAGRAMs a deadline; under the deadline scheduler every packet
// is built for one of two lanes. The path the scheduler picks for the most urgent deadline data
// (mp/scheduler.cc, Deadline) carries it first whenever it can send; every other packet, on
// any path, leaves deadline data queued (DeadlineLane::kHold), so bulk data can still use a
// path that would deliver the deadline data too late.
#include <algorithm>

#include "core/connection.h"

namespace quic {

namespace {
// The serialisation term of a stream's deadline data counts at most this much of its backlog
// (a larger backlog cannot meet a tight deadline on any path anyway).
constexpr uint64_t kMaxDeadlineBytes = 64 * 1024;
}  // namespace

Status Connection::set_stream_deadline(uint64_t id, std::optional<Instant> deadline) {
  Stream* s = streams_.find(id);
  if (s == nullptr || !s->has_send()) {
    return fail(err::kStreamStateError, "no such stream with a sending part");
  }
  return sched_.set_deadline(id, deadline,
                             [&](uint64_t stream) { return streams_.find(stream) == nullptr; });
}

std::optional<Instant> Connection::stream_deadline(uint64_t id) const {
  return sched_.deadline(id);
}

std::optional<Connection::DeadlineItem> Connection::earliest_deadline(Instant now) {
  std::optional<DeadlineItem> best;
  auto consider = [&](Instant at, uint64_t bytes) {
    if (!best || at < best->at) best = DeadlineItem{at, bytes};
  };
  if (auto d = earliest_datagram_deadline(now)) consider(d->at, d->bytes);
  const uint64_t credit = streams_.connection_credit().available();
  auto& deadlines = sched_.deadlines();
  for (auto it = deadlines.begin(); it != deadlines.end();) {
    Stream* s = streams_.find(it->first);
    if (s == nullptr) {  // freed: nothing left to schedule
      it = deadlines.erase(it);
      continue;
    }
    if (s->has_data_to_send(credit)) {
      const SendBuffer& b = s->send_buffer();
      uint64_t unsent = b.write_offset() - std::min(b.write_offset(), b.sent_offset());
      consider(it->second, std::clamp<uint64_t>(unsent, 1, kMaxDeadlineBytes));
    }
    ++it;
  }
  return best;
}

Path* Connection::choose_deadline_path(Instant now, std::span<const PathCandidate> cands,
                                       Instant wake) {
  auto item = earliest_deadline(now);
  if (!item) return nullptr;
  auto pick = scheduler_->select_deadline(cands, DeadlineDemand{item->at - now, item->bytes});
  if (!pick) return nullptr;
  const PathCandidate& c = cands[*pick];
  if (c.can_send) {
    sched_.lane = mp::DeadlineLane::kFirst;
    return path_by_id(c.id);
  }
  // The deadline data waits for this path: for an ACK opening its window, or for its pacer.
  if (c.in_flight + c.mtu <= c.cwnd) pacing_wakeup_ = std::min(pacing_wakeup_, wake);
  return nullptr;
}

std::optional<StreamChunk> Connection::next_chunk_for_packet(uint64_t max_len) {
  if (sched_.lane == mp::DeadlineLane::kAny || sched_.deadlines().empty()) {
    return streams_.next_stream_chunk(max_len);
  }
  if (sched_.lane == mp::DeadlineLane::kHold) {
    return streams_.next_stream_chunk(max_len,
                                      [this](uint64_t id) { return sched_.has_deadline(id); });
  }
  // kFirst: the deadline streams first, the earliest deadline first.
  const uint64_t credit = streams_.connection_credit().available();
  std::optional<std::pair<Instant, uint64_t>> first;
  for (const auto& [id, at] : sched_.deadlines()) {
    Stream* s = streams_.find(id);
    if (s != nullptr && s->has_data_to_send(credit) && (!first || at < first->first)) {
      first = std::pair{at, id};
    }
  }
  if (first) {
    if (auto c = streams_.next_chunk_of(first->second, max_len)) return c;
  }
  return streams_.next_stream_chunk(max_len);
}

}  // namespace quic

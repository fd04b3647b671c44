#include "sim/link_shaper.h"

#include <algorithm>

namespace sim {

LinkShaper::LinkShaper(LinkConfig config, uint64_t stream_seed, Instant start)
    : dir_(std::move(config), stream_seed), start_(start) {}

void LinkShaper::offer(Instant now, Datagram d) {
  advance(now);
  // The same sequence as Network::send: count, test hook, blackhole, then serialiser or queue.
  const size_t size = d.payload.size();
  const uint64_t index = dir_.counters.sent_packets++;
  dir_.counters.sent_bytes += size;
  if (dir_.config().drop_filter && dir_.config().drop_filter(d, index)) {
    ++dir_.counters.dropped_loss;
    return;
  }
  if (dir_.dark(now - start_)) {
    ++dir_.counters.dropped_blackhole;
    return;
  }
  if (!dir_.busy) {
    dir_.mark_on_enqueue(d);
    start_service(now, std::move(d));
    return;
  }
  const size_t wire = dir_.wire_size(size);
  if (dir_.queued_bytes + wire > dir_.config().queue_bytes) {
    ++dir_.counters.dropped_queue;
    return;
  }
  dir_.mark_on_enqueue(d);
  queue_.push_back(std::move(d));
  dir_.queued_bytes += wire;
}

void LinkShaper::start_service(Instant at, Datagram d) {
  dir_.busy = true;
  tx_done_ = at + dir_.tx_time(d.payload.size());
  in_service_ = std::move(d);
}

// The serialiser finishes at tx_done_: as Network::on_tx_done.
void LinkShaper::finish_service() {
  const Instant now = tx_done_;
  Datagram d = std::move(*in_service_);
  in_service_.reset();
  dir_.busy = false;
  tx_done_ = quic::kNever;
  if (dir_.dark(now - start_)) {
    ++dir_.counters.dropped_blackhole;  // a blackhole also swallows what queued before it
  } else if (WireOutcome out = dir_.depart(now, d); !out.lost) {
    if (pipe_.size() >= kMaxShaperInFlight) {
      ++dir_.counters.dropped_queue;
    } else {
      pipe_.push_back(Flying{out.arrival, seq_++, std::move(d)});
      std::push_heap(pipe_.begin(), pipe_.end(), later);
    }
  }
  if (!queue_.empty()) {
    Datagram next = std::move(queue_.front());
    queue_.pop_front();
    dir_.queued_bytes -= dir_.wire_size(next.payload.size());
    start_service(now, std::move(next));
  }
}

void LinkShaper::advance(Instant now) {
  while (dir_.busy && tx_done_ <= now) finish_service();
}

void LinkShaper::poll(Instant now, std::vector<Datagram>& out) {
  // Serialisations and arrivals interleave: with zero delay a packet that finishes serialising
  // before `now` has also arrived by then.
  advance(now);
  while (!pipe_.empty() && pipe_.front().arrival <= now) {
    std::pop_heap(pipe_.begin(), pipe_.end(), later);
    Flying f = std::move(pipe_.back());
    pipe_.pop_back();
    ++dir_.counters.delivered_packets;
    dir_.counters.delivered_bytes += f.d.payload.size();
    out.push_back(std::move(f.d));
  }
}

Instant LinkShaper::next_wakeup() const {
  Instant t = dir_.busy ? tx_done_ : quic::kNever;
  if (!pipe_.empty()) t = std::min(t, pipe_.front().arrival);
  return t;
}

}  // namespace sim

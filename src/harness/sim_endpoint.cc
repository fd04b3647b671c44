#include "harness/sim_endpoint.h"

#include <algorithm>

namespace harness {

SimEndpoint::SimEndpoint(quic::EndpointConfig config, uint64_t seed)
    : random_(seed), endpoint_(std::move(config), random_), buf_(65536) {}

void SimEndpoint::on_datagram(Instant now, sim::Datagram d) {
  if (on_receive) on_receive(d, now);
  endpoint_.on_datagram(now, d.dst, d.src, d.ecn, d.payload);
  if (app_) app_->on_activity(endpoint_, now);
}

std::optional<sim::Datagram> SimEndpoint::poll_transmit(Instant now) {
  if (run_.empty()) {
    if (app_) app_->on_activity(endpoint_, now);
    auto t = endpoint_.poll_transmit(now, buf_, max_segments_);
    if (!t) return std::nullopt;
    if (on_transmit) on_transmit(*t, now);
    const size_t seg = t->segment_size == 0 ? t->size : t->segment_size;
    for (size_t off = 0; off < t->size; off += seg) {
      sim::Datagram& d = run_.emplace_back();
      d.src = t->local;
      d.dst = t->remote;
      d.ecn = t->ecn;
      const auto begin = buf_.begin() + static_cast<std::ptrdiff_t>(off);
      d.payload.assign(begin, begin + static_cast<std::ptrdiff_t>(std::min(seg, t->size - off)));
    }
  }
  sim::Datagram d = std::move(run_.front());
  run_.pop_front();
  if (on_send) on_send(d, now);
  return d;
}

Instant SimEndpoint::next_timeout() const { return endpoint_.next_timeout(); }

void SimEndpoint::on_timeout(Instant now) {
  endpoint_.on_timeout(now);
  if (app_) app_->on_activity(endpoint_, now);
}

}  // namespace harness

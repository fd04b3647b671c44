#include "harness/sim_endpoint.h"

namespace harness {

SimEndpoint::SimEndpoint(quic::EndpointConfig config, uint64_t seed)
    : random_(seed), endpoint_(std::move(config), random_), buf_(65536) {}

void SimEndpoint::on_datagram(Instant now, sim::Datagram d) {
  if (on_receive) on_receive(d, now);
  endpoint_.on_datagram(now, d.dst, d.src, d.ecn, d.payload);
  if (app_) app_->on_activity(endpoint_, now);
}

std::optional<sim::Datagram> SimEndpoint::poll_transmit(Instant now) {
  if (app_) app_->on_activity(endpoint_, now);
  auto t = endpoint_.poll_transmit(now, buf_);
  if (!t) return std::nullopt;
  sim::Datagram d;
  d.src = t->local;
  d.dst = t->remote;
  d.ecn = t->ecn;
  d.payload.assign(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(t->size));
  if (on_send) on_send(d, now);
  return d;
}

Instant SimEndpoint::next_timeout() const { return endpoint_.next_timeout(); }

void SimEndpoint::on_timeout(Instant now) {
  endpoint_.on_timeout(now);
  if (app_) app_->on_activity(endpoint_, now);
}

}  // namespace harness

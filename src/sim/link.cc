#include "sim/link.h"

#include <algorithm>
#include <cmath>

namespace sim {
namespace {

// Corruption hits the packet header region, where QUIC's header protection and AEAD must catch
// it (the interop runner's "corruption" cases flip bytes near the start as well).
constexpr size_t kCorruptWindow = 50;

}  // namespace

LinkDirection::LinkDirection(LinkConfig config, uint64_t stream_seed)
    : config_(std::move(config)),
      loss_rng_(mix64(stream_seed ^ 1)),
      corrupt_rng_(mix64(stream_seed ^ 2)),
      ce_rng_(mix64(stream_seed ^ 3)),
      jitter_rng_(mix64(stream_seed ^ 4)),
      reorder_rng_(mix64(stream_seed ^ 5)) {}

bool LinkDirection::dark(Duration since_start) const {
  for (const auto& [start, end] : config_.blackholes) {
    if (since_start >= start && since_start < end) return true;
  }
  if (config_.periodic_blackhole) {
    auto [period, dark_for, offset] = *config_.periodic_blackhole;
    if (period > Duration::zero() && since_start >= offset) {
      return (since_start - offset) % period < dark_for;
    }
  }
  return false;
}

Duration LinkDirection::tx_time(size_t payload_size) const {
  if (!(config_.rate_bps > 0)) return Duration::zero();
  // Bits * 1e9 / rate is exact in double for the rates and sizes used in practice (the quotient
  // of two exactly representable integers is exact when it is itself an integer); ceil keeps a
  // fractional nanosecond from making the link faster than configured.
  double ns = std::ceil(static_cast<double>(wire_size(payload_size)) * 8e9 / config_.rate_bps);
  return Duration(static_cast<int64_t>(ns));
}

bool LinkDirection::lose() {
  bool lost = false;
  if (burst_left_ > 0) {
    lost = true;
    if (--burst_left_ == 0) after_burst_ = true;
  } else if (after_burst_) {
    after_burst_ = false;  // the packet after a burst never starts the next one
  } else if (config_.burst_loss > 0 && loss_rng_.chance(config_.burst_loss)) {
    uint64_t len = 1 + loss_rng_.below(static_cast<uint64_t>(std::max(config_.max_burst, 1)));
    burst_left_ = static_cast<int>(len) - 1;
    after_burst_ = burst_left_ == 0;
    lost = true;
  }
  if (!lost && loss_rng_.chance(config_.loss)) lost = true;
  return lost;
}

void LinkDirection::mark_on_enqueue(Datagram& d) {
  if (!config_.ecn_capable) {
    d.ecn = kNotEct;
    return;
  }
  if (config_.ce_threshold_bytes > 0 && (d.ecn == kEct0 || d.ecn == kEct1) &&
      queued_bytes > config_.ce_threshold_bytes) {
    d.ecn = kCe;
    ++counters.ce_marked;
  }
}

WireOutcome LinkDirection::depart(Instant now, Datagram& d) {
  WireOutcome out;
  if (lose()) {
    out.lost = true;
    ++counters.dropped_loss;
    return out;
  }
  if (!d.payload.empty() && corrupt_rng_.chance(config_.corrupt)) {
    size_t window = std::min(d.payload.size(), kCorruptWindow);
    size_t pos = corrupt_rng_.below(window);
    d.payload[pos] ^= static_cast<uint8_t>(1 + corrupt_rng_.below(255));  // never XOR with 0
    ++counters.corrupted;
  }
  if (config_.ecn_capable && (d.ecn == kEct0 || d.ecn == kEct1) &&
      ce_rng_.chance(config_.ce_mark)) {
    d.ecn = kCe;
    ++counters.ce_marked;
  }
  Instant arrival = now + config_.delay;
  if (config_.jitter > Duration::zero()) {
    arrival += Duration(
        static_cast<int64_t>(jitter_rng_.below(static_cast<uint64_t>(config_.jitter.count()) + 1)));
  }
  if (reorder_rng_.chance(config_.reorder)) {
    // Held back without touching the FIFO horizon, so later packets may overtake it.
    arrival += config_.reorder_delay;
    ++counters.reordered;
  } else {
    arrival = std::max(arrival, last_fifo_arrival_);
    last_fifo_arrival_ = arrival;
  }
  out.arrival = arrival;
  return out;
}

}  // namespace sim

#include "tquicd/reorder_delay.h"

#include <cstdlib>

#include "tquicd/tunnel_header.h"

namespace bond {

namespace {
// (a - b) mod 2^30 as a signed value in [-2^29, 2^29): timestamps wrap every ~17.9 minutes.
int64_t wrapped_difference(uint64_t a, uint64_t b) {
  auto d = static_cast<int64_t>((a - b) % kTimestampModulus);
  return d >= static_cast<int64_t>(kTimestampModulus / 2) ? d - static_cast<int64_t>(kTimestampModulus) : d;
}
}  // namespace

void ReorderDelayTracker::on_sample(size_t path, quic::Instant now, uint32_t send_time_us) {
  if (path >= kMaxDelayPaths || send_time_us >= kTimestampModulus) return;
  uint64_t raw = (tunnel_timestamp(now) + kTimestampModulus - send_time_us) % kTimestampModulus;
  if (!have_reference_) {
    have_reference_ = true;
    reference_ = static_cast<uint32_t>(raw);
  }
  int64_t rel = wrapped_difference(raw, reference_);
  Path& p = paths_[path];
  if (!p.valid) {
    p = {true, now, rel, 0};
    return;
  }
  // RFC 6298's smoothing (gains 1/8 and 1/4), applied to one-way samples.
  p.variation_us = (3 * p.variation_us + std::llabs(p.smoothed_us - rel)) / 4;
  p.smoothed_us = (7 * p.smoothed_us + rel) / 8;
  p.last = now;
}

void ReorderDelayTracker::forget(size_t path) {
  if (path < kMaxDelayPaths) paths_[path] = Path{};
}

std::vector<PathDelay> ReorderDelayTracker::estimates(quic::Instant now) const {
  std::vector<PathDelay> out;
  for (const Path& p : paths_) {
    if (!p.valid || now - p.last > kDelayStaleAfter) continue;
    out.push_back({std::chrono::microseconds(p.smoothed_us), std::chrono::microseconds(p.variation_us)});
  }
  return out;
}

}  // namespace bond

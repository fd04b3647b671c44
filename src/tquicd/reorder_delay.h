// Per-path one-way-delay estimates from the tunnel header's send time (tunnel_header.h), the
// reorder buffer's input. The two hosts' clocks are not synchronised, so a sample (receive
// time minus send time) holds an unknown constant offset; every path shares it, so the
// differences between paths -- all the reorder buffer uses -- are true delay differences.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common/time.h"

namespace bond {

inline constexpr size_t kMaxDelayPaths = 16;  // = kMaxLinks; samples for higher path IDs are ignored
// A path silent for this long no longer counts towards the spread (a dead link sends nothing
// to wait for).
inline constexpr quic::Duration kDelayStaleAfter = std::chrono::seconds(2);

struct PathDelay {
  quic::Duration delay{};      // relative one-way delay (common offset included)
  quic::Duration variation{};  // mean deviation of the samples
};

class ReorderDelayTracker {
 public:
  // A packet that arrived on `path` at local time `now` with the header's send time.
  void on_sample(size_t path, quic::Instant now, uint32_t send_time_us);
  void forget(size_t path);
  // Estimates of paths heard from within kDelayStaleAfter.
  std::vector<PathDelay> estimates(quic::Instant now) const;

 private:
  struct Path {
    bool valid = false;
    quic::Instant last{};
    int64_t smoothed_us = 0, variation_us = 0;
  };
  bool have_reference_ = false;
  uint32_t reference_ = 0;  // the first sample's raw value: keeps relative delays small
  std::array<Path, kMaxDelayPaths> paths_{};
};

}  // namespace bond

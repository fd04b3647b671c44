// The figure a user feels after a link failure: the longest time between two consecutive
// deliveries to the application (in-order stream bytes, or DATAGRAM arrivals), counted for the
// gaps that end after the failure. Time when no link at all was up is left out (nothing can be
// delivered then): a gap is cut at such a window and its longest piece counts, so both-die
// measures how fast delivery resumes once a link returns.
#pragma once

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "common/time.h"

namespace harness {

using quic::Duration;
using quic::Instant;

class GapMeter {
 public:
  // Only gaps that end after `from` count (a gap spanning the failure does).
  void set_from(Instant from) { from_ = from; }
  // Windows [start, end) during which every link was down, in time order, not overlapping.
  void set_dead_windows(std::vector<std::pair<Instant, Instant>> windows) {
    dead_ = std::move(windows);
  }
  void on_delivery(Instant now) {
    if (last_ && from_ && now > *from_) longest_ = std::max(longest_, longest_piece(*last_, now));
    last_ = now;
  }
  Duration longest() const { return longest_; }

 private:
  // The longest part of [a, b] outside the dead windows.
  Duration longest_piece(Instant a, Instant b) const {
    Duration best{0};
    Instant piece_start = a;
    for (const auto& [s, e] : dead_) {
      if (e <= piece_start || s >= b) continue;
      best = std::max(best, std::max(s, piece_start) - piece_start);
      piece_start = std::min(e, b);
    }
    return std::max(best, b - piece_start);
  }

  std::optional<Instant> from_, last_;
  std::vector<std::pair<Instant, Instant>> dead_;
  Duration longest_{0};
};

}  // namespace harness

// Time in the TQUIC public API: a strong type counting nanoseconds from an arbitrary epoch that
// the caller chooses. The library never reads a clock; every call that needs the time takes it
// as a parameter. Use one epoch per Endpoint (io::monotonic_now() in io.h is the natural one for
// real sockets; a simulator passes its virtual time).
#pragma once

#include <chrono>
#include <cstdint>

namespace tquic {

using Duration = std::chrono::nanoseconds;

// A clock with no now(): it only names the epoch of tquic::Instant, so an Instant cannot be
// mixed up with std::chrono::steady_clock or system_clock time points by accident.
struct Clock {
  using duration = Duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<Clock, duration>;
  static constexpr bool is_steady = true;
};

using Instant = Clock::time_point;

// "No deadline": what next_timeout() returns when nothing is scheduled.
inline constexpr Instant kNever = Instant::max();

constexpr Instant instant_from_ns(int64_t ns) { return Instant(Duration(ns)); }
constexpr int64_t to_ns(Instant t) { return t.time_since_epoch().count(); }

}  // namespace tquic

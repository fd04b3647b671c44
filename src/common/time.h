// Time inside the protocol core is a value passed in by the caller (sans-I/O): the core never
// reads a clock. Instants count nanoseconds from an arbitrary epoch chosen by the caller (the
// event loop uses CLOCK_MONOTONIC, the simulator its virtual clock).
#pragma once

#include <chrono>
#include <cstdint>

namespace quic {

using Duration = std::chrono::nanoseconds;

// A clock type with no now(): it only names the epoch of quic::Instant.
struct CoreClock {
  using duration = Duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<CoreClock, duration>;
  static constexpr bool is_steady = true;
};

using Instant = CoreClock::time_point;

inline constexpr Instant kNever = Instant::max();

constexpr Instant instant_from_ns(int64_t ns) { return Instant(Duration(ns)); }
constexpr int64_t to_ns(Instant t) { return t.time_since_epoch().count(); }
constexpr int64_t to_us(Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// In fractional seconds or milliseconds, for rate arithmetic and display.
constexpr double to_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
constexpr double to_ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
// An RTT in seconds as a divisor: floored at 1 µs (no real path is faster; never zero).
constexpr double rtt_seconds(Duration rtt) {
  return to_seconds(rtt < Duration(1000) ? Duration(1000) : rtt);
}

using namespace std::chrono_literals;

}  // namespace quic

// The unit-carrying values of tquicd's configuration (docs/tquicd-config.md "Units"):
//   rates      "50mbit", "1gbit", "800kbit", "1.5gbit", "64000bit"  -> bits per second
//   sizes      "5MB", "64KiB", "1500B", "2GiB" (KB/MB/GB = 1000^n, KiB/MiB/GiB = 1024^n) -> bytes
//   durations  "300ms", "2s", "500us", "1.5s", "5min"               -> nanoseconds
// A bare "0" means zero in every kind. Errors are short phrases for the caller to place after
// "file:line:column: key: ".
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "common/time.h"

namespace bond {

template <typename T>
using Parsed = std::expected<T, std::string>;

// Upper bounds on what a unit value may say; every config key has its own tighter range.
inline constexpr uint64_t kMaxRateBps = 10'000'000'000'000;  // 10 Tbit/s
inline constexpr uint64_t kMaxSizeBytes = uint64_t{1} << 50;  // 1 PiB
inline constexpr quic::Duration kMaxDuration = std::chrono::hours(24 * 366);
inline constexpr size_t kMaxUnitTextLength = 64;

Parsed<uint64_t> parse_rate(std::string_view text);
Parsed<uint64_t> parse_size(std::string_view text);
Parsed<quic::Duration> parse_duration(std::string_view text);

// Canonical text of a value (for diffs and `tquicd check --print`): the largest unit that
// keeps the number whole, e.g. 50000000 -> "50mbit", 65536 -> "64KiB", 300ms -> "300ms".
std::string format_rate(uint64_t bps);
std::string format_size(uint64_t bytes);
std::string format_duration(quic::Duration d);

}  // namespace bond

#include "tquicd/units.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

namespace bond {
namespace {

struct Unit {
  std::string_view name;
  double scale;
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// "<number><unit>" with a plain decimal number (digits, at most one '.', no sign or exponent);
// the result is number * scale, refused above `max`. Doubles hold every value we accept
// exactly enough: the bounds stay below 2^53 ns / bytes / bits.
template <size_t N>
Parsed<double> parse_with_units(std::string_view text, const std::array<Unit, N>& units,
                                bool case_insensitive, double max, const char* kind) {
  auto bad = [&] { return std::unexpected("bad " + std::string(kind) + " '" + std::string(text) + "'"); };
  if (text.empty() || text.size() > kMaxUnitTextLength) return bad();
  if (text == "0") return 0.0;
  size_t digits = 0;
  bool dot = false;
  while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) ||
                                  (text[digits] == '.' && !dot))) {
    dot = dot || text[digits] == '.';
    ++digits;
  }
  std::string_view number = text.substr(0, digits), suffix = text.substr(digits);
  if (number.empty() || number.front() == '.' || number.back() == '.') return bad();
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size()) return bad();
  for (const Unit& u : units) {
    bool match = case_insensitive ? iequals(suffix, u.name) : suffix == u.name;
    if (!match) continue;
    double scaled = value * u.scale;
    if (!std::isfinite(scaled) || scaled > max) {
      return std::unexpected(std::string(kind) + " '" + std::string(text) + "' too large");
    }
    return std::round(scaled);
  }
  return bad();
}

constexpr std::array<Unit, 5> kRateUnits{{{"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {"tbit", 1e12}}};
constexpr std::array<Unit, 9> kSizeUnits{{{"B", 1},
                                          {"KB", 1e3},
                                          {"MB", 1e6},
                                          {"GB", 1e9},
                                          {"TB", 1e12},
                                          {"KiB", 1024.0},
                                          {"MiB", 1024.0 * 1024},
                                          {"GiB", 1024.0 * 1024 * 1024},
                                          {"TiB", 1024.0 * 1024 * 1024 * 1024}}};
constexpr std::array<Unit, 6> kDurationUnits{
    {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"min", 60e9}, {"h", 3600e9}}};

// The largest unit of `units` that divides v, written as "<v/scale><unit>".
template <size_t N>
std::string format_whole(uint64_t v, const std::array<Unit, N>& units) {
  if (v == 0) return "0";
  const Unit* best = &units[0];
  for (const Unit& u : units) {
    auto scale = static_cast<uint64_t>(u.scale);
    if (v % scale == 0 && u.scale >= best->scale) best = &u;
  }
  return std::to_string(v / static_cast<uint64_t>(best->scale)) + std::string(best->name);
}

}  // namespace

Parsed<uint64_t> parse_rate(std::string_view text) {
  auto v = parse_with_units(text, kRateUnits, true, static_cast<double>(kMaxRateBps), "rate");
  if (!v) return std::unexpected(v.error());
  return static_cast<uint64_t>(*v);
}

Parsed<uint64_t> parse_size(std::string_view text) {
  auto v = parse_with_units(text, kSizeUnits, false, static_cast<double>(kMaxSizeBytes), "size");
  if (!v) return std::unexpected(v.error());
  return static_cast<uint64_t>(*v);
}

Parsed<quic::Duration> parse_duration(std::string_view text) {
  auto v = parse_with_units(text, kDurationUnits, false, static_cast<double>(kMaxDuration.count()),
                            "duration");
  if (!v) return std::unexpected(v.error());
  return quic::Duration(static_cast<int64_t>(*v));
}

std::string format_rate(uint64_t bps) { return format_whole(bps, kRateUnits); }
std::string format_size(uint64_t bytes) { return format_whole(bytes, kSizeUnits); }
std::string format_duration(quic::Duration d) {
  return format_whole(static_cast<uint64_t>(d.count() < 0 ? 0 : d.count()), kDurationUnits);
}

}  // namespace bond

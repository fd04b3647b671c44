// Extensible priorities (RFC 9218): the Priority header field and PRIORITY_UPDATE values are a
// Structured Fields dictionary (RFC 8941 §3.2) with u (urgency 0-7, default 3) and i
// (incremental, default false). Unknown members and invalid values are ignored (§4, §5).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace h3 {

struct Priority {
  uint8_t urgency = 3;
  bool incremental = false;
  bool operator==(const Priority&) const = default;
};

inline constexpr uint8_t kMaxUrgency = 7;

// Never fails: a malformed dictionary yields the defaults (RFC 9218 §4).
Priority parse_priority(std::string_view field_value);
// "u=N" and ", i" when incremental; empty for the defaults.
std::string format_priority(const Priority& p);

}  // namespace h3

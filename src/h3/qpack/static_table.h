// The QPACK static table (RFC 9204 Appendix A).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace h3::qpack {

struct StaticEntry {
  std::string_view name;
  std::string_view value;
};

inline constexpr size_t kStaticTableSize = 99;

// nullptr for an index outside the table (a decoder turns that into QPACK_DECOMPRESSION_FAILED).
const StaticEntry* static_entry(uint64_t index);

struct StaticMatch {
  std::optional<uint32_t> exact;  // index of an entry with this name and value
  std::optional<uint32_t> name;   // index of an entry with this name
};
StaticMatch find_static(std::string_view name, std::string_view value);

}  // namespace h3::qpack

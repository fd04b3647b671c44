// Hex helpers for tests: RFC vectors are pasted as hex, whitespace ignored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wire/varint.h"

namespace quic::test {

inline std::vector<uint8_t> unhex(std::string_view s) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : s) {
    int v = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

inline std::string hex(Bytes b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s += kDigits[x >> 4];
    s += kDigits[x & 15];
  }
  return s;
}
inline std::string hex(const std::vector<uint8_t>& v) {
  return hex(Bytes(v));
}

}  // namespace quic::test

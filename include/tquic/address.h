// A UDP socket address as a plain value (IPv4 or IPv6, port).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tquic {

struct Address {
  std::array<uint8_t, 16> ip{};  // IPv4 uses the first 4 bytes
  uint16_t port = 0;
  bool v6 = false;

  static constexpr Address v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    Address s;
    s.ip[0] = a, s.ip[1] = b, s.ip[2] = c, s.ip[3] = d;
    s.port = port;
    return s;
  }
  // Parses "1.2.3.4:443" or "[::1]:443"; nullopt on malformed input.
  [[nodiscard]] static std::optional<Address> parse(std::string_view text);
  std::string to_string() const;

  friend auto operator<=>(const Address&, const Address&) = default;
};

}  // namespace tquic

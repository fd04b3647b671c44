// A socket address as a plain value: the sans-I/O core compares, hashes and prints addresses
// but never hands them to the OS (io/ converts to and from sockaddr).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace quic {

struct SocketAddress {
  std::array<uint8_t, 16> ip{};  // IPv4 uses the first 4 bytes
  uint16_t port = 0;
  bool v6 = false;

  static SocketAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    SocketAddress s;
    s.ip[0] = a, s.ip[1] = b, s.ip[2] = c, s.ip[3] = d;
    s.port = port;
    return s;
  }
  // Parses "1.2.3.4:443" or "[::1]:443"; nullopt on malformed input.
  static std::optional<SocketAddress> parse(std::string_view text);
  std::string to_string() const;
  bool same_ip(const SocketAddress& o) const { return v6 == o.v6 && ip == o.ip; }

  friend auto operator<=>(const SocketAddress&, const SocketAddress&) = default;
};

}  // namespace quic

template <>
struct std::hash<quic::SocketAddress> {
  size_t operator()(const quic::SocketAddress& a) const noexcept {
    uint64_t h = 1469598103934665603ull;
    for (uint8_t b : a.ip) h = (h ^ b) * 1099511628211ull;
    h = (h ^ a.port) * 1099511628211ull;
    return static_cast<size_t>(h ^ a.v6);
  }
};

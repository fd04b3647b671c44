#include "common/address.h"

#include <arpa/inet.h>

#include <charconv>

namespace quic {

std::optional<SocketAddress> SocketAddress::parse(std::string_view text) {
  SocketAddress out;
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    out.v6 = true;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  out.port = static_cast<uint16_t>(port);
  if (inet_pton(out.v6 ? AF_INET6 : AF_INET, host.c_str(), out.ip.data()) != 1) {
    return std::nullopt;
  }
  return out;
}

std::string SocketAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, ip.data(), buf, sizeof(buf));
  return v6 ? "[" + std::string(buf) + "]:" + std::to_string(port)
            : std::string(buf) + ":" + std::to_string(port);
}

}  // namespace quic

#include "io/sockaddr.h"

#include <netdb.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace io {

socklen_t to_sockaddr(const quic::SocketAddress& a, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof(out));
  if (a.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&out);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(a.port);
    std::memcpy(&s6->sin6_addr, a.ip.data(), 16);
    return sizeof(sockaddr_in6);
  }
  auto* s4 = reinterpret_cast<sockaddr_in*>(&out);
  s4->sin_family = AF_INET;
  s4->sin_port = htons(a.port);
  std::memcpy(&s4->sin_addr, a.ip.data(), 4);
  return sizeof(sockaddr_in);
}

std::optional<quic::SocketAddress> from_sockaddr(const sockaddr* sa, socklen_t len) {
  quic::SocketAddress a;
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    auto* s4 = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(a.ip.data(), &s4->sin_addr, 4);
    a.port = ntohs(s4->sin_port);
    return a;
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    auto* s6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::memcpy(a.ip.data(), &s6->sin6_addr, 16);
    a.port = ntohs(s6->sin6_port);
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

quic::Result<quic::SocketAddress> resolve(const std::string& host, uint16_t port, bool want_v6) {
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(h.c_str(), nullptr, &hints, &res);
  if (rc != 0) return quic::fail(0, "cannot resolve " + h + ": " + gai_strerror(rc));
  std::optional<quic::SocketAddress> first, preferred;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    auto a = from_sockaddr(ai->ai_addr, ai->ai_addrlen);
    if (!a) continue;
    if (!first) first = a;
    if (!preferred && a->v6 == want_v6) preferred = a;
  }
  freeaddrinfo(res);
  auto pick = preferred ? preferred : first;
  if (!pick) return quic::fail(0, "no usable address for " + h);
  pick->port = port;
  return *pick;
}

quic::Result<quic::SocketAddress> route_source(const quic::SocketAddress& remote) {
  int fd = socket(remote.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return quic::fail(0, std::string("socket: ") + std::strerror(errno));
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(remote, ss);
  quic::Result<quic::SocketAddress> out = quic::fail(0, "no route to " + remote.to_string());
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
    sockaddr_storage local{};
    socklen_t llen = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) == 0) {
      if (auto a = from_sockaddr(reinterpret_cast<sockaddr*>(&local), llen)) {
        a->port = 0;
        out = *a;
      }
    }
  }
  close(fd);
  return out;
}

quic::SocketAddress any_address(bool v6, uint16_t port) {
  quic::SocketAddress a;
  a.v6 = v6;
  a.port = port;
  return a;
}

bool is_unspecified(const quic::SocketAddress& a) {
  size_t n = a.v6 ? 16 : 4;
  for (size_t i = 0; i < n; ++i) {
    if (a.ip[i] != 0) return false;
  }
  return true;
}

}  // namespace io

// Conversions between quic::SocketAddress (a plain value the core uses) and the kernel's
// sockaddr structures, plus name resolution for the command-line tools.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>

#include "common/address.h"
#include "common/error.h"

namespace io {

// Writes `a` into `out`; returns the length to pass to the kernel.
socklen_t to_sockaddr(const quic::SocketAddress& a, sockaddr_storage& out);
// nullopt for families other than AF_INET/AF_INET6. IPv4-mapped IPv6 addresses stay IPv6.
std::optional<quic::SocketAddress> from_sockaddr(const sockaddr* sa, socklen_t len);

// Resolves "host" + port (getaddrinfo, numeric or DNS), preferring the requested family.
quic::Result<quic::SocketAddress> resolve(const std::string& host, uint16_t port, bool want_v6);

// The local address the kernel would use to reach `remote` (a connected UDP socket's name,
// no packet sent); the port is 0.
quic::Result<quic::SocketAddress> route_source(const quic::SocketAddress& remote);

// The unspecified address of a family ("0.0.0.0" / "::") with `port`.
quic::SocketAddress any_address(bool v6, uint16_t port);
bool is_unspecified(const quic::SocketAddress& a);

}  // namespace io

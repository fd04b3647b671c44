// Client side of multipath QUIC over real sockets (docs/io.md, "Multipath"): one UDP socket per
// extra local address given with --path / --backup-path, the paths asked of the connection
// (the core opens them once the handshake is confirmed and names each transmit's local address,
// which the driver maps back to the socket bound to it), and the per-path figures printed at the
// end of a run.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli_fwd.h"

#include "apps/net_options.h"
#include "core/connection.h"
#include "io/udp_socket.h"

namespace apps {

struct PathOptions {
  std::vector<std::string> paths;         // "IP" or "IP:PORT" each: an extra available path
  std::vector<std::string> backup_paths;  // the same, marked backup (PATH_STATUS_BACKUP)
};
void add_path_options(CLI::App& cmd, PathOptions& o);

struct ExtraPath {
  std::unique_ptr<io::UdpSocket> socket;
  bool backup = false;
};
struct PathRequest {
  quic::SocketAddress local;
  bool backup = false;
};

// Binds one socket per address (port 0 unless given). Fails with rc = kExitUsage for a
// malformed address, --path without --multipath, or a family other than the server's; with
// kExitUsage too when the address cannot be bound (it is not configured on this host).
std::optional<std::vector<ExtraPath>> open_extra_paths(const PathOptions& o, const NetOptions& net,
                                                       const quic::SocketAddress& remote,
                                                       int& rc);
std::vector<io::UdpSocket*> all_sockets(io::UdpSocket* primary,
                                        const std::vector<ExtraPath>& extra);
std::vector<PathRequest> path_requests(const std::vector<ExtraPath>& extra);

struct PathFigures {
  uint64_t id = 0;
  quic::SocketAddress local, remote;
  uint64_t bytes_sent = 0, bytes_received = 0, stream_bytes_sent = 0;
  uint64_t packets_sent = 0, packets_lost = 0;
  quic::Duration srtt{0};
  bool failed = false, backup = false;
};
std::vector<PathFigures> path_figures(const quic::Connection& c);
// One line per path ("path 1 127.0.0.2:40000 -> 127.0.0.1:4433: ..."), or a JSON array.
std::string format_path_figures(const std::vector<PathFigures>& paths, bool json);

}  // namespace apps

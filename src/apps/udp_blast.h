// `tquic udp-blast send|sink` (hidden; for bench/masque_udp.sh): a UDP source that offers
// datagrams at a bounded rate (or as fast as the socket takes them) for a bounded time, with
// sendmmsg and UDP GSO, and a sink that counts what arrives with recvmmsg and GRO. Both are
// cheap enough per datagram that a 2-core machine's figures measure what sits between them
// (the CONNECT-UDP tunnel), not the load generator (docs/performance-datagrams.md).
#pragma once

#include <memory>
#include <optional>

#include "apps/cli_fwd.h"

namespace apps {

// The longest a blast or a sink may run, whatever is asked: every loop here is bounded in time.
inline constexpr double kMaxBlastSeconds = 600;

class UdpBlastCommand {
 public:
  explicit UdpBlastCommand(CLI::App& app);
  ~UdpBlastCommand();
  // The exit code when `udp-blast` was chosen; nullopt otherwise.
  std::optional<int> dispatch() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace apps

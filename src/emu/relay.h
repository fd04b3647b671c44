// The link emulator over real sockets: RelayCore driven by epoll, a timerfd at the core's next
// wake-up (no busy waiting), and a signalfd for SIGINT/SIGTERM. One listening socket faces the
// clients; each flow gets an upstream socket bound to the client's IP (ephemeral port) facing
// the server. `tquic emu` (src/apps/emu_command.cc) is the command line around it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "emu/relay_core.h"
#include "io/udp_socket.h"

namespace emu {

struct RelayStats {
  uint64_t from_clients = 0, from_server = 0;  // datagrams read
  uint64_t to_server = 0, to_clients = 0;      // datagrams written
  uint64_t send_drops = 0;       // socket buffer full or send error: dropped like a router would
  uint64_t upstream_fallbacks = 0;  // flows whose upstream socket could not bind the client's IP
  uint64_t wakeups = 0;
  double cpu_seconds = 0;
};

class Relay {
 public:
  // Binds the listening socket; the error names the address.
  static quic::Result<std::unique_ptr<Relay>> open(const quic::SocketAddress& listen,
                                                   RelayConfig config);
  ~Relay();

  const quic::SocketAddress& listen_address() const { return listen_->local_address(); }
  // Runs until SIGINT/SIGTERM, or until `duration` has passed (zero: no limit).
  quic::Status run(quic::Duration duration);

  const RelayCore& core() const { return *core_; }
  const RelayStats& stats() const { return stats_; }
  // Per link and direction figures plus totals, one line each ("emu link 127.0.0.2 up: ...").
  std::string format_report() const;

 private:
  Relay() = default;
  void read_clients(std::vector<io::RecvDatagram>& got);
  void read_server(uint64_t flow, std::vector<io::RecvDatagram>& got);
  void open_upstream(uint64_t flow, const quic::SocketAddress& client);
  void close_upstream(uint64_t flow);
  void flush(quic::Instant now);

  std::unique_ptr<RelayCore> core_;
  std::unique_ptr<io::UdpSocket> listen_;
  std::unordered_map<uint64_t, std::unique_ptr<io::UdpSocket>> upstream_;
  int epoll_fd_ = -1, timer_fd_ = -1, signal_fd_ = -1;
  quic::Instant armed_ = quic::kNever;
  std::vector<Outgoing> out_;
  RelayStats stats_;
  double cpu0_ = 0;
};

}  // namespace emu

// The control socket's I/O glue (docs/tquicd-control.md): a Unix stream socket (mode 0600)
// on the daemon's io::EndpointDriver loop, one ControlSession per client. Peers are checked
// with SO_PEERCRED: root and the daemon's own uid are served, anyone else gets
// "error permission denied" and is closed and counted, as is a client over kMaxControlClients.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "io/endpoint_driver.h"
#include "tquicd/control.h"

namespace bond {

inline constexpr size_t kMaxControlClients = 8;
inline constexpr size_t kMaxUnixPathLength = 107;  // sizeof(sockaddr_un::sun_path) - 1
// A client that sends nothing for this long is closed (monitors are exempt), so an idle or
// stuck client cannot hold one of the few slots forever.
inline constexpr quic::Duration kControlIdleTimeout = std::chrono::seconds(60);

struct ControlServerOptions {
  std::string path;
  uid_t daemon_uid = 0;          // served besides root
  size_t max_clients = kMaxControlClients;
  quic::Duration idle_timeout = kControlIdleTimeout;
};

class ControlServer {
 public:
  // Binds the socket (replacing a stale socket file at the path, refusing any other file) and
  // registers it on `loop`. The loop and backend must outlive the server.
  static std::expected<std::unique_ptr<ControlServer>, std::string> open(
      io::EndpointDriver& loop, ControlBackend& backend, ControlServerOptions options);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // The daemon calls this after logging events: monitors get them now.
  void notify_events();

  uint64_t refused() const { return refused_; }
  uint64_t accepted() const { return accepted_; }
  uint64_t timed_out() const { return timed_out_; }
  size_t clients() const { return clients_.size(); }

 private:
  struct Client {
    int fd;
    ControlSession session;
    io::EndpointDriver::TimerId idle_timer = 0;
  };
  ControlServer(io::EndpointDriver& loop, ControlBackend& backend, ControlServerOptions options,
                int fd);
  void on_accept();
  void admit(int fd);
  void on_client(int fd, uint32_t ready);
  void flush(Client& c);
  void arm_idle(Client& c);
  void drop(int fd);

  io::EndpointDriver& loop_;
  ControlBackend& backend_;
  ControlServerOptions options_;
  int listen_fd_;
  std::map<int, std::unique_ptr<Client>> clients_;
  uint64_t refused_ = 0, accepted_ = 0, timed_out_ = 0;
  std::pair<dev_t, ino_t> bound_{};  // the socket file we made (unlinked on exit if still ours)
};

}  // namespace bond

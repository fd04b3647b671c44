// Drives a sans-I/O quic::Endpoint over real UDP sockets: an epoll loop whose timerfd follows
// Endpoint::next_timeout() (which already includes the pacer's next send time, so honouring it
// is all pacing needs), batched receive (GRO buffers split into datagrams) and batched send
// (consecutive equal-size transmits to the same destination become one GSO message).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/endpoint.h"
#include "io/udp_socket.h"

namespace io {

struct DriverStats {
  uint64_t iterations = 0, wakeups = 0, timer_fires = 0;
  uint64_t transmits = 0, messages = 0, blocked = 0;
  uint64_t blackholed_sent = 0, blackholed_received = 0;  // datagrams dropped by set_blackhole
  uint64_t overdue_polls = 0;  // loops where next_timeout() was still due after on_timeout
};

class EndpointDriver {
 public:
  // Called after every batch of input (datagrams, timeouts) so the application reads and
  // writes streams before the driver polls transmits.
  using AppHook = std::function<void(quic::Endpoint&, quic::Instant now)>;

  // The sockets must outlive the driver. A transmit goes out on the socket bound to its local
  // address (IP and port; a wildcard-bound socket matches any IP of its family and port), else
  // the first socket of its family. A multipath client opens one socket per local address, so
  // each path leaves from the address the core recorded for it.
  EndpointDriver(quic::Endpoint& endpoint, std::vector<UdpSocket*> sockets);
  ~EndpointDriver();
  EndpointDriver(const EndpointDriver&) = delete;
  EndpointDriver& operator=(const EndpointDriver&) = delete;

  // Creating epoll/timerfd can fail (fd limits); check once after construction.
  bool ok() const { return epoll_fd_ >= 0 && timer_fd_ >= 0; }
  void set_app(AppHook hook) { app_ = std::move(hook); }
  // Closed connections are reaped after the hook has seen them closed (default on).
  void set_reap_closed(bool on) { reap_ = on; }

  // Runs the loop until `done()` holds (checked after every batch; also after EINTR, so a
  // signal handler can set a flag) or `deadline` passes. Returns whether done() held; an
  // unrecoverable socket error stops the loop and is returned as an error.
  quic::Result<bool> run_until(const std::function<bool()>& done,
                               quic::Instant deadline = quic::kNever);

  const DriverStats& stats() const { return stats_; }

  // Test hook for path failures over real sockets: while on, everything the socket receives
  // is read and discarded and every transmit routed to it is dropped, as if its link had died
  // (the kernel still accepts and delivers; only the endpoint stops seeing the traffic).
  void set_blackhole(const UdpSocket* socket, bool on);
  bool blackholed(const UdpSocket* socket) const;

 private:
  struct Pending {
    UdpSocket* socket;
    SendMessage msg;
    bool closed;  // a shorter last segment ended the GSO run
  };
  quic::Status receive(UdpSocket& s, quic::Instant now, bool& more);
  // Polls transmits into the arena and sends them; false while a socket is full.
  quic::Result<bool> flush(quic::Instant now);
  quic::Result<bool> send_pending();
  UdpSocket* socket_for(const quic::SocketAddress& local);
  void arm_timer(quic::Instant deadline);
  void want_writable(bool on);

  quic::Endpoint& endpoint_;
  std::vector<UdpSocket*> sockets_;
  std::vector<bool> readable_;
  std::vector<bool> blackhole_;
  AppHook app_;
  bool reap_ = true;
  int epoll_fd_ = -1, timer_fd_ = -1;
  quic::Instant armed_ = quic::kNever;
  bool writable_armed_ = false;

  std::vector<uint8_t> arena_;
  std::vector<Pending> pending_;
  size_t pending_head_ = 0;
  std::vector<RecvDatagram> rx_;
  DriverStats stats_;
};

}  // namespace io

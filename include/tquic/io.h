// Running an Endpoint over real UDP sockets: non-blocking sockets (GSO/GRO, ECN, batching) and
// an epoll loop whose timer follows Endpoint::next_timeout(). The only part of the API that
// reads a clock (monotonic_now) or touches the OS network stack. Linux only.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <vector>

#include "tquic/address.h"
#include "tquic/endpoint.h"
#include "tquic/error.h"
#include "tquic/time.h"

namespace tquic::io {

// CLOCK_MONOTONIC as a tquic::Instant: the epoch the Driver uses for every call it makes.
Instant monotonic_now();

struct SocketOptions {
  bool gso = true;             // UDP_SEGMENT when the kernel accepts it
  bool gro = true;             // UDP_GRO when the kernel accepts it
  int buffer_bytes = 4 << 20;  // SO_RCVBUF / SO_SNDBUF request
};

class UdpSocket {
 public:
  // Binds to `bind` (port 0: an ephemeral port). Errors: the failing call and its errno.
  [[nodiscard]] static std::expected<UdpSocket, IoError> open(const Address& bind,
                                                              const SocketOptions& options = {});
  UdpSocket(UdpSocket&&) noexcept;
  UdpSocket& operator=(UdpSocket&&) noexcept;
  ~UdpSocket();

  // The bound address with its port resolved (the IP may be unspecified).
  Address local_address() const;
  int fd() const;

 private:
  friend class Driver;
  struct Impl;
  explicit UdpSocket(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Driver {
 public:
  // Called after every batch of input (datagrams, timeouts) with the driver's time, before the
  // driver polls transmits: read and write streams, poll events, drive h3 sessions here.
  using AppHook = std::function<void(Endpoint&, Instant now)>;

  // The endpoint and sockets must outlive the driver, and the endpoint must stay where it is
  // (not be moved from) while the driver exists: the hook is handed that object. A transmit leaves on the socket bound to
  // its local address, else the first socket of its family. Errors: epoll/timerfd creation.
  [[nodiscard]] static std::expected<Driver, IoError> create(Endpoint& endpoint,
                                                             std::vector<UdpSocket*> sockets);
  Driver(Driver&&) noexcept;
  Driver& operator=(Driver&&) noexcept;
  ~Driver();

  void set_app(AppHook hook);
  // Closed connections are reaped after the hook has seen them closed (default on).
  void set_reap_closed(bool on);
  // Runs until done() holds (checked after every batch) or `deadline` (monotonic_now() time)
  // passes; returns whether done() held. Errors: a socket or epoll call failed for good.
  [[nodiscard]] std::expected<bool, IoError> run_until(const std::function<bool()>& done,
                                                       Instant deadline = kNever);

 private:
  struct Impl;
  explicit Driver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tquic::io

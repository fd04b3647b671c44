// Drives a sans-I/O quic::Endpoint over real UDP sockets, and is the event loop an application
// (a daemon) lives in: an epoll loop whose timerfd follows Endpoint::next_timeout(), the
// application's timers and the send time of held transmits; batched receive (GRO buffers split
// into datagrams) and batched send (io/send_queue.h). Besides the endpoint's sockets, which may be
// added and removed while the loop runs, it watches any file descriptor the application
// registers (TUN, netlink, signalfd, listeners ...) and calls its handler on readiness.
// Single-threaded: every method but wake() must be called on the loop's thread (from handlers,
// timers, deferred callbacks, the app hook, or between run_until calls).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "core/endpoint.h"
#include "io/send_queue.h"
#include "io/udp_socket.h"

namespace io {

// Readiness bits: asked for by register_fd/modify_fd (kReadable, kWritable) and reported to
// handlers (kError and kHangup are always reported, never asked for).
inline constexpr uint32_t kReadable = 1, kWritable = 2, kError = 4, kHangup = 8;

struct DriverStats {
  uint64_t iterations = 0, wakeups = 0, timer_fires = 0;
  uint64_t transmits = 0;
  // Transmits the core built as GSO runs (more than one datagram) and the datagrams in them.
  uint64_t core_runs = 0, core_run_datagrams = 0;
  uint64_t blackholed_sent = 0, blackholed_received = 0;  // datagrams dropped by set_blackhole
  uint64_t overdue_polls = 0;  // loops where next_timeout() was still due after on_timeout
  // Datagrams dropped because no socket is bound to their local address (its link is gone).
  uint64_t unrouted = 0;
  uint64_t fd_events = 0, app_timers_fired = 0, deferred_run = 0;
};

class EndpointDriver {
 public:
  // Called after every batch of input (datagrams, timeouts, handlers) so the application reads
  // and writes streams before the driver polls transmits.
  using AppHook = std::function<void(quic::Endpoint&, quic::Instant now)>;
  // Called with the readiness (kReadable | kWritable | kError | kHangup) of a registered fd.
  using FdHandler = std::function<void(int fd, uint32_t ready)>;
  using TimerHandler = std::function<void(quic::Instant now)>;
  // Told that a socket failed (a receive error that is not EAGAIN or an ICMP report); the
  // socket has already been removed from the loop and may be destroyed by the handler.
  using SocketErrorHandler = std::function<void(UdpSocket& socket, const quic::Error& error)>;
  using TimerId = uint64_t;

  // The sockets must outlive the driver or their remove_socket(). A transmit goes out on the
  // socket bound to its local address (IP and port; a wildcard-bound socket matches any IP of
  // its family and that port); a transmit no socket matches is dropped and counted (unrouted).
  // A multipath client opens one socket per local address, so each path leaves from the
  // address the core recorded for it.
  EndpointDriver(quic::Endpoint& endpoint, std::vector<UdpSocket*> sockets);
  ~EndpointDriver();
  EndpointDriver(const EndpointDriver&) = delete;
  EndpointDriver& operator=(const EndpointDriver&) = delete;

  // Creating epoll/timerfd/eventfd or registering the sockets can fail (fd limits); check once
  // after construction.
  bool ok() const { return ok_; }
  void set_app(AppHook hook) { app_ = std::move(hook); }
  // Closed connections are reaped after the hook has seen them closed (default on).
  void set_reap_closed(bool on) { reap_ = on; }

  // Without a handler a failed socket stops the loop (run_until returns the error); with one,
  // the loop drops that socket, tells the handler and goes on (one link failing, not all).
  void set_socket_error_handler(SocketErrorHandler h) { socket_error_ = std::move(h); }

  // Runs the loop until `done()` holds (checked after every batch; also after EINTR, so a
  // signal handler can set a flag) or `deadline` passes. Returns whether done() held; an
  // unrecoverable socket error with no error handler stops the loop and is returned.
  quic::Result<bool> run_until(const std::function<bool()>& done,
                               quic::Instant deadline = quic::kNever);

  // Sockets while running (a link comes and goes). A removed socket is forgotten at once:
  // what is queued for it is dropped (SendQueueStats::dropped_removed) and the caller may
  // destroy it right after the call, even from a handler.
  quic::Status add_socket(UdpSocket* socket);
  void remove_socket(const UdpSocket* socket);
  size_t socket_count() const { return sockets_.size(); }

  // Extra descriptors. `interest` is kReadable and/or kWritable (0: registered but quiet).
  // Level-triggered: a handler that leaves data unread is called again next iteration.
  // Handlers may register, modify and unregister any fd (their own included) and may close an
  // fd after unregistering it; an event already collected for an fd unregistered meanwhile is
  // not delivered. Unregister before closing: epoll forgets a closed fd silently.
  quic::Status register_fd(int fd, uint32_t interest, FdHandler handler);
  quic::Status modify_fd(int fd, uint32_t interest);
  bool unregister_fd(int fd);  // false: fd was not registered

  // One-shot application timers, fired by the loop at or after `at`; a handler re-arms by
  // adding a new timer. Cancelling an unknown or fired timer returns false.
  TimerId add_timer(quic::Instant at, TimerHandler handler);
  bool cancel_timer(TimerId id);
  // Runs `fn` on the loop before the next app hook and flush, without sleeping in between
  // (a handler that queued stream data defers the work that follows from it).
  void defer(std::function<void()> fn);
  // The only thread-safe method: makes a blocked epoll_wait return (an eventfd), so another
  // thread can hand the loop work through its own queue or flag, checked by done() or a hook.
  void wake();

  const DriverStats& stats() const { return stats_; }
  const SendQueueStats& send_stats() const { return queue_.stats(); }

  // Test hook for path failures over real sockets: while on, everything the socket receives
  // is read and discarded and every transmit routed to it is dropped, as if its link had died
  // (the kernel still accepts and delivers; only the endpoint stops seeing the traffic).
  void set_blackhole(const UdpSocket* socket, bool on);
  bool blackholed(const UdpSocket* socket) const;

 private:
  struct SocketEntry {
    UdpSocket* socket;
    uint64_t id;
    bool readable = true;
    bool blackhole = false;
  };
  struct Watch {
    int fd;
    std::shared_ptr<FdHandler> handler;  // shared: alive while it runs, even if unregistered
  };
  struct Timer {
    quic::Instant at;
    std::shared_ptr<TimerHandler> handler;
  };

  quic::Status receive(SocketEntry& e, quic::Instant now, bool& more);
  quic::Status flush(quic::Instant now);
  bool fill(quic::Instant now);
  SocketEntry* route(const quic::SocketAddress& local);
  SocketEntry* find(const UdpSocket* socket);
  quic::Status receive_all(quic::Instant now, bool& more_input);
  void run_timers(quic::Instant now);
  void run_deferred();
  quic::Instant next_wake(quic::Instant deadline) const;
  quic::Status wait(quic::Instant wake, bool poll_only);
  void dispatch(uint64_t tag, uint32_t events);
  void want_writable(bool on);
  bool epoll_set(int op, int fd, uint32_t events, uint64_t tag);

  quic::Endpoint& endpoint_;
  std::vector<SocketEntry> sockets_;
  std::unordered_map<uint64_t, Watch> watches_;  // by tag
  std::unordered_map<int, uint64_t> watch_tags_;  // fd -> tag
  std::map<TimerId, Timer> timers_;
  std::set<std::pair<quic::Instant, TimerId>> timer_order_;
  std::vector<std::function<void()>> deferred_;
  uint64_t next_id_ = 1;
  AppHook app_;
  SocketErrorHandler socket_error_;
  bool reap_ = true;
  bool ok_ = false;
  int epoll_fd_ = -1, wake_fd_ = -1;
  bool pwait2_ = true;  // epoll_pwait2 exists (until it answers ENOSYS)
  bool writable_armed_ = false;

  SendQueue queue_;
  std::vector<RecvDatagram> rx_;
  DriverStats stats_;
};

}  // namespace io

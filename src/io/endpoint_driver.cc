#include "io/endpoint_driver.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <ctime>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "io/clock.h"
#include "io/sockaddr.h"

namespace io {

namespace {

// epoll user data: a unique id (never reused, so an event collected for a descriptor that was
// unregistered meanwhile finds nothing) shifted left, and what it is in the low two bits.
enum Kind : uint64_t { kWakeFd = 1, kSocket = 2, kWatch = 3 };
constexpr uint64_t tag_of(uint64_t id, Kind kind) { return (id << 2) | kind; }
// Events taken from one epoll_wait; more stay queued in the kernel for the next.
constexpr int kEventBatch = 32;

uint32_t epoll_interest(uint32_t interest) {
  return ((interest & kReadable) ? EPOLLIN : 0u) | ((interest & kWritable) ? EPOLLOUT : 0u);
}

uint32_t readiness(uint32_t events) {
  return ((events & EPOLLIN) ? kReadable : 0u) | ((events & EPOLLOUT) ? kWritable : 0u) |
         ((events & EPOLLERR) ? kError : 0u) | ((events & (EPOLLHUP | EPOLLRDHUP)) ? kHangup : 0u);
}

}  // namespace

EndpointDriver::EndpointDriver(quic::Endpoint& endpoint, std::vector<UdpSocket*> sockets)
    : endpoint_(endpoint) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return;
  ok_ = epoll_set(EPOLL_CTL_ADD, wake_fd_, EPOLLIN, tag_of(0, kWakeFd));
  for (UdpSocket* s : sockets) ok_ = ok_ && add_socket(s).has_value();
}

EndpointDriver::~EndpointDriver() {
  for (int fd : {epoll_fd_, wake_fd_}) {
    if (fd >= 0) close(fd);
  }
}

bool EndpointDriver::epoll_set(int op, int fd, uint32_t events, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  return epoll_ctl(epoll_fd_, op, fd, &ev) == 0;
}

quic::Status EndpointDriver::add_socket(UdpSocket* socket) {
  if (socket == nullptr || find(socket) != nullptr) {
    return quic::fail(0, "add_socket: null or already added");
  }
  uint64_t id = next_id_++;
  uint32_t events = writable_armed_ ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  if (!epoll_set(EPOLL_CTL_ADD, socket->fd(), events, tag_of(id, kSocket))) {
    return quic::fail(0, errno_message("add_socket " + socket->local_address().to_string() +
                                           ": epoll_ctl",
                                       errno));
  }
  // Readable at first: datagrams queued before the socket joined are drained at once.
  sockets_.push_back(SocketEntry{socket, id});
  return {};
}

void EndpointDriver::remove_socket(const UdpSocket* socket) {
  auto it = std::find_if(sockets_.begin(), sockets_.end(),
                         [&](const SocketEntry& e) { return e.socket == socket; });
  if (it == sockets_.end()) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, socket->fd(), nullptr);
  queue_.drop(socket);
  sockets_.erase(it);
}

EndpointDriver::SocketEntry* EndpointDriver::find(const UdpSocket* socket) {
  for (SocketEntry& e : sockets_) {
    if (e.socket == socket) return &e;
  }
  return nullptr;
}

EndpointDriver::SocketEntry* EndpointDriver::route(const quic::SocketAddress& local) {
  SocketEntry* wildcard = nullptr;
  for (SocketEntry& e : sockets_) {
    const quic::SocketAddress& a = e.socket->local_address();
    if (a.v6 != local.v6 || a.port != local.port) continue;
    if (a.same_ip(local)) return &e;
    // A wildcard-bound socket sends from any of its family's IPs (IP_PKTINFO source).
    if (wildcard == nullptr && is_unspecified(a)) wildcard = &e;
  }
  return wildcard;
}

void EndpointDriver::set_blackhole(const UdpSocket* socket, bool on) {
  if (SocketEntry* e = find(socket)) e->blackhole = on;
}

bool EndpointDriver::blackholed(const UdpSocket* socket) const {
  for (const SocketEntry& e : sockets_) {
    if (e.socket == socket) return e.blackhole;
  }
  return false;
}

quic::Status EndpointDriver::register_fd(int fd, uint32_t interest, FdHandler handler) {
  if (fd < 0 || !handler) return quic::fail(0, "register_fd: bad fd or empty handler");
  if (watch_tags_.contains(fd)) {
    return quic::fail(0, "register_fd " + std::to_string(fd) + ": already registered");
  }
  uint64_t tag = tag_of(next_id_++, kWatch);
  if (!epoll_set(EPOLL_CTL_ADD, fd, epoll_interest(interest), tag)) {
    return quic::fail(0, errno_message("register_fd " + std::to_string(fd) + ": epoll_ctl", errno));
  }
  watches_.emplace(tag, Watch{fd, std::make_shared<FdHandler>(std::move(handler))});
  watch_tags_.emplace(fd, tag);
  return {};
}

quic::Status EndpointDriver::modify_fd(int fd, uint32_t interest) {
  auto it = watch_tags_.find(fd);
  if (it == watch_tags_.end()) {
    return quic::fail(0, "modify_fd " + std::to_string(fd) + ": not registered");
  }
  if (!epoll_set(EPOLL_CTL_MOD, fd, epoll_interest(interest), it->second)) {
    return quic::fail(0, errno_message("modify_fd " + std::to_string(fd) + ": epoll_ctl", errno));
  }
  return {};
}

bool EndpointDriver::unregister_fd(int fd) {
  auto it = watch_tags_.find(fd);
  if (it == watch_tags_.end()) return false;
  // Fails harmlessly when the fd was already closed (epoll dropped it then).
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  watches_.erase(it->second);  // a running handler survives: dispatch holds its own reference
  watch_tags_.erase(it);
  return true;
}

EndpointDriver::TimerId EndpointDriver::add_timer(quic::Instant at, TimerHandler handler) {
  TimerId id = next_id_++;
  timers_.emplace(id, Timer{at, std::make_shared<TimerHandler>(std::move(handler))});
  timer_order_.emplace(at, id);
  return id;
}

bool EndpointDriver::cancel_timer(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return false;
  timer_order_.erase({it->second.at, id});
  timers_.erase(it);
  return true;
}

void EndpointDriver::defer(std::function<void()> fn) {
  deferred_.push_back(std::move(fn));
}

void EndpointDriver::wake() {
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));  // EAGAIN: the counter is full, a wake is pending
}

void EndpointDriver::run_timers(quic::Instant now) {
  // Only timers that existed on entry: a handler re-arming itself for `now` waits one loop.
  const TimerId last = next_id_;
  for (auto it = timer_order_.begin(); it != timer_order_.end() && it->first <= now;) {
    TimerId id = it->second;
    if (id >= last) {
      ++it;
      continue;
    }
    timer_order_.erase(it);
    auto node = timers_.extract(id);  // fired: cancel_timer(id) now returns false
    ++stats_.app_timers_fired;
    (*node.mapped().handler)(now);
    it = timer_order_.begin();  // the handler may have added or cancelled timers
  }
}

void EndpointDriver::run_deferred() {
  // Callbacks deferred while these run go to the next iteration (which does not sleep).
  std::vector<std::function<void()>> batch;
  batch.swap(deferred_);
  for (auto& fn : batch) {
    ++stats_.deferred_run;
    fn();
  }
}

void EndpointDriver::want_writable(bool on) {
  if (on == writable_armed_) return;
  writable_armed_ = on;
  for (const SocketEntry& e : sockets_) {
    epoll_set(EPOLL_CTL_MOD, e.socket->fd(), on ? (EPOLLIN | EPOLLOUT) : EPOLLIN,
              tag_of(e.id, kSocket));
  }
}

quic::Status EndpointDriver::receive(SocketEntry& e, quic::Instant now, bool& more) {
  auto st = e.socket->recv(rx_);
  more = rx_.size() == kRecvBatch;  // a full batch: more is probably queued
  if (!st) return st;               // not EAGAIN or an ICMP report: the socket is unusable
  for (RecvDatagram& d : rx_) {
    if (e.blackhole) {
      stats_.blackholed_received += datagram_count(d.data.size(), d.segment_size);
      continue;
    }
    // A GRO buffer holds datagrams of segment_size bytes back to back (the last may be shorter).
    size_t seg = d.segment_size == 0 ? d.data.size() : d.segment_size;
    for (size_t off = 0; off < d.data.size(); off += seg) {
      size_t len = std::min(seg, d.data.size() - off);
      endpoint_.on_datagram(now, d.local, d.remote, d.ecn, d.data.subspan(off, len));
    }
  }
  return {};
}

quic::Status EndpointDriver::receive_all(quic::Instant now, bool& more_input) {
  std::vector<std::pair<UdpSocket*, quic::Error>> failed;
  // on_datagram calls nothing of the application's, so sockets_ is stable in this loop.
  for (SocketEntry& e : sockets_) {
    if (!e.readable) continue;
    bool more = false;
    if (auto st = receive(e, now, more); !st) {
      if (!socket_error_) return st;
      failed.emplace_back(e.socket, st.error());
    }
    e.readable = more;
    more_input |= more;
  }
  for (auto& [socket, error] : failed) {
    remove_socket(socket);
    SocketErrorHandler handler = socket_error_;  // it may replace (or clear) itself
    if (handler) handler(*socket, error);
  }
  return {};
}

// Polls transmits into the queue until the batch is full (false), the endpoint has nothing more
// or queued a transmit to be held until its send time (true: poll no more this round).
bool EndpointDriver::fill(quic::Instant now) {
  // The core builds GSO runs itself when a socket can send them; a run routed to a socket
  // without GSO is split into single datagrams by the queue.
  const bool gso = std::ranges::any_of(sockets_, [](const SocketEntry& e) {
    return e.socket->gso_enabled();
  });
  for (;;) {
    quic::MutBytes slot = queue_.slot();
    if (slot.empty()) return false;
    auto t = endpoint_.poll_transmit(now, slot, gso ? kMaxGsoSegments : 1);
    if (!t) return true;
    ++stats_.transmits;
    if (t->segment_size != 0) {
      ++stats_.core_runs;
      stats_.core_run_datagrams += datagram_count(t->size, t->segment_size);
    }
    SocketEntry* e = route(t->local);
    if (e == nullptr || e->blackhole) {
      // The slot is reused by the next transmit. No socket: its link went away; the core's
      // loss recovery and path management deal with it like any loss.
      (e == nullptr ? stats_.unrouted : stats_.blackholed_sent) +=
          datagram_count(t->size, t->segment_size);
      continue;
    }
    queue_.push(e->socket, *t, now);
    if (t->send_at > now) return true;
  }
}

quic::Status EndpointDriver::flush(quic::Instant now) {
  bool exhausted = false;
  for (;;) {
    auto r = queue_.send(now);
    if (!r) return std::unexpected(r.error());
    want_writable(*r == SendQueue::State::kBlocked);
    if (*r != SendQueue::State::kDrained || exhausted) return {};
    exhausted = fill(now);
    if (queue_.empty()) return {};
  }
}

quic::Instant EndpointDriver::next_wake(quic::Instant deadline) const {
  quic::Instant wake = std::min(endpoint_.next_timeout(), deadline);
  if (!timer_order_.empty()) wake = std::min(wake, timer_order_.begin()->first);
  // Held (not blocked): the head waits for its send time, not for EPOLLOUT.
  if (!queue_.empty() && !writable_armed_) wake = std::min(wake, queue_.held_until());
  return wake;
}

void EndpointDriver::dispatch(uint64_t tag, uint32_t events) {
  switch (static_cast<Kind>(tag & 3)) {
    case kWakeFd: {
      uint64_t count;
      (void)!read(wake_fd_, &count, sizeof(count));
      return;
    }
    case kSocket:
      for (SocketEntry& e : sockets_) {
        if (tag_of(e.id, kSocket) == tag && (events & (EPOLLIN | EPOLLERR))) e.readable = true;
      }
      return;
    case kWatch: {
      auto it = watches_.find(tag);
      if (it == watches_.end()) return;  // unregistered by an earlier handler of this batch
      int fd = it->second.fd;
      std::shared_ptr<FdHandler> handler = it->second.handler;
      ++stats_.fd_events;
      (*handler)(fd, readiness(events));
      return;
    }
  }
}

quic::Status EndpointDriver::wait(quic::Instant wake, bool poll_only) {
  // The next deadline is the wait's own timeout, to the nanosecond (epoll_pwait2, Linux 5.11):
  // a timer descriptor would cost a timerfd_settime on almost every turn of a busy loop, since
  // the pacer moves the deadline each time. Kernels without it get epoll_wait's milliseconds,
  // rounded up (late by under 1 ms, never early).
  epoll_event events[kEventBatch];
  int64_t ns = -1;  // none: wait for an event
  if (poll_only) {
    ns = 0;
  } else if (wake != quic::kNever) {
    ns = std::max<int64_t>(0, quic::to_ns(wake) - quic::to_ns(monotonic_now()));
  }
  int n = -1;
  if (pwait2_) {
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    n = epoll_pwait2(epoll_fd_, events, kEventBatch, ns < 0 ? nullptr : &ts, nullptr);
    if (n < 0 && errno == ENOSYS) pwait2_ = false;
  }
  if (!pwait2_) {
    const int64_t ms = ns < 0 ? -1 : std::min<int64_t>((ns + 999'999) / 1'000'000, INT32_MAX);
    n = epoll_wait(epoll_fd_, events, kEventBatch, static_cast<int>(ms));
  }
  if (n < 0) {
    if (errno == EINTR) return {};
    return quic::fail(0, errno_message("epoll_wait", errno));
  }
  for (int i = 0; i < n; ++i) dispatch(events[i].data.u64, events[i].events);
  return {};
}

quic::Result<bool> EndpointDriver::run_until(const std::function<bool()>& done,
                                             quic::Instant deadline) {
  for (SocketEntry& e : sockets_) e.readable = true;
  for (;;) {
    ++stats_.iterations;
    quic::Instant now = monotonic_now();
    bool more_input = false;
    if (auto st = receive_all(now, more_input); !st) return std::unexpected(st.error());
    if (endpoint_.next_timeout() <= now) {
      endpoint_.on_timeout(now);
      ++stats_.timer_fires;
    }
    run_timers(now);
    run_deferred();
    if (app_) app_(endpoint_, now);
    if (auto st = flush(now); !st) return std::unexpected(st.error());
    if (reap_) endpoint_.reap_closed();
    if (done()) return true;
    now = monotonic_now();
    if (now >= deadline) return false;

    // Busy sockets or deferred work: go round again without sleeping, but still collect the
    // registered descriptors' events so a busy QUIC socket cannot starve them.
    bool busy = more_input || !deferred_.empty();
    if (busy && watches_.empty()) continue;
    quic::Instant wake = next_wake(deadline);
    // An overdue deadline (the core still has something due right after on_timeout, e.g. a
    // pacer release) must not starve input: poll readiness without sleeping rather than
    // looping straight back, or datagrams wait until the deadline moves.
    bool overdue = wake <= now;
    if (overdue && !busy) ++stats_.overdue_polls;
    if (!overdue && !busy) ++stats_.wakeups;
    if (auto st = wait(wake, busy || overdue); !st) return std::unexpected(st.error());
  }
}

}  // namespace io

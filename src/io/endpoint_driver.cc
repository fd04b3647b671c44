#include "io/endpoint_driver.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "io/clock.h"

namespace io {

namespace {

// The send arena holds one sendmmsg batch; every transmit gets at least a full datagram's room.
constexpr size_t kSendArena = 1 << 20;
constexpr size_t kSlot = 1500;  // the core never builds datagrams above its max_mtu (< 1500)
// epoll user data: sockets are 0..n-1, the timer this value.
constexpr uint64_t kTimerTag = ~0ull;

}  // namespace

EndpointDriver::EndpointDriver(quic::Endpoint& endpoint, std::vector<UdpSocket*> sockets)
    : endpoint_(endpoint),
      sockets_(std::move(sockets)),
      readable_(sockets_.size(), true),
      blackhole_(sockets_.size(), false),
      arena_(kSendArena) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (!ok()) return;
  for (size_t i = 0; i < sockets_.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, sockets_[i]->fd(), &ev);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kTimerTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);
}

EndpointDriver::~EndpointDriver() {
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (timer_fd_ >= 0) close(timer_fd_);
}

UdpSocket* EndpointDriver::socket_for(const quic::SocketAddress& local) {
  UdpSocket* family_match = nullptr;
  UdpSocket* port_match = nullptr;
  for (UdpSocket* s : sockets_) {
    const quic::SocketAddress& a = s->local_address();
    if (a.v6 != local.v6) continue;
    if (a.port == local.port) {
      if (a.same_ip(local)) return s;
      // A wildcard-bound socket sends from any of its family's IPs (IP_PKTINFO source).
      if (port_match == nullptr || a.ip == quic::SocketAddress{}.ip) port_match = s;
    }
    if (family_match == nullptr) family_match = s;
  }
  if (port_match != nullptr) return port_match;
  return family_match ? family_match : sockets_.front();
}

void EndpointDriver::set_blackhole(const UdpSocket* socket, bool on) {
  for (size_t i = 0; i < sockets_.size(); ++i) {
    if (sockets_[i] == socket) blackhole_[i] = on;
  }
}

bool EndpointDriver::blackholed(const UdpSocket* socket) const {
  for (size_t i = 0; i < sockets_.size(); ++i) {
    if (sockets_[i] == socket) return blackhole_[i];
  }
  return false;
}

void EndpointDriver::arm_timer(quic::Instant deadline) {
  if (deadline == armed_) return;
  armed_ = deadline;
  itimerspec its{};
  if (deadline != quic::kNever) {
    int64_t ns = std::max<int64_t>(quic::to_ns(deadline), 1);  // 0 would disarm
    its.it_value.tv_sec = ns / 1'000'000'000;
    its.it_value.tv_nsec = ns % 1'000'000'000;
  }
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &its, nullptr);
}

void EndpointDriver::want_writable(bool on) {
  if (on == writable_armed_) return;
  writable_armed_ = on;
  for (size_t i = 0; i < sockets_.size(); ++i) {
    epoll_event ev{};
    ev.events = on ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, sockets_[i]->fd(), &ev);
  }
}

quic::Status EndpointDriver::receive(UdpSocket& s, quic::Instant now, bool& more) {
  auto st = s.recv(rx_);
  more = rx_.size() == kRecvBatch;  // a full batch: more is probably queued
  if (!st) return st;               // not EAGAIN or an ICMP report: the socket is unusable
  if (blackholed(&s)) {
    for (const RecvDatagram& d : rx_) {
      size_t seg = d.segment_size == 0 ? d.data.size() : d.segment_size;
      stats_.blackholed_received += seg == 0 ? 0 : (d.data.size() + seg - 1) / seg;
    }
    return {};
  }
  for (RecvDatagram& d : rx_) {
    // A GRO buffer holds datagrams of segment_size bytes back to back (the last may be shorter).
    size_t seg = d.segment_size == 0 ? d.data.size() : d.segment_size;
    for (size_t off = 0; off < d.data.size(); off += seg) {
      size_t len = std::min(seg, d.data.size() - off);
      endpoint_.on_datagram(now, d.local, d.remote, d.ecn, d.data.subspan(off, len));
    }
  }
  return {};
}

quic::Result<bool> EndpointDriver::send_pending() {
  while (pending_head_ < pending_.size()) {
    UdpSocket* s = pending_[pending_head_].socket;
    size_t end = pending_head_;
    while (end < pending_.size() && pending_[end].socket == s) ++end;
    std::vector<SendMessage> msgs;  // small: at most one batch
    msgs.reserve(end - pending_head_);
    for (size_t i = pending_head_; i < end; ++i) msgs.push_back(pending_[i].msg);
    auto n = s->send(msgs);
    if (!n) return std::unexpected(n.error());
    stats_.messages += *n;
    pending_head_ += *n;
    if (*n < msgs.size()) {
      ++stats_.blocked;
      want_writable(true);
      return false;
    }
  }
  pending_.clear();
  pending_head_ = 0;
  want_writable(false);
  return true;
}

quic::Result<bool> EndpointDriver::flush(quic::Instant now) {
  if (pending_head_ < pending_.size()) {
    auto r = send_pending();
    if (!r || !*r) return r;
  }
  for (;;) {
    pending_.clear();
    pending_head_ = 0;
    size_t used = 0;
    bool exhausted = false;
    while (pending_.size() < kSendBatch && arena_.size() - used >= kSlot) {
      quic::MutBytes slot(arena_.data() + used, std::min(arena_.size() - used, kMaxUdpPayload));
      auto t = endpoint_.poll_transmit(now, slot);
      if (!t) {
        exhausted = true;
        break;
      }
      ++stats_.transmits;
      UdpSocket* s = socket_for(t->local);
      if (blackholed(s)) {
        size_t seg = t->segment_size == 0 ? t->size : t->segment_size;
        stats_.blackholed_sent += (t->size + seg - 1) / seg;
        continue;  // the arena slot is reused by the next transmit
      }
      quic::Bytes data(arena_.data() + used, t->size);
      used += t->size;
      if (!pending_.empty() && s->gso_enabled() && t->segment_size == 0) {
        Pending& last = pending_.back();
        size_t seg = last.msg.segment_size == 0 ? last.msg.data.size() : last.msg.segment_size;
        // The datagram extends the last message when it continues a run of equal-size
        // datagrams to the same peer with the same ECN mark; a shorter one ends the run.
        if (!last.closed && last.socket == s && last.msg.remote == t->remote &&
            last.msg.local == t->local && last.msg.ecn == t->ecn && t->size <= seg &&
            last.msg.data.data() + last.msg.data.size() == data.data() &&
            last.msg.data.size() + t->size <= kMaxUdpPayload &&
            last.msg.data.size() / seg + 1 <= kMaxGsoSegments) {
          last.msg.data = quic::Bytes(last.msg.data.data(), last.msg.data.size() + t->size);
          last.msg.segment_size = seg;
          last.closed = t->size < seg;
          continue;
        }
      }
      Pending p{s, SendMessage{t->local, t->remote, t->ecn, data, t->segment_size}, false};
      if (t->segment_size != 0 && t->segment_size < t->size && !s->gso_enabled()) {
        // The core built a GSO run itself but GSO is off here: one message per datagram.
        for (size_t off = 0; off < t->size; off += t->segment_size) {
          p.msg.data = data.subspan(off, std::min(t->segment_size, t->size - off));
          p.msg.segment_size = 0;
          pending_.push_back(p);
        }
        continue;
      }
      p.closed = t->segment_size != 0;
      pending_.push_back(p);
    }
    if (pending_.empty()) return true;
    auto r = send_pending();
    if (!r || !*r) return r;
    if (exhausted) return true;
  }
}

quic::Result<bool> EndpointDriver::run_until(const std::function<bool()>& done,
                                             quic::Instant deadline) {
  std::fill(readable_.begin(), readable_.end(), true);
  for (;;) {
    ++stats_.iterations;
    quic::Instant now = monotonic_now();
    bool more_input = false;
    for (size_t i = 0; i < sockets_.size(); ++i) {
      if (!readable_[i]) continue;
      bool more = false;
      if (auto st = receive(*sockets_[i], now, more); !st) return std::unexpected(st.error());
      readable_[i] = more;
      more_input |= more;
    }
    if (endpoint_.next_timeout() <= now) {
      endpoint_.on_timeout(now);
      ++stats_.timer_fires;
    }
    if (app_) app_(endpoint_, now);
    auto f = flush(now);
    if (!f) return std::unexpected(f.error());
    if (reap_) endpoint_.reap_closed();
    if (done()) return true;
    now = monotonic_now();
    if (now >= deadline) return false;
    if (more_input) continue;

    quic::Instant wake = std::min(endpoint_.next_timeout(), deadline);
    // An overdue deadline (the core still has something due right after on_timeout, e.g. a
    // pacer release) must not starve input: poll the sockets' readiness without sleeping
    // rather than looping straight back, or datagrams wait until the deadline moves.
    bool overdue = wake <= now;
    if (!overdue) arm_timer(wake);
    epoll_event events[8];
    int n = epoll_wait(epoll_fd_, events, 8, overdue ? 0 : -1);
    if (!overdue) ++stats_.wakeups;
    if (overdue) ++stats_.overdue_polls;
    if (n < 0) {
      if (errno == EINTR) continue;
      return quic::fail(0, std::string("epoll_wait: ") + std::strerror(errno));
    }
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == kTimerTag) {
        uint64_t expirations;
        (void)!read(timer_fd_, &expirations, sizeof(expirations));
        armed_ = quic::kNever;
      } else if (tag < sockets_.size()) {
        if (events[i].events & (EPOLLIN | EPOLLERR)) readable_[tag] = true;
      }
    }
  }
}

}  // namespace io

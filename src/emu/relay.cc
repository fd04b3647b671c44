#include "emu/relay.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "io/clock.h"
#include "io/sockaddr.h"

namespace emu {
namespace {

// epoll user data: fixed tags below kFlowTag, flow id + kFlowTag for upstream sockets.
constexpr uint64_t kListenTag = 0, kTimerTag = 1, kSignalTag = 2, kFlowTag = 16;
// recvmmsg calls per readable socket per wake-up: bounded so one busy direction cannot starve
// the other or the timer (level-triggered epoll brings us back).
constexpr int kReadsPerWake = 8;
constexpr quic::Duration kExpirySweep = std::chrono::seconds(1);

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

io::SocketOptions relay_socket_options(int buffer_bytes) {
  io::SocketOptions o;
  o.gso = false;  // datagrams leave one by one, each at its own time
  o.gro = true;
  o.buffer_bytes = buffer_bytes;
  return o;
}

void epoll_add(int epfd, int fd, uint64_t tag) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag;
  epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

// Each datagram of a (possibly GRO-coalesced) receive buffer.
template <typename F>
void each_segment(const io::RecvDatagram& d, F&& f) {
  const size_t seg = d.segment_size ? d.segment_size : d.data.size();
  for (size_t off = 0; off < d.data.size(); off += seg) {
    f(d.data.subspan(off, std::min(seg, d.data.size() - off)));
  }
}

std::string dir_line(const quic::SocketAddress& ip, const char* dir, const sim::DirCounters& c) {
  char buf[512];
  std::string addr = ip.to_string();
  addr = addr.substr(0, addr.rfind(':'));  // port 0 is noise
  std::snprintf(buf, sizeof(buf),
                "emu link %s %s: offered %llu pkts %llu B, forwarded %llu pkts %llu B, dropped "
                "loss %llu queue %llu blackhole %llu, corrupted %llu, reordered %llu\n",
                addr.c_str(), dir, (unsigned long long)c.sent_packets,
                (unsigned long long)c.sent_bytes, (unsigned long long)c.delivered_packets,
                (unsigned long long)c.delivered_bytes, (unsigned long long)c.dropped_loss,
                (unsigned long long)c.dropped_queue, (unsigned long long)c.dropped_blackhole,
                (unsigned long long)c.corrupted, (unsigned long long)c.reordered);
  return buf;
}

}  // namespace

quic::Result<std::unique_ptr<Relay>> Relay::open(const quic::SocketAddress& listen,
                                                 RelayConfig config) {
  std::unique_ptr<Relay> r(new Relay());
  auto sock = io::UdpSocket::open(listen, relay_socket_options(8 << 20));
  if (!sock) {
    return quic::fail(quic::err::kInternalError,
                      "cannot bind " + listen.to_string() + ": " + sock.error().reason);
  }
  r->listen_ = std::move(*sock);
  r->core_ = std::make_unique<RelayCore>(std::move(config), io::monotonic_now());
  r->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  r->timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  // Blocked here and read from a signalfd: a signal can't slip in between a check and the wait.
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  r->signal_fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (r->epoll_fd_ < 0 || r->timer_fd_ < 0 || r->signal_fd_ < 0) {
    return quic::fail(quic::err::kInternalError, std::string("epoll/timerfd/signalfd: ") +
                                                std::strerror(errno));
  }
  epoll_add(r->epoll_fd_, r->listen_->fd(), kListenTag);
  epoll_add(r->epoll_fd_, r->timer_fd_, kTimerTag);
  epoll_add(r->epoll_fd_, r->signal_fd_, kSignalTag);
  r->cpu0_ = cpu_seconds();
  return r;
}

Relay::~Relay() {
  for (int fd : {epoll_fd_, timer_fd_, signal_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void Relay::open_upstream(uint64_t flow, const quic::SocketAddress& client) {
  // Bound to the client's IP so the server sees one source address per client path (what a
  // multipath server needs to tell paths apart); a non-local client IP falls back to the
  // wildcard, which still gives each flow its own port.
  quic::SocketAddress bind = client;
  bind.port = 0;
  auto s = io::UdpSocket::open(bind, relay_socket_options(1 << 20));
  if (!s) {
    ++stats_.upstream_fallbacks;
    s = io::UdpSocket::open(io::any_address(client.v6, 0), relay_socket_options(1 << 20));
  }
  if (!s) {
    std::fprintf(stderr, "tquic emu: no upstream socket for %s: %s\n", client.to_string().c_str(),
                 s.error().reason.c_str());
    core_->close_flow(flow);
    return;
  }
  epoll_add(epoll_fd_, (*s)->fd(), kFlowTag + flow);
  upstream_.emplace(flow, std::move(*s));
}

void Relay::close_upstream(uint64_t flow) {
  auto it = upstream_.find(flow);
  if (it == upstream_.end()) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second->fd(), nullptr);
  upstream_.erase(it);
}

void Relay::read_clients(std::vector<io::RecvDatagram>& got) {
  for (int i = 0; i < kReadsPerWake; ++i) {
    if (!listen_->recv(got) || got.empty()) return;
    const quic::Instant now = io::monotonic_now();
    for (const io::RecvDatagram& d : got) {
      each_segment(d, [&](quic::Bytes seg) {
        ++stats_.from_clients;
        auto a = core_->from_client(now, d.remote, d.ecn, seg);
        if (a && a->created) open_upstream(a->flow, d.remote);
      });
    }
  }
}

void Relay::read_server(uint64_t flow, std::vector<io::RecvDatagram>& got) {
  auto it = upstream_.find(flow);
  if (it == upstream_.end()) return;
  for (int i = 0; i < kReadsPerWake; ++i) {
    if (!it->second->recv(got) || got.empty()) return;
    const quic::Instant now = io::monotonic_now();
    for (const io::RecvDatagram& d : got) {
      each_segment(d, [&](quic::Bytes seg) {
        ++stats_.from_server;
        core_->from_server(now, flow, d.ecn, seg);
      });
    }
  }
}

void Relay::flush(quic::Instant now) {
  out_.clear();
  core_->poll(now, out_);
  if (out_.empty()) return;
  // One sendmmsg run per socket; datagrams keep their order within a socket.
  std::unordered_map<io::UdpSocket*, std::vector<io::SendMessage>> runs;
  for (const Outgoing& o : out_) {
    io::UdpSocket* s = listen_.get();
    if (o.to_server) {
      auto it = upstream_.find(o.flow);
      if (it == upstream_.end()) {
        ++stats_.send_drops;
        continue;
      }
      s = it->second.get();
    }
    runs[s].push_back(io::SendMessage{s->local_address(), o.to, o.ecn, quic::Bytes(o.payload), 0});
  }
  for (auto& [s, msgs] : runs) {
    auto n = s->send(msgs);
    const size_t sent = n ? *n : 0;
    stats_.send_drops += msgs.size() - sent;
    (s == listen_.get() ? stats_.to_clients : stats_.to_server) += sent;
  }
}

quic::Status Relay::run(quic::Duration duration) {
  const quic::Instant begin = io::monotonic_now();
  const quic::Instant deadline = duration > quic::Duration::zero() ? begin + duration : quic::kNever;
  quic::Instant next_sweep = begin + kExpirySweep;
  std::vector<io::RecvDatagram> got;
  epoll_event evs[64];
  for (;;) {
    quic::Instant now = io::monotonic_now();
    flush(now);
    if (now >= next_sweep) {
      for (uint64_t id : core_->expire(now)) close_upstream(id);
      next_sweep = now + kExpirySweep;
    }
    if (now >= deadline) break;
    const quic::Instant wake = std::min({core_->next_wakeup(), next_sweep, deadline});
    int timeout_ms = -1;
    if (wake <= now) {
      timeout_ms = 0;  // something fell due while we worked: look at the sockets, then go on
    } else if (wake != armed_) {
      itimerspec its{};
      const int64_t ns = quic::to_ns(wake);
      its.it_value.tv_sec = ns / 1000000000;
      its.it_value.tv_nsec = ns % 1000000000;
      timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &its, nullptr);
      armed_ = wake;
    }
    int n = epoll_wait(epoll_fd_, evs, 64, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return quic::fail(quic::err::kInternalError, std::string("epoll_wait: ") + std::strerror(errno));
    }
    ++stats_.wakeups;
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = evs[i].data.u64;
      if (tag == kListenTag) {
        read_clients(got);
      } else if (tag == kTimerTag) {
        uint64_t expirations;
        if (read(timer_fd_, &expirations, sizeof(expirations)) > 0) armed_ = quic::kNever;
      } else if (tag == kSignalTag) {
        stats_.cpu_seconds = cpu_seconds() - cpu0_;
        return {};
      } else {
        read_server(tag - kFlowTag, got);
      }
    }
  }
  stats_.cpu_seconds = cpu_seconds() - cpu0_;
  return {};
}

std::string Relay::format_report() const {
  std::string out;
  for (const LinkReport& l : core_->report()) {
    out += dir_line(l.ip, "up", l.up);
    out += dir_line(l.ip, "down", l.down);
  }
  const RelayCounters& c = core_->counters();
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "emu totals: datagrams from clients %llu, from server %llu, to server %llu, to "
                "clients %llu; flows opened %llu expired %llu; rejected (flow limit) %llu (link "
                "limit) %llu; unroutable %llu; send drops %llu; upstream bind fallbacks %llu; "
                "wakeups %llu; cpu %.3f s\n",
                (unsigned long long)stats_.from_clients, (unsigned long long)stats_.from_server,
                (unsigned long long)stats_.to_server, (unsigned long long)stats_.to_clients,
                (unsigned long long)c.flows_opened, (unsigned long long)c.flows_expired,
                (unsigned long long)c.rejected_flow_limit, (unsigned long long)c.rejected_link_limit,
                (unsigned long long)c.unroutable, (unsigned long long)stats_.send_drops,
                (unsigned long long)stats_.upstream_fallbacks, (unsigned long long)stats_.wakeups,
                stats_.cpu_seconds);
  out += buf;
  return out;
}

}  // namespace emu

#include "tquicd/metrics_server.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "io/clock.h"
#include "io/sockaddr.h"
#include "io/udp_socket.h"

namespace bond {
namespace {

constexpr int kMetricsBacklog = 64;
constexpr size_t kMetricsAcceptsPerWakeup = 16;
constexpr size_t kMetricsReadChunk = 4096;

std::expected<int, std::string> listen_tcp(const quic::SocketAddress& at,
                                           quic::SocketAddress& local) {
  sockaddr_storage ss{};
  socklen_t len = io::to_sockaddr(at, ss);
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(io::errno_message("socket", errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, kMetricsBacklog) != 0) {
    std::string err = io::errno_message("metrics " + at.to_string(), errno);
    close(fd);
    return std::unexpected(err);
  }
  len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  local = io::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).value_or(at);
  return fd;
}

int status_for(HttpParseState s) {
  switch (s) {
    case HttpParseState::kTooLarge: return 431;
    case HttpParseState::kNotAllowed: return 405;
    default: return 400;
  }
}

}  // namespace

std::expected<std::unique_ptr<MetricsServer>, std::string> MetricsServer::open(
    io::EndpointDriver& loop, Handler handler, MetricsServerOptions options) {
  quic::SocketAddress local = options.listen;
  auto fd = listen_tcp(options.listen, local);
  if (!fd) return std::unexpected(fd.error());
  std::unique_ptr<MetricsServer> s(
      new MetricsServer(loop, std::move(handler), std::move(options), *fd, local));
  if (!loop.register_fd(*fd, io::kReadable, [p = s.get()](int, uint32_t) { p->on_accept(); }))
    return std::unexpected("metrics: cannot register on the loop");
  return s;
}

MetricsServer::MetricsServer(io::EndpointDriver& loop, Handler handler,
                             MetricsServerOptions options, int fd, quic::SocketAddress local)
    : loop_(loop), handler_(std::move(handler)), options_(std::move(options)), listen_fd_(fd),
      local_(local) {}

MetricsServer::~MetricsServer() {
  while (!conns_.empty()) drop(conns_.begin()->first);
  loop_.unregister_fd(listen_fd_);
  close(listen_fd_);
}

void MetricsServer::on_accept() {
  for (size_t i = 0; i < kMetricsAcceptsPerWakeup; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (conns_.size() >= options_.max_clients) {
      ++stats_.refused;
      close(fd);
      continue;
    }
    if (!loop_.register_fd(fd, io::kReadable, [this](int f, uint32_t r) { on_conn(f, r); })) {
      close(fd);
      continue;
    }
    ++stats_.accepted;
    auto c = std::make_unique<Conn>(Conn{fd, {}, {}, false, 0});
    // Slowloris bound: the whole exchange must finish within the timeout from accept.
    c->timer = loop_.add_timer(io::monotonic_now() + options_.request_timeout,
                               [this, fd](quic::Instant) { on_timeout(fd); });
    conns_.emplace(fd, std::move(c));
  }
}

void MetricsServer::on_conn(int fd, uint32_t ready) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (ready & io::kReadable) {
    char buf[kMetricsReadChunk];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return drop(fd);
    if (n > 0 && !c.responded) {
      // Keep one byte past the limit so the parser can tell "too large" from "incomplete".
      size_t room = kMaxHttpHead + 1 - c.in.size();
      c.in.append(buf, std::min(room, static_cast<size_t>(n)));
      auto parsed = parse_http_request(c.in);
      if (parsed.state == HttpParseState::kDone) {
        HttpResponse r = handler_(parsed.request);
        r.head_only = parsed.request.method == "HEAD";
        ++stats_.served;
        respond(c, std::move(r));
      } else if (parsed.state != HttpParseState::kIncomplete) {
        ++stats_.bad_requests;
        int code = status_for(parsed.state);
        respond(c, HttpResponse{code, "text/plain; charset=utf-8",
                                std::string(http_reason(code)) + "\n", false});
      }
    }
  } else if (ready & (io::kError | io::kHangup)) {
    return drop(fd);
  }
  flush(c);
}

void MetricsServer::respond(Conn& c, HttpResponse r) {
  c.out = serialize_http_response(r);
  c.responded = true;
  c.in.clear();
  c.in.shrink_to_fit();
}

void MetricsServer::flush(Conn& c) {
  while (!c.out.empty()) {
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    return drop(c.fd);
  }
  if (c.responded && c.out.empty()) {
    // Half-close and read to EOF before closing: closing with unread request bytes would
    // reset the connection and could destroy the response in flight (RFC 9112 §9.6).
    shutdown(c.fd, SHUT_WR);
  }
  loop_.modify_fd(c.fd, io::kReadable | (c.out.empty() ? 0 : io::kWritable));
}

void MetricsServer::on_timeout(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  it->second->timer = 0;
  if (!it->second->responded) {
    ++stats_.timed_out;
    std::string r = serialize_http_response({408, "text/plain; charset=utf-8", "Request Timeout\n",
                                             false});
    (void)!send(fd, r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  drop(fd);
}

void MetricsServer::drop(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  if (it->second->timer) loop_.cancel_timer(it->second->timer);
  loop_.unregister_fd(fd);
  close(fd);
  conns_.erase(it);
}

}  // namespace bond

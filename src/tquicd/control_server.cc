#include "tquicd/control_server.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "io/clock.h"
#include "io/udp_socket.h"

namespace bond {
namespace {

constexpr int kControlBacklog = 16;
constexpr size_t kControlAcceptsPerWakeup = 16;  // a connect flood cannot starve the data path
constexpr size_t kControlReadChunk = 4096;

// Best-effort one-line answer to a refused peer; it is closed right after.
void send_refusal(int fd, std::string_view line) {
  (void)!send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.data(), std::min(path.size(), sizeof addr.sun_path - 1));
  return addr;
}

// A socket file some process still accepts on (a second daemon with the same control.socket
// must not take it over, nor remove it on exit).
bool socket_is_live(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr = unix_address(path);
  bool live = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return live;
}

std::expected<int, std::string> bind_socket(const std::string& path) {
  if (path.empty() || path.size() > kMaxUnixPathLength)
    return std::unexpected("control socket path empty or longer than 107 bytes");
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return std::unexpected(path + ": exists and is not a socket");
    if (socket_is_live(path)) return std::unexpected(path + ": another daemon listens on it");
    unlink(path.c_str());  // stale socket of an earlier run
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(io::errno_message("socket", errno));
  sockaddr_un addr = unix_address(path);
  // The umask makes the socket 0600 from its creation; chmod repeats it for clarity.
  mode_t old = umask(0177);
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  umask(old);
  if (rc != 0 || chmod(path.c_str(), 0600) != 0 || listen(fd, kControlBacklog) != 0) {
    std::string err = io::errno_message(path, errno);
    close(fd);
    return std::unexpected(err);
  }
  return fd;
}

}  // namespace

std::expected<std::unique_ptr<ControlServer>, std::string> ControlServer::open(
    io::EndpointDriver& loop, ControlBackend& backend, ControlServerOptions options) {
  auto fd = bind_socket(options.path);
  if (!fd) return std::unexpected(fd.error());
  std::unique_ptr<ControlServer> s(new ControlServer(loop, backend, std::move(options), *fd));
  auto st = loop.register_fd(*fd, io::kReadable, [p = s.get()](int, uint32_t) { p->on_accept(); });
  if (!st) return std::unexpected("control socket: cannot register on the loop");
  return s;
}

ControlServer::ControlServer(io::EndpointDriver& loop, ControlBackend& backend,
                             ControlServerOptions options, int fd)
    : loop_(loop), backend_(backend), options_(std::move(options)), listen_fd_(fd) {
  struct stat st;
  if (lstat(options_.path.c_str(), &st) == 0) bound_ = {st.st_dev, st.st_ino};
}

ControlServer::~ControlServer() {
  while (!clients_.empty()) drop(clients_.begin()->first);
  loop_.unregister_fd(listen_fd_);
  close(listen_fd_);
  // Only our own socket file: another daemon may have replaced it since.
  struct stat st;
  if (lstat(options_.path.c_str(), &st) == 0 && std::pair{st.st_dev, st.st_ino} == bound_) {
    unlink(options_.path.c_str());
  }
}

void ControlServer::on_accept() {
  for (size_t i = 0; i < kControlAcceptsPerWakeup; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE): tried again next wakeup
    admit(fd);
  }
}

void ControlServer::admit(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      (cred.uid != 0 && cred.uid != options_.daemon_uid)) {
    ++refused_;
    send_refusal(fd, "error permission denied\n");
    close(fd);
    return;
  }
  if (clients_.size() >= options_.max_clients) {
    ++refused_;
    send_refusal(fd, "error too many clients\n");
    close(fd);
    return;
  }
  auto c = std::make_unique<Client>(Client{fd, ControlSession(backend_)});
  if (!loop_.register_fd(fd, io::kReadable, [this](int f, uint32_t r) { on_client(f, r); })) {
    close(fd);
    return;
  }
  ++accepted_;
  arm_idle(*c);
  clients_.emplace(fd, std::move(c));
}

void ControlServer::arm_idle(Client& c) {
  if (c.idle_timer) loop_.cancel_timer(c.idle_timer);
  c.idle_timer = 0;
  if (c.session.monitoring()) return;
  int fd = c.fd;
  c.idle_timer =
      loop_.add_timer(io::monotonic_now() + options_.idle_timeout, [this, fd](quic::Instant) {
        auto it = clients_.find(fd);
        if (it == clients_.end()) return;
        it->second->idle_timer = 0;
        ++timed_out_;
        drop(fd);
      });
}

void ControlServer::on_client(int fd, uint32_t ready) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& c = *it->second;
  if (ready & io::kReadable) {
    char buf[kControlReadChunk];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.session.on_input(std::string_view(buf, static_cast<size_t>(n)));
      arm_idle(c);
    } else if (n == 0) {
      c.session.on_eof();
    } else if (errno != EAGAIN && errno != EINTR) {
      return drop(fd);
    }
  } else if (ready & (io::kError | io::kHangup)) {
    return drop(fd);
  }
  flush(c);
}

void ControlServer::flush(Client& c) {
  while (!c.session.output().empty()) {
    auto out = c.session.output();
    ssize_t n = send(c.fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.session.consume(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    return drop(c.fd);
  }
  if (c.session.output().empty() && c.session.closing()) return drop(c.fd);
  // A closing session reads no more; one with pending output waits for room.
  uint32_t interest = c.session.closing() ? 0 : io::kReadable;
  if (!c.session.output().empty()) interest |= io::kWritable;
  loop_.modify_fd(c.fd, interest);
}

void ControlServer::notify_events() {
  // Collect first: flush() may drop a client and invalidate the iterator.
  std::vector<int> monitors;
  for (auto& [fd, c] : clients_)
    if (c->session.monitoring()) monitors.push_back(fd);
  for (int fd : monitors) {
    auto it = clients_.find(fd);
    if (it == clients_.end()) continue;
    it->second->session.pump_events();
    flush(*it->second);
  }
}

void ControlServer::drop(int fd) {
  auto it = clients_.find(fd);
  if (it != clients_.end() && it->second->idle_timer) loop_.cancel_timer(it->second->idle_timer);
  loop_.unregister_fd(fd);
  close(fd);
  clients_.erase(fd);
}

}  // namespace bond

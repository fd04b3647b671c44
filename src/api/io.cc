// tquic::io over io::UdpSocket and io::EndpointDriver.
#include "tquic/io.h"

#include <cerrno>

#include "api/core.h"
#include "io/clock.h"
#include "io/endpoint_driver.h"
#include "io/udp_socket.h"

namespace tquic::io {

namespace {
// The io layer reports failures as text; errno is still that of the failing call when the
// error comes back (nothing in between makes a system call).
IoError io_error(const quic::Error& e, int saved_errno) { return IoError{saved_errno, e.reason}; }
}  // namespace

Instant monotonic_now() { return detail::from_core(::io::monotonic_now()); }

struct UdpSocket::Impl {
  std::unique_ptr<::io::UdpSocket> socket;
};

UdpSocket::UdpSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UdpSocket::UdpSocket(UdpSocket&&) noexcept = default;
UdpSocket& UdpSocket::operator=(UdpSocket&&) noexcept = default;
UdpSocket::~UdpSocket() = default;

std::expected<UdpSocket, IoError> UdpSocket::open(const Address& bind,
                                                  const SocketOptions& options) {
  ::io::SocketOptions o;
  o.gso = options.gso;
  o.gro = options.gro;
  o.buffer_bytes = options.buffer_bytes;
  errno = 0;
  auto s = ::io::UdpSocket::open(detail::to_core(bind), o);
  if (!s) return std::unexpected(io_error(s.error(), errno));
  return UdpSocket(std::make_unique<Impl>(Impl{std::move(*s)}));
}

Address UdpSocket::local_address() const { return detail::from_core(impl_->socket->local_address()); }
int UdpSocket::fd() const { return impl_->socket->fd(); }

struct Driver::Impl {
  Endpoint* endpoint;
  std::unique_ptr<::io::EndpointDriver> driver;
  AppHook hook;
  // Reaping goes through the facade (EndpointCore::reap_closed) so its per-connection state
  // goes with the connection; the core driver's own reaping stays off.
  bool reap = true;

  void install() {
    driver->set_reap_closed(false);
    driver->set_app([this](quic::Endpoint&, quic::Instant now) {
      if (hook) hook(*endpoint, detail::from_core(now));
      if (reap) detail::EndpointCore::of(*endpoint).reap_closed();
    });
  }
};

Driver::Driver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Driver::Driver(Driver&&) noexcept = default;
Driver& Driver::operator=(Driver&&) noexcept = default;
Driver::~Driver() = default;

std::expected<Driver, IoError> Driver::create(Endpoint& endpoint,
                                              std::vector<UdpSocket*> sockets) {
  std::vector<::io::UdpSocket*> raw;
  raw.reserve(sockets.size());
  for (UdpSocket* s : sockets) {
    if (s == nullptr) return std::unexpected(IoError{EINVAL, "null socket"});
    raw.push_back(s->impl_->socket.get());
  }
  if (raw.empty()) return std::unexpected(IoError{EINVAL, "no socket"});
  errno = 0;
  auto d = std::make_unique<::io::EndpointDriver>(detail::EndpointCore::of(endpoint).endpoint(),
                                                  std::move(raw));
  if (!d->ok()) return std::unexpected(IoError{errno, "epoll_create1/timerfd_create failed"});
  auto impl = std::make_unique<Impl>(Impl{&endpoint, std::move(d), {}, true});
  impl->install();  // the lambda keeps `impl`'s address, which moves of Driver preserve
  return Driver(std::move(impl));
}

void Driver::set_app(AppHook hook) { impl_->hook = std::move(hook); }

void Driver::set_reap_closed(bool on) { impl_->reap = on; }

std::expected<bool, IoError> Driver::run_until(const std::function<bool()>& done,
                                               Instant deadline) {
  errno = 0;
  quic::Instant d = deadline == kNever ? quic::kNever : detail::to_core(deadline);
  auto r = impl_->driver->run_until(done, d);
  if (!r) return std::unexpected(io_error(r.error(), errno));
  return *r;
}

}  // namespace tquic::io

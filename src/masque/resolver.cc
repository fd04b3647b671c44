#include "masque/resolver.h"

#include <ares.h>
#include <netinet/in.h>
#include <sys/time.h>

#include <cstring>
#include <unordered_set>

#include "io/clock.h"
#include "io/endpoint_driver.h"

namespace masque {

namespace {

// c-ares needs a process-wide init once (ares_library_init, documented as not thread-safe: the
// first resolver does it, on the loop thread, before any other use).
bool library_ready() {
  static const bool ok = ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS;
  return ok;
}

ResolveResult from_ares(int status, const ares_addrinfo* res) {
  ResolveResult r;
  switch (status) {
    case ARES_SUCCESS:
      for (const ares_addrinfo_node* n = res ? res->nodes : nullptr; n; n = n->ai_next) {
        quic::SocketAddress a;
        if (n->ai_family == AF_INET && n->ai_addr) {
          std::memcpy(a.ip.data(), &reinterpret_cast<const sockaddr_in*>(n->ai_addr)->sin_addr, 4);
        } else if (n->ai_family == AF_INET6 && n->ai_addr) {
          a.v6 = true;
          std::memcpy(a.ip.data(), &reinterpret_cast<const sockaddr_in6*>(n->ai_addr)->sin6_addr, 16);
        } else {
          continue;
        }
        r.addresses.push_back(a);
      }
      r.status = r.addresses.empty() ? ResolveResult::Status::kNotFound : ResolveResult::Status::kOk;
      if (r.addresses.empty()) r.detail = "no address records";
      return r;
    case ARES_ENOTFOUND:
      r.status = ResolveResult::Status::kNotFound;
      r.rcode = "NXDOMAIN";
      break;
    case ARES_ENODATA:
      r.status = ResolveResult::Status::kNotFound;
      r.rcode = "NOERROR";
      break;
    case ARES_ETIMEOUT:
      r.status = ResolveResult::Status::kTimeout;
      break;
    case ARES_ESERVFAIL:
      r.rcode = "SERVFAIL";
      break;
    case ARES_EREFUSED:
      r.rcode = "REFUSED";
      break;
    case ARES_EFORMERR:
      r.rcode = "FORMERR";
      break;
    case ARES_ENOTIMP:
      r.rcode = "NOTIMP";
      break;
    default:
      break;
  }
  r.detail = ares_strerror(status);
  return r;
}

}  // namespace

struct AresResolver::Impl {
  AresResolver* owner = nullptr;
  ares_channel channel = nullptr;
  std::unordered_set<int> fds;  // registered with the loop
  bool destroying = false;

  struct Ctx {
    AresResolver* owner;
    QueryId id;
  };

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* impl = static_cast<Impl*>(data);
    io::EndpointDriver& loop = impl->owner->loop_;
    uint32_t interest = (readable != 0 ? io::kReadable : 0) | (writable != 0 ? io::kWritable : 0);
    if (interest == 0) {
      if (impl->fds.erase(fd) > 0) loop.unregister_fd(fd);
      return;
    }
    if (impl->fds.contains(fd)) {
      (void)loop.modify_fd(fd, interest);
      return;
    }
    if (impl->destroying) return;
    auto st = loop.register_fd(fd, interest, [impl](int f, uint32_t ready) {
      bool rd = (ready & (io::kReadable | io::kError | io::kHangup)) != 0;
      bool wr = (ready & io::kWritable) != 0;
      ares_process_fd(impl->channel, rd ? f : ARES_SOCKET_BAD, wr ? f : ARES_SOCKET_BAD);
      impl->owner->rearm_timer();
    });
    if (st) impl->fds.insert(fd);
  }

  static void on_done(void* arg, int status, int /*timeouts*/, ares_addrinfo* res) {
    auto* ctx = static_cast<Ctx*>(arg);
    if (status != ARES_EDESTRUCTION) ctx->owner->on_answer(ctx->id, from_ares(status, res));
    if (res != nullptr) ares_freeaddrinfo(res);
    delete ctx;
  }
};

AresResolver::AresResolver(io::EndpointDriver& loop, size_t max_pending)
    : loop_(loop), max_pending_(max_pending), impl_(std::make_unique<Impl>()) {
  impl_->owner = this;
}

quic::Result<std::unique_ptr<AresResolver>> AresResolver::create(io::EndpointDriver& loop,
                                                                 const AresConfig& config) {
  if (!library_ready()) return quic::fail(quic::err::kInternalError, "c-ares: library init failed");
  std::unique_ptr<AresResolver> r(new AresResolver(loop, config.max_pending));
  ares_options opts{};
  opts.sock_state_cb = &Impl::on_sock_state;
  opts.sock_state_cb_data = r->impl_.get();
  opts.timeout = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout).count());
  opts.tries = config.tries;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (int rc = ares_init_options(&r->impl_->channel, &opts, mask); rc != ARES_SUCCESS) {
    return quic::fail(quic::err::kInternalError, std::string("c-ares: ") + ares_strerror(rc));
  }
  if (!config.servers.empty()) {
    if (int rc = ares_set_servers_ports_csv(r->impl_->channel, config.servers.c_str());
        rc != ARES_SUCCESS) {
      return quic::fail(quic::err::kInternalError,
                        "c-ares servers '" + config.servers + "': " + ares_strerror(rc));
    }
  }
  return r;
}

AresResolver::~AresResolver() {
  *alive_ = false;
  impl_->destroying = true;
  queries_.clear();
  if (impl_->channel != nullptr) ares_destroy(impl_->channel);  // on_done sees EDESTRUCTION
  for (int fd : impl_->fds) loop_.unregister_fd(fd);
  if (timer_) loop_.cancel_timer(*timer_);
}

std::optional<Resolver::QueryId> AresResolver::resolve(const std::string& host, Callback done) {
  if (queries_.size() >= max_pending_) return std::nullopt;
  QueryId id = next_id_++;
  queries_[id] = Query{std::move(done), false};
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = ARES_AI_NOSORT;  // sorting would connect() probe sockets on this thread
  ares_getaddrinfo(impl_->channel, host.c_str(), nullptr, &hints, &Impl::on_done,
                   new Impl::Ctx{this, id});
  rearm_timer();
  return id;
}

void AresResolver::cancel(QueryId id) {
  auto it = queries_.find(id);
  if (it == queries_.end()) return;
  // A lookup c-ares still works on keeps its slot (the bound covers c-ares's own state too);
  // its answer is then dropped. A delivered-but-deferred one goes now.
  if (it->second.finished) {
    queries_.erase(it);
  } else {
    it->second.done = nullptr;
  }
}

void AresResolver::on_answer(QueryId id, ResolveResult r) {
  auto it = queries_.find(id);
  if (it == queries_.end()) return;
  if (!it->second.done) {
    queries_.erase(it);
    return;
  }
  it->second.finished = true;
  // Delivered from the loop, never from inside resolve() (c-ares may answer synchronously, e.g.
  // from /etc/hosts) nor from inside c-ares's own processing.
  loop_.defer([this, alive = std::weak_ptr<bool>(alive_), id, r = std::move(r)]() mutable {
    auto guard = alive.lock();
    if (!guard || !*guard) return;
    auto q = queries_.find(id);
    if (q == queries_.end()) return;
    Callback cb = std::move(q->second.done);
    queries_.erase(q);
    if (cb) cb(std::move(r));
  });
}

void AresResolver::rearm_timer() {
  if (timer_) {
    loop_.cancel_timer(*timer_);
    timer_.reset();
  }
  timeval tv{};
  if (impl_->destroying || ares_timeout(impl_->channel, nullptr, &tv) == nullptr) return;
  quic::Instant at = io::monotonic_now() + std::chrono::seconds(tv.tv_sec) +
                     std::chrono::microseconds(tv.tv_usec);
  timer_ = loop_.add_timer(at, [this](quic::Instant) {
    timer_.reset();
    ares_process_fd(impl_->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm_timer();
  });
}

}  // namespace masque

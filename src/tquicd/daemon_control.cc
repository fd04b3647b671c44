#include "tquicd/daemon_control.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "io/clock.h"
#include "tquicd/daemon.h"
#include "tquicd/dashboard.h"
#include "tquicd/status_format.h"

namespace bond {

namespace {

// The socket's directory (/run/tquicd by default) does not survive a reboot: make it.
std::string ensure_parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return {};
  std::string dir = path.substr(0, slash);
  if (mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return {};
  return dir + ": " + std::strerror(errno);
}

}  // namespace

DaemonControl::DaemonControl(const Config& cfg, std::string path, quic::Instant start,
                             ControlHooks hooks)
    : running_(cfg), path_(std::move(path)), hooks_(std::move(hooks)), bus_(start) {
  status_.role = cfg.role;
  status_.tunnel_interface = cfg.tunnel.name;
}

DaemonControl::~DaemonControl() = default;

std::unique_ptr<DaemonControl> DaemonControl::open(
    io::EndpointDriver& loop, const Config& cfg, std::string config_path, quic::Instant start,
    ControlHooks hooks) {
  std::unique_ptr<DaemonControl> d(
      new DaemonControl(cfg, std::move(config_path), start, std::move(hooks)));
  // An endpoint that cannot be opened (a second daemon on the same socket path or port, say)
  // is reported and the daemon runs without it.
  std::string err = ensure_parent_dir(cfg.control_socket);
  if (err.empty()) {
    auto ctl = ControlServer::open(loop, *d, {cfg.control_socket, geteuid()});
    if (ctl) d->ctl_ = std::move(*ctl);
    err = ctl ? "" : ctl.error();
  }
  if (!err.empty()) std::fprintf(stderr, "tquicd: warning: control.socket: %s: no control\n", err.c_str());
  if (cfg.metrics_listen) {
    DaemonControl* self = d.get();
    auto http = MetricsServer::open(
        loop,
        [self](const HttpRequest& r) {
          return dashboard_route(r, self->status(), self->events(), &self->history_);
        },
        {*cfg.metrics_listen});
    if (http) {
      d->http_ = std::move(*http);
    } else {
      std::fprintf(stderr, "tquicd: warning: metrics.listen %s: %s: no metrics\n",
                   cfg.metrics_listen->to_string().c_str(), http.error().c_str());
    }
  }
  // The daemon's log gets a line per event, and monitors hear of it on the loop's next turn:
  // events are pushed from inside control requests (a `monitor` request refreshes the status),
  // and flushing a session from inside its own request could drop it under its feet.
  d->bus_.subscribe([self = d.get(), &loop, alive = std::weak_ptr<bool>(d->alive_)](const Event& e) {
    std::fprintf(stderr, "tquicd: event %s\n", format_event_text(e).c_str());
    if (self->notify_pending_ || !self->ctl_) return;
    self->notify_pending_ = true;
    loop.defer([self, alive] {
      if (alive.expired()) return;
      self->notify_pending_ = false;
      self->ctl_->notify_events();
    });
  });
  return d;
}

void DaemonControl::refresh(quic::Instant now) {
  if (hooks_.refresh) hooks_.refresh(now, status_, bus_);
  status_.uptime_ms = now > bus_.start() ? static_cast<uint64_t>(
                                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   now - bus_.start())
                                                   .count())
                                         : 0;
  status_.control_refused = ctl_ ? ctl_->refused() : 0;
  history_.record(status_);
  refreshed_ = now;
  ever_refreshed_ = true;
}

const Status& DaemonControl::status() {
  quic::Instant now = io::monotonic_now();
  if (!ever_refreshed_ || now - refreshed_ >= kStatusRefresh) refresh(now);
  return status_;
}

void DaemonControl::on_reloaded(const Config& next, const std::vector<std::string>& keys,
                                quic::Instant now) {
  running_ = next;
  overrides_.clear();
  std::string detail = "SIGHUP";
  for (const std::string& k : keys) detail += " " + k;
  bus_.push(now, EventKind::kConfigReloaded, "", detail);
}

bool DaemonControl::reload(const Config& running, quic::Instant now) {
  auto next = reload_config(path_, running);
  if (!next) return false;
  std::vector<std::string> keys = changed_keys(running, *next);
  if (hooks_.apply) hooks_.apply(*next);
  on_reloaded(*next, keys, now);
  return true;
}

std::expected<std::string, std::string> DaemonControl::set(std::string_view key,
                                                           std::string_view value) {
  DaemonRole role = running_.role;
  auto next = config_set(path_, running_, overrides_, key, value,
                         [role](std::string_view k) { return daemon_applies(role, k); });
  if (!next) return std::unexpected(next.error());
  std::string before = running_.values[std::string(key)];
  std::string after = next->values[std::string(key)];
  if (hooks_.apply) hooks_.apply(*next);
  running_ = std::move(*next);
  bus_.push(io::monotonic_now(), EventKind::kConfigReloaded, "",
            "set " + std::string(key) + " " + after);
  return std::string(key) + ": '" + before + "' -> '" + after + "' (until reload or restart)";
}

std::expected<std::string, std::string> DaemonControl::link_admin(std::string_view name,
                                                                  bool up) {
  if (!hooks_.link_admin) return std::unexpected("this daemon has no links (server)");
  auto r = hooks_.link_admin(name, up, io::monotonic_now(), bus_);
  if (r) ever_refreshed_ = false;  // the next view shows the change
  return r;
}

}  // namespace bond

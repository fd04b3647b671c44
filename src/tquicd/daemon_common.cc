#include <signal.h>
#include <systemd/sd-daemon.h>

#include <array>
#include <cstdio>

#include "apps/net_options.h"
#include "core/connection.h"
#include "tquicd/backlog.h"
#include "tquicd/daemon.h"

namespace bond {

namespace {

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_reload = 0;

void on_stop(int) {
  g_stop = 1;
}
void on_hup(int) {
  g_reload = 1;
}

}  // namespace

size_t datagram_backlog(const quic::Connection& c) {
  std::array<BacklogPath, quic::kMaxPathsLimit> paths{};
  size_t n = std::min(c.path_count(), paths.size());
  for (size_t i = 0; i < n; ++i) {
    const quic::Path& p = c.path(i);
    // A suspected path is one the scheduler no longer sends on: it stops counting before it
    // is declared failed.
    paths[i] = {p.pacing_rate_bps(), p.mtu, p.usable() && !p.health.suspect(), p.role.backup()};
  }
  return datagram_backlog_bytes(std::span(paths.data(), n));
}

quic::DatagramPriority tun_priority(FlowClassifier& c, quic::Instant now, quic::Bytes packet) {
  Classification k = c.classify(now, packet);
  return !k.error && k.flow_class == FlowClass::kInteractive ? quic::DatagramPriority::kInteractive
                                                             : quic::DatagramPriority::kNormal;
}

void take_live_classifier_keys(Config& running, const Config& next) {
  running.classifier.interactive_ports = next.classifier.interactive_ports;
  running.classifier.interactive_dscp = next.classifier.interactive_dscp;
  running.classifier.small_packet_bytes = next.classifier.small_packet_bytes;
  running.classifier.udp_unordered = next.classifier.udp_unordered;
}

ReorderTimer::~ReorderTimer() {
  if (armed_) driver_.cancel_timer(*armed_);
}

void ReorderTimer::rearm() {
  quic::Instant at = reorder_.next_timeout();
  if (armed_ && at >= armed_at_) return;
  if (armed_) driver_.cancel_timer(*armed_);
  armed_.reset();
  if (at == quic::kNever) return;
  armed_at_ = at;
  armed_ = driver_.add_timer(at, [this](quic::Instant now) {
    armed_.reset();
    reorder_.on_timeout(now);
    rearm();
  });
}

std::string_view presented_token(std::span<const h3::Field> fields) {
  std::string_view value;
  int seen = 0;
  for (const h3::Field& f : fields) {
    if (f.name == kAuthField) value = f.value, ++seen;
  }
  if (seen != 1 || !value.starts_with(kBearerPrefix)) return {};
  return value.substr(kBearerPrefix.size());
}

void announce_ready(const std::string& details) {
  std::printf("tquicd: ready %s\n", details.c_str());
  std::fflush(stdout);
  // sd_notify does nothing (returns 0) without NOTIFY_SOCKET; a failure only means systemd
  // will not learn we are up, which it reports itself.
  if (sd_notify(0, "READY=1") < 0) apps::log_at(0, "warning: sd_notify READY=1 failed");
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop;  // no SA_RESTART: epoll_wait returns EINTR and the loop looks
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction hup {};
  hup.sa_handler = on_hup;
  sigaction(SIGHUP, &hup, nullptr);
}

bool stop_requested() {
  return g_stop != 0;
}

bool take_reload() {
  if (g_reload == 0) return false;
  g_reload = 0;
  return true;
}

bool daemon_applies(DaemonRole role, std::string_view key) {
  // Both daemons classify what they read from their TUN device (take_live_classifier_keys).
  if (key.starts_with("reorder.") || key.starts_with("classifier.")) return true;
  if (role == DaemonRole::kClient) return key.starts_with("ingress.") || key.starts_with("link");
  return key == "server.tokens_file" || key == "server.client_rate" ||
         key == "server.max_clients";
}

std::optional<Config> reload_config(const std::string& path, const Config& running) {
  auto next = load_config(path);
  if (!next) {
    for (const std::string& e : next.error()) {
      std::fprintf(stderr, "tquicd: reload refused: %s\n", e.c_str());
    }
    return std::nullopt;
  }
  for (const ConfigChange& c : diff_configs(running, *next)) {
    const char* what = !c.live                 ? "needs a restart, not applied"
                       : daemon_applies(running.role, c.key) ? "applied"
                                               : "live in the file format, but this version "
                                                 "applies it only on restart";
    std::fprintf(stderr, "tquicd: reload: %s '%s' -> '%s': %s\n", c.key.c_str(),
                 c.before.c_str(), c.after.c_str(), what);
  }
  return std::move(*next);
}

std::vector<std::string> changed_keys(const Config& before, const Config& after) {
  std::vector<std::string> keys;
  for (const ConfigChange& c : diff_configs(before, after)) keys.push_back(c.key);
  return keys;
}

}  // namespace bond

// The control plane hosted by a running daemon (docs/tquicd-control.md): DaemonControl opens
// control.socket (ControlServer) and metrics.listen (MetricsServer: /metrics, the dashboard,
// /api/*) on the daemon's loop, owns the daemon's EventBus and Status, and answers the control
// requests through the hooks the daemon gives it: `refresh` brings the Status up to date
// (called at most every kStatusRefresh when requests ask for it, and by the daemon's own tick),
// `apply` applies a configuration changed by `set` (the same code path as SIGHUP), and
// `link_admin` acts on a link's path (client only).
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/endpoint_driver.h"
#include "tquicd/config.h"
#include "tquicd/config_set.h"
#include "tquicd/control.h"
#include "tquicd/control_server.h"
#include "tquicd/events.h"
#include "tquicd/history.h"
#include "tquicd/metrics_server.h"
#include "tquicd/status.h"

namespace bond {

// A request never sees a Status older than this (the daemon's own tick is kStateInterval).
inline constexpr quic::Duration kStatusRefresh = std::chrono::milliseconds(200);

struct ControlHooks {
  // Fills `status` (and pushes the events its changes imply) from the daemon's state.
  std::function<void(quic::Instant now, Status& status, EventBus& bus)> refresh;
  std::function<void(const Config& next)> apply;
  // Empty on the server (it has no links): `link` is refused.
  std::function<std::expected<std::string, std::string>(std::string_view name, bool up,
                                                        quic::Instant now, EventBus& bus)>
      link_admin;
};

class DaemonControl final : public ControlBackend {
 public:
  // Opens the control socket (creating its directory, mode 0755, when missing) and, unless
  // metrics.listen is "", the HTTP endpoint. One that cannot be opened is logged as a warning
  // and left out (the tunnel matters more than its dashboard).
  static std::unique_ptr<DaemonControl> open(
      io::EndpointDriver& loop, const Config& cfg, std::string config_path, quic::Instant start,
      ControlHooks hooks);
  ~DaemonControl() override;

  EventBus& bus() { return bus_; }
  // Refreshes the status now (the daemon's tick).
  void refresh(quic::Instant now);
  // SIGHUP applied `next`: values set with `set` are dropped (the file is what runs now) and a
  // config_reloaded event names the changed keys.
  void on_reloaded(const Config& next, const std::vector<std::string>& keys, quic::Instant now);
  // SIGHUP: reads the configuration file again; when it parses, the `apply` hook runs it and
  // on_reloaded() reports the keys changed from `running`. Returns whether it was applied.
  bool reload(const Config& running, quic::Instant now);
  const MetricsServer* metrics() const { return http_.get(); }

  // ControlBackend.
  const Status& status() override;
  const EventLog& events() override { return bus_.log(); }
  std::expected<std::string, std::string> set(std::string_view key,
                                              std::string_view value) override;
  std::expected<std::string, std::string> link_admin(std::string_view name, bool up) override;

 private:
  DaemonControl(const Config& cfg, std::string path, quic::Instant start, ControlHooks hooks);

  Config running_;
  std::string path_;
  ControlHooks hooks_;
  EventBus bus_;
  Status status_;
  StatusHistory history_;
  std::vector<KeyValue> overrides_;
  quic::Instant refreshed_{};
  bool ever_refreshed_ = false;
  std::unique_ptr<ControlServer> ctl_;
  std::unique_ptr<MetricsServer> http_;
  bool notify_pending_ = false;
  // Expires with this object: a deferred notification queued on the loop checks it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace bond

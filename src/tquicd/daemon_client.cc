// `tquicd client`: docs/tquicd.md. One UDP socket per [[link]] (bound to its source address
// and/or interface), the handshake on the first non-backup link and every other link added as
// a path (backup links as backup paths, PATH_STATUS), the CONNECT-IP tunnel with the token and
// the seq context (apps::MasqueIpClientApp), and the reorder buffer in front of the TUN device.
#include <ifaddrs.h>
#include <net/if.h>

#include <cstdio>

#include "apps/h3_serve.h"
#include "apps/masque_ip.h"
#include "io/clock.h"
#include "io/endpoint_driver.h"
#include "io/sockaddr.h"
#include "tquicd/daemon.h"
#include "tquicd/daemon_control.h"
#include "tquicd/daemon_status.h"
#include "tquicd/ingress_queue.h"
#include "tquicd/settings.h"

namespace bond {

namespace {

using apps::log_at;

// The first address of `family` on interface `name`, for a link given only by interface: the
// socket must be bound to a concrete address so replies (IP_PKTINFO) match the path.
std::optional<quic::SocketAddress> interface_address(const std::string& name, bool v6) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<quic::SocketAddress> out;
  for (ifaddrs* a = list; a != nullptr && !out; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || name != a->ifa_name) continue;
    int family = a->ifa_addr->sa_family;
    if (family != (v6 ? AF_INET6 : AF_INET)) continue;
    auto addr = io::from_sockaddr(
        a->ifa_addr, family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    if (addr && !(v6 && addr->ip[0] == 0xfe && (addr->ip[1] & 0xc0) == 0x80)) out = *addr;
  }
  freeifaddrs(list);
  return out;
}

struct LinkSocket {
  const LinkConfig* link;
  std::unique_ptr<io::UdpSocket> socket;
};

quic::Result<std::vector<LinkSocket>> open_links(const Config& cfg,
                                                 const quic::SocketAddress& remote) {
  std::vector<LinkSocket> out;
  for (const LinkConfig& l : cfg.links) {
    std::optional<quic::SocketAddress> bind = l.source;
    if (!bind) bind = interface_address(l.interface, remote.v6);
    if (!bind) {
      return quic::fail(quic::err::kInternalError,
                        "link " + l.name + ": interface " + l.interface +
                            " has no address of the server's family");
    }
    if (bind->v6 != remote.v6) {
      return quic::fail(quic::err::kInternalError,
                        "link " + l.name + ": source family differs from the server's");
    }
    bind->port = 0;
    io::SocketOptions so;
    so.bind_device = l.interface;
    auto sock = io::UdpSocket::open(*bind, so);
    if (!sock) {
      return quic::fail(quic::err::kInternalError, "link " + l.name + ": " + sock.error().reason);
    }
    out.push_back({&l, std::move(*sock)});
  }
  // The handshake goes on the first link that is not a backup (the config has at least one
  // link; if all are backups, on the first).
  auto first = std::find_if(out.begin(), out.end(),
                            [](const LinkSocket& s) { return s.link->role != LinkRole::kBackup; });
  if (first != out.end()) std::rotate(out.begin(), first, first + 1);
  return out;
}

std::optional<std::string> read_client_token(const std::string& path) {
  auto text = apps::read_file(path);
  if (!text || text->size() > kMaxClientTokenFile) return std::nullopt;
  std::string t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty() || t.find_first_of(" \t\r\n") != std::string::npos) return std::nullopt;
  return t;
}

// The pieces a running client holds, and its snapshot.
struct ClientRun {
  const Config* cfg;
  std::vector<LinkSocket> links;
  apps::MasqueIpClientApp* app;
  ReorderSink* reorder;
  DaemonState state;

  void refresh() {
    state.role = DaemonRole::kClient;
    state.ready = app->ready();
    state.tunnel = app->stats();
    state.reorder = reorder->stats();
    state.reorder_hold = reorder->hold_time();
    state.links.clear();
    std::vector<apps::PathFigures> paths;
    if (quic::Connection* c = app->connection()) paths = apps::path_figures(*c);
    for (const LinkSocket& l : links) {
      LinkState s;
      s.name = l.link->name;
      s.interface = l.link->interface;
      s.local = l.socket->local_address();
      s.role = l.link->role;
      for (const apps::PathFigures& p : paths) {
        if (p.local != s.local) continue;
        s.path_open = true;
        s.failed = p.failed;
        s.bytes_sent = p.bytes_sent;
        s.bytes_received = p.bytes_received;
        s.srtt = p.srtt;
      }
      state.links.push_back(s);
    }
  }
};


// Bytes of tunnel datagrams let into the connection's DATAGRAM send queue at once: enough to
// keep the paths busy between two event-loop turns (about 17 ms at 60 Mbit/s); the rest
// waits in the ingress queue, where CoDel keeps inner TCP's queue short (the connection's own
// queue holds 4 MiB and would otherwise become the tunnel's bufferbloat).
constexpr size_t kDatagramBacklog = 512 << 10;
constexpr int kTunBatch = 64;  // packets per TUN readiness call: the network side gets its turn

// TUN packets -> ingress queue -> the connection, as its DATAGRAM send queue has room.
class IngressPump {
 public:
  IngressPump(masque::TunDevice& tun, apps::MasqueIpClientApp& app, IngressLimits limits)
      : tun_(tun), app_(app), queue_(limits) {
    buf_.resize(65536);
  }
  void on_readable(quic::Instant now) {
    for (int i = 0; i < kTunBatch; ++i) {
      auto n = tun_.read(buf_);
      if (!n || *n == 0) break;
      queue_.enqueue(now, quic::Bytes(buf_.data(), *n));
    }
    pump(now);
  }
  void pump(quic::Instant now) {
    quic::Connection* c = app_.connection();
    if (c == nullptr || !app_.ready()) return;
    while (c->datagram_send_queue_bytes() < kDatagramBacklog) {
      auto p = queue_.dequeue(now);
      if (!p) break;
      app_.send_to_tunnel(*p, now);
    }
  }
  IngressQueue& queue() { return queue_; }

 private:
  masque::TunDevice& tun_;
  apps::MasqueIpClientApp& app_;
  IngressQueue queue_;
  std::vector<uint8_t> buf_;
};

std::vector<LinkTracker::Link> tracked_links(const ClientRun& run) {
  std::vector<LinkTracker::Link> tracked;
  for (const LinkSocket& l : run.links) tracked.push_back({*l.link, l.socket->local_address()});
  return tracked;
}

// The control plane of a client: its links tracked from the connection's paths, `link
// up|down` acting on them (daemon_control.h). `run` and `tracker` must outlive it.
std::unique_ptr<DaemonControl> open_client_control(
    io::EndpointDriver& driver, const Config& cfg, const std::string& path, ClientRun& run,
    LinkTracker& tracker, const quic::SocketAddress& remote,
    std::function<void(const Config&)> apply) {
  ControlHooks hooks;
  hooks.refresh = [&run, &tracker](quic::Instant now, Status& s, EventBus& bus) {
    run.refresh();
    std::vector<PathSample> paths;
    if (quic::Connection* c = run.app->connection()) paths = sample_paths(*c);
    tracker.update(paths, now, bus, s);
    s.tx_bytes = run.state.tunnel.bytes_out;
    s.rx_bytes = run.state.tunnel.bytes_in;
  };
  hooks.apply = std::move(apply);
  hooks.link_admin = [&run, &tracker, remote](std::string_view name, bool up, quic::Instant now,
                                              EventBus& bus)
      -> std::expected<std::string, std::string> {
    const LinkTracker::Link* l = tracker.find(name);
    if (l == nullptr) return std::unexpected("no link named '" + std::string(name) + "'");
    quic::Connection* c = run.app->connection();
    if (c == nullptr || !run.app->ready()) return std::unexpected("the tunnel is not up");
    if (up && !l->admin_down) return std::string(name) + " is already up";
    if (!up && l->admin_down) return std::string(name) + " is already down";
    auto r = set_link_path(*c, l->local, remote, l->config.role == LinkRole::kBackup, up);
    if (r) tracker.set_admin_down(name, !up, now, bus);
    return r;
  };
  return DaemonControl::open(driver, cfg, path, io::monotonic_now(), std::move(hooks));
}

int run_client_loop(Config cfg, const std::string& path, const apps::MasqueIpOptions& o,
                    const h3::UriTemplate& tmpl, apps::ClientSetup& setup,
                    std::vector<LinkSocket> links, masque::TunDevice& tun,
                    const StateObserver& observe) {
  apps::TunSink tun_sink;
  tun_sink.tun = &tun;
  ReorderSink reorder(tun_sink, reorder_limits(cfg), cfg.classifier.udp_unordered,
                      [] { return io::monotonic_now(); });
  apps::MasqueIpClientApp app(links.front().socket->local_address(), setup.remote, tmpl, tun, o);
  app.set_sink(reorder);
  std::vector<apps::PathRequest> paths;
  std::vector<io::UdpSocket*> sockets;
  for (const LinkSocket& l : links) {
    sockets.push_back(l.socket.get());
    if (&l != &links.front()) {
      paths.push_back({l.socket->local_address(), l.link->role == LinkRole::kBackup});
    }
  }
  app.set_paths(std::move(paths));
  io::EndpointDriver driver(*setup.endpoint, sockets);
  if (!driver.ok()) return apps::kExitFailure;
  ReorderTimer timer(driver, reorder);
  IngressPump ingress(tun, app, ingress_limits(cfg));
  driver.set_app([&](quic::Endpoint& ep, quic::Instant now) {
    app.on_activity(ep, now);
    ingress.pump(now);
    timer.rearm();
  });
  if (!driver.register_fd(tun.fd(), io::kReadable, [&](int, uint32_t) {
        ingress.on_readable(io::monotonic_now());
      })) {
    return apps::kExitFailure;
  }
  install_signal_handlers();
  ClientRun run{&cfg, std::move(links), &app, &reorder, {}};
  run.state.tun = cfg.tunnel.name;
  auto apply = [&](const Config& next) {
    reorder.set_policy(reorder_limits(next), next.classifier.udp_unordered);
    ingress.queue().set_limits(ingress_limits(next));
    cfg.ingress = next.ingress;
    cfg.reorder = next.reorder;
    cfg.classifier.udp_unordered = next.classifier.udp_unordered;
  };
  LinkTracker tracker(tracked_links(run));  // quota figures go in with tracker.set_quota
  auto control = open_client_control(driver, cfg, path, run, tracker, setup.remote, apply);
  bool announced = false;
  quic::Instant next_state = io::monotonic_now();
  while (!stop_requested() && !app.finished()) {
    auto r = driver.run_until([&] { return stop_requested() || app.finished() ||
                                           (!announced && app.ready()); },
                              io::monotonic_now() + kStateInterval / 4);
    if (!r) {
      std::fprintf(stderr, "tquicd: %s\n", r.error().reason.c_str());
      return apps::kExitFailure;
    }
    if (!announced && app.ready()) {
      announced = true;
      std::string links_text;
      for (const LinkSocket& l : run.links) links_text += " " + l.link->name;
      announce_ready("client tun=" + cfg.tunnel.name + " server=" + setup.remote.to_string() +
                     " links=" + links_text.substr(1));
    }
    if (take_reload()) {
      if (auto next = reload_config(path, cfg)) {
        std::vector<std::string> keys = changed_keys(cfg, *next);
        apply(*next);
        ++run.state.reloads;
        control->on_reloaded(*next, keys, io::monotonic_now());
      }
    }
    if (quic::Instant now = io::monotonic_now(); now >= next_state) {
      next_state = now + kStateInterval;
      control->refresh(now);  // refreshes run.state too
      if (observe) observe(run.state);
    }
  }
  bool signalled = stop_requested();
  run.refresh();  // the links' last figures, while the connection is there to read
  if (signalled) {
    app.shutdown(io::monotonic_now());
    (void)driver.run_until([] { return false; }, io::monotonic_now() + kShutdownFlush);
  }
  driver.unregister_fd(tun.fd());
  const IngressStats& is = ingress.queue().stats();
  std::fprintf(stderr, "tquicd: ingress enqueued=%llu tail_drops=%llu codel_drops=%llu ce_marks=%llu\n",
               static_cast<unsigned long long>(is.enqueued),
               static_cast<unsigned long long>(is.tail_drops),
               static_cast<unsigned long long>(is.codel_drops),
               static_cast<unsigned long long>(is.ce_marks));
  const ReorderStats& rs = run.state.reorder.reorder;
  std::fprintf(stderr,
               "tquicd: stopping: %s reorder in_order=%llu held=%llu late=%llu gaps_given_up=%llu "
               "duplicates=%llu\n",
               apps::format_ip_stats(run.state.tunnel).c_str(),
               static_cast<unsigned long long>(rs.in_order),
               static_cast<unsigned long long>(rs.released_held),
               static_cast<unsigned long long>(rs.late),
               static_cast<unsigned long long>(rs.gap_timeouts + rs.overflows),
               static_cast<unsigned long long>(rs.duplicates));
  for (const LinkState& l : run.state.links) {
    std::fprintf(stderr, "tquicd: link %s %s: path %s%s sent=%llu received=%llu srtt=%.1fms\n",
                 l.name.c_str(), l.local.to_string().c_str(), l.path_open ? "open" : "none",
                 l.failed ? " (failed)" : "", static_cast<unsigned long long>(l.bytes_sent),
                 static_cast<unsigned long long>(l.bytes_received),
                 std::chrono::duration<double, std::milli>(l.srtt).count());
  }
  if (!app.error().empty() && !signalled) {
    std::fprintf(stderr, "tquicd: %s\n", app.error().c_str());
    return apps::kExitFailure;
  }
  return apps::kExitOk;
}

}  // namespace

int run_client_daemon(const std::string& config_path, const StateObserver& observe) {
  auto loaded = load_config(config_path);
  if (!loaded) {
    for (const std::string& e : loaded.error()) std::fprintf(stderr, "%s\n", e.c_str());
    return apps::kExitUsage;
  }
  Config cfg = std::move(*loaded);
  if (cfg.role != DaemonRole::kClient) {
    std::fprintf(stderr, "tquicd: %s configures a server (daemon.role)\n", config_path.c_str());
    return apps::kExitUsage;
  }
  auto token = read_client_token(cfg.client.token_file);
  if (!token) {
    std::fprintf(stderr, "tquicd: %s: no token (one word, at most %zu bytes)\n",
                 cfg.client.token_file.c_str(), kMaxClientTokenFile);
    return apps::kExitUsage;
  }
  auto url = apps::parse_url(cfg.client.server_url);
  auto tmpl = url ? apps::ip_template_for(*url) : quic::fail(quic::err::kInternalError, "");
  if (!url || !tmpl) {
    std::fprintf(stderr, "tquicd: client.server_url: bad URL '%s'\n",
                 cfg.client.server_url.c_str());
    return apps::kExitUsage;
  }
  apps::MasqueIpOptions o;
  o.proxy = cfg.client.server_url;
  o.tun = cfg.tunnel.name;
  o.offer_context = true;
  o.request_fields.push_back({std::string(kAuthField), std::string(kBearerPrefix) + *token});
  o.net.datagrams = true;
  o.net.multipath = cfg.links.size() > 1;
  // A tunnel is window-limited inner traffic: ECF (the default) keeps waiting for the fastest
  // path, minrtt spills over to the next as soon as its window is full (docs/tquicd.md).
  o.net.scheduler = "minrtt";
  o.net.datagram_resend_on_path_failure = true;
  // The links' congestion drops are repaired inside the tunnel (within 250 ms, which the
  // receiver's reorder hold covers as it follows the delay spread): the inner TCP then sees
  // one wide pipe and backs off only at the ingress queue (docs/tquicd.md).
  o.net.datagram_resend_on_loss = true;
  // One ID of headroom for `tquicctl link down/up`: the core replaces every abandoned path's ID
  // but the handshake path's (0), so the link that carried the handshake reopens on a new one.
  o.net.max_paths = static_cast<uint32_t>(
      std::min(std::max<size_t>(cfg.links.size(), 2) + 1, quic::kMaxPathsLimit));
  if (!cfg.client.pinned_cert.empty()) {
    auto pem = apps::read_file(cfg.client.pinned_cert);
    auto pin = pem ? apps::leaf_sha256(*pem) : quic::fail(quic::err::kInternalError, "");
    if (!pin) {
      std::fprintf(stderr, "tquicd: client.pinned_cert: no certificate in %s\n",
                   cfg.client.pinned_cert.c_str());
      return apps::kExitUsage;
    }
    o.trust.pin = apps::to_hex(pin->data(), pin->size());
  }
  o.net.qlog_dir = cfg.log.qlog_dir;
  apps::set_log_level(cfg.log.level >= LogLevel::kDebug ? 1 : 0);
  int rc = 0;
  auto setup = apps::make_client(*url, o.net, o.trust, rc, apps::kH3Alpn);
  if (!setup) return rc;
  auto links = open_links(cfg, setup->remote);
  if (!links) {
    std::fprintf(stderr, "tquicd: %s\n", links.error().reason.c_str());
    return apps::kExitUsage;
  }
  auto tun = masque::TunDevice::open(cfg.tunnel.name);
  if (!tun) {
    std::fprintf(stderr, "tquicd: %s\n", tun.error().reason.c_str());
    return apps::kExitFailure;
  }
  if (auto s = (*tun)->set_mtu(cfg.tunnel.mtu); !s) {
    std::fprintf(stderr, "tquicd: %s\n", s.error().reason.c_str());
    return apps::kExitFailure;
  }
  if (auto s = (*tun)->disable_ipv6(); !s) log_at(0, "warning: %s", s.error().reason.c_str());
  return run_client_loop(std::move(cfg), config_path, o, *tmpl, *setup, std::move(*links), **tun,
                         observe);
}

}  // namespace bond

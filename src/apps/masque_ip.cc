#include "apps/masque_ip.h"


#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "apps/h3_serve.h"
#include "apps/loop_limits.h"
#include "apps/stop_signal.h"
#include "io/clock.h"
#include "io/endpoint_driver.h"

namespace apps {

namespace {

// The seq context this client offers (client-allocated: even, RFC 9484 §5).
constexpr uint64_t kOfferedContext = 2;
constexpr size_t kInitialTunMtu = 1280;
constexpr size_t kIpv6MinMtu = 1280;  // RFC 8200 §5


}  // namespace

std::vector<masque::IpPrefix> routes_to_install(std::span<const masque::IpRange> routes,
                                                const masque::IpAddress& proxy, size_t& skipped) {
  std::vector<masque::IpPrefix> out;
  skipped = 0;
  for (const masque::IpRange& r : routes) {
    for (const masque::IpPrefix& p : masque::range_to_prefixes(r)) {
      if (p.contains(proxy) || out.size() == kMaxInstalledRoutes) {
        ++skipped;
        continue;
      }
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
  }
  return out;
}

std::string format_ip_stats(const masque::ConnectIpStats& s) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "packets_in=%" PRIu64 " bytes_in=%" PRIu64 " packets_out=%" PRIu64
                " bytes_out=%" PRIu64 " sequenced_in=%" PRIu64 " sequenced_out=%" PRIu64
                " dropped_malformed=%" PRIu64 " dropped_spoofed=%" PRIu64
                " dropped_no_route=%" PRIu64 " dropped_not_ours=%" PRIu64
                " dropped_unknown_context=%" PRIu64 " dropped_too_big=%" PRIu64
                " dropped_send_failed=%" PRIu64 " dropped_not_ready=%" PRIu64 " icmp_sent=%" PRIu64,
                s.packets_in, s.bytes_in, s.packets_out, s.bytes_out, s.sequenced_in,
                s.sequenced_out, s.dropped_malformed, s.dropped_spoofed, s.dropped_no_route,
                s.dropped_not_ours, s.dropped_unknown_context, s.dropped_too_big,
                s.dropped_send_failed, s.dropped_not_ready, s.icmp_sent);
  return buf;
}

void TunSink::write(quic::Bytes packet, const masque::GsoInfo& gso) {
  if (tun == nullptr || !tun->write(packet, gso)) ++write_failed;
}

void TunSink::deliver(quic::Bytes packet, const masque::PacketMeta&) {
  if (!gro_) return write(packet, {});
  bool idle = gro_->empty();
  gro_->add(packet);
  if (idle && !gro_->empty() && schedule_) schedule_();
}

void TunSink::enable_gro(std::function<void()> schedule) {
  schedule_ = std::move(schedule);
  gro_ = std::make_unique<masque::TcpCoalescer>(
      [this](quic::Bytes p, const masque::GsoInfo& gso) { write(p, gso); });
}

void TunSink::flush() {
  if (gro_) gro_->flush();
}

void add_masque_ip_options(CLI::App& cmd, MasqueIpOptions& o) {
  cmd.add_option("--proxy", o.proxy,
                 "proxy URL: https://host:port, or a URI template with {target} and {ipproto}")
      ->required();
  cmd.add_option("--tun", o.tun, "TUN device to create and configure (default tqip0)");
  cmd.add_flag("!--no-ipv4", o.ipv4, "do not request an IPv4 address");
  cmd.add_flag("--request-ipv6", o.ipv6, "also request an IPv6 address");
  cmd.add_flag("--offer-context", o.offer_context,
               "offer the tquic-context seq extension (used only if the proxy agrees)");
  cmd.add_flag("!--no-tun-offload", o.tun_offload,
               "read one packet per segment from the TUN device (no TCP segmentation offload)");
  cmd.add_option("--stats-interval", o.stats_interval,
                 "seconds between counter lines on stderr (0: only at exit)");
  add_trust_options(cmd, o.trust);
  add_net_options(cmd, o.net);
}

MasqueIpClientApp::MasqueIpClientApp(quic::SocketAddress local, quic::SocketAddress remote,
                                     h3::UriTemplate tmpl, masque::TunDevice& tun,
                                     const MasqueIpOptions& o)
    : local_(local), remote_(remote), template_(std::move(tmpl)), tun_(tun), opts_(o) {
  sink_.tun = &tun_;
  buf_.resize(65536);
}

MasqueIpClientApp::~MasqueIpClientApp() {
  session_.reset();
}

masque::ConnectIpClient* MasqueIpClientApp::tunnel() const {
  const auto& e = tunnels_.entries();
  return e.empty() ? nullptr : static_cast<masque::ConnectIpClient*>(e.front());
}

void MasqueIpClientApp::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  finished_ = true;
}

void MasqueIpClientApp::forget_if_closed() {
  // The driver reaps a closed connection right after this hook returns: the session (and its
  // tunnel) go now and connection() answers null from here on, or an owner reading it later
  // (tquicd's per-link figures at SIGTERM) would reach a freed connection.
  if (conn_ != nullptr && conn_->is_closed()) {
    session_.reset();
    conn_ = nullptr;
  }
}

void MasqueIpClientApp::on_activity(quic::Endpoint& endpoint, quic::Instant now) {
  if (finished_) return forget_if_closed();
  if (!handle_) {
    auto h = endpoint.connect(local_, remote_, now);
    if (!h) return fail("connect: " + h.error().reason);
    handle_ = *h;
    endpoint_ = &endpoint;
    if (quic::Connection* c = endpoint.connection(*handle_)) {
      for (const PathRequest& p : paths_) {
        if (auto st = c->add_path(p.local, remote_, p.backup); !st) {
          return fail("add_path " + p.local.to_string() + ": " + st.error().reason);
        }
      }
    }
  }
  conn_ = endpoint.connection(*handle_);
  if (conn_ == nullptr) {
    session_.reset();
    return fail("connection vanished");
  }
  if (!session_) {
    h3::SessionConfig cfg;
    cfg.enable_connect_protocol = true;
    cfg.enable_datagrams = true;
    session_ = std::make_unique<h3::Session>(*conn_, h3::Role::kClient, cfg);
  }
  drive(*conn_, now);
  forget_if_closed();
}

void MasqueIpClientApp::drive(quic::Connection& c, quic::Instant now) {
  session_->drive(now);
  for (int round = 0; round < kMaxDriveRounds && !finished_; ++round) {
    bool any = false;
    while (auto e = session_->poll_event()) {
      any = true;
      on_event(*e);
      if (finished_) return;
    }
    if (tunnels_.reap() > 0) {
      return fail("the proxy broke a CONNECT-IP rule; tunnel aborted");
    }
    session_->poll(now);
    if (!any) break;
  }
  if (c.is_closed() || c.is_draining_or_closing()) {
    return fail("connection closed: " + describe_close_error(c.close_error()));
  }
  masque::ConnectIpClient* t = tunnel();
  if (up_ && t == nullptr) return fail("the proxy closed the tunnel");
  if (t != nullptr && up_ && c.max_datagram_payload() != payload_) {
    payload_ = c.max_datagram_payload();
    t->set_max_datagram_payload(payload_);
    log_at(1, "tunnel MTU %zu (datagram payload %zu)", t->mtu(), payload_);
    // Linux takes IPv6 (addresses, routes) off a device whose MTU drops below 1280: with
    // IPv6 the device stays at 1280 at least, and the tunnel answers the packets it cannot
    // carry yet with "packet too big" until path MTU discovery raises its MTU (RFC 9484 §8.2).
    size_t mtu = opts_.ipv6 ? std::max(t->mtu(), kIpv6MinMtu) : t->mtu();
    if (auto s = tun_.set_mtu(mtu); !s) log_at(0, "warning: %s", s.error().reason.c_str());
  }
}

void MasqueIpClientApp::on_event(const h3::Event& e) {
  if (e.kind == h3::EventKind::kSettings && !stream_) {
    if (!session_->connect_protocol_enabled() || !session_->datagrams_enabled()) {
      return fail("the proxy offers no extended CONNECT or no HTTP datagrams");
    }
    masque::ClientTunnelConfig cfg;
    cfg.request_v4 = opts_.ipv4;
    cfg.request_v6 = opts_.ipv6;
    masque::PacketSink* sink = sink_override_ != nullptr ? sink_override_ : &sink_;
    session_->register_protocol(std::string(masque::kConnectIpProtocol),
                                [this, cfg, sink](uint64_t id, std::span<const h3::Field>) {
                                  return std::make_unique<masque::ConnectIpClient>(
                                      tunnels_, *session_, id, *sink, cfg,
                                      [this](const masque::ConnectIpClient& t) { apply(t); });
                                });
    if (opts_.offer_context) offered_ = kOfferedContext;
    auto fields = masque::connect_ip_request(template_, {}, offered_);
    fields.insert(fields.end(), opts_.request_fields.begin(), opts_.request_fields.end());
    auto id = session_->send_request(fields, {}, false);
    if (!id) return fail("request: " + id.error().reason);
    stream_ = *id;
    return;
  }
  if (!stream_ || e.stream_id != *stream_) return;
  if (e.kind == h3::EventKind::kHeaders) {
    std::string status;
    for (const auto& f : e.fields) {
      if (f.name == ":status") status = f.value;
    }
    if (status.size() != 3 || status[0] != '2') {
      bool digits = status.size() == 3 && std::all_of(status.begin(), status.end(), [](char ch) {
                      return ch >= '0' && ch <= '9';
                    });
      refused_status_ =
          digits ? (status[0] - '0') * 100 + (status[1] - '0') * 10 + (status[2] - '0') : 0;
      return fail("proxy answered " + status);
    }
    up_ = true;
    auto agreed = masque::agreed_context(e.fields, offered_);
    if (masque::ConnectIpClient* t = tunnel()) t->set_sequence_context(agreed);
    log_at(0, "tunnel up via %s%s", remote_.to_string().c_str(),
           agreed ? " (seq context agreed)" : "");
  } else if (e.kind == h3::EventKind::kReset || e.kind == h3::EventKind::kFinished) {
    char code[32];
    std::snprintf(code, sizeof code, "0x%" PRIx64, e.code);
    fail(std::string("the proxy ended the tunnel (code ") + code + ")");
  }
}

void MasqueIpClientApp::apply(const masque::ConnectIpClient& t) {
  std::vector<masque::IpPrefix> addrs;
  for (const auto& a : t.addresses()) addrs.push_back(a.prefix);
  // Until the proxy assigns an address, the device keeps those it has: a reconnecting owner
  // (tquicd) keeps its address through a ROUTE_ADVERTISEMENT that comes first, and with it
  // every route on the device, which the kernel flushes when a device loses its last address.
  bool keep = addrs.empty() && !addressed_;
  if (!keep) {
    if (auto s = tun_.sync_addresses(addrs); !s) {
      log_at(0, "warning: %s", s.error().reason.c_str());
    } else {
      addressed_ = !addrs.empty();
    }
  }
  masque::IpAddress proxy = masque::IpAddress::from(remote_.v6 ? 6 : 4, remote_.ip);
  size_t skipped = 0;
  auto routes = routes_to_install(t.routes(), proxy, skipped);
  if (skipped > 0) {
    log_at(0,
           "warning: %zu advertised route prefixes not installed (they hold the proxy's "
           "address, or more than %zu)",
           skipped, kMaxInstalledRoutes);
  }
  if (auto s = tun_.sync_routes(routes); !s) log_at(0, "warning: %s", s.error().reason.c_str());
  std::string text;
  for (const auto& a : addrs) text += " " + a.to_string();
  text += " routes";
  for (const auto& r : routes) text += " " + r.to_string();
  log_at(0, "%s: addresses%s", tun_.name().c_str(), text.c_str());
}

void MasqueIpClientApp::on_tun_readable(quic::Instant now) {
  for (int i = 0; i < kTunBatch; ++i) {
    masque::GsoInfo gso;
    auto n = tun_.read(buf_, &gso);
    if (!n) return fail(n.error().reason);
    if (*n == 0) return;
    quic::Bytes packet(buf_.data(), *n);
    if (gso.gso_size == 0) {
      send_to_tunnel(packet, now);
    } else if (!masque::segment_tcp(packet, gso, segment_,
                                    [&](quic::Bytes s) { send_to_tunnel(s, now); })) {
      ++tun_gso_dropped_;
    }
  }
}

void MasqueIpClientApp::send_to_tunnel(quic::Bytes packet, quic::Instant now,
                                       quic::DatagramPriority priority) {
  masque::ConnectIpClient* t = tunnel();
  if (t == nullptr || !up_ || !session_) return;  // not yet: like a link that is down
  h3::Outbox out = session_->outbox(*stream_);
  t->send_packet(out, packet, now, priority);
}

void MasqueIpClientApp::shutdown(quic::Instant now) {
  if (session_ && !session_->is_closed()) session_->close(h3::err::kNoError, "shutting down", now);
  finished_ = true;
}

quic::Result<h3::UriTemplate> ip_template_for(const Url& url) {
  bool v6 = url.host.find(':') != std::string::npos;
  std::string authority = (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
  std::string text = url.path.find('{') != std::string::npos
                         ? "https://" + authority + url.path
                         : "https://" + authority + "/.well-known/masque/ip/{target}/{ipproto}/";
  return h3::UriTemplate::parse(text);
}

int run_masque_ip(const MasqueIpOptions& o) {
  set_log_level(o.net.verbose);
  auto url = parse_url(o.proxy);
  if (!url) {
    std::fprintf(stderr, "tquic: bad --proxy '%s' (expected https://host:port[/template])\n",
                 o.proxy.c_str());
    return kExitUsage;
  }
  auto tmpl = ip_template_for(*url);
  if (!tmpl) {
    std::fprintf(stderr, "tquic: --proxy template: %s\n", tmpl.error().reason.c_str());
    return kExitUsage;
  }
  NetOptions net = o.net;
  net.datagrams = true;
  int rc = 0;
  auto setup = make_client(*url, net, o.trust, rc, kH3Alpn);
  if (!setup) return rc;
  // TSO on reads: one read() per TCP super-packet instead of one per segment.
  auto tun = masque::TunDevice::open(o.tun, o.tun_offload
                                                ? masque::TunDevice::Offload::kReadsAndWrites
                                                : masque::TunDevice::Offload::kNone);
  if (!tun) {
    std::fprintf(stderr, "tquic: %s\n", tun.error().reason.c_str());
    return kExitFailure;
  }
  if (auto s = (*tun)->set_mtu(kInitialTunMtu); !s) {
    std::fprintf(stderr, "tquic: %s\n", s.error().reason.c_str());
    return kExitFailure;
  }
  if (!o.ipv6) {
    if (auto s = (*tun)->disable_ipv6(); !s) log_at(0, "warning: %s", s.error().reason.c_str());
  }
  MasqueIpClientApp app(setup->local, setup->remote, *tmpl, **tun, o);
  io::EndpointDriver driver(*setup->endpoint, {setup->socket.get()});
  if (!driver.ok()) return kExitFailure;
  driver.set_app([&](quic::Endpoint& ep, quic::Instant now) { app.on_activity(ep, now); });
  // The driver is destroyed before the app: no deferred flush outlives it.
  if (o.tun_offload) app.enable_tun_gro(driver);
  if (!driver.register_fd((*tun)->fd(), io::kReadable,
                          [&](int, uint32_t) { app.on_tun_readable(io::monotonic_now()); })) {
    return kExitFailure;
  }
  install_stop_signals();
  std::function<void(quic::Instant)> tick = [&](quic::Instant now) {
    std::fprintf(stderr, "tquic masque-ip: stats %s\n", format_ip_stats(app.stats()).c_str());
    driver.add_timer(now + std::chrono::duration_cast<quic::Duration>(
                               std::chrono::duration<double>(o.stats_interval)),
                     tick);
  };
  if (o.stats_interval > 0) driver.add_timer(io::monotonic_now(), tick);
  auto r = driver.run_until([&] { return stop_requested() || app.finished(); });
  bool signalled = stop_requested();
  if (signalled) {
    app.shutdown(io::monotonic_now());
    (void)driver.run_until([] { return false; },
                           io::monotonic_now() + std::chrono::milliseconds(200));
  }
  driver.unregister_fd((*tun)->fd());
  std::fprintf(stderr,
               "tquic masque-ip: stats %s tun_write_failed=%" PRIu64 " tun_gso_dropped=%" PRIu64
               "\n",
               format_ip_stats(app.stats()).c_str(), app.tun_write_failed(),
               app.tun_gso_dropped());
  if (!r) {
    std::fprintf(stderr, "tquic: %s\n", r.error().reason.c_str());
    return kExitFailure;
  }
  if (!app.error().empty() && !signalled) {
    std::fprintf(stderr, "tquic masque-ip: %s\n", app.error().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace apps

#include "apps/masque_proxy.h"

#include <sys/resource.h>

#include <cstdio>

#include <CLI/CLI.hpp>

#include "apps/loop_limits.h"
#include "apps/stop_signal.h"
#include "io/endpoint_driver.h"
#include "io/os_random.h"
#include "masque/access.h"
#include "masque/connect_udp.h"
#include "masque/resolver.h"

namespace apps {

namespace {

// Streams a client may open beyond its flows (ordinary requests, slack for closing ones).
constexpr uint64_t kExtraStreams = 16;
// The CONNECTION_CLOSE reason of a stopping server (shutdown()).
constexpr std::string_view kShutdownReason = "server shutting down";


std::optional<masque::AccessPolicy> access_policy(const MasqueProxyOptions& o) {
  if (o.allow.size() > masque::kMaxAllowRules) {
    std::fprintf(stderr, "tquic: at most %zu --allow rules\n", masque::kMaxAllowRules);
    return std::nullopt;
  }
  std::vector<masque::AllowRule> rules;
  for (const auto& text : o.allow) {
    auto r = masque::parse_allow_rule(text);
    if (!r) {
      std::fprintf(stderr, "tquic: --allow '%s': %s\n", text.c_str(), r.error().reason.c_str());
      return std::nullopt;
    }
    rules.push_back(*r);
  }
  return masque::AccessPolicy(std::move(rules), o.allow_private);
}

// Every flow is a socket: lift the soft descriptor limit (often 1,024) to the hard one, so the
// flow limits, not EMFILE, decide.
void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &r);
  }
}

void print_udp_stats(const masque::ConnectUdpStats& s) {
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf(
      "connect-udp: %llu requests, %llu established, %llu refused, %llu datagrams to targets, "
      "%llu from targets (%llu as capsules), drops: %llu unknown context, %llu oversize, "
      "%llu not connected, %llu send errors, %llu queue full, %llu backlog\n",
      u(s.requests), u(s.established), u(s.refused), u(s.to_target), u(s.from_target),
      u(s.as_capsules),
      u(s.dropped_unknown_context), u(s.dropped_oversize), u(s.dropped_not_connected),
      u(s.dropped_send_error), u(s.dropped_queue_full), u(s.dropped_backlog));
}

}  // namespace

h3::SessionConfig MasqueProxyApp::session_config() {
  h3::SessionConfig c;
  c.enable_connect_protocol = true;
  c.enable_datagrams = true;
  return c;
}

void MasqueProxyApp::register_protocol(std::string protocol, ProtocolFactory make) {
  protocols_.insert_or_assign(std::move(protocol), std::move(make));
}

void MasqueProxyApp::on_activity(quic::Endpoint& endpoint, quic::Instant now) {
  if (buf_.empty()) buf_.resize(16 * 1024);
  while (auto h = endpoint.accept()) {
    quic::Connection* c = endpoint.connection(*h);
    if (c == nullptr) continue;
    if (stopping_) {
      c->close(h3::err::kNoError, std::string(kShutdownReason), now);
      continue;
    }
    Conn& conn = conns_[*h];
    conn.session = std::make_unique<h3::Session>(*c, h3::Role::kServer, session_config());
    conn.peer = c->path(0).remote.to_string();
    ProxySession ps{*c, *conn.session, conn.peer, *h};
    for (const auto& [name, make] : protocols_) conn.session->register_protocol(name, make(ps));
    ++counters_.connections;
  }
  // Responses handlers decided since the last activity (after a name resolution).
  std::vector<Pending> ready;
  ready.swap(*pending_);
  for (const Pending& p : ready) {
    auto it = conns_.find(p.conn);
    if (it != conns_.end() && endpoint.connection(p.conn) != nullptr) {
      send(it->second, p.stream_id, p.response);
    }
  }
  for (auto it = conns_.begin(); it != conns_.end();) {
    // Closed (the driver reaps it right after this hook) or reaped: its handlers go with the
    // session now, while the connection still exists. Waiting for the reap left the tunnels
    // registered for a moment after their connection was freed, and a packet from the TUN
    // device in that moment used it (a crash seen in tests/tquicd/links_netns_test.sh).
    quic::Connection* c = endpoint.connection(it->first);
    if (c == nullptr || c->is_closed()) {
      it = conns_.erase(it);
      continue;
    }
    drive(it->second, it->first, now);
    // The driver reaps a closed connection right after this hook returns; its session and
    // handlers go now, while it still exists, or a TUN packet dispatched before the next hook
    // would reach a CONNECT-IP tunnel of a freed connection (seen as a crash in
    // ServerTunnel::refresh_mtu when a client reconnected).
    if (endpoint.connection(it->first)->is_closed()) {
      it = conns_.erase(it);
      continue;
    }
    ++it;
  }
}

void MasqueProxyApp::shutdown(quic::Endpoint& endpoint, quic::Instant now) {
  stopping_ = true;
  for (auto& [h, conn] : conns_) {
    quic::Connection* c = endpoint.connection(h);
    if (c != nullptr && !c->is_closed() && !conn.session->is_closed()) {
      conn.session->close(h3::err::kNoError, std::string(kShutdownReason), now);
    }
  }
}

void MasqueProxyApp::drive(Conn& conn, quic::ConnectionHandle h, quic::Instant now) {
  h3::Session& s = *conn.session;
  s.drive(now);
  for (int round = 0; round < kMaxDriveRounds; ++round) {
    bool any = false;
    while (auto e = s.poll_event()) {
      any = true;
      if (e->kind == h3::EventKind::kHeaders) {
        on_request(conn, h, *e);
      } else if (e->kind == h3::EventKind::kData) {  // bodies of ordinary requests: discarded
        bool fin = false;
        while (s.read_body(e->stream_id, buf_, &fin) > 0) {
        }
      } else if (e->kind == h3::EventKind::kClosed) {
        log_at(1, "%s: session closed (%s)", conn.peer.c_str(),
               describe_close_error(s.close_error()).c_str());
      }
    }
    s.poll(now);
    if (!any) break;
  }
}

void MasqueProxyApp::on_request(Conn& conn, quic::ConnectionHandle h, const h3::Event& e) {
  ++counters_.requests;
  uint64_t id = e.stream_id;
  h3::StreamHandler* handler = conn.session->handler(id);
  if (auto* ph = dynamic_cast<masque::ProxyHandler*>(handler)) {
    auto respond = [pending = std::weak_ptr(pending_), h, id](masque::ConnectResponse r) {
      if (auto p = pending.lock()) p->push_back(Pending{h, id, std::move(r)});
    };
    if (auto r = ph->on_request(std::move(respond))) send(conn, id, *r);
    return;
  }
  if (handler != nullptr) return send(conn, id, masque::established_response());
  ++counters_.not_found;
  send(conn, id, {404, {{":status", "404"}, {"content-length", "0"}}});
}

void MasqueProxyApp::send(Conn& conn, uint64_t id, const masque::ConnectResponse& r) {
  bool ok = r.status >= 200 && r.status < 300;
  if (ok) {
    ++counters_.tunnels;
  } else {
    ++counters_.refused;
  }
  std::string why;
  for (const auto& f : r.fields) {
    if (f.name == "proxy-status") why = " " + f.value;
  }
  log_at(ok ? 2 : 1, "%s: stream %llu -> %u%s", conn.peer.c_str(),
         static_cast<unsigned long long>(id), r.status, why.c_str());
  (void)conn.session->send_response(id, r.fields, {}, !ok);
}

void add_masque_proxy_options(CLI::App& cmd, MasqueProxyOptions& o) {
  cmd.add_option("--listen", o.listen,
                 "ADDR:PORT to bind, repeatable (default 0.0.0.0:4433; [::]:4433 with --ipv6)");
  cmd.add_option("--cert", o.cert, "certificate chain (PEM); default: in-memory self-signed");
  cmd.add_option("--key", o.key, "private key (PEM) for --cert");
  cmd.add_option("--allow", o.allow,
                 "allow targets in CIDR[:PORTS] (e.g. 192.0.2.0/24:53, [2001:db8::/32]:1000-2000); "
                 "repeatable; with any --allow, only listed targets are reachable");
  cmd.add_flag("--allow-private", o.allow_private,
               "allow loopback, private, link-local, multicast ... targets");
  cmd.add_option("--udp-template", o.udp_template,
                 "CONNECT-UDP URI template (default /.well-known/masque/udp/{target_host}/"
                 "{target_port}/)");
  cmd.add_option("--dns-server", o.dns_servers, "DNS servers IP[:PORT],... (default: resolv.conf)");
  cmd.add_option("--dns-timeout", o.dns_timeout_ms, "DNS timeout of the first try, ms (default 2000)")
      ->check(CLI::Range(1, 60000));
  cmd.add_option("--max-flows", o.max_flows_per_conn,
                 "CONNECT-UDP flows per connection (default 1024)")
      ->check(CLI::Range(1, 65536));
  add_masque_ip_proxy_options(cmd, o.ip);
  add_net_options(cmd, o.net);
}

int run_masque_proxy(const MasqueProxyOptions& o) {
  set_log_level(o.net.verbose);
  quic::EndpointConfig ec;
  ec.server = true;
  NetOptions net = o.net;
  net.datagrams = true;  // HTTP datagrams need QUIC DATAGRAM frames (RFC 9297 §2.1)
  if (auto st = apply_connection_options(net, ec.connection); !st) {
    std::fprintf(stderr, "tquic: %s\n", st.error().reason.c_str());
    return kExitUsage;
  }
  ec.connection.max_streams_bidi =
      std::max<uint64_t>(ec.connection.max_streams_bidi, o.max_flows_per_conn + kExtraStreams);
  auto policy = access_policy(o);
  if (!policy) return kExitUsage;
  raise_fd_limit();
  int rc = 0;
  auto id = server_identity(o.cert, o.key, o.net, "h3", rc);
  if (!id) return rc;
  ec.tls = id->tls;

  auto sockets = open_listen_sockets(o.listen, o.net);
  if (!sockets) return kExitUsage;
  const std::vector<io::UdpSocket*>& raw = sockets->raw;

  io::OsRandom random;
  quic::Endpoint endpoint(ec, random);
  io::EndpointDriver driver(endpoint, raw);
  if (!driver.ok()) {
    std::fprintf(stderr, "tquic: cannot create epoll/timerfd\n");
    return kExitFailure;
  }
  masque::AresConfig rcfg;
  rcfg.servers = o.dns_servers;
  rcfg.timeout = std::chrono::milliseconds(o.dns_timeout_ms);
  auto resolver = masque::AresResolver::create(driver, rcfg);
  if (!resolver) {
    std::fprintf(stderr, "tquic: %s\n", resolver.error().reason.c_str());
    return kExitUsage;
  }
  masque::ConnectUdpConfig ucfg;
  if (!o.udp_template.empty()) ucfg.udp_template = o.udp_template;
  ucfg.policy = std::move(*policy);
  ucfg.max_flows_per_session = o.max_flows_per_conn;
  auto udp = masque::ConnectUdpProxy::create(driver, **resolver, std::move(ucfg));
  if (!udp) {
    std::fprintf(stderr, "tquic: --udp-template: %s\n", udp.error().reason.c_str());
    return kExitUsage;
  }
  std::unique_ptr<ConnectIpProxy> ip;
  if (o.ip.enabled()) {
    auto made = ConnectIpProxy::create(o.ip, driver);
    if (!made) {
      std::fprintf(stderr, "tquic: connect-ip: %s\n", made.error().reason.c_str());
      return kExitFailure;
    }
    ip = std::move(*made);
  }
  // Declared after the services it calls into, so its sessions (and their handlers) go first.
  MasqueProxyApp app;
  app.register_protocol(std::string(masque::kConnectUdpProtocol), [&udp](ProxySession& ps) {
    return (*udp)->factory(ps.session, ps.connection);
  });
  if (ip) {
    app.register_protocol(std::string(masque::kConnectIpProtocol), [&ip](ProxySession& ps) {
      return ip->factory(ps.session, ps.connection, ps.peer);
    });
  }
  driver.set_app([&](quic::Endpoint& ep, quic::Instant now) { app.on_activity(ep, now); });

  install_stop_signals();
  for (auto* s : raw) std::printf("listening on %s\n", s->local_address().to_string().c_str());
  std::printf("certificate sha256 %s\n", id->fingerprint_hex.c_str());
  std::fflush(stdout);

  auto r = driver.run_until([] { return stop_requested(); });
  if (!r) {
    std::fprintf(stderr, "tquic: %s\n", r.error().reason.c_str());
    return kExitFailure;
  }
  const ProxyCounters& k = app.counters();
  std::printf("masque-proxy: %llu connections, %llu requests, %llu tunnels, %llu refused\n",
              static_cast<unsigned long long>(k.connections),
              static_cast<unsigned long long>(k.requests),
              static_cast<unsigned long long>(k.tunnels),
              static_cast<unsigned long long>(k.refused));
  print_udp_stats((*udp)->stats());
  if (ip) std::printf("masque-proxy: %s\n", ip->stats_line().c_str());
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace apps

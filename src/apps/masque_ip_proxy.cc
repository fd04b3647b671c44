#include "apps/masque_ip_proxy.h"

#include <cstdio>

#include <CLI/CLI.hpp>

#include "apps/loop_limits.h"
#include "io/clock.h"

namespace apps {

void add_masque_ip_proxy_options(CLI::App& cmd, MasqueIpProxyOptions& o) {
  cmd.add_option("--ip-pool", o.pools,
                 "CONNECT-IP: address pool CIDR (repeat once for the other family); enables "
                 "connect-ip");
  cmd.add_option("--tun", o.tun, "CONNECT-IP: TUN device to create (default tqipp0)");
  cmd.add_option("--route", o.routes,
                 "CONNECT-IP: CIDR advertised to clients (repeatable; default: everything in "
                 "the pools' families)");
  cmd.add_option("--tun-mtu", o.tun_mtu, "CONNECT-IP: TUN device MTU (default 1500)")
      ->check(CLI::Range(576, 65535));
  cmd.add_option("--ip-stats-interval", o.stats_interval,
                 "CONNECT-IP: seconds between counter lines on stderr (0: only at exit)");
  cmd.add_flag("!--no-tun-offload", o.tun_offload,
               "CONNECT-IP: write each packet alone (no TCP super-packets into the device)");
}

std::string client_key_of(const std::string& peer) {
  size_t colon = peer.rfind(':');
  std::string ip = colon == std::string::npos ? peer : peer.substr(0, colon);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  return ip;
}

quic::Result<std::unique_ptr<ConnectIpProxy>> ConnectIpProxy::create(const MasqueIpProxyOptions& o,
                                                                     io::EndpointDriver& driver,
                                                                     const SinkWrap& wrap) {
  masque::ConnectIpServerConfig cfg;
  for (const std::string& text : o.pools) {
    auto p = masque::IpPrefix::parse(text);
    if (!p) return quic::fail(quic::err::kInternalError, "--ip-pool: bad CIDR '" + text + "'");
    auto& slot = p->address.version == 4 ? cfg.pool_v4 : cfg.pool_v6;
    if (slot) return quic::fail(quic::err::kInternalError, "--ip-pool: one pool per family");
    slot = *p;
  }
  for (const std::string& text : o.routes) {
    auto p = masque::IpPrefix::parse(text);
    if (!p) return quic::fail(quic::err::kInternalError, "--route: bad CIDR '" + text + "'");
    cfg.routes.push_back(*p);
  }
  cfg.remembered = o.remembered;
  std::unique_ptr<ConnectIpProxy> px(new ConnectIpProxy(driver));
  px->backlog_ = o.datagram_backlog;
  px->classify_ = o.classify;
  if (wrap) px->front_ = wrap(px->sink_);
  auto server = masque::ConnectIpServer::create(cfg, px->front_ ? *px->front_ : px->sink_);
  if (!server) return std::unexpected(server.error());
  px->server_ = std::move(*server);
  auto tun = masque::TunDevice::open(o.tun, o.tun_offload
                                                ? masque::TunDevice::Offload::kReadsAndWrites
                                                : masque::TunDevice::Offload::kNone);
  if (!tun) return std::unexpected(tun.error());
  px->tun_ = std::move(*tun);
  px->sink_.tun = px->tun_.get();
  ConnectIpProxy* self = px.get();
  if (o.tun_offload) {
    // Packets delivered during one loop turn are joined, then written at the next turn.
    px->sink_.enable_gro([self, alive = std::weak_ptr<int>(px->alive_)] {
      self->driver_.defer([self, alive] {
        if (!alive.expired()) self->sink_.flush();
      });
    });
  }
  if (auto s = px->tun_->set_mtu(o.tun_mtu); !s) return std::unexpected(s.error());
  if (px->server_->pool(6) == nullptr) {
    if (auto s = px->tun_->disable_ipv6(); !s) {
      log_at(0, "warning: %s", s.error().reason.c_str());
    }
  }
  // A route for each pool into the device, and no address on it: the pool's router address
  // (the source of our ICMP errors) must not be local to this host, or the kernel would drop
  // those errors as martians when they come out of the device.
  for (uint8_t v : {4, 6}) {
    const masque::AddressPool* pool = px->server_->pool(v);
    if (pool == nullptr) continue;
    if (auto s = px->tun_->add_route(pool->prefix()); !s) return std::unexpected(s.error());
  }
  // An aborted tunnel is cancelled right after the handler call that found the violation.
  px->server_->set_on_abort([self] {
    if (self->reap_queued_) return;
    self->reap_queued_ = true;
    self->driver_.defer([self] {
      self->reap_queued_ = false;
      self->server_->reap();
    });
  });
  px->buf_.resize(65536);
  if (auto s = driver.register_fd(px->tun_->fd(), io::kReadable,
                                  [self](int, uint32_t) { self->on_tun_readable(); });
      !s) {
    return std::unexpected(s.error());
  }
  if (o.stats_interval > 0) {
    auto every =
        std::chrono::duration_cast<quic::Duration>(std::chrono::duration<double>(o.stats_interval));
    px->tick_ = [self, every](quic::Instant now) {
      std::fprintf(stderr, "tquic masque-proxy: %s\n", self->stats_line().c_str());
      self->stats_timer_ = self->driver_.add_timer(now + every, self->tick_);
    };
    px->stats_timer_ = driver.add_timer(io::monotonic_now() + every, px->tick_);
  }
  return px;
}

ConnectIpProxy::~ConnectIpProxy() {
  sink_.flush();
  if (stats_timer_) driver_.cancel_timer(*stats_timer_);
  if (tun_) driver_.unregister_fd(tun_->fd());
}

h3::HandlerFactory ConnectIpProxy::factory(h3::Session& session, quic::Connection& connection,
                                           const std::string& peer) {
  return factory_for(session, connection, client_key_of(peer));
}

h3::HandlerFactory ConnectIpProxy::factory_for(h3::Session& session, quic::Connection& connection,
                                               std::string client_key) {
  masque::ConnectIpServer::RoomFn room;
  if (backlog_) {
    room = [&connection, backlog = backlog_] {
      return connection.datagram_send_queue_bytes() < backlog(connection);
    };
  }
  return server_->factory(session, std::move(client_key),
                          [&connection] { return connection.max_datagram_payload(); },
                          std::move(room));
}

void ConnectIpProxy::on_tun_readable() {
  quic::Instant now = io::monotonic_now();
  for (int i = 0; i < kTunBatch; ++i) {
    masque::GsoInfo gso;
    auto n = tun_->read(buf_, &gso);
    if (!n) {
      // The device failed (removed under us): stop watching it rather than spin on the error.
      log_at(0, "connect-ip: %s; the TUN device is no longer read", n.error().reason.c_str());
      driver_.unregister_fd(tun_->fd());
      return;
    }
    if (*n == 0) return;
    quic::Bytes packet(buf_.data(), *n);
    if (gso.gso_size == 0) {
      from_tun(packet, now);
    } else if (!masque::segment_tcp(packet, gso, segment_,
                                    [&](quic::Bytes s) { from_tun(s, now); })) {
      ++tun_gso_dropped_;
    }
  }
}

void ConnectIpProxy::from_tun(quic::Bytes packet, quic::Instant now) {
  server_->from_local(packet, now,
                      classify_ ? classify_(packet, now) : quic::DatagramPriority::kNormal);
}

std::string ConnectIpProxy::stats_line() const {
  char head[256];
  std::snprintf(head, sizeof head,
                "connect-ip tunnels=%zu no_tunnel=%llu tun_write_failed=%llu tun_gro_joined=%llu "
                "tun_gso_dropped=%llu ",
                server_->tunnels(), static_cast<unsigned long long>(server_->dropped_no_tunnel()),
                static_cast<unsigned long long>(sink_.write_failed),
                static_cast<unsigned long long>(sink_.gro_joined()),
                static_cast<unsigned long long>(tun_gso_dropped_));
  return head + format_ip_stats(server_->stats());
}

}  // namespace apps

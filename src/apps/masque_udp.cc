#include "apps/masque_udp.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <CLI/CLI.hpp>

#include "apps/loop_limits.h"
#include "apps/stop_signal.h"
#include "io/clock.h"
#include "io/endpoint_driver.h"
#include "io/sockaddr.h"
#include "masque/proxy_status.h"

namespace apps {

namespace {

std::string_view field(const std::vector<h3::Field>& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (f.name == name) return f.value;
  }
  return {};
}

}  // namespace

std::optional<std::pair<std::string, uint16_t>> split_host_port(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return std::nullopt;  // an IPv6 literal needs brackets here
  }
  auto port = masque::parse_port(std::string_view(text).substr(colon + 1));
  if (!port) return std::nullopt;
  return std::make_pair(host, *port);
}

MasqueUdpApp::MasqueUdpApp(io::EndpointDriver& loop, quic::Endpoint& endpoint, int local_fd,
                           Config config)
    : loop_(loop), fd_(local_fd), config_(std::move(config)), endpoint_(endpoint) {
  (void)loop_.register_fd(fd_, io::kReadable, [this](int, uint32_t) { on_local_readable(); });
  quic::Instant now = io::monotonic_now();
  sweep(now);
  connect(now);  // at once, so a wrong proxy or pin shows before any traffic
}

MasqueUdpApp::~MasqueUdpApp() {
  loop_.unregister_fd(fd_);
  if (sweep_timer_) loop_.cancel_timer(*sweep_timer_);
}

void MasqueUdpApp::on_local_readable() {
  now_ = io::monotonic_now();
  forward_held();
  for (size_t done = 0; done < kMaxLocalReadsPerWakeup && !local_paused_;) {
    int n = rx_.recv(fd_, kMaxLocalReadsPerWakeup - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
    held_next_ = 0;
    held_end_ = static_cast<size_t>(n);
    forward_held();
  }
}

void MasqueUdpApp::forward_held() {
  // The datagrams of one GRO message share their source (and its storage): converted once.
  const sockaddr_storage* raw = nullptr;
  std::optional<quic::SocketAddress> from;
  for (; held_next_ < held_end_; ++held_next_) {
    const masque::UdpRecvBatch::Datagram& d = rx_[held_next_];
    if (d.from != raw) {
      raw = d.from;
      from = io::from_sockaddr(reinterpret_cast<const sockaddr*>(d.from), d.from_len);
    }
    if (!from || d.truncated || d.data.size() > masque::kMaxUdpPayload) {
      ++counters_.local_received;
      ++counters_.dropped_send;
      continue;
    }
    if (!on_local_datagram(*from, d.data)) {
      // This one and the rest stay in rx_ until the queue drained (or, if reading cannot be
      // stopped, it is dropped as before).
      if (pause_local()) return;
      ++counters_.dropped_send;
    }
    ++counters_.local_received;
  }
}

bool MasqueUdpApp::on_local_datagram(const quic::SocketAddress& from, quic::Bytes data) {
  auto it = flows_.find(from);
  if (it == flows_.end()) {
    if (flows_.size() >= config_.max_flows) {
      ++counters_.dropped_flow_limit;
      return true;
    }
    it = flows_.emplace(from, Flow{}).first;
    ++counters_.flows_opened;
  }
  Flow& f = it->second;
  f.last = now_;
  if (f.refused) {
    ++counters_.dropped_refused;
    return true;
  }
  if (!handle_) connect(now_);
  if (!f.has_stream && session_ready()) open_stream(from, f);
  if (f.has_stream) {
    if (f.handler == nullptr) {
      ++counters_.dropped_send;
      return true;
    }
    h3::Outbox out = session_->outbox(f.stream_id);
    auto o = f.handler->send(out, data);
    if (o == masque::SendOutcome::kQueueFull) return false;  // kept: tried again on resume
    if (o != masque::SendOutcome::kDatagram && o != masque::SendOutcome::kCapsule) {
      ++counters_.dropped_send;
    }
    return true;
  }
  // No stream yet (the connection is being set up): held, bounded like the handler's queue.
  if (f.early.size() >= masque::kMaxPendingPayloads ||
      f.early_bytes + data.size() > masque::kMaxPendingBytes) {
    ++counters_.dropped_pending;
    return true;
  }
  f.early.emplace_back(data.begin(), data.end());
  f.early_bytes += data.size();
  return true;
}

void MasqueUdpApp::connect(quic::Instant now) {
  auto h = endpoint_.connect(config_.local_quic, config_.proxy, now);
  if (!h) {
    fatal_ = "connect: " + h.error().reason;
    return;
  }
  quic::Connection* c = endpoint_.connection(*h);
  if (c == nullptr) return;
  handle_ = *h;
  ++counters_.connections;
  h3::SessionConfig sc;
  sc.enable_connect_protocol = true;
  sc.enable_datagrams = config_.h3_datagram;
  session_ = std::make_unique<h3::Session>(*c, h3::Role::kClient, sc);
  session_->register_protocol(
      std::string(masque::kConnectUdpProtocol),
      [this, c](uint64_t id, std::span<const h3::Field>) -> std::unique_ptr<h3::StreamHandler> {
        if (!opening_) return nullptr;
        quic::SocketAddress src = *opening_;
        masque::ConnectUdpClient::Callbacks cb;
        cb.on_payload = [this, src](quic::Bytes b) { send_local(src, b); };
        cb.on_closed = [this, src, id](uint64_t code) {
          // A refusal's response head is still to be read (on_event logs it and forgets the
          // stream); any other end forgets it now.
          if (code != h3::err::kRequestRejected) by_stream_.erase(id);
          auto it = flows_.find(src);
          if (it == flows_.end() || !it->second.has_stream || it->second.stream_id != id) return;
          it->second.handler = nullptr;
          if (code == h3::err::kRequestRejected) {
            it->second.refused = true;  // kept (and its datagrams dropped) until idle
            ++counters_.flows_refused;
          } else {
            flows_.erase(it);
          }
        };
        auto handler = std::make_unique<masque::ConnectUdpClient>(*session_, *c, std::move(cb));
        flows_[src].handler = handler.get();
        return handler;
      });
}

bool MasqueUdpApp::session_ready() const {
  return session_ && session_->peer_settings() && session_->connect_protocol_enabled();
}

void MasqueUdpApp::open_stream(const quic::SocketAddress& source, Flow& f) {
  auto fields = masque::connect_udp_request(config_.udp_template, config_.target_host,
                                            config_.target_port);
  opening_ = source;
  auto id = session_->send_request(fields, {}, false);
  opening_.reset();
  if (!id) return;  // e.g. the stream limit: tried again on the next activity
  f.has_stream = true;
  f.stream_id = *id;
  by_stream_[*id] = source;
  std::vector<std::vector<uint8_t>> early;
  early.swap(f.early);
  f.early_bytes = 0;
  if (f.handler == nullptr) return;
  h3::Outbox out = session_->outbox(*id);
  for (const auto& p : early) {
    auto o = f.handler->send(out, p);
    if (o != masque::SendOutcome::kDatagram && o != masque::SendOutcome::kCapsule) {
      ++counters_.dropped_send;
    }
  }
}

void MasqueUdpApp::open_streams() {
  for (auto& [src, f] : flows_) {
    if (!f.has_stream && !f.refused) open_stream(src, f);
  }
}

void MasqueUdpApp::on_activity(quic::Endpoint& endpoint, quic::Instant now) {
  now_ = now;
  if (!handle_) return;
  quic::Connection* c = endpoint.connection(*handle_);
  if (c == nullptr) return reset_connection();
  if (c->handshake_complete()) ever_connected_ = true;
  session_->drive(now);
  for (int round = 0; round < kMaxDriveRounds && session_; ++round) {
    bool any = false;
    while (auto e = session_->poll_event()) {
      any = true;
      on_event(*e);
    }
    if (session_ready()) open_streams();
    session_->poll(now);
    if (!any) break;
  }
  if (local_paused_ && !c->datagrams_blocked()) resume_local();
  if (session_->peer_settings() && !session_->connect_protocol_enabled()) {
    fatal_ = "the proxy does not offer extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL)";
  }
  if (session_->is_closed() || c->is_closed() || c->is_draining_or_closing()) {
    if (!ever_connected_) {
      fatal_ = "connection to the proxy failed: " + describe_close_error(session_->close_error());
    }
    log_at(1, "connection closed (%s); flows dropped",
           describe_close_error(session_->close_error()).c_str());
    reset_connection();
  }
}

void MasqueUdpApp::on_event(const h3::Event& e) {
  if (e.kind != h3::EventKind::kHeaders && e.kind != h3::EventKind::kReset) return;
  if (e.kind == h3::EventKind::kReset) {
    by_stream_.erase(e.stream_id);
    return;
  }
  auto it = by_stream_.find(e.stream_id);
  if (it == by_stream_.end()) return;
  std::string_view status = field(e.fields, ":status");
  if (!status.empty() && status.front() == '2') return;
  quic::SocketAddress source = it->second;
  by_stream_.erase(it);
  std::string why = "?";
  if (auto ps = masque::parse_proxy_status(field(e.fields, "proxy-status"))) {
    why = ps->error + (ps->details.empty() ? "" : " (" + ps->details + ")");
  }
  log_at(0, "flow %s: proxy answered %.*s: %s", source.to_string().c_str(),
         static_cast<int>(status.size()), status.data(), why.c_str());
}

void MasqueUdpApp::sweep(quic::Instant now) {
  for (auto it = flows_.begin(); it != flows_.end();) {
    Flow& f = it->second;
    if (now - f.last < config_.idle_timeout) {
      ++it;
      continue;
    }
    if (f.has_stream && f.handler != nullptr) (void)session_->outbox(f.stream_id).finish();
    ++counters_.flows_closed_idle;
    it = flows_.erase(it);
  }
  quic::Duration period = std::clamp<quic::Duration>(config_.idle_timeout / 4,
                                                     std::chrono::milliseconds(10),
                                                     std::chrono::seconds(1));
  sweep_timer_ = loop_.add_timer(now + period, [this](quic::Instant t) {
    sweep_timer_.reset();
    sweep(t);
  });
}

bool MasqueUdpApp::pause_local() {
  // Interest 0: epoll keeps the descriptor but reports nothing until resume_local.
  if (!local_paused_ && !loop_.modify_fd(fd_, 0)) return false;
  if (!local_paused_) ++counters_.read_pauses;
  local_paused_ = true;
  return true;
}

void MasqueUdpApp::resume_local() {
  if (!local_paused_) return;
  local_paused_ = false;
  (void)loop_.modify_fd(fd_, io::kReadable);
  forward_held();  // may pause again at once
}

void MasqueUdpApp::reset_connection() {
  // What waited for the old connection's queue is dropped; the next one starts reading afresh.
  counters_.local_received += held_end_ - held_next_;
  counters_.dropped_send += held_end_ - held_next_;
  held_next_ = held_end_ = 0;
  resume_local();
  flows_.clear();
  by_stream_.clear();
  session_.reset();
  handle_.reset();
  ever_connected_ = false;
}

void MasqueUdpApp::send_local(const quic::SocketAddress& to, quic::Bytes data) {
  if (auto it = flows_.find(to); it != flows_.end()) it->second.last = now_;
  sockaddr_storage ss{};
  socklen_t len = io::to_sockaddr(to, ss);
  if (sendto(fd_, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
             reinterpret_cast<const sockaddr*>(&ss), len) < 0) {
    ++counters_.dropped_send;
    return;
  }
  ++counters_.local_sent;
}

void add_masque_udp_options(CLI::App& cmd, MasqueUdpOptions& o) {
  cmd.add_option("target", o.target, "TARGET_HOST:PORT reached through the proxy ([v6]:PORT)")
      ->required();
  cmd.add_option("--proxy", o.proxy, "the proxy, https://HOST:PORT/")->required();
  cmd.add_option("--listen", o.listen, "local ADDR:PORT to forward, e.g. 127.0.0.1:5353")
      ->required();
  cmd.add_option("--udp-template", o.udp_template,
                 "the proxy's CONNECT-UDP URI template (default /.well-known/masque/udp/"
                 "{target_host}/{target_port}/)");
  cmd.add_option("--max-flows", o.max_flows, "local sources forwarded at once (default 256)")
      ->check(CLI::Range(1u, kMaxMasqueUdpFlows));
  cmd.add_option("--idle-timeout", o.idle_timeout_s,
                 "seconds without traffic after which a flow is closed (default 30)")
      ->check(CLI::Range(0.01, 86400.0));
  cmd.add_flag("--no-h3-datagram", o.no_h3_datagram,
               "do not offer HTTP datagrams: payloads travel as DATAGRAM capsules");
  cmd.add_option("--datagram-queue", o.datagram_queue,
                 "bytes the QUIC datagram send queue holds before local reading pauses "
                 "(16K..64M, default 4M): the delay a saturated tunnel adds");
  add_trust_options(cmd, o.trust);
  add_net_options(cmd, o.net);
}

int open_masque_udp_local(const quic::SocketAddress& a) {
  int fd = socket(a.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    // Best effort: without them datagrams are read one per message into the default buffer.
    int size = kLocalRecvBuffer;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0) {
      (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }
    (void)masque::enable_udp_gro(fd);
  }
  sockaddr_storage ss{};
  socklen_t len = io::to_sockaddr(a, ss);
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
    std::fprintf(stderr, "tquic: --listen %s: %s\n", a.to_string().c_str(), std::strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

namespace {

quic::SocketAddress bound_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return io::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len).value_or(quic::SocketAddress{});
}

}  // namespace

int run_masque_udp(const MasqueUdpOptions& o) {
  set_log_level(o.net.verbose);
  auto url = parse_url(o.proxy);
  auto target = split_host_port(o.target);
  auto local = quic::SocketAddress::parse(o.listen);
  if (!url || !target || !local) {
    std::fprintf(stderr, "tquic: %s\n",
                 !url ? "--proxy: expected https://host:port/"
                      : (!target ? "target: expected HOST:PORT or [IPv6]:PORT"
                                 : "--listen: expected ADDR:PORT"));
    return kExitUsage;
  }
  if (auto t = masque::parse_target(target->first, std::to_string(target->second)); !t) {
    std::fprintf(stderr, "tquic: target: %s\n", t.error().c_str());
    return kExitUsage;
  }
  bool v6 = url->host.find(':') != std::string::npos;
  std::string authority = (v6 ? "[" + url->host + "]" : url->host) + ":" + std::to_string(url->port);
  auto tmpl = masque::make_udp_template(
      o.udp_template.empty() ? masque::kDefaultUdpPathTemplate : o.udp_template, authority);
  if (!tmpl) {
    std::fprintf(stderr, "tquic: --udp-template: %s\n", tmpl.error().reason.c_str());
    return kExitUsage;
  }
  NetOptions net = o.net;
  net.datagrams = !o.no_h3_datagram;
  if (!o.datagram_queue.empty()) {
    auto q = parse_size(o.datagram_queue);
    if (!q || *q < kMinDatagramQueue || *q > kMaxDatagramQueue) {
      std::fprintf(stderr, "tquic: --datagram-queue: expected 16K..64M, got '%s'\n",
                   o.datagram_queue.c_str());
      return kExitUsage;
    }
    net.datagram_send_buffer = static_cast<size_t>(*q);
  }
  int rc = 0;
  auto setup = make_client(*url, net, o.trust, rc, "h3");
  if (!setup) return rc;
  int fd = open_masque_udp_local(*local);
  if (fd < 0) return kExitUsage;
  io::EndpointDriver driver(*setup->endpoint, {setup->socket.get()});
  if (!driver.ok()) {
    close(fd);
    return kExitFailure;
  }
  MasqueUdpApp::Config cfg{setup->local, setup->remote, std::move(*tmpl), target->first,
                           target->second, o.max_flows,
                           std::chrono::duration_cast<quic::Duration>(
                               std::chrono::duration<double>(o.idle_timeout_s)),
                           !o.no_h3_datagram};
  int exit_code = kExitOk;
  {
    MasqueUdpApp app(driver, *setup->endpoint, fd, std::move(cfg));
    driver.set_app([&](quic::Endpoint& ep, quic::Instant now) { app.on_activity(ep, now); });
    install_stop_signals();
    std::printf("listening on %s\n", bound_address(fd).to_string().c_str());
    std::fflush(stdout);
    auto r = driver.run_until([&] { return stop_requested() || !app.fatal_error().empty(); });
    if (!r) {
      std::fprintf(stderr, "tquic: %s\n", r.error().reason.c_str());
      exit_code = kExitFailure;
    } else if (!app.fatal_error().empty()) {
      std::fprintf(stderr, "tquic: %s\n", app.fatal_error().c_str());
      exit_code = kExitFailure;
    }
    const MasqueUdpCounters& k = app.counters();
    auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
    std::printf(
        "masque-udp: %llu flows (%llu refused, %llu idle-closed), %llu datagrams in, %llu out, "
        "%llu read pauses, drops: %llu flow limit, %llu pending, %llu refused, %llu send\n",
        u(k.flows_opened), u(k.flows_refused), u(k.flows_closed_idle), u(k.local_received),
        u(k.local_sent), u(k.read_pauses), u(k.dropped_flow_limit), u(k.dropped_pending),
        u(k.dropped_refused), u(k.dropped_send));
    if (const quic::Connection* c = app.connection()) {
      // Where a saturated tunnel loses: QUIC packets the proxy never acknowledged (DATAGRAM
      // frames are not retransmitted) and the congestion window they leave.
      const quic::ConnectionStats& st = c->stats();
      std::printf("quic: %llu packets sent, %llu lost, %llu received; %llu datagrams sent\n",
                  u(st.packets_sent), u(st.packets_lost), u(st.packets_received),
                  u(st.datagrams_sent));
    }
    std::fflush(stdout);
  }
  close(fd);
  return exit_code;
}

}  // namespace apps

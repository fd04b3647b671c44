#include "connect_udp_harness.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "io/clock.h"
#include "io/os_random.h"
#include "io/sockaddr.h"
#include "masque/resolver.h"

namespace masque_test {

std::vector<uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

bool run_loop_until(io::EndpointDriver& loop, const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout) {
  bool running = true;
  io::EndpointDriver::TimerId tick_id = 0;
  std::function<void(quic::Instant)> tick = [&](quic::Instant now) {
    if (running) tick_id = loop.add_timer(now + 5ms, tick);
  };
  tick_id = loop.add_timer(io::monotonic_now() + 5ms, tick);
  (void)loop.run_until(pred, io::monotonic_now() + timeout);
  running = false;
  loop.cancel_timer(tick_id);
  return pred();
}

size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// --- UDP threads

UdpThread::UdpThread(Answer answer) {
  fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  quic::SocketAddress a = quic::SocketAddress::v4(127, 0, 0, 1, 0);
  sockaddr_storage ss{};
  socklen_t len = io::to_sockaddr(a, ss);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) return;
  int rcvbuf = 4 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  len = sizeof(ss);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = io::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len)->port;
  thread_ = std::thread([this, answer = std::move(answer)] {
    std::vector<uint8_t> buf(70000);
    while (!stop_.load()) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      sockaddr_storage from{};
      socklen_t flen = sizeof(from);
      ssize_t n = recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n < 0) continue;
      ++received_;
      auto reply = answer(std::vector<uint8_t>(buf.begin(), buf.begin() + n));
      if (reply) {
        sendto(fd_, reply->data(), reply->size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
      }
    }
  });
}

UdpThread::~UdpThread() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
}

std::unique_ptr<UdpThread> echo_server() {
  return std::make_unique<UdpThread>([](const std::vector<uint8_t>& d) { return d; });
}

namespace {

// The question's name as dotted text and the offset after QTYPE/QCLASS; nullopt if malformed.
std::optional<std::pair<std::string, size_t>> dns_question(const std::vector<uint8_t>& q) {
  if (q.size() < 12) return std::nullopt;
  std::string name;
  size_t i = 12;
  while (i < q.size() && q[i] != 0) {
    size_t n = q[i];
    if (n > 63 || i + 1 + n > q.size()) return std::nullopt;
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(&q[i + 1]), n);
    i += 1 + n;
  }
  if (i + 5 > q.size()) return std::nullopt;
  return std::make_pair(name, i + 5);
}

}  // namespace

std::unique_ptr<UdpThread> fake_dns_server() {
  return std::make_unique<UdpThread>(
      [](const std::vector<uint8_t>& q) -> std::optional<std::vector<uint8_t>> {
        auto question = dns_question(q);
        if (!question) return std::nullopt;
        auto [name, end] = *question;
        uint16_t qtype = static_cast<uint16_t>((q[end - 4] << 8) | q[end - 3]);
        if (name == "slow.test") return std::nullopt;
        std::vector<uint8_t> r(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(end));
        bool nx = name != "ok.test" && name != "public.test";
        bool answer = !nx && qtype == 1;
        r[2] = static_cast<uint8_t>(0x80 | (q[2] & 0x01));  // QR, RD copied
        r[3] = static_cast<uint8_t>(0x80 | (nx ? 3 : 0));   // RA, RCODE
        r[4] = 0, r[5] = 1;                                 // QDCOUNT
        r[6] = 0, r[7] = answer ? 1 : 0;                    // ANCOUNT
        r[8] = r[9] = r[10] = r[11] = 0;
        if (answer) {
          uint8_t ip0 = name == "ok.test" ? 127 : 192, ip1 = name == "ok.test" ? 0 : 0;
          uint8_t ip2 = name == "ok.test" ? 0 : 2, ip3 = 1;
          for (uint8_t b : {0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04})
            r.push_back(b);
          for (uint8_t b : {ip0, ip1, ip2, ip3}) r.push_back(b);
        }
        return r;
      });
}

// --- proxy

ProxyThread::ProxyThread(ProxyOptions o) {
  thread_ = std::thread([this, o = std::move(o)]() mutable { run(std::move(o)); });
  auto until = std::chrono::steady_clock::now() + 5s;
  while (!ready_.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
}

ProxyThread::~ProxyThread() {
  stop_ = true;
  {
    std::lock_guard lock(mu_);
    if (driver_ != nullptr) driver_->wake();
  }
  if (thread_.joinable()) thread_.join();
}

void ProxyThread::run(ProxyOptions o) {
  apps::NetOptions net;
  net.datagrams = true;
  quic::EndpointConfig ec;
  ec.server = true;
  (void)apps::apply_connection_options(net, ec.connection);
  ec.connection.max_streams_bidi = o.max_flows_per_session + 16;
  int rc = 0;
  auto id = apps::server_identity("", "", net, "h3", rc);
  auto sockets = apps::open_listen_sockets({"127.0.0.1:0"}, net);
  if (!id || !sockets) {
    ready_ = true;
    return;
  }
  ec.tls = id->tls;
  io::OsRandom random;
  quic::Endpoint endpoint(ec, random);
  io::EndpointDriver driver(endpoint, sockets->raw);
  masque::AresConfig rcfg;
  rcfg.servers = o.dns_servers;
  rcfg.timeout = o.dns_timeout;
  rcfg.tries = 1;
  auto resolver = masque::AresResolver::create(driver, rcfg);
  masque::ConnectUdpConfig ucfg;
  ucfg.policy = o.policy;
  ucfg.max_flows_per_session = o.max_flows_per_session;
  if (!o.udp_template.empty()) ucfg.udp_template = o.udp_template;
  if (!resolver) {
    ready_ = true;
    return;
  }
  auto udp = masque::ConnectUdpProxy::create(driver, **resolver, ucfg);
  if (!udp) {
    ready_ = true;
    return;
  }
  apps::MasqueProxyApp app;
  app.register_protocol("connect-udp", [&udp](apps::ProxySession& ps) {
    return (*udp)->factory(ps.session, ps.connection);
  });
  if (o.extra) o.extra(app);
  auto run_calls = [this] {
    std::vector<std::function<void()>> calls;
    {
      std::lock_guard lock(mu_);
      calls.swap(calls_);
    }
    for (auto& c : calls) c();
  };
  driver.set_app([&](quic::Endpoint& ep, quic::Instant now) {
    app.on_activity(ep, now);
    run_calls();
  });
  {
    std::lock_guard lock(mu_);
    driver_ = &driver;
    udp_ = udp->get();
    app_ = &app;
  }
  port_ = sockets->raw[0]->local_address().port;
  ready_ = true;
  (void)driver.run_until([this] { return stop_.load(); });
  run_calls();
  std::lock_guard lock(mu_);
  driver_ = nullptr;
}

void ProxyThread::call(const std::function<void()>& fn) {
  // Shared with the queued call, which may outlive this wait if the proxy is stuck; `fn`'s
  // captures are only touched while we still wait (done is set under the same lock).
  struct State {
    std::mutex mu;
    bool waiting = true, done = false;
  };
  auto st = std::make_shared<State>();
  {
    std::lock_guard lock(mu_);
    if (driver_ == nullptr) return;
    calls_.push_back([st, fn] {
      std::lock_guard l(st->mu);
      if (!st->waiting) return;
      fn();
      st->done = true;
    });
    driver_->wake();
  }
  auto until = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    {
      std::lock_guard l(st->mu);
      if (st->done || std::chrono::steady_clock::now() >= until) {
        st->waiting = false;
        return;
      }
    }
    std::this_thread::sleep_for(100us);
  }
}

masque::ConnectUdpStats ProxyThread::udp_stats() {
  masque::ConnectUdpStats s;
  call([&] { s = udp_->stats(); });
  return s;
}

apps::ProxyCounters ProxyThread::counters() {
  apps::ProxyCounters c;
  call([&] { c = app_->counters(); });
  return c;
}

// --- client

ClientConn::ClientConn(uint16_t proxy_port, bool h3_datagram)
    : udp_template(*masque::make_udp_template(masque::kDefaultUdpPathTemplate,
                                              "127.0.0.1:" + std::to_string(proxy_port))) {
  apps::Url url{"127.0.0.1", proxy_port, "/"};
  apps::NetOptions net;
  net.datagrams = h3_datagram;
  apps::TrustOptions trust;
  trust.insecure = true;
  int rc = 0;
  setup_ = apps::make_client(url, net, trust, rc, "h3");
  if (!setup_) return;
  driver_ = std::make_unique<io::EndpointDriver>(*setup_->endpoint,
                                                 std::vector<io::UdpSocket*>{setup_->socket.get()});
  driver_->set_app([this](quic::Endpoint& ep, quic::Instant now) { on_activity(ep, now); });
  auto h = setup_->endpoint->connect(setup_->local, setup_->remote, io::monotonic_now());
  if (!h) return;
  handle_ = *h;
  h3::SessionConfig sc;
  sc.enable_connect_protocol = true;
  sc.enable_datagrams = h3_datagram;
  session_ = std::make_unique<h3::Session>(conn(), h3::Role::kClient, sc);
  auto factory = [this](uint64_t id, std::span<const h3::Field>) {
    masque::ConnectUdpClient::Callbacks cb;
    cb.on_payload = [this, id](quic::Bytes b) { flows[id].payloads.emplace_back(b.begin(), b.end()); };
    cb.on_closed = [this, id](uint64_t code) {
      ClientFlow& f = flows[id];
      f.closed = code;
      if (f.handler != nullptr) f.last_stats = f.handler->stats();
      f.handler = nullptr;
    };
    auto handler = std::make_unique<masque::ConnectUdpClient>(*session_, conn(), std::move(cb));
    flows[id].handler = handler.get();
    return handler;
  };
  session_->register_protocol("connect-udp", factory);
  session_->register_protocol("test-context", factory);
}

ClientConn::~ClientConn() {
  session_.reset();
}

quic::Connection& ClientConn::conn() {
  return *setup_->endpoint->connection(*handle_);
}

void ClientConn::on_activity(quic::Endpoint& ep, quic::Instant now) {
  if (!session_ || ep.connection(*handle_) == nullptr) return;
  session_->drive(now);
  for (int round = 0; round < 100; ++round) {
    bool any = false;
    while (auto e = session_->poll_event()) {
      any = true;
      if (e->kind != h3::EventKind::kHeaders) continue;
      ClientFlow& f = flows[e->stream_id];
      for (const auto& fl : e->fields) {
        if (fl.name == ":status") f.status = static_cast<uint16_t>(std::stoi(fl.value));
        if (fl.name == "proxy-status") f.proxy_status = fl.value;
      }
    }
    session_->poll(now);
    if (!any) break;
  }
}

bool ClientConn::run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  return driver_ && run_loop_until(*driver_, pred, timeout);
}

bool ClientConn::ready() const {
  return session_ && session_->peer_settings() && session_->connect_protocol_enabled();
}

std::optional<uint64_t> ClientConn::open(const std::vector<h3::Field>& fields) {
  if (!run_until([this] { return ready(); })) return std::nullopt;
  auto id = session_->send_request(fields, {}, false);
  if (!id) return std::nullopt;
  return *id;
}

std::optional<uint64_t> ClientConn::open_target(const std::string& host, uint16_t port) {
  return open(masque::connect_udp_request(udp_template, host, port));
}

masque::SendOutcome ClientConn::send(uint64_t id, const std::vector<uint8_t>& payload) {
  ClientFlow& f = flows[id];
  if (f.handler == nullptr) return masque::SendOutcome::kFailed;
  h3::Outbox out = session_->outbox(id);
  return f.handler->send(out, payload);
}

std::optional<uint16_t> ClientConn::status(uint64_t id, std::chrono::milliseconds timeout) {
  run_until([&] { return flows[id].status.has_value(); }, timeout);
  return flows[id].status;
}

}  // namespace masque_test

#include "support/pair.h"

#include <algorithm>
#include <cstdlib>

#include "tls/test_certs.h"
#include "tls/tls_config.h"

namespace test {

namespace {
size_t index(Dir d) { return static_cast<size_t>(d); }
}  // namespace

sim::LinkConfig NetConfig::instant_link(Duration delay) {
  sim::LinkConfig l;
  l.rate_bps = 0;  // serialisation is not what these tests are about
  l.delay = delay;
  l.queue_bytes = 1 << 24;
  return l;
}

// Sits between the network and one host: records what the host sends, applies the interceptor,
// notes that the host was touched (what ends a step), and holds the host still during advance().
class PairCore::Tap final : public sim::Node {
 public:
  Tap(PairCore& pair, sim::Node& host, Dir out) : pair_(pair), host_(host), out_(out) {}

  void on_datagram(Instant now, sim::Datagram d) override {
    if (held_) {
      held_in_.push_back(std::move(d));
      return;
    }
    touched = true;
    host_.on_datagram(now, std::move(d));
  }
  std::optional<sim::Datagram> poll_transmit(Instant now) override {
    if (held_) return std::nullopt;
    for (size_t i = 0; i < kMaxDatagramsPerTake; ++i) {
      auto d = take_one(now);
      if (!d) return std::nullopt;
      if (out_ == Dir::kToServer) pair_.adopt_client_address(d->src);
      if (!pair_.intercept || pair_.intercept(out_, *d, now) == Verdict::kPass) return d;
    }
    return std::nullopt;
  }
  Instant next_timeout() const override { return held_ ? quic::kNever : host_.next_timeout(); }
  void on_timeout(Instant now) override {
    // Stale wake-ups (armed before a take()/deliver() moved the host's timer) are skipped.
    if (held_ || host_.next_timeout() > now) return;
    touched = true;
    host_.on_timeout(now);
  }

  std::optional<sim::Datagram> take_one(Instant now) {
    auto d = host_.poll_transmit(now);
    if (d) sent.push_back(*d);
    return d;
  }
  void hold() { held_ = true; }
  void release(Instant now) {
    held_ = false;
    while (!held_in_.empty()) {
      sim::Datagram d = std::move(held_in_.front());
      held_in_.pop_front();
      host_.on_datagram(now, std::move(d));
    }
  }
  sim::Node& host() { return host_; }

  bool touched = false;
  std::vector<sim::Datagram> sent;

 private:
  PairCore& pair_;
  sim::Node& host_;
  Dir out_;
  bool held_ = false;
  std::deque<sim::Datagram> held_in_;
};

// Receives for the client at an address it adopted after the start; sends nothing itself (the
// client's datagrams from that address leave through its tap).
class PairCore::Alias final : public sim::Node {
 public:
  explicit Alias(sim::Node& client_tap) : tap_(client_tap) {}
  void on_datagram(Instant now, sim::Datagram d) override { tap_.on_datagram(now, std::move(d)); }
  std::optional<sim::Datagram> poll_transmit(Instant) override { return std::nullopt; }
  Instant next_timeout() const override { return quic::kNever; }
  void on_timeout(Instant) override {}

 private:
  sim::Node& tap_;
};

PairCore::PairCore(const NetConfig& config, sim::Node& client, sim::Node& server)
    : net_(std::make_unique<sim::Network>(config.seed, config.start)),
      to_server_(config.to_server),
      to_client_(config.to_client),
      server_addr_(config.server_addr) {
  taps_[index(Dir::kToServer)] = std::make_unique<Tap>(*this, client, Dir::kToServer);
  taps_[index(Dir::kToClient)] = std::make_unique<Tap>(*this, server, Dir::kToClient);
  client_addrs_.push_back(config.client_addr);
  client_addrs_.insert(client_addrs_.end(), config.extra_client_addrs.begin(),
                       config.extra_client_addrs.end());
  for (const SocketAddress& a : client_addrs_) {
    int id = net_->add_link(a, server_addr_, to_server_, to_client_);
    if (id < 0) std::abort();  // two paths on one IP pair: a fixture bug
    links_.push_back(id);
  }
  net_->add_node(taps_[index(Dir::kToServer)].get(), client_addrs_);
  net_->add_node(taps_[index(Dir::kToClient)].get(), {server_addr_});
}

void PairCore::adopt_client_address(const SocketAddress& a) {
  if (std::find(client_addrs_.begin(), client_addrs_.end(), a) != client_addrs_.end()) return;
  const bool ip_known = std::any_of(client_addrs_.begin(), client_addrs_.end(),
                                    [&](const SocketAddress& c) { return c.same_ip(a); });
  if (!ip_known) {
    int id = net_->add_link(a, server_addr_, to_server_, to_client_);
    if (id < 0) return;  // e.g. the server's own IP: the datagram stays unroutable
    links_.push_back(id);
  }
  client_addrs_.push_back(a);
  aliases_.push_back(std::make_unique<Alias>(*taps_[index(Dir::kToServer)]));
  net_->add_node(aliases_.back().get(), {a});
}

PairCore::~PairCore() = default;

void PairCore::sync() {
  // The test may have poked either host since the last step (written to a stream, delivered or
  // taken a datagram by hand, called an endpoint directly): a scheduled call polls both nodes
  // and re-reads their timers.
  net_->schedule_call(net_->now(), [](Instant) {});
}

bool PairCore::step(Instant end) {
  sync();
  for (auto& t : taps_) t->touched = false;
  auto touched = [&] { return taps_[0]->touched || taps_[1]->touched; };
  net_->run(end, touched);
  ++steps_;
  return touched();
}

bool PairCore::drive_until(const std::function<bool()>& pred, Limits limits) {
  const Instant deadline = now() + limits.max_time;
  for (uint64_t i = 0; i < limits.max_steps; ++i) {
    if (pred()) return true;
    if (!step(deadline)) return pred();
  }
  return pred();
}

void PairCore::run_for(Duration d, uint64_t max_steps) {
  (void)drive_until([] { return false; }, Limits{max_steps, d});
}

Instant PairCore::next_wakeup() const {
  return std::min(taps_[0]->host().next_timeout(), taps_[1]->host().next_timeout());
}

bool PairCore::settle(Duration quiet, Limits limits) {
  // What either side has to send now is not visible until it is polled: flush it onto the links
  // first (a step that cannot leave `now`), so a side with a pending flight and no timer yet
  // does not look quiet.
  (void)step(now());
  return drive_until(
      [&] {
        if (in_flight() != 0) return false;
        Instant next = next_wakeup();
        return next == quic::kNever || next > now() + quiet;
      },
      limits);
}

void PairCore::advance(Duration d) {
  for (auto& t : taps_) t->hold();
  net_->run(now() + d);
  for (auto& t : taps_) t->release(now());
}

std::vector<sim::Datagram> PairCore::take(Dir from_side, size_t max) {
  std::vector<sim::Datagram> out;
  Tap& tap = *taps_[index(from_side)];
  while (out.size() < std::min(max, kMaxDatagramsPerTake)) {
    auto d = tap.take_one(now());
    if (!d) break;
    out.push_back(std::move(*d));
  }
  return out;
}

void PairCore::deliver(Dir to, sim::Datagram d) {
  // The side receiving datagrams that travel `to` is the one sending the other way.
  Tap& tap = *taps_[index(to == Dir::kToServer ? Dir::kToClient : Dir::kToServer)];
  tap.host().on_datagram(now(), std::move(d));
}

void PairCore::change_link(size_t path, Dir dir,
                           std::function<void(sim::LinkConfig&)> change) {
  net_->schedule_change(links_.at(path), dir == Dir::kToServer, now(), std::move(change));
}

uint64_t PairCore::in_flight() const {
  uint64_t n = 0;
  for (int id : links_) {
    for (bool a_to_b : {true, false}) {
      auto s = net_->stats(id, a_to_b);
      n += s.sent_packets - s.delivered_packets - s.dropped_queue - s.dropped_loss -
           s.dropped_blackhole;
    }
  }
  return n;
}

const std::vector<sim::Datagram>& PairCore::sent(Dir dir) const {
  return taps_[index(dir)]->sent;
}

// ---- Pair

void Side::resolve(quic::Endpoint& endpoint) {
  if (is_server && !handle) handle = endpoint.accept();
  // Looked up on every visit, as an application does: the lookup tells the endpoint that the
  // test may have changed the connection through the pointer (Endpoint::connection).
  if (handle) conn = endpoint.connection(*handle);
}

void Side::on_activity(quic::Endpoint& endpoint, Instant now) {
  resolve(endpoint);
  activity(now);
}

void Side::activity(Instant now) {
  if (on_activity_hook) {
    on_activity_hook(now);
  } else if (drain && conn != nullptr) {
    while (auto e = conn->poll_event()) events.push_back(*e);
  }
}

// A client Connection with no Endpoint around it, as a simulator node (what SimEndpoint is for
// an Endpoint).
class BareClient final : public sim::Node {
 public:
  BareClient(const PairConfig& config, Side& side)
      : random_(config.client_seed), side_(side), buf_(65536) {
    auto c = quic::Connection::connect(config.client.connection, config.client.tls,
                                       config.net.client_addr, config.net.server_addr,
                                       config.net.start, random_, config.connect);
    if (c) conn_ = std::move(*c);
    side_.conn = conn_.get();
  }
  void on_datagram(Instant now, sim::Datagram d) override {
    if (!conn_) return;
    conn_->on_datagram(now, d.dst, d.src, d.ecn, d.payload);
    side_.activity(now);
  }
  std::optional<sim::Datagram> poll_transmit(Instant now) override {
    if (!conn_) return std::nullopt;
    side_.activity(now);
    auto t = conn_->poll_transmit(now, buf_);
    if (!t) return std::nullopt;
    return sim::Datagram{t->local, t->remote, t->ecn,
                         std::vector<uint8_t>(buf_.begin(), buf_.begin() + t->size)};
  }
  Instant next_timeout() const override { return conn_ ? conn_->next_timeout() : quic::kNever; }
  void on_timeout(Instant now) override {
    conn_->on_timeout(now);
    side_.activity(now);
  }

 private:
  quic::SeededRandom random_;
  Side& side_;
  std::unique_ptr<quic::Connection> conn_;
  std::vector<uint8_t> buf_;
};

namespace detail {

EndpointHosts::EndpointHosts(const PairConfig& config) {
  quic::EndpointConfig c = config.client, s = config.server;
  c.server = false;
  s.server = true;
  if (!c.tls) c.tls = test_tls_context(false, {"hq-interop"});
  if (!s.tls) s.tls = test_tls_context(true, {"hq-interop"});
  client_side.drain = server_side.drain = config.drain_events;
  server_side.is_server = true;
  if (config.bare_client) {
    PairConfig bare_config = config;
    bare_config.client = c;
    bare = std::make_unique<BareClient>(bare_config, client_side);
  } else {
    client_ep = std::make_unique<harness::SimEndpoint>(std::move(c), config.client_seed);
    client_ep->set_app(&client_side);
    client_ep->set_max_segments(config.max_segments);
  }
  server_ep = std::make_unique<harness::SimEndpoint>(std::move(s), config.server_seed);
  server_ep->set_app(&server_side);
  server_ep->set_max_segments(config.max_segments);
}

EndpointHosts::~EndpointHosts() = default;

sim::Node& EndpointHosts::client_node() {
  if (bare) return *bare;
  return *client_ep;
}

}  // namespace detail

Pair::Pair(PairConfig config)
    : EndpointHosts(config), PairCore(config.net, client_node(), *server_ep) {
  if (bare) return;  // connected when it was made
  auto h = client_endpoint().connect(config.net.client_addr, config.net.server_addr, now(),
                                     config.connect);
  if (h) {
    client_side.handle = *h;
    client_side.conn = client_endpoint().connection(*h);
  }
}

quic::Endpoint& Pair::client_endpoint() {
  if (!client_ep) std::abort();  // a bare client has no Endpoint: a test bug
  return client_ep->endpoint();
}

quic::Connection* Pair::server() {
  server_side.resolve(server_endpoint());
  return server_side.conn;
}

bool Pair::handshake(Limits limits) {
  return drive_until(
      [&] {
        quic::Connection* s = server();
        return client() != nullptr && s != nullptr && client()->handshake_complete() &&
               s->handshake_complete();
      },
      limits);
}

std::shared_ptr<const quic::TlsContext> test_tls_context(bool server,
                                                         const std::vector<std::string>& alpn) {
  static const quic::PemCertKey cert = [] {
    auto r = quic::make_self_signed("localhost");
    return r ? *r : quic::PemCertKey{};
  }();
  quic::TlsConfig t;
  t.server = server;
  t.alpn = alpn;
  if (server) {
    t.cert_pem = cert.cert_pem;
    t.key_pem = cert.key_pem;
  } else {
    t.ca_pem = cert.ca_pem;
    t.server_name = "localhost";
  }
  auto ctx = quic::make_tls_context(t);
  return ctx ? *ctx : nullptr;
}

}  // namespace test

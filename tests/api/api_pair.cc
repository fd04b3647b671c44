#include "api_pair.h"

#include <algorithm>
#include <cstdlib>
#include <deque>

#include "api/core.h"
#include "support/pair.h"

namespace apitest {

namespace {
using tquic::detail::from_core;
using tquic::detail::to_core;

tquic::Endpoint must(tquic::Result<tquic::Endpoint> r) {
  if (!r) std::abort();  // a fixture bug: the tests cannot run at all
  return std::move(*r);
}
tquic::Connection must_connect(tquic::Endpoint& ep, tquic::Instant now) {
  auto c = ep.connect(Pair::kClientAddr, Pair::kServerAddr, now);
  if (!c) std::abort();
  return *c;
}

}  // namespace

// The facade as the simulator sees it: GSO runs are split into their datagrams.
class Pair::Host final : public sim::Node {
 public:
  Host(tquic::Endpoint& ep, size_t max_segments) : ep_(ep), max_segments_(max_segments) {}
  const TransmitFigures& figures() const { return figures_; }
  void on_datagram(quic::Instant at, sim::Datagram d) override {
    ep_.on_datagram(from_core(at), from_core(d.dst), from_core(d.src), d.ecn, d.payload);
  }
  std::optional<sim::Datagram> poll_transmit(quic::Instant at) override {
    if (queued_.empty()) {
      auto t = ep_.poll_transmit(from_core(at), buffer_, max_segments_);
      if (!t) return std::nullopt;
      size_t seg = t->segment_size > 0 ? t->segment_size : t->size;
      size_t run = 0;
      for (size_t off = 0; off < t->size; off += seg) {
        size_t n = std::min(seg, t->size - off);
        ++run;
        if (n != seg && off + n != t->size) ++figures_.bad_segments;
        queued_.push_back(sim::Datagram{to_core(t->local), to_core(t->remote), t->ecn,
                                        std::vector<uint8_t>(buffer_.begin() + off,
                                                             buffer_.begin() + off + n)});
      }
      ++figures_.transmits;
      figures_.datagrams += run;
      figures_.longest_run = std::max(figures_.longest_run, run);
    }
    sim::Datagram d = std::move(queued_.front());
    queued_.pop_front();
    return d;
  }
  quic::Instant next_timeout() const override { return to_core(ep_.next_timeout()); }
  void on_timeout(quic::Instant at) override { ep_.on_timeout(from_core(at)); }

 private:
  tquic::Endpoint& ep_;
  size_t max_segments_;
  TransmitFigures figures_;
  std::vector<uint8_t> buffer_ = std::vector<uint8_t>(64 * 1024);
  std::deque<sim::Datagram> queued_;
};

PairOptions::PairOptions() {
  auto cert = tquic::make_self_signed_certificate("localhost");
  if (!cert) std::abort();
  server.server = true;
  server.tls.alpn = {"echo"};
  server.tls.cert_pem = cert->cert_pem;
  server.tls.key_pem = cert->key_pem;
  server.random_seed = 2;
  server.retry = tquic::RetryPolicy::disabled;
  client.tls.alpn = {"echo"};
  client.tls.ca_pem = cert->cert_pem;
  client.tls.server_name = "localhost";
  client.random_seed = 1;
}

Pair::Pair(PairOptions options)
    : client_ep(must(tquic::Endpoint::create(options.client))),
      server_ep(must(tquic::Endpoint::create(options.server))),
      client(must_connect(client_ep, now)),
      client_host_(std::make_unique<Host>(client_ep, options.max_segments)),
      server_host_(std::make_unique<Host>(server_ep, options.max_segments)) {
  test::NetConfig net;
  net.start = to_core(now);
  net.client_addr = to_core(kClientAddr);
  net.server_addr = to_core(kServerAddr);
  net.to_server = net.to_client = test::NetConfig::instant_link(10ms);
  core_ = std::make_unique<test::PairCore>(net, *client_host_, *server_host_);
}

Pair::~Pair() = default;

const TransmitFigures& Pair::client_transmits() const { return client_host_->figures(); }
const TransmitFigures& Pair::server_transmits() const { return server_host_->figures(); }

void Pair::observe() {
  now = from_core(core_->now());
  if (!server) server = server_ep.accept();
}

bool Pair::run_until(const std::function<bool()>& done, tquic::Duration limit) {
  return core_->drive_until(
      [&] {
        observe();
        return done();
      },
      test::Limits{.max_time = limit});
}

bool Pair::handshake() {
  return run_until([&] {
    return client.handshake_complete() && server && server->handshake_complete();
  });
}

void Pair::run_for(tquic::Duration d) {
  core_->run_for(d);
  observe();
}

std::vector<tquic::Event> drain_events(tquic::Connection& c) {
  std::vector<tquic::Event> out;
  while (auto e = c.poll_event()) out.push_back(*e);
  return out;
}

bool has_event(const std::vector<tquic::Event>& events, tquic::EventKind kind,
               uint64_t stream_id) {
  return std::any_of(events.begin(), events.end(), [&](const tquic::Event& e) {
    return e.kind == kind && (stream_id == UINT64_MAX || e.stream_id == stream_id);
  });
}

std::vector<tquic::Event> wait_event(Pair& p, tquic::Connection& c, tquic::EventKind kind,
                                     uint64_t stream_id) {
  std::vector<tquic::Event> seen;
  p.run_until([&] {
    auto e = drain_events(c);
    seen.insert(seen.end(), e.begin(), e.end());
    return has_event(seen, kind, stream_id);
  });
  return seen;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 31 + seed + (i >> 8));
  return v;
}

}  // namespace apitest

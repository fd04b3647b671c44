// Simulator overhead with toy nodes: how many events and packets per CPU second the event loop,
// link model and packet pool sustain. The QUIC endpoints' own cost is excluded on purpose.
#include <benchmark/benchmark.h>

#include <deque>

#include "sim/network.h"

namespace {

using namespace std::chrono_literals;
using sim::Datagram;
using sim::Instant;
using sim::SocketAddress;

// Paced bulk sender: one 1250-byte datagram every `interval`, like a QUIC sender whose pacer
// matches the link rate; for every second datagram received it answers with a 40-byte "ACK".
class PacedPeer : public sim::Node {
 public:
  PacedPeer(SocketAddress self, SocketAddress peer, sim::Duration interval, Instant stop)
      : self_(self), peer_(peer), interval_(interval), stop_(stop) {}
  void on_datagram(Instant, Datagram d) override {
    if (d.payload.size() > 100 && ++received_ % 2 == 0) acks_.push_back(std::move(d.payload));
  }
  std::optional<Datagram> poll_transmit(Instant now) override {
    if (!acks_.empty()) {
      std::vector<uint8_t> p = std::move(acks_.front());
      acks_.pop_front();
      p.resize(40);
      return Datagram{self_, peer_, sim::kEct0, std::move(p)};
    }
    if (interval_ == sim::Duration::zero() || now < next_ || now >= stop_) return std::nullopt;
    next_ += interval_;
    return Datagram{self_, peer_, sim::kEct0, std::vector<uint8_t>(1250)};
  }
  Instant next_timeout() const override {
    return interval_ == sim::Duration::zero() || next_ >= stop_ ? quic::kNever : next_;
  }
  void on_timeout(Instant) override {}

 private:
  SocketAddress self_, peer_;
  sim::Duration interval_;
  Instant stop_, next_{};
  uint64_t received_ = 0;
  std::deque<std::vector<uint8_t>> acks_;
};

// 100 Mbit/s for `seconds` of virtual time with light impairments on the forward link.
void BM_PacedFlow100Mbps(benchmark::State& state) {
  const auto seconds = std::chrono::seconds(state.range(0));
  uint64_t events = 0, packets = 0;
  for (auto _ : state) {
    const auto a = SocketAddress::v4(10, 0, 0, 1, 1), b = SocketAddress::v4(10, 0, 0, 2, 2);
    sim::Network net(1);
    PacedPeer sender(a, b, 100us, Instant{} + seconds), receiver(b, a, {}, Instant{});
    net.add_node(&sender, {a});
    net.add_node(&receiver, {b});
    sim::LinkConfig fwd;
    fwd.rate_bps = 100e6;
    fwd.delay = 20ms;
    fwd.jitter = 1ms;
    fwd.loss = 0.001;
    sim::LinkConfig rev = fwd;
    rev.loss = 0;
    int link = net.add_link(a, b, fwd, rev);
    net.run(quic::kNever);
    events += net.events_processed();
    packets += net.stats(link, true).sent_packets + net.stats(link, false).sent_packets;
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["packets/s"] =
      benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PacedFlow100Mbps)->Arg(1)->Arg(60)->Unit(benchmark::kMillisecond);

// Saturated queue: the sender offers twice the link rate so half its packets hit drop-tail.
void BM_OverloadedQueue(benchmark::State& state) {
  uint64_t events = 0;
  for (auto _ : state) {
    const auto a = SocketAddress::v4(10, 0, 0, 1, 1), b = SocketAddress::v4(10, 0, 0, 2, 2);
    sim::Network net(1);
    PacedPeer sender(a, b, 50us, Instant{} + 1s), receiver(b, a, {}, Instant{});
    net.add_node(&sender, {a});
    net.add_node(&receiver, {b});
    sim::LinkConfig cfg;
    cfg.rate_bps = 100e6;
    net.add_link(a, b, cfg, cfg);
    net.run(quic::kNever);
    events += net.events_processed();
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_OverloadedQueue)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

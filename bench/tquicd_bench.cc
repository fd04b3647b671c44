// Per-packet cost of tquicd's data-path components: the reorder buffer (in order, and two
// paths striped with a constant delay difference), the flow classifier and the ingress queue.
// A router carrying 1 Gbit/s of 1500-byte packets handles ~83,000 packets a second each way:
// these costs are what the daemon's CPU budget per packet has to hold.
#include <benchmark/benchmark.h>

#include <vector>

#include "tquicd/classifier.h"
#include "tquicd/ingress_queue.h"
#include "tquicd/ip_test_packets.h"  // tests/tquicd/
#include "tquicd/reorder.h"

namespace bond {
namespace {

using namespace std::chrono_literals;

void drain(ReorderBuffer& b, size_t& out) {
  while (auto p = b.pop_ready()) out += p->size();
}

void BM_ReorderInOrder(benchmark::State& st) {
  ReorderBuffer b({300ms, 4096, 4 << 20});
  std::vector<uint8_t> pkt(1400, 0x45);
  quic::Instant now = quic::instant_from_ns(0);
  uint32_t seq = 0;
  size_t out = 0;
  for (auto _ : st) {
    auto v = b.on_packet(now, seq++ % uint32_t(kSeqModulus), true, pkt);
    out += v == ReorderBuffer::Verdict::kDeliverNow ? pkt.size() : 0;
    drain(b, out);
  }
  benchmark::DoNotOptimize(out);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ReorderInOrder);

// Two paths 2:1, the slow one `lag` packets behind: every slow-path packet fills a gap and
// releases the fast-path packets held behind it.
void BM_ReorderStriped(benchmark::State& st) {
  const auto lag = static_cast<uint32_t>(st.range(0));
  ReorderBuffer b({300ms, 4096, 4 << 20});
  b.set_path_delays(std::vector<PathDelay>{{10ms, 0ms}, {60ms, 0ms}});
  std::vector<uint8_t> pkt(1400, 0x45);
  quic::Instant now = quic::instant_from_ns(0);
  // Arrival order: fast packets (seq % 3 != 0) at once, slow ones (seq % 3 == 0) `lag` later.
  std::vector<uint32_t> order;
  for (uint32_t s = 0; s < 300'000; ++s) {
    if (s % 3 != 0) order.push_back(s);
    if (s >= lag && (s - lag) % 3 == 0) order.push_back(s - lag);
  }
  size_t i = 0, out = 0;
  for (auto _ : st) {
    if (i == order.size()) {
      st.PauseTiming();
      b = ReorderBuffer({300ms, 4096, 4 << 20});
      b.set_path_delays(std::vector<PathDelay>{{10ms, 0ms}, {60ms, 0ms}});
      i = 0;
      st.ResumeTiming();
    }
    now += 10us;
    auto v = b.on_packet(now, order[i++], true, pkt);
    out += v == ReorderBuffer::Verdict::kDeliverNow ? pkt.size() : 0;
    drain(b, out);
  }
  benchmark::DoNotOptimize(out);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ReorderStriped)->Arg(30)->Arg(300);

void BM_Classify(benchmark::State& st) {
  FlowClassifier c(FlowPolicy{}, 99);
  std::vector<std::vector<uint8_t>> pkts;
  for (int f = 0; f < st.range(0); ++f) {
    pkts.push_back(test::ipv4(ipproto::kTcp, static_cast<uint16_t>(40000 + f), 443, 1400, 0, uint8_t(f)));
  }
  quic::Instant now = quic::instant_from_ns(0);
  size_t i = 0, interactive = 0;
  for (auto _ : st) {
    auto r = c.classify(now, pkts[i++ % pkts.size()]);
    interactive += r.flow_class == FlowClass::kInteractive;
  }
  benchmark::DoNotOptimize(interactive);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_Classify)->Arg(1)->Arg(64)->Arg(16384);

void BM_IngressEnqueueDequeue(benchmark::State& st) {
  IngressQueue q({5ms, 100ms, 2 << 20});
  auto pkt = test::ipv4(ipproto::kTcp, 40000, 443, 1400, 0x02);
  quic::Instant now = quic::instant_from_ns(0);
  size_t out = 0;
  for (auto _ : st) {
    now += 10us;
    q.enqueue(now, pkt);
    if (auto p = q.dequeue(now + 1ms)) out += p->size();
  }
  benchmark::DoNotOptimize(out);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_IngressEnqueueDequeue);

}  // namespace
}  // namespace bond

BENCHMARK_MAIN();

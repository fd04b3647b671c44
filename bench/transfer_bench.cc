// Bytes per CPU-second of the whole packet path, both sides, without the kernel (issue #16):
// one bulk upload between two quic::Endpoints in memory (harness/bulk_transfer.h). The CPU
// column counts the client and the server together, as bench/loopback.sh's "bytes per CPU-s
// (both)" does, minus the sockets; bytes_per_second is that rate. Less noisy than a loopback
// run on a shared machine, so a packet-path change can be A/B'd with it first.
//   build/release/bench/transfer_bench --benchmark_filter=MiB:256 --benchmark_repetitions=5
// The 16 MiB case is for instruction counts (valgrind --tool=callgrind), which the machine's
// load does not move: callgrind_annotate's inclusive count of harness::run_bulk_upload over its
// calls.
#include <benchmark/benchmark.h>

#include "harness/bulk_transfer.h"

namespace {

// range(0): MiB moved; range(1): 0 one path, 1 multipath negotiated on one path, 2 two paths.
void BM_BulkUpload(benchmark::State& state) {
  const auto bytes = static_cast<uint64_t>(state.range(0)) << 20;
  const harness::BulkOptions options{state.range(1) >= 1, state.range(1) == 2};
  uint64_t datagrams = 0, acks = 0;
  (void)harness::run_bulk_upload(1 << 20);  // one-time set-up (the certificate) out of the figure
  for (auto _ : state) {
    auto r = harness::run_bulk_upload(bytes, options);
    if (r.delivered != bytes || !r.fin) {
      state.SkipWithError("the transfer did not complete");
      return;
    }
    datagrams += r.datagrams_to_server;
    acks += r.datagrams_to_client;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["datagrams_per_ack"] =
      acks > 0 ? static_cast<double>(datagrams) / static_cast<double>(acks) : 0;
}
BENCHMARK(BM_BulkUpload)
    ->ArgsProduct({{16, 256}, {0, 1, 2}})
    ->ArgNames({"MiB", "paths"})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

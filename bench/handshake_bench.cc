// Server CPU per full handshake in memory (issue #16 item 4; docs/performance.md "Handshake
// CPU"): QUIC (a quic::Endpoint pair, harness/handshake_cost.h) beside a bare TLS 1.3 handshake
// through the same GnuTLS certificate (ECDSA P-256, X25519), which is the floor the TLS library
// sets for the QUIC figure. Only the server's calls are timed (manual time, one thread); the
// client's work, the network and the kernel are left out. bench/many_connections.sh has the
// figure over real sockets.
//   build/release/bench/handshake_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>

#include "harness/handshake_cost.h"
#include "harness/in_memory_pair.h"

namespace {

// Connections the server keeps open before the pair is replaced (outside the timed part).
constexpr size_t kConnectionsPerServer = 1024;

double seconds(quic::Duration d) { return std::chrono::duration<double>(d).count(); }

void BM_QuicServerHandshake(benchmark::State& state) {
  auto pair = std::make_unique<harness::ServerHandshakes>(kConnectionsPerServer);
  for (int i = 0; i < 4; ++i) (void)pair->next();  // one-time lazy set-up out of the figure
  for (auto _ : state) {
    if (pair->completed() >= kConnectionsPerServer - 8) {
      pair = std::make_unique<harness::ServerHandshakes>(kConnectionsPerServer);
    }
    auto t = pair->next();
    if (!t) {
      state.SkipWithError("a handshake failed");
      return;
    }
    state.SetIterationTime(seconds(*t));
  }
}
BENCHMARK(BM_QuicServerHandshake)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_TlsServerHandshake(benchmark::State& state) {
  auto client = harness::tls_context(false);
  auto server = harness::tls_context(true);
  for (auto _ : state) {
    harness::ServerClock t{0};
    if (!harness::bare_tls_handshake(client, server, &t)) {
      state.SkipWithError("a handshake failed");
      return;
    }
    state.SetIterationTime(seconds(t));
  }
}
BENCHMARK(BM_TlsServerHandshake)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

#include "harness/bulk_transfer.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/random.h"
#include "harness/in_memory_pair.h"

namespace harness {

namespace {

constexpr size_t kGsoSegments = 64;  // io::EndpointDriver's runs
constexpr size_t kSendBuffer = 64 * 1024;    // one GSO send
constexpr size_t kWriteChunk = 64 * 1024;    // the application's writes
constexpr uint64_t kMaxTransferTurns = 50'000'000;   // bounds the loop whatever happens

void drain_events(quic::Connection& c) {
  while (c.poll_event()) {
  }
}

}  // namespace

BulkTransfer run_bulk_upload(uint64_t bytes, const BulkOptions& options) {
  BulkTransfer r;
  quic::SeededRandom server_random(2), client_random(1);
  quic::ConnectionConfig config;
  config.multipath = options.multipath || options.second_path;
  quic::Endpoint server(endpoint_config(true, config, 4), server_random);
  quic::Endpoint client(endpoint_config(false, config, 4), client_random);
  quic::Instant now = quic::instant_from_ns(1'000'000'000);
  auto handle = client.connect(kPairClientAddr, kPairServerAddr, now);
  if (!handle) return r;
  run_until(client, server, now, now + std::chrono::seconds(1));
  auto server_handle = server.accept();
  quic::Connection* c = client.connection(*handle);
  if (!server_handle || c == nullptr || !c->handshake_complete()) return r;
  if (options.second_path) {
    const quic::SocketAddress second = quic::SocketAddress::v4(198, 18, 0, 3, 50000);
    if (!c->add_path(second, kPairServerAddr)) return r;
    run_until(client, server, now, now + std::chrono::seconds(1));
    c = client.connection(*handle);
    if (c == nullptr) return r;
  }
  auto id = c->open_stream(true);
  if (!id) return r;

  std::vector<uint8_t> pattern(kWriteChunk);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 7 + 1);
  std::vector<uint8_t> buf(kSendBuffer);
  uint64_t written = 0;
  for (uint64_t turn = 0; turn < kMaxTransferTurns && !r.fin; ++turn) {
    c = client.connection(*handle);
    if (c == nullptr) break;
    drain_events(*c);
    while (written < bytes) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kWriteChunk, bytes - written));
      auto n = c->stream_write_with(*id, want, [&](quic::MutBytes out) {
        std::memcpy(out.data(), pattern.data(), out.size());
        return out.size();
      }, written + want == bytes);
      if (!n || *n == 0) break;
      written += *n;
    }
    uint64_t moved = shuttle(client, server, now, buf, kGsoSegments);
    r.datagrams_to_server += moved;
    if (quic::Connection* s = server.connection(*server_handle)) {
      drain_events(*s);
      for (;;) {
        bool fin = false;
        auto got = s->stream_read_with(
            *id, SIZE_MAX,
            [](std::span<const quic::Bytes> spans) {
              size_t n = 0;
              for (quic::Bytes b : spans) n += b.size();
              return n;
            },
            &fin);
        if (!got) break;
        r.delivered += *got;
        r.fin = r.fin || fin;
        if (*got == 0) break;
      }
    }
    uint64_t back = shuttle(server, client, now, buf, kGsoSegments);
    r.datagrams_to_client += back;
    if (moved + back == 0 && !fire_timers(client, server, now, quic::kNever)) break;
  }
  if (quic::Connection* end = client.connection(*handle)) r.paths = end->path_count();
  return r;
}

}  // namespace harness

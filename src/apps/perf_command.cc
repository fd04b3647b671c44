#include "apps/perf_command.h"

#include <cstdio>

#include <CLI/CLI.hpp>

#include "io/clock.h"
#include "io/endpoint_driver.h"

namespace apps {

namespace {
constexpr int kMaxConcurrent = 20'000;
constexpr double kMaxHoldSeconds = 25;
constexpr size_t kHandshakeWindow = 64;
constexpr quic::Duration kConcurrentKeepAlive = std::chrono::seconds(10);

// The requests of one connection: --streams requests sharing `size` bytes.
std::vector<HqRequest> perf_requests(const PerfClientOptions& o, uint64_t size) {
  std::vector<HqRequest> reqs;
  uint64_t per = size / static_cast<uint64_t>(o.streams);
  for (int i = 0; i < o.streams; ++i) {
    uint64_t n = i + 1 == o.streams ? size - per * static_cast<uint64_t>(o.streams - 1) : per;
    HqRequest r;
    if (o.upload) {
      r.line = "POST /perf";
      r.upload = n;
    } else {
      r.line = "GET /perf/" + std::to_string(n);
      r.sink = HqRequest::Sink::kPerfCheck;
      r.expect = n;
    }
    reqs.push_back(std::move(r));
  }
  return reqs;
}

// Why the first connection that ended without all its requests failed; empty: none did.
std::string first_failure(const std::vector<std::unique_ptr<HqClientApp>>& apps) {
  for (const auto& a : apps) {
    if (!a->finished() || !a->failed()) continue;
    return a->connection_error().empty() ? "request failed" : a->connection_error();
  }
  return {};
}

// --concurrent: all connections at once on the one socket; the handshakes, an optional idle
// hold, then every connection's requests. Prints connections up, handshake time, the
// requests' wall and CPU time and requests per CPU-second (of this process; a bench adds the
// server's from /proc).
int run_concurrent(const PerfClientOptions& o, const ClientSetup& setup, uint64_t size,
                   io::EndpointDriver& driver) {
  std::vector<std::unique_ptr<HqClientApp>> apps;
  apps.reserve(static_cast<size_t>(o.concurrent));
  for (int k = 0; k < o.concurrent; ++k) {
    apps.push_back(std::make_unique<HqClientApp>(setup.local, setup.remote, perf_requests(o, size)));
    apps.back()->set_held(true);
  }
  // At most kHandshakeWindow handshakes at a time: all N Initials at once overflow the
  // sockets' buffers, and a connection whose Initials are all lost waits out its PTOs.
  // A held connection that is up needs no visit until its release (its few events wait), so
  // until then each turn visits only the handshakes in progress.
  size_t opened = 0, up_count = 0;
  bool released = false;
  std::vector<HqClientApp*> pending;
  driver.set_app([&](quic::Endpoint& ep, quic::Instant now) {
    if (released) {
      for (auto& a : apps) a->on_activity(ep, now);
      return;
    }
    for (HqClientApp* a : pending) a->on_activity(ep, now);
    const size_t before = pending.size();
    std::erase_if(pending, [](const HqClientApp* a) {
      return a->handshake_done() != quic::Instant{} || a->finished();
    });
    up_count += before - pending.size();
    while (opened < apps.size() && pending.size() < kHandshakeWindow) {
      pending.push_back(apps[opened++].get());
      pending.back()->on_activity(ep, now);
    }
  });
  auto failed = [&] { return first_failure(apps); };
  const double cpu0 = process_cpu_seconds();
  const quic::Instant t0 = io::monotonic_now();
  auto up = driver.run_until([&] { return up_count == apps.size(); });
  if (!up || !failed().empty()) {
    std::fprintf(stderr, "tquic: %s\n", !up ? up.error().reason.c_str() : failed().c_str());
    return kExitFailure;
  }
  const double up_wall = to_seconds(io::monotonic_now() - t0);
  const double up_cpu = process_cpu_seconds() - cpu0;
  if (!o.json) {
    std::printf("%d connections up in %.3f s (cpu %.3f s)%s\n", o.concurrent, up_wall, up_cpu,
                o.hold > 0 ? ", holding them idle" : "");
    std::fflush(stdout);
  }
  if (o.hold > 0) {
    (void)driver.run_until([] { return false; }, io::monotonic_now() + from_seconds(o.hold));
  }
  for (auto& a : apps) a->set_held(false);
  released = true;
  const double cpu1 = process_cpu_seconds();
  const quic::Instant t1 = io::monotonic_now();
  auto done = driver.run_until([&] {
    for (const auto& a : apps) {
      if (!a->finished()) return false;
    }
    return true;
  });
  if (!done || !failed().empty()) {
    std::fprintf(stderr, "tquic: %s\n", !done ? done.error().reason.c_str() : failed().c_str());
    return kExitFailure;
  }
  const double wall = to_seconds(io::monotonic_now() - t1);
  const double cpu = process_cpu_seconds() - cpu1;
  const uint64_t requests = static_cast<uint64_t>(o.concurrent) * static_cast<uint64_t>(o.streams);
  const double rpc = cpu > 0 ? static_cast<double>(requests) / cpu : 0;
  if (o.json) {
    std::printf(
        "{\"concurrent\": %d, \"up_seconds\": %.4f, \"up_cpu_seconds\": %.3f, "
        "\"hold_seconds\": %.1f, \"requests\": %llu, \"bytes_per_request\": %llu, "
        "\"requests_seconds\": %.4f, \"requests_cpu_seconds\": %.3f, "
        "\"requests_per_cpu_second\": %.0f}\n",
        o.concurrent, up_wall, up_cpu, o.hold, (unsigned long long)requests,
        (unsigned long long)(size / static_cast<uint64_t>(o.streams)), wall, cpu, rpc);
  } else {
    std::printf("%llu requests of %llu bytes in %.3f s, cpu %.3f s, %.0f requests/cpu-s\n",
                (unsigned long long)requests,
                (unsigned long long)(size / static_cast<uint64_t>(o.streams)), wall, cpu, rpc);
  }
  return kExitOk;
}
}  // namespace

void add_perf_client_options(CLI::App& cmd, PerfClientOptions& o) {
  cmd.add_option("url", o.url, "https://host:port of a `tquic perf server`")->capture_default_str();
  cmd.add_option("--size", o.size, "bytes per connection (K/M/G suffixes)")->capture_default_str();
  cmd.add_flag("--upload", o.upload, "send the bytes to the server instead of downloading");
  cmd.add_option("--streams", o.streams, "parallel streams sharing --size")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd.add_option("--connections", o.connections, "connections, one after another")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd.add_option("--concurrent", o.concurrent,
                 "N connections at the same time, each making the requests (instead of "
                 "--connections)")
      ->check(CLI::Range(2, kMaxConcurrent));
  cmd.add_option("--hold", o.hold,
                 "with --concurrent: seconds all connections idle once up, before the requests")
      ->check(CLI::Range(0.0, kMaxHoldSeconds));
  cmd.add_flag("--json", o.json, "print the figures as JSON");
  add_trust_options(cmd, o.trust);
  add_net_options(cmd, o.net);
  add_path_options(cmd, o.paths);
  cmd.add_option("--kill-first-path-after", o.kill_first_path_after,
                 "test hook: blackhole the first --path socket after N bytes")
      ->group("");
}

int run_perf_client(const PerfClientOptions& o) {
  set_log_level(o.net.verbose);
  auto url = parse_url(o.url);
  auto size = parse_size(o.size);
  if (!url || !size || *size > kMaxPerfBytes) {
    std::fprintf(stderr, "tquic: bad %s\n", !url ? "URL" : "--size");
    return kExitUsage;
  }
  TrustOptions trust = o.trust;
  // A benchmark against our own perf server: without a trust option, skip verification.
  if (trust.ca_file.empty() && trust.pin.empty()) trust.insecure = true;
  int rc = 0;
  NetOptions net = o.net;
  // Held connections outlive the 30 s idle timeout while thousands more are set up.
  if (o.concurrent > 0) net.keep_alive = kConcurrentKeepAlive;
  auto setup = make_client(*url, net, trust, rc);
  if (!setup) return rc;
  auto extra = open_extra_paths(o.paths, o.net, setup->remote, rc);
  if (!extra) return rc;
  if (o.kill_first_path_after > 0 && extra->empty()) {
    std::fprintf(stderr, "tquic: --kill-first-path-after needs a --path\n");
    return kExitUsage;
  }
  std::vector<io::UdpSocket*> sockets = all_sockets(setup->socket.get(), *extra);
  io::EndpointDriver driver(*setup->endpoint, sockets);
  if (!driver.ok()) return kExitFailure;
  if (o.concurrent > 0) {
    if (!extra->empty() || o.connections != 1 || o.kill_first_path_after > 0) {
      std::fprintf(stderr, "tquic: --concurrent goes without --connections and --path\n");
      return kExitUsage;
    }
    return run_concurrent(o, *setup, *size, driver);
  }
  bool killed = false;
  // Blackholes the first extra path once enough bytes arrived; records what each socket had
  // received by then, which shows whether both paths carried data before the failure.
  auto maybe_kill = [&](HqClientApp& app, quic::Endpoint& ep) {
    if (killed || o.kill_first_path_after == 0) return;
    uint64_t got = 0;
    for (const auto& r : app.requests()) got += r.received;
    if (got < o.kill_first_path_after) return;
    killed = true;
    driver.set_blackhole(sockets[1], true);
    std::string line = "at kill: " + std::to_string(got) + " bytes;";
    for (io::UdpSocket* s : sockets) {
      line += " socket " + s->local_address().to_string() + " received " +
              std::to_string(s->stats().datagrams_received) + ";";
    }
    std::printf("%s\n", line.c_str());
    if (quic::Connection* c = app.connection(ep)) {
      std::printf("%s", format_path_figures(path_figures(*c), false).c_str());
    }
  };

  double cpu0 = process_cpu_seconds();
  quic::Instant t0 = io::monotonic_now();
  double handshake_total = 0, transfer_total = 0;
  uint64_t bytes = 0, lost = 0, sent_packets = 0;
  std::vector<PathFigures> last_paths;  // of the last connection
  for (int k = 0; k < o.connections; ++k) {
    HqClientApp app(setup->local, setup->remote, perf_requests(o, *size));
    app.set_paths(path_requests(*extra));
    driver.set_app([&](quic::Endpoint& ep, quic::Instant now) {
      app.on_activity(ep, now);
      maybe_kill(app, ep);
    });
    auto r = driver.run_until([&] { return app.finished(); });
    if (!r) {
      std::fprintf(stderr, "tquic: %s\n", r.error().reason.c_str());
      return kExitFailure;
    }
    if (app.failed()) {
      std::fprintf(
          stderr, "tquic: connection %d failed: %s\n", k,
          app.connection_error().empty() ? "request failed" : app.connection_error().c_str());
      return kExitFailure;
    }
    if (o.upload) {
      for (const auto& req : app.requests()) {
        if (req.body != std::to_string(req.upload) + "\r\n") {
          std::fprintf(stderr, "tquic: server counted '%s' of %llu uploaded bytes\n",
                       req.body.c_str(), static_cast<unsigned long long>(req.upload));
          return kExitFailure;
        }
      }
    }
    handshake_total += to_seconds(app.handshake_done() - app.started());
    transfer_total += to_seconds(app.completed() - app.handshake_done());
    bytes += *size;
    last_paths = app.path_figures();
    lost += app.stats().packets_lost;
    sent_packets += app.stats().packets_sent;
  }
  double wall = to_seconds(io::monotonic_now() - t0);
  double cpu = process_cpu_seconds() - cpu0;
  double goodput = transfer_total > 0 ? static_cast<double>(bytes) * 8 / transfer_total / 1e6 : 0;
  double hs_ms = handshake_total / o.connections * 1e3;
  double bpc = cpu > 0 ? static_cast<double>(bytes) / cpu : 0;
  double hps = wall > 0 ? o.connections / wall : 0;
  const io::SocketStats& ss = setup->socket->stats();
  // Datagrams per GSO send: how long the runs the core builds (and the queue joins) are.
  const double per_gso = ss.gso_messages > 0 ? static_cast<double>(ss.gso_datagrams) /
                                                   static_cast<double>(ss.gso_messages)
                                             : 0;
  const io::DriverStats& ds = driver.stats();
  if (o.json) {
    std::printf(
        "{\"direction\": \"%s\", \"bytes\": %llu, \"connections\": %d, \"streams\": %d, "
        "\"wall_seconds\": %.4f, \"transfer_seconds\": %.4f, \"goodput_mbps\": %.1f, "
        "\"handshake_ms\": %.3f, \"handshakes_per_second\": %.1f, \"cpu_seconds\": %.3f, "
        "\"bytes_per_cpu_second\": %.0f, \"packets_sent\": %llu, \"packets_lost\": %llu, "
        "\"datagrams_sent\": %llu, \"datagrams_received\": %llu, \"gso\": %s, \"gro\": %s, "
        "\"gso_messages\": %llu, \"datagrams_per_gso_send\": %.1f, \"core_runs\": %llu, "
        "\"core_run_datagrams\": %llu, \"queue_merged\": %llu, \"gro_buffers\": %llu, "
        "\"paths\": %s}\n",
        o.upload ? "upload" : "download", (unsigned long long)bytes, o.connections, o.streams, wall,
        transfer_total, goodput, hs_ms, hps, cpu, bpc, (unsigned long long)sent_packets,
        (unsigned long long)lost, (unsigned long long)ss.datagrams_sent,
        (unsigned long long)ss.datagrams_received, setup->socket->gso_enabled() ? "true" : "false",
        setup->socket->gro_enabled() ? "true" : "false", (unsigned long long)ss.gso_messages,
        per_gso, (unsigned long long)ds.core_runs, (unsigned long long)ds.core_run_datagrams,
        (unsigned long long)driver.send_stats().merged, (unsigned long long)ss.gro_buffers,
        format_path_figures(o.net.multipath ? last_paths : std::vector<PathFigures>{}, true)
            .c_str());
  } else {
    std::printf(
        "%s %llu bytes over %d connection(s) x %d stream(s): goodput %.1f Mbit/s "
        "(transfer %.3f s, wall %.3f s), handshake %.3f ms, %.1f handshakes/s, cpu %.3f s, "
        "%.0f bytes/cpu-s, packets sent %llu lost %llu, gso %s (%llu GSO sends of %.1f "
        "datagrams) gro %s\n",
        o.upload ? "uploaded" : "downloaded", (unsigned long long)bytes, o.connections, o.streams,
        goodput, transfer_total, wall, hs_ms, hps, cpu, bpc, (unsigned long long)sent_packets,
        (unsigned long long)lost, setup->socket->gso_enabled() ? "on" : "off",
        (unsigned long long)ss.gso_messages, per_gso, setup->socket->gro_enabled() ? "on" : "off");
    if (o.net.multipath) std::printf("%s", format_path_figures(last_paths, false).c_str());
  }
  return kExitOk;
}

}  // namespace apps

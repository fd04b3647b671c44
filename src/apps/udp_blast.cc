#include "apps/udp_blast.h"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/net_options.h"
#include "apps/stop_signal.h"
#include "io/clock.h"
#include "io/udp_socket.h"

namespace apps {

// Outside the anonymous namespace: UdpBlastCommand::State holds them.
struct UdpBlastSendOptions {
  std::string to;
  double seconds = 3, rate_mbit = 0;  // 0: as fast as the socket takes them
  int payload = 1200;
  int warmup_ms = 300;
  bool no_gso = false;  // one datagram per message, as most applications send
};

struct UdpBlastSinkOptions {
  std::string listen;
  double seconds = 60;  // the sink stops by itself after this long (SIGTERM stops it earlier)
};

namespace {

// Payload bytes of the datagrams: the sink tells the one warm-up datagram (which opens the
// tunnel's flow before the timed part) from the measured ones by the first byte.
constexpr uint8_t kDataByte = 'y';
constexpr uint8_t kWarmupByte = 'w';
// GSO messages per sendmmsg: bounds the burst a sender that fell behind its schedule sends.
constexpr size_t kMessagesPerCall = 4;
// Without GSO: datagrams a paced sender waits for before a sendmmsg (one message each), and the
// most one call sends.
constexpr size_t kPlainChunk = 32;
constexpr size_t kPlainBurst = 64;
// A paced sender sleeps at most this long at once, so it sends in small, even bursts.
constexpr quic::Duration kMaxSleep = std::chrono::milliseconds(1);
constexpr int kPollMs = 50;

void sleep_for(quic::Duration d) {
  if (d.count() <= 0) return;
  timespec ts{static_cast<time_t>(d.count() / 1'000'000'000), static_cast<long>(d.count() % 1'000'000'000)};
  nanosleep(&ts, nullptr);
}

struct Sender {
  io::UdpSocket& sock;
  quic::SocketAddress to;
  size_t payload, segs;
  std::vector<uint8_t> buf;
  std::vector<io::SendMessage> msgs;
  uint64_t sent = 0;

  // Sends `count` datagrams (at most segs * kMessagesPerCall); fewer when the socket is full.
  size_t send(size_t count) {
    msgs.clear();
    for (size_t off = 0; off < count; off += segs) {
      size_t n = std::min(segs, count - off);
      msgs.push_back(io::SendMessage{sock.local_address(), to, 0,
                                     quic::Bytes(buf.data(), n * payload), n > 1 ? payload : 0});
    }
    auto r = sock.send(msgs);
    if (!r) return 0;
    size_t done = 0;
    for (size_t i = 0; i < *r; ++i) done += (msgs[i].data.size() + payload - 1) / payload;
    sent += done;
    return done;
  }
};

int run_send(const UdpBlastSendOptions& o) {
  auto to = quic::SocketAddress::parse(o.to);
  if (!to) {
    std::fprintf(stderr, "tquic udp-blast: --to: expected ADDR:PORT\n");
    return kExitUsage;
  }
  auto any = *quic::SocketAddress::parse(to->v6 ? "[::]:0" : "0.0.0.0:0");
  io::SocketOptions so;
  so.gro = false;
  so.gso = !o.no_gso;
  auto sock = io::UdpSocket::open(any, so);
  if (!sock) {
    std::fprintf(stderr, "tquic udp-blast: %s\n", sock.error().reason.c_str());
    return kExitFailure;
  }
  const size_t payload = static_cast<size_t>(o.payload);
  const size_t segs =
      (*sock)->gso_enabled() ? std::min(io::kMaxGsoSegments, io::kMaxUdpPayload / payload) : 1;
  Sender s{**sock, *to, payload, segs, std::vector<uint8_t>(segs * payload, kWarmupByte), {}};
  if (o.warmup_ms > 0) {
    (void)s.send(1);
    sleep_for(std::chrono::milliseconds(o.warmup_ms));
  }
  std::fill(s.buf.begin(), s.buf.end(), kDataByte);
  s.sent = 0;
  const double per_second = o.rate_mbit * 1e6 / 8 / static_cast<double>(payload);
  // A paced sender waits until `chunk` datagrams are due (one GSO message, or kPlainChunk single
  // ones) so each system call carries many; it sends at most `burst` at once.
  const size_t chunk = segs > 1 ? segs : kPlainChunk;
  const size_t burst = segs > 1 ? segs * kMessagesPerCall : kPlainBurst;
  const double cpu0 = process_cpu_seconds();
  const quic::Instant start = io::monotonic_now(), end = start + from_seconds(o.seconds);
  for (quic::Instant now = start; now < end && !stop_requested(); now = io::monotonic_now()) {
    uint64_t due = s.sent + burst;
    if (per_second > 0) due = static_cast<uint64_t>(to_seconds(now - start) * per_second);
    uint64_t pending = due > s.sent ? due - s.sent : 0;
    if (pending < chunk && per_second > 0) {
      // Wait for a chunk's worth, but not longer than kMaxSleep (slow rates).
      quic::Instant wake =
          start + from_seconds(static_cast<double>(s.sent + chunk) / per_second);
      if (pending == 0 || wake <= now + kMaxSleep) {
        sleep_for(std::min({wake, now + kMaxSleep, end}) - now);
        continue;
      }
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(pending, burst));
    if (s.send(want) < want) {  // the socket buffer is full: wait until it drains a little
      pollfd p{(*sock)->fd(), POLLOUT, 0};
      (void)poll(&p, 1, 10);
    }
  }
  double elapsed = to_seconds(io::monotonic_now() - start);
  double bytes = static_cast<double>(s.sent * payload);
  std::printf(
      "{\"sent_datagrams\": %llu, \"sent_bytes\": %.0f, \"seconds\": %.3f, \"offered_mbps\": "
      "%.1f, \"gso_segments\": %zu, \"cpu_seconds\": %.3f}\n",
      static_cast<unsigned long long>(s.sent), bytes, elapsed,
      elapsed > 0 ? bytes * 8 / elapsed / 1e6 : 0.0, segs, process_cpu_seconds() - cpu0);
  return kExitOk;
}

int run_sink(const UdpBlastSinkOptions& o) {
  auto at = quic::SocketAddress::parse(o.listen);
  if (!at) {
    std::fprintf(stderr, "tquic udp-blast: --listen: expected ADDR:PORT\n");
    return kExitUsage;
  }
  io::SocketOptions so;
  so.buffer_bytes = 8 << 20;
  auto sock = io::UdpSocket::open(*at, so);
  if (!sock) {
    std::fprintf(stderr, "tquic udp-blast: %s\n", sock.error().reason.c_str());
    return kExitUsage;
  }
  std::printf("listening on %s\n", (*sock)->local_address().to_string().c_str());
  std::fflush(stdout);
  uint64_t datagrams = 0, bytes = 0, warmup = 0;
  quic::Instant first{}, last{};
  std::vector<io::RecvDatagram> got;
  const double cpu0 = process_cpu_seconds();
  const quic::Instant start = io::monotonic_now(), end = start + from_seconds(o.seconds);
  while (!stop_requested() && io::monotonic_now() < end) {
    pollfd p{(*sock)->fd(), POLLIN, 0};
    if (poll(&p, 1, kPollMs) <= 0) continue;  // timeout, or EINTR from the stop signal
    if (!(*sock)->recv(got)) break;
    for (const io::RecvDatagram& d : got) {
      size_t seg = d.segment_size > 0 ? d.segment_size : d.data.size();
      for (size_t off = 0; off < d.data.size(); off += seg) {
        if (d.data[off] == kWarmupByte) {
          ++warmup;
          continue;
        }
        if (datagrams++ == 0) first = io::monotonic_now();
        bytes += std::min(seg, d.data.size() - off);
      }
    }
    if (!got.empty() && datagrams > 0) last = io::monotonic_now();
  }
  std::printf(
      "{\"datagrams\": %llu, \"bytes\": %llu, \"warmup\": %llu, \"span_seconds\": %.3f, "
      "\"cpu_seconds\": %.3f}\n",
      static_cast<unsigned long long>(datagrams), static_cast<unsigned long long>(bytes),
      static_cast<unsigned long long>(warmup), datagrams > 0 ? to_seconds(last - first) : 0.0,
      process_cpu_seconds() - cpu0);
  return kExitOk;
}

}  // namespace

struct UdpBlastCommand::State {
  CLI::App* cmd = nullptr;
  CLI::App* send = nullptr;
  CLI::App* sink = nullptr;
  UdpBlastSendOptions send_opts;
  UdpBlastSinkOptions sink_opts;
};

UdpBlastCommand::UdpBlastCommand(CLI::App& app) : s_(std::make_unique<State>()) {
  s_->cmd = app.add_subcommand("udp-blast", "UDP load generator and sink for benchmarks");
  s_->cmd->group("");  // hidden: a bench tool, not a user command
  s_->cmd->require_subcommand(1);
  s_->send = s_->cmd->add_subcommand("send", "offer datagrams to ADDR:PORT for --seconds");
  UdpBlastSendOptions& so = s_->send_opts;
  s_->send->add_option("--to", so.to, "destination ADDR:PORT")->required();
  s_->send->add_option("--seconds", so.seconds, "how long to send")
      ->check(CLI::Range(0.01, kMaxBlastSeconds));
  s_->send->add_option("--rate", so.rate_mbit, "offered Mbit/s of UDP payload (0: unpaced)")
      ->check(CLI::Range(0.0, 1e6));
  s_->send->add_option("--payload", so.payload, "UDP payload bytes per datagram")
      ->check(CLI::Range(16, 65507));
  s_->send->add_option("--warmup-ms", so.warmup_ms,
                       "send one warm-up datagram and wait this long before the timed part")
      ->check(CLI::Range(0, 10000));
  s_->send->add_flag("--no-gso", so.no_gso, "one datagram per message (no UDP_SEGMENT)");
  s_->sink = s_->cmd->add_subcommand("sink", "count datagrams arriving on ADDR:PORT");
  s_->sink->add_option("--listen", s_->sink_opts.listen, "ADDR:PORT to receive on")->required();
  s_->sink->add_option("--seconds", s_->sink_opts.seconds,
                       "stop after this long at the latest (SIGTERM/SIGINT stop it earlier)")
      ->check(CLI::Range(0.01, kMaxBlastSeconds));
}

UdpBlastCommand::~UdpBlastCommand() = default;

std::optional<int> UdpBlastCommand::dispatch() const {
  if (!*s_->cmd) return std::nullopt;
  install_stop_signals();
  if (*s_->send) return run_send(s_->send_opts);
  return run_sink(s_->sink_opts);
}

}  // namespace apps

#include "apps/udp_perf.h"

#include <poll.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/net_options.h"
#include "io/clock.h"
#include "io/udp_socket.h"

namespace apps {

namespace {

double thread_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

void add_udp_perf_options(CLI::App& cmd, UdpPerfOptions& o) {
  cmd.add_option("--size", o.size, "bytes to send (K/M/G suffixes)")->capture_default_str();
  cmd.add_option("--payload", o.payload, "UDP payload bytes per datagram")
      ->check(CLI::Range(64, 8192))
      ->capture_default_str();
  cmd.add_flag("--ipv6", o.ipv6, "use ::1 instead of 127.0.0.1");
  cmd.add_flag("--no-gso", o.no_gso, "one datagram per message (no UDP_SEGMENT)");
  cmd.add_flag("--no-gro", o.no_gro, "receive without UDP_GRO");
  cmd.add_flag("--json", o.json, "print the figures as JSON");
}

int run_udp_perf(const UdpPerfOptions& o) {
  auto size = parse_size(o.size);
  if (!size) {
    std::fprintf(stderr, "tquic: bad --size\n");
    return kExitUsage;
  }
  auto lo = *quic::SocketAddress::parse(o.ipv6 ? "[::1]:0" : "127.0.0.1:0");
  io::SocketOptions so;
  so.gso = !o.no_gso;
  so.gro = !o.no_gro;
  so.buffer_bytes = 8 << 20;
  auto rx = io::UdpSocket::open(lo, so);
  auto tx = io::UdpSocket::open(lo, so);
  if (!rx || !tx) {
    std::fprintf(stderr, "tquic: cannot open loopback sockets\n");
    return kExitFailure;
  }
  for (const auto& w : (*rx)->warnings()) std::fprintf(stderr, "tquic: warning: %s\n", w.c_str());
  const size_t payload = static_cast<size_t>(o.payload);
  const bool gso = (*tx)->gso_enabled();
  const size_t segs = gso ? std::min(io::kMaxGsoSegments, io::kMaxUdpPayload / payload) : 1;

  std::atomic<bool> sender_done{false};
  uint64_t rx_bytes = 0, rx_datagrams = 0;
  double rx_cpu = 0;
  quic::Instant rx_first{}, rx_last{};
  std::thread receiver([&] {
    std::vector<io::RecvDatagram> got;
    double cpu0 = thread_cpu_seconds();
    for (;;) {
      pollfd p{(*rx)->fd(), POLLIN, 0};
      int n = poll(&p, 1, 200);
      if (n == 0 && sender_done) break;
      if (!(*rx)->recv(got)) break;
      for (auto& d : got) {
        if (rx_bytes == 0) rx_first = io::monotonic_now();
        rx_bytes += d.data.size();
        rx_datagrams += (d.data.size() + d.segment_size - 1) / d.segment_size;
      }
      if (!got.empty()) rx_last = io::monotonic_now();
    }
    rx_cpu = thread_cpu_seconds() - cpu0;
  });

  std::vector<uint8_t> buf(segs * payload * io::kSendBatch, 0x5a);
  std::vector<io::SendMessage> msgs(io::kSendBatch);
  for (size_t i = 0; i < msgs.size(); ++i) {
    msgs[i] = io::SendMessage{(*tx)->local_address(), (*rx)->local_address(), 0,
                              quic::Bytes(buf.data() + i * segs * payload, segs * payload),
                              segs > 1 ? payload : 0};
  }
  double tx_cpu0 = thread_cpu_seconds();
  quic::Instant t0 = io::monotonic_now();
  uint64_t sent = 0;
  while (sent < *size) {
    auto n = (*tx)->send(msgs);
    if (!n) break;
    sent += *n * segs * payload;
    if (*n < msgs.size()) {
      pollfd p{(*tx)->fd(), POLLOUT, 0};
      poll(&p, 1, 100);
    }
  }
  quic::Instant t1 = io::monotonic_now();
  double tx_cpu = thread_cpu_seconds() - tx_cpu0;
  sender_done = true;
  receiver.join();

  double tx_s = to_seconds(t1 - t0), rx_s = to_seconds(rx_last - rx_first);
  double tx_gbit = tx_s > 0 ? static_cast<double>(sent) * 8 / tx_s / 1e9 : 0;
  double rx_gbit = rx_s > 0 ? static_cast<double>(rx_bytes) * 8 / rx_s / 1e9 : 0;
  const auto& ts = (*tx)->stats();
  if (o.json) {
    std::printf(
        "{\"payload\": %zu, \"gso\": %s, \"gro\": %s, \"sent_bytes\": %llu, \"send_seconds\": "
        "%.3f, \"send_gbps\": %.2f, \"send_cpu_seconds\": %.3f, \"received_bytes\": %llu, "
        "\"received_datagrams\": %llu, \"receive_gbps\": %.2f, \"receive_cpu_seconds\": %.3f, "
        "\"send_calls\": %llu, \"recv_calls\": %llu, \"gro_buffers\": %llu}\n",
        payload, gso ? "true" : "false", (*rx)->gro_enabled() ? "true" : "false",
        (unsigned long long)sent, tx_s, tx_gbit, tx_cpu, (unsigned long long)rx_bytes,
        (unsigned long long)rx_datagrams, rx_gbit, rx_cpu, (unsigned long long)ts.send_calls,
        (unsigned long long)(*rx)->stats().recv_calls,
        (unsigned long long)(*rx)->stats().gro_buffers);
  } else {
    std::printf(
        "udp %zu-byte datagrams, gso %s gro %s: sent %llu bytes in %.3f s (%.2f Gbit/s, cpu %.3f "
        "s); received %llu bytes (%.1f%%) at %.2f Gbit/s (cpu %.3f s), %llu GRO buffers\n",
        payload, gso ? "on" : "off", (*rx)->gro_enabled() ? "on" : "off", (unsigned long long)sent,
        tx_s, tx_gbit, tx_cpu, (unsigned long long)rx_bytes,
        sent ? 100.0 * static_cast<double>(rx_bytes) / static_cast<double>(sent) : 0.0, rx_gbit,
        rx_cpu, (unsigned long long)(*rx)->stats().gro_buffers);
  }
  return rx_bytes > 0 ? kExitOk : kExitFailure;
}

}  // namespace apps

// Echo client: sends a file on one QUIC stream and writes what comes back to another file,
// sends numbered datagrams and counts the echoes, then prints the connection's figures.
//
//   echo_client --connect 127.0.0.1:4433 --ca cert.pem --input in.bin --output out.bin
//               [--datagrams N] [--timeout-s S]
//
// Exit status 0 when the whole stream came back (and, with --datagrams, at least one datagram
// did: they are unreliable). Written against the public headers only.
#include <cstdio>
#include <cstring>
#include <vector>

#include "example_util.h"
#include "tquic/tquic.h"

namespace {

constexpr char kAlpn[] = "tquic-echo";

struct Transfer {
  std::vector<uint8_t> input, output;
  size_t sent = 0;
  bool fin_sent = false, fin_read = false;
  uint64_t stream = 0;
  bool started = false;
  size_t datagrams = 0, echoed = 0;
  tquic::Instant finished_at = tquic::kNever;
  std::optional<tquic::TransportError> closed;
};

void on_handshake(tquic::Connection& c, Transfer& t) {
  auto id = c.open_stream(true);
  if (!id) return;  // would_block cannot happen on a fresh connection with a sane peer
  t.stream = *id;
  t.started = true;
  for (size_t i = 0; i < t.datagrams; ++i) {
    uint8_t d[64];
    std::memset(d, static_cast<int>(i), sizeof d);
    if (auto r = c.send_datagram(d); !r) std::fprintf(stderr, "datagram: %s\n", tquic::to_string(r.error()).c_str());
  }
}

void pump(tquic::Connection& c, Transfer& t, tquic::Instant now) {
  while (t.started && !t.fin_sent) {
    auto n = c.stream_write(t.stream, std::span(t.input).subspan(t.sent), true);
    if (!n) break;  // would_block until stream_writable
    t.sent += *n;
    t.fin_sent = t.sent == t.input.size();
    if (*n == 0 && !t.fin_sent) break;
  }
  uint8_t buf[16384];
  while (t.started && !t.fin_read) {
    auto r = c.stream_read(t.stream, buf);
    if (!r) {
      if (r.error().code != tquic::Errc::would_block) {
        std::fprintf(stderr, "read: %s\n", tquic::to_string(r.error()).c_str());
        t.fin_read = true;  // give up on the stream
      }
      break;
    }
    t.output.insert(t.output.end(), buf, buf + r->bytes);
    if (r->fin) {
      t.fin_read = true;
      t.finished_at = now;
    }
  }
  while (auto d = c.recv_datagram()) ++t.echoed;
}

void print_info(const tquic::Connection& c) {
  auto info = c.info();
  if (!info) return;
  std::printf("version 0x%x, ALPN %s, handshake %.1f ms, %llu packets sent, %llu lost\n",
              info->version, info->alpn.c_str(), info->handshake_time.count() / 1e6,
              static_cast<unsigned long long>(info->packets_sent),
              static_cast<unsigned long long>(info->packets_lost));
  for (const auto& p : info->paths) {
    std::printf("path %llu %s -> %s: srtt %.2f ms, cwnd %llu, pmtu %u\n",
                static_cast<unsigned long long>(p.id), p.local.to_string().c_str(),
                p.remote.to_string().c_str(), p.srtt.count() / 1e6,
                static_cast<unsigned long long>(p.cwnd), p.pmtu);
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto flags = example::parse_flags(argc, argv);
  if (!flags || !flags->contains("connect") || !flags->contains("input")) {
    std::fprintf(stderr, "usage: echo_client --connect ADDR --ca CERT --input FILE --output FILE "
                         "[--datagrams N] [--timeout-s S]\n");
    return 2;
  }
  auto remote = tquic::Address::parse(flags->at("connect"));
  auto input = example::read_file(flags->at("input"));
  if (!remote || !input) {
    std::fprintf(stderr, "bad --connect address or unreadable --input\n");
    return 2;
  }
  Transfer t;
  t.input = std::move(*input);
  t.datagrams = std::stoul(example::flag(*flags, "datagrams", "0"));
  int timeout_s = std::stoi(example::flag(*flags, "timeout-s", "20"));

  tquic::EndpointOptions options;
  options.tls.alpn = {kAlpn};
  options.connection.max_datagram_frame_size = 1200;
  auto client = example::start_client(*flags, *remote, options);
  if (!client) return 1;
  auto conn = client->endpoint.connect(client->socket.local_address(), *remote, tquic::io::monotonic_now());
  if (!conn) {
    std::fprintf(stderr, "connect: %s\n", tquic::to_string(conn.error()).c_str());
    return 1;
  }
  auto driver = tquic::io::Driver::create(client->endpoint, {&client->socket});
  if (!driver) {
    std::fprintf(stderr, "driver: %s\n", driver.error().what.c_str());
    return 1;
  }
  driver->set_app([&](tquic::Endpoint&, tquic::Instant now) {
    while (auto e = conn->poll_event()) {
      if (e->kind == tquic::EventKind::handshake_completed) on_handshake(*conn, t);
      if (e->kind == tquic::EventKind::closed) t.closed = e->close;
    }
    pump(*conn, t, now);
  });
  // Done once the echo is complete and every datagram came back (or 500 ms passed for them).
  auto done = [&] {
    if (t.closed) return true;
    if (!t.fin_read) return false;
    return t.echoed >= t.datagrams ||
           tquic::io::monotonic_now() >= t.finished_at + std::chrono::milliseconds(500);
  };
  bool finished = example::run(*driver, done, timeout_s);
  if (t.closed) {
    std::fprintf(stderr, "connection closed: %s\n", tquic::to_string(*t.closed).c_str());
    return 1;
  }
  print_info(*conn);
  // Close, and keep the loop running briefly so the CONNECTION_CLOSE leaves (the server then
  // ends the connection at once instead of after its idle timeout).
  conn->close(0, "done", tquic::io::monotonic_now());
  (void)driver->run_until([] { return false; },
                          tquic::io::monotonic_now() + std::chrono::milliseconds(300));
  std::printf("stream: %zu of %zu bytes echoed; datagrams: %zu of %zu echoed\n", t.output.size(),
              t.input.size(), t.echoed, t.datagrams);
  if (auto out = example::flag(*flags, "output", "");
      !out.empty() && !example::write_file(out, t.output.data(), t.output.size())) {
    return 1;
  }
  bool ok = finished && t.output == t.input && (t.datagrams == 0 || t.echoed > 0);
  return ok ? 0 : 1;
}

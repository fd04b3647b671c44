// Echo server over raw QUIC streams and DATAGRAM frames: every stream a client opens gets its
// bytes back on the same stream (FIN for FIN), every datagram is sent back as is.
//
//   echo_server [--listen 127.0.0.1:4433] [--cert-out cert.pem] [--port-file port.txt]
//               [--max-connections N] [--timeout-s S]
//
// It presents a fresh self-signed certificate for "localhost" and writes it to --cert-out so
// the client can trust it (echo_client --ca cert.pem). With --max-connections it exits after
// serving that many connections. Written against the public headers only.
#include <cstdio>
#include <map>
#include <vector>

#include "example_util.h"
#include "tquic/tquic.h"

namespace {

constexpr size_t kMaxPending = 1 << 20;  // bytes read but not yet echoed, per stream
constexpr char kAlpn[] = "tquic-echo";

struct StreamEcho {
  std::vector<uint8_t> pending;
  bool fin_read = false, fin_sent = false;
};

struct ConnEcho {
  tquic::Connection conn;
  std::map<uint64_t, StreamEcho> streams;
  bool closed = false;
};

// Reads what the stream has (up to kMaxPending buffered), then echoes what the peer takes.
void pump(tquic::Connection& c, uint64_t id, StreamEcho& s) {
  uint8_t buf[16384];
  while (!s.fin_read && s.pending.size() < kMaxPending) {
    auto r = c.stream_read(id, buf);
    if (!r) break;  // would_block, or the stream is over (reset, finished)
    s.pending.insert(s.pending.end(), buf, buf + r->bytes);
    s.fin_read = r->fin;
  }
  while (!s.fin_sent && (!s.pending.empty() || s.fin_read)) {
    auto n = c.stream_write(id, s.pending, s.fin_read);
    if (!n) return;  // would_block: wait for stream_writable; or the peer stopped us
    s.pending.erase(s.pending.begin(), s.pending.begin() + static_cast<std::ptrdiff_t>(*n));
    s.fin_sent = s.fin_read && s.pending.empty();
    if (*n == 0 && !s.fin_sent) return;
  }
}

void serve(ConnEcho& ce) {
  while (auto e = ce.conn.poll_event()) {
    switch (e->kind) {
      case tquic::EventKind::stream_opened:
      case tquic::EventKind::stream_readable:
      case tquic::EventKind::stream_writable:
        ce.streams.try_emplace(e->stream_id);
        break;
      case tquic::EventKind::stream_reset:
      case tquic::EventKind::stop_sending:
        ce.streams.erase(e->stream_id);
        break;
      case tquic::EventKind::closed:
        std::printf("connection %llu closed: %s\n", static_cast<unsigned long long>(ce.conn.id()),
                    tquic::to_string(*e->close).c_str());
        ce.closed = true;
        break;
      default:
        break;
    }
  }
  while (auto d = ce.conn.recv_datagram()) (void)ce.conn.send_datagram(*d);
  for (auto it = ce.streams.begin(); it != ce.streams.end();) {
    pump(ce.conn, it->first, it->second);
    it = it->second.fin_sent ? ce.streams.erase(it) : std::next(it);
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto flags = example::parse_flags(argc, argv);
  if (!flags) {
    std::fprintf(stderr, "usage: echo_server [--listen ADDR] [--cert-out FILE] [--port-file FILE] "
                         "[--max-connections N] [--timeout-s S]\n");
    return 2;
  }
  tquic::EndpointOptions options;
  options.tls.alpn = {kAlpn};
  options.connection.max_datagram_frame_size = 1200;
  auto server = example::start_server(*flags, options);
  if (!server) return 1;
  std::vector<ConnEcho> conns;
  size_t served = 0;
  auto hook = [&](tquic::Endpoint& ep, tquic::Instant) {
    while (auto c = ep.accept()) conns.push_back(ConnEcho{*c, {}, false});
    for (auto& ce : conns) serve(ce);
    served += static_cast<size_t>(std::erase_if(conns, [](const ConnEcho& c) { return c.closed; }));
  };
  return example::run_server(*server, *flags, hook, [&] { return served; });
}

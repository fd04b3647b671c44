#include "apps/hq_server.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <CLI/CLI.hpp>

#include "apps/body_pump.h"
#include "apps/stop_signal.h"
#include "apps/visit_set.h"
#include "io/endpoint_driver.h"
#include "io/os_random.h"
#include "io/sockaddr.h"
#include "tls/test_certs.h"

namespace apps {

namespace {

// EndpointConfig::retry (RetryPolicy) comes with the core's address-validation work; compiled
// against a core without it, --retry is reported as unsupported instead of silently ignored.
template <class Config>
bool set_retry_always(Config& ec) {
  if constexpr (requires { ec.retry = decltype(ec.retry)::kAlways; }) {
    ec.retry = decltype(ec.retry)::kAlways;
    return true;
  } else {
    return false;
  }
}


quic::Bytes as_bytes(const std::string& s) {
  return quic::Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

const std::vector<uint8_t>& perf_pattern(size_t chunk) {
  static std::vector<uint8_t> pattern;
  if (pattern.size() < chunk + 251) {
    pattern.resize(chunk + 251);
    for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = perf_byte(i);
  }
  return pattern;
}

std::optional<std::string> resolve_request_path(const std::string& root_real,
                                                const std::string& path) {
  if (path.empty() || path.front() != '/' || path.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  // Reject any ".." segment outright, before the file system sees the name.
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, "..") == 0) return std::nullopt;
    start = end + 1;
  }
  std::string joined = root_real + path;
  char real[PATH_MAX];
  if (realpath(joined.c_str(), real) == nullptr) return std::nullopt;
  std::string r(real);
  // Symlinks inside the root must not lead out of it.
  if (r.size() <= root_real.size() || r.compare(0, root_real.size(), root_real) != 0 ||
      r[root_real.size()] != '/') {
    return std::nullopt;
  }
  struct stat st {};
  if (stat(r.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return r;
}

void HqServerApp::on_activity(quic::Endpoint& endpoint, quic::Instant) {
  if (buf_.empty()) buf_.resize(kChunk);
  // Only the connections with news and those with a request in progress (apps/visit_set.h).
  endpoint.track_activity();
  std::vector<quic::ConnectionHandle> visit = endpoint.take_activity();
  while (auto h = endpoint.accept()) {
    conns_[*h];
    visit.push_back(*h);
    ++counters_.connections;
    log_at(1, "connection %llu accepted", static_cast<unsigned long long>(*h));
  }
  for (quic::ConnectionHandle h : visit_set(std::move(visit), busy_)) {
    auto it = conns_.find(h);
    if (it == conns_.end()) continue;
    quic::Connection* c = endpoint.connection(h);
    if (c == nullptr) {
      for (auto& [id, s] : it->second.streams) finish(s);
      conns_.erase(it);
      busy_.erase(h);
      continue;
    }
    drive(*c, it->second);
    if (it->second.streams.empty()) {
      busy_.erase(h);
    } else {
      busy_.insert(h);
    }
  }
}

void HqServerApp::finish(Stream& s) {
  if (s.fd >= 0) close(s.fd);
  s.fd = -1;
  s.kind = Kind::kDone;
}

void HqServerApp::drive(quic::Connection& c, Conn& conn) {
  while (auto e = c.poll_event()) {
    switch (e->kind) {
      case quic::EventKind::kHandshakeCompleted: {
        conn.handshake_done = true;
        ++counters_.handshakes;
        // Always shown when a client certificate authenticated the connection.
        const std::string cert = peer_certificate_hex(c);
        log_at(cert == "none" ? 1 : 0, "connection from %s: handshake complete, client_cert=%s",
               c.path(0).remote.to_string().c_str(), cert.c_str());
        break;
      }
      case quic::EventKind::kStreamOpened:
      case quic::EventKind::kStreamReadable:
        // Requests arrive on client-initiated bidirectional streams only (RFC 9000 §2.1).
        if ((e->stream_id & 3) == 0 && !conn.answered.contains(e->stream_id >> 2)) {
          conn.streams[e->stream_id];
        }
        break;
      case quic::EventKind::kStreamReset:
      case quic::EventKind::kStopSending:
        if (auto s = conn.streams.find(e->stream_id); s != conn.streams.end()) {
          finish(s->second);
          conn.streams.erase(s);
          conn.answered.insert(e->stream_id >> 2);
        }
        break;
      case quic::EventKind::kDatagramReceived:
        while (auto d = c.recv_datagram()) {
          if (echo_ && c.send_datagram(*d)) ++counters_.datagrams_echoed;
        }
        break;
      case quic::EventKind::kClosed:
        log_at(1, "connection closed: %s %s",
               describe_close_code(e->error_code, e->application).c_str(), e->reason.c_str());
        break;
      default:
        break;
    }
  }
  for (auto it = conn.streams.begin(); it != conn.streams.end();) {
    Stream& s = it->second;
    if (!s.request_fin) read_request(c, it->first, s);
    if (s.kind != Kind::kDone && s.kind != Kind::kPending) write_response(c, it->first, s);
    if (s.kind == Kind::kDone && s.request_fin) {
      conn.answered.insert(it->first >> 2);
      it = conn.streams.erase(it);
    } else {
      ++it;
    }
  }
}

void HqServerApp::read_request(quic::Connection& c, uint64_t id, Stream& s) {
  while (!s.request_fin) {
    bool fin = false;
    auto n = c.stream_read(id, buf_, &fin);
    if (!n) {  // the stream is gone (reset, or closed under us)
      finish(s);
      s.request_fin = true;
      return;
    }
    counters_.bytes_received += *n;
    size_t used = 0;
    if (!s.head_done) {
      const uint8_t* nl = static_cast<const uint8_t*>(std::memchr(buf_.data(), '\n', *n));
      used = nl ? static_cast<size_t>(nl - buf_.data()) + 1 : *n;
      if (s.head.size() + used > kMaxRequestLine) {
        log_at(1, "stream %llu: request line too long", static_cast<unsigned long long>(id));
        (void)c.stream_reset(id, kHqBadRequest);
        (void)c.stream_stop_sending(id, kHqBadRequest);
        ++counters_.resets;
        finish(s);
        s.request_fin = true;
        return;
      }
      s.head.append(reinterpret_cast<const char*>(buf_.data()), used);
      if (nl != nullptr || fin) {
        s.head_done = true;
        start_response(c, id, s);
      }
    }
    if (s.kind == Kind::kUpload) s.upload_bytes += *n - used;
    if (fin) {
      s.request_fin = true;
      if (s.kind == Kind::kUpload) s.reply = std::to_string(s.upload_bytes) + "\r\n";
    }
    if (*n == 0) break;
  }
}

void HqServerApp::start_response(quic::Connection& c, uint64_t id, Stream& s) {
  ++counters_.requests;
  std::string line = s.head;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  auto reject = [&](uint64_t code, const char* why) {
    log_at(0, "stream %llu: %s: '%s'", static_cast<unsigned long long>(id), why, line.c_str());
    (void)c.stream_reset(id, code);
    ++counters_.resets;
    finish(s);
  };
  if (perf_ && line == "POST /perf") {
    s.kind = Kind::kUpload;
    return;
  }
  if (line.rfind("GET ", 0) != 0) return reject(kHqBadRequest, "bad request");
  std::string path = line.substr(4);
  if (perf_ && path.rfind("/perf/", 0) == 0) {
    uint64_t n = 0;
    const char* b = path.data() + 6;
    const char* e = path.data() + path.size();
    auto r = std::from_chars(b, e, n);
    if (r.ec != std::errc() || r.ptr != e || b == e || n > kMaxPerfBytes) {
      return reject(kHqBadRequest, "bad perf size");
    }
    s.kind = Kind::kPerf;
    s.size = n;
    return;
  }
  if (root_.empty()) return reject(kHqNotFound, "no document root");
  auto file = resolve_request_path(root_, path);
  if (!file) return reject(kHqNotFound, "not found");
  s.fd = open(file->c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (s.fd < 0 || fstat(s.fd, &st) != 0) return reject(kHqIoError, "cannot open");
  s.kind = Kind::kFile;
  s.size = static_cast<uint64_t>(st.st_size);
  log_at(1, "stream %llu: %s (%llu bytes)", static_cast<unsigned long long>(id), path.c_str(),
         static_cast<unsigned long long>(s.size));
}

void HqServerApp::write_response(quic::Connection& c, uint64_t id, Stream& s) {
  if (s.kind == Kind::kUpload) {
    if (!s.request_fin) return;
    auto n = c.stream_write(id, as_bytes(s.reply), true);
    if (n && *n == s.reply.size()) {
      counters_.bytes_sent += *n;
      finish(s);
    } else if (n) {
      s.reply.erase(0, *n);
    }
    return;
  }
  // Bounded per hook call (body_pump.h): the first flight after the handshake must not wait.
  auto write_with = [&](size_t max, quic::FillBytes fill, bool fin) -> std::optional<size_t> {
    auto n = c.stream_write_with(id, max, fill, fin);
    if (!n) return std::nullopt;
    counters_.bytes_sent += *n;
    return *n;
  };
  auto read = [&](uint64_t offset, size_t len) -> std::optional<quic::Bytes> {
    return quic::Bytes(perf_pattern(kChunk).data() + offset % 251, len);
  };
  auto write = [&](quic::Bytes data, bool fin) -> std::optional<size_t> {
    return write_with(data.size(), quic::CopyFrom{data}, fin);
  };
  const PumpStatus status = s.kind == Kind::kPerf
                                ? pump_body(s.offset, s.size, kChunk, read, write)
                                : pump_file(s.fd, s.offset, s.size, buf_, write_with);
  switch (status) {
    case PumpStatus::kMore:
      return;
    case PumpStatus::kReadError:  // shrank or unreadable since open
      log_at(0, "stream %llu: read error", static_cast<unsigned long long>(id));
      (void)c.stream_reset(id, kHqIoError);
      ++counters_.resets;
      return finish(s);
    case PumpStatus::kDone:
    case PumpStatus::kWriteError:  // the peer stopped the stream or the connection is closing
      return finish(s);
  }
}

void add_server_options(CLI::App& cmd, HqServerOptions& o) {
  cmd.add_option("--listen", o.listen,
                 "ADDR:PORT to bind, repeatable (default 0.0.0.0:4433; [::]:4433 with --ipv6)");
  cmd.add_option("--cert", o.cert, "certificate chain (PEM); default: in-memory self-signed");
  cmd.add_option("--key", o.key, "private key (PEM) for --cert");
  add_client_ca_option(cmd, o.client_ca);
  cmd.add_flag("--retry", o.retry, "send a Retry to every new client (address validation)");
  cmd.add_flag("--datagram", o.datagram, "offer DATAGRAM frames (RFC 9221) and echo each one");
  cmd.add_flag("--0rtt", o.zero_rtt,
               "accept 0-RTT requests from resuming clients (anti-replay cache; hq-interop GETs "
               "are safe to replay)");
  cmd.add_option("--max-connections", o.max_connections,
                 "connections at once; further clients' Initials are dropped")
      ->check(CLI::Range(size_t{1}, kMaxServerConnections))
      ->capture_default_str();
  add_net_options(cmd, o.net);
}

int run_server(const HqServerOptions& o) {
  set_log_level(o.net.verbose);
  quic::EndpointConfig ec;
  ec.server = true;
  ec.max_connections = o.max_connections;
  NetOptions net = o.net;
  net.datagrams = o.datagram;
  if (o.retry && !set_retry_always(ec)) {
    std::fprintf(stderr, "tquic: --retry: this build's core has no Retry policy\n");
    return kExitUsage;
  }
  if (auto st = apply_connection_options(net, ec.connection); !st) {
    std::fprintf(stderr, "tquic: %s\n", st.error().reason.c_str());
    return kExitUsage;
  }
  ec.connection.accept_0rtt = o.zero_rtt;
  std::string root_real;
  if (!o.root.empty()) {
    char real[PATH_MAX];
    struct stat st {};
    if (realpath(o.root.c_str(), real) == nullptr || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
      std::fprintf(stderr, "tquic: --root %s is not a directory\n", o.root.c_str());
      return kExitUsage;
    }
    root_real = real;
  }
  quic::TlsConfig tc;
  tc.server = true;
  apply_tls_options(o.net, tc);
  apply_client_ca(o.client_ca, tc);
  std::string cert_pem;
  if (!o.cert.empty() || !o.key.empty()) {
    if (o.cert.empty() || o.key.empty()) {
      std::fprintf(stderr, "tquic: --cert and --key go together\n");
      return kExitUsage;
    }
    auto pem = read_file(o.cert);
    if (!pem) {
      std::fprintf(stderr, "tquic: %s\n", pem.error().reason.c_str());
      return kExitUsage;
    }
    cert_pem = *pem;
    tc.cert_file = o.cert;
    tc.key_file = o.key;
  } else {
    auto cert = quic::make_self_signed("localhost");
    if (!cert) {
      std::fprintf(stderr, "tquic: self-signed certificate: %s\n", cert.error().reason.c_str());
      return kExitFailure;
    }
    cert_pem = cert->cert_pem;
    tc.cert_pem = cert->cert_pem;
    tc.key_pem = cert->key_pem;
  }
  auto fp = leaf_sha256(cert_pem);
  if (!fp) {
    std::fprintf(stderr, "tquic: %s\n", fp.error().reason.c_str());
    return kExitUsage;
  }
  auto tls = quic::make_tls_context(tc);
  if (!tls) {
    std::fprintf(stderr, "tquic: TLS: %s\n", tls.error().reason.c_str());
    return kExitUsage;
  }
  ec.tls = *tls;

  auto sockets = open_listen_sockets(o.listen, o.net);
  if (!sockets) return kExitUsage;
  const std::vector<io::UdpSocket*>& raw = sockets->raw;

  io::OsRandom random;
  quic::Endpoint endpoint(ec, random);
  io::EndpointDriver driver(endpoint, raw);
  if (!driver.ok()) {
    std::fprintf(stderr, "tquic: cannot create epoll/timerfd\n");
    return kExitFailure;
  }
  HqServerApp app(root_real, o.perf, o.datagram);
  driver.set_app([&](quic::Endpoint& ep, quic::Instant now) { app.on_activity(ep, now); });

  install_stop_signals();

  for (auto* s : raw) std::printf("listening on %s\n", s->local_address().to_string().c_str());
  std::printf("certificate sha256 %s\n", to_hex(fp->data(), fp->size()).c_str());
  std::printf("gso %s, gro %s\n", raw[0]->gso_enabled() ? "on" : "off",
              raw[0]->gro_enabled() ? "on" : "off");
  std::fflush(stdout);

  double cpu0 = process_cpu_seconds();
  auto r = driver.run_until([] { return stop_requested(); });
  double cpu = process_cpu_seconds() - cpu0;
  if (!r) {
    std::fprintf(stderr, "tquic: %s\n", r.error().reason.c_str());
    return kExitFailure;
  }
  const ServerCounters& k = app.counters();
  log_at(1, "driver: %llu iterations, %llu wakeups, %llu overdue polls",
         (unsigned long long)driver.stats().iterations, (unsigned long long)driver.stats().wakeups,
         (unsigned long long)driver.stats().overdue_polls);
  io::SocketStats ss;  // summed over the sockets
  for (auto* s : raw) {
    const io::SocketStats& one = s->stats();
    ss.datagrams_sent += one.datagrams_sent;
    ss.datagrams_received += one.datagrams_received;
    ss.gso_messages += one.gso_messages;
    ss.gso_datagrams += one.gso_datagrams;
    ss.gro_buffers += one.gro_buffers;
    ss.send_calls += one.send_calls;
    ss.recv_calls += one.recv_calls;
  }
  if (o.json) {
    std::printf(
        "{\"cpu_seconds\": %.3f, \"connections\": %llu, \"handshakes\": %llu, \"requests\": %llu, "
        "\"bytes_sent\": %llu, \"bytes_received\": %llu, \"datagrams_sent\": %llu, "
        "\"datagrams_received\": %llu, \"gso_messages\": %llu, \"gso_datagrams\": %llu, "
        "\"gro_buffers\": %llu, "
        "\"send_calls\": %llu, \"recv_calls\": %llu, \"datagrams_echoed\": %llu}\n",
        cpu, (unsigned long long)k.connections, (unsigned long long)k.handshakes,
        (unsigned long long)k.requests, (unsigned long long)k.bytes_sent,
        (unsigned long long)k.bytes_received, (unsigned long long)ss.datagrams_sent,
        (unsigned long long)ss.datagrams_received, (unsigned long long)ss.gso_messages,
        (unsigned long long)ss.gso_datagrams, (unsigned long long)ss.gro_buffers,
        (unsigned long long)ss.send_calls,
        (unsigned long long)ss.recv_calls, (unsigned long long)k.datagrams_echoed);
  } else {
    std::printf(
        "server: cpu %.3f s, %llu connections, %llu handshakes, %llu requests, %llu bytes sent, "
        "%llu received; %llu datagrams sent in %llu calls (%llu GSO messages), %llu received in "
        "%llu calls (%llu GRO buffers); %llu DATAGRAM frames echoed\n",
        cpu, (unsigned long long)k.connections, (unsigned long long)k.handshakes,
        (unsigned long long)k.requests, (unsigned long long)k.bytes_sent,
        (unsigned long long)k.bytes_received, (unsigned long long)ss.datagrams_sent,
        (unsigned long long)ss.send_calls, (unsigned long long)ss.gso_messages,
        (unsigned long long)ss.datagrams_received, (unsigned long long)ss.recv_calls,
        (unsigned long long)ss.gro_buffers, (unsigned long long)k.datagrams_echoed);
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace apps

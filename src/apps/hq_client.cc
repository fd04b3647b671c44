#include "apps/hq_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <CLI/CLI.hpp>

#include "apps/body_pump.h"
#include "apps/hq_server.h"
#include "io/clock.h"
#include "io/endpoint_driver.h"
#include "io/sockaddr.h"

namespace apps {

using namespace std::chrono_literals;

HqClientApp::HqClientApp(quic::SocketAddress local, quic::SocketAddress remote,
                         std::vector<HqRequest> requests)
    : local_(local), remote_(remote), requests_(std::move(requests)) {}

HqClientApp::~HqClientApp() {
  for (auto& [id, a] : active_) {
    if (a.fd >= 0) close(a.fd);
  }
}

quic::Connection* HqClientApp::connection(quic::Endpoint& endpoint) const {
  return handle_ ? endpoint.connection(*handle_) : nullptr;
}

bool HqClientApp::failed() const {
  if (!conn_error_.empty()) return true;
  for (const auto& r : requests_) {
    if (r.failed || !r.done) return true;
  }
  return dg_echoed_ < dg_total_;
}

void HqClientApp::finish(quic::Connection* c, quic::Instant now, std::string error) {
  if (finished_) return;
  finished_ = true;
  completed_ = now;
  conn_error_ = std::move(error);
  if (c != nullptr) {
    stats_ = c->stats();
    paths_ = apps::path_figures(*c);
    ticket_ = c->session_ticket();
    token_ = c->new_token();
    if (!c->is_closed() && !c->is_draining_or_closing()) c->close(0, "done", now);
  }
}

void HqClientApp::on_activity(quic::Endpoint& endpoint, quic::Instant now) {
  if (finished_) return;
  if (!handle_) {
    started_ = now;
    auto h = endpoint.connect(local_, remote_, now, connect_options_);
    if (!h) return finish(nullptr, now, "connect: " + h.error().reason);
    handle_ = *h;
    if (quic::Connection* c = endpoint.connection(*handle_)) {
      for (const PathRequest& p : path_requests_) {
        if (auto st = c->add_path(p.local, remote_, p.backup); !st) {
          return finish(c, now, "add_path " + p.local.to_string() + ": " + st.error().reason);
        }
      }
    }
  }
  quic::Connection* c = endpoint.connection(*handle_);
  if (c == nullptr) return finish(nullptr, now, "connection vanished");
  drive(*c, now);
}

void HqClientApp::drive(quic::Connection& c, quic::Instant now) {
  while (auto e = c.poll_event()) {
    switch (e->kind) {
      case quic::EventKind::kHandshakeCompleted:
        handshake_done_ = now;
        log_at(1, "handshake complete (%s), %.3f ms%s, server_cert=%s", c.alpn().c_str(),
               static_cast<double>((now - started_).count()) / 1e6,
               c.stats().retry_received ? ", after a Retry" : "", peer_certificate_hex(c).c_str());
        break;
      case quic::EventKind::kStreamReset:
        for (auto& [id, a] : active_) {
          if (id == e->stream_id && !a.request_done) {
            char why[64];
            std::snprintf(why, sizeof(why), "reset by the server (error 0x%llx)",
                          static_cast<unsigned long long>(e->error_code));
            fail_request(a, why);
          }
        }
        break;
      case quic::EventKind::kPathValidated:
      case quic::EventKind::kPathFailed:
      case quic::EventKind::kPathRecovered:
      case quic::EventKind::kPathClosed: {
        static const char* const kNames[] = {"validated", "failed", "recovered", "closed"};
        size_t k = static_cast<size_t>(e->kind) - static_cast<size_t>(quic::EventKind::kPathValidated);
        const quic::Path* p = c.find_path(e->stream_id);
        log_at(1, "path %llu %s%s%s", static_cast<unsigned long long>(e->stream_id), kNames[k],
               p ? " from " : "", p ? p->local.to_string().c_str() : "");
        break;
      }
      case quic::EventKind::kClosed:
        if (completed_count_ < requests_.size()) {
          return finish(&c, now,
                        "connection closed: " + describe_close_code(e->error_code, e->application) +
                            (e->reason.empty() ? "" : " " + e->reason));
        }
        break;
      default:
        break;
    }
  }
  if (c.is_closed() || c.is_draining_or_closing()) {
    return finish(&c, now, "connection closed: " + describe_close_error(c.close_error()));
  }
  // With 0-RTT (ConnectOptions::zero_rtt) the requests leave before the handshake completes.
  if (!c.handshake_complete() && !c.zero_rtt_active()) return;
  if (held_) return;
  open_requests(c);
  for (auto& [id, a] : active_) {
    if (a.request_done) continue;
    write_request(c, id, a);
    if (!a.request_done) read_response(c, id, a);
  }
  std::erase_if(active_, [](const auto& p) { return p.second.request_done; });
  if (!c.handshake_complete()) return;
  if (dg_total_ > 0) exchange_datagrams(c, now);
  if (ku_every_ > 0) maybe_update_keys(c);
  if (completed_count_ == requests_.size() &&
      (dg_echoed_ == dg_total_ || now - dg_progress_ > kDatagramGrace)) {
    if (all_done_ == quic::Instant{}) all_done_ = now;
    if (wait_for_ticket_ && c.session_ticket().empty() && now - all_done_ <= kTicketGrace) return;
    if (dg_echoed_ < dg_total_) {
      log_at(0, "%llu of %llu datagrams echoed", static_cast<unsigned long long>(dg_echoed_),
             static_cast<unsigned long long>(dg_total_));
    }
    finish(&c, now, "");
  }
}

// The core refuses while the handshake is unconfirmed or our previous update is unanswered
// (RFC 9001 §6.1), so simply retry on later activity.
void HqClientApp::maybe_update_keys(quic::Connection& c) {
  uint64_t rx = c.stats().packets_received;
  if (rx - ku_last_rx_ < ku_every_) return;
  if (!c.initiate_key_update()) return;
  ++ku_initiated_;
  ku_last_rx_ = rx;
  log_at(1, "key update %llu initiated (key phase %d)",
         static_cast<unsigned long long>(ku_initiated_), c.key_phase() ? 1 : 0);
}

// Datagram i carries i (8 bytes, big endian) and then bytes (i + k) mod 256, so an echo proves
// which datagram it answers and that every byte survived.
void HqClientApp::exchange_datagrams(quic::Connection& c, quic::Instant now) {
  if (dg_seen_.empty()) {
    dg_seen_.assign(dg_total_, false);
    dg_progress_ = now;
  }
  while (auto d = c.recv_datagram()) {
    if (d->size() != kDatagramSize) continue;
    uint64_t i = 0;
    for (size_t k = 0; k < 8; ++k) i = (i << 8) | (*d)[k];
    if (i >= dg_total_ || dg_seen_[i]) continue;
    bool intact = true;
    for (size_t k = 8; k < kDatagramSize; ++k) intact &= (*d)[k] == static_cast<uint8_t>(i + k);
    if (!intact) continue;
    dg_seen_[i] = true;
    ++dg_echoed_;
    dg_progress_ = now;
  }
  while (dg_sent_ < dg_total_ && dg_sent_ - dg_echoed_ < kDatagramWindow &&
         c.max_datagram_payload() >= kDatagramSize) {
    uint8_t d[kDatagramSize];
    for (size_t k = 0; k < 8; ++k) d[k] = static_cast<uint8_t>(dg_sent_ >> (56 - 8 * k));
    for (size_t k = 8; k < kDatagramSize; ++k) d[k] = static_cast<uint8_t>(dg_sent_ + k);
    if (!c.send_datagram(quic::Bytes(d, sizeof(d)))) break;
    ++dg_sent_;
  }
}

void HqClientApp::open_requests(quic::Connection& c) {
  while (next_ < requests_.size()) {
    auto id = c.open_stream(true);
    if (!id) break;  // the server's MAX_STREAMS: kStreamsAvailable will let us continue
    Active a{next_};
    HqRequest& r = requests_[next_];
    if (r.sink == HqRequest::Sink::kFile) {
      a.fd = open(r.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (a.fd < 0) {
        active_.emplace_back(*id, a);
        fail_request(active_.back().second, "cannot create " + r.out_path);
        (void)c.stream_reset(*id, 0);
        ++next_;
        continue;
      }
    }
    active_.emplace_back(*id, a);
    ++next_;
  }
}

void HqClientApp::write_request(quic::Connection& c, uint64_t id, Active& a) {
  HqRequest& r = requests_[a.index];
  std::string head = r.line + "\r\n";
  while (a.head_written < head.size()) {
    auto n =
        c.stream_write(id,
                       quic::Bytes(reinterpret_cast<const uint8_t*>(head.data()) + a.head_written,
                                   head.size() - a.head_written),
                       r.upload == 0);
    if (!n || *n == 0) return;
    a.head_written += *n;
  }
  const auto& pattern = perf_pattern(kChunk);
  while (a.body_written < r.upload) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(r.upload - a.body_written, kChunk));
    bool fin = a.body_written + len == r.upload;
    auto n = c.stream_write(id, quic::Bytes(pattern.data() + a.body_written % 251, len), fin);
    if (!n || *n == 0) return;
    a.body_written += *n;
  }
}

void HqClientApp::fail_request(Active& a, std::string why) {
  HqRequest& r = requests_[a.index];
  if (r.done) return;
  r.done = r.failed = true;
  r.error = std::move(why);
  a.request_done = true;
  ++completed_count_;
  if (a.fd >= 0) close(a.fd);
  a.fd = -1;
  log_at(0, "%s: %s", r.line.c_str(), r.error.c_str());
}

void HqClientApp::read_response(quic::Connection& c, uint64_t id, Active& a) {
  HqRequest& r = requests_[a.index];
  const auto& pattern = perf_pattern(kChunk);
  std::string error;
  // The body is handed over in place, up to kMaxTakeSpans blocks of the stream's receive
  // buffer at a time: written to the file with one writev, or checked, without a copy into a
  // buffer of ours (taking nothing stops the read).
  auto take = [&](std::span<const quic::Bytes> spans) -> size_t {
    size_t n = 0;
    for (quic::Bytes src : spans) n += src.size();
    switch (r.sink) {
      case HqRequest::Sink::kMemory:
        for (quic::Bytes src : spans) {
          r.body.append(reinterpret_cast<const char*>(src.data()), src.size());
        }
        break;
      case HqRequest::Sink::kFile:
        if (!writev_all(a.fd, spans)) {
          error = "write " + r.out_path;
          return 0;
        }
        break;
      case HqRequest::Sink::kPerfCheck: {
        if (r.received + n > r.expect) {
          error = "response longer than asked";
          return 0;
        }
        uint64_t at = r.received;
        for (quic::Bytes src : spans) {
          if (std::memcmp(src.data(), pattern.data() + at % 251, src.size()) != 0) {
            error = "corrupt data near offset " + std::to_string(at);
            return 0;
          }
          at += src.size();
        }
        break;
      }
    }
    r.received += n;
    return n;
  };
  for (;;) {
    bool fin = false;
    auto n = c.stream_read_with(id, kChunk, take, &fin);
    if (!n) return fail_request(a, "stream read: " + n.error().reason);
    if (!error.empty()) return fail_request(a, error);
    if (fin) {
      if (r.sink == HqRequest::Sink::kPerfCheck && r.received != r.expect) {
        return fail_request(a, "response ended after " + std::to_string(r.received) + " of " +
                                   std::to_string(r.expect) + " bytes");
      }
      r.done = true;
      a.request_done = true;
      ++completed_count_;
      if (a.fd >= 0) close(a.fd);
      a.fd = -1;
      return;
    }
    if (*n == 0) return;
  }
}

void add_trust_options(CLI::App& cmd, TrustOptions& o) {
  auto* insecure = cmd.add_flag("--insecure", o.insecure, "accept any server certificate");
  auto* ca = cmd.add_option("--ca", o.ca_file, "trust anchors (PEM) instead of the system store");
  auto* pin = cmd.add_option("--pin", o.pin, "accept exactly the leaf with this SHA-256 (hex)");
  insecure->excludes(ca)->excludes(pin);
  ca->excludes(pin);
  cmd.add_option("--server-name", o.server_name, "SNI and verification name (default: URL host)");
  auto* cert = cmd.add_option("--client-cert", o.client_cert,
                              "client certificate chain (PEM), presented when the server asks");
  auto* key = cmd.add_option("--client-key", o.client_key, "private key (PEM) for --client-cert");
  cert->needs(key);
  key->needs(cert);
}

std::optional<ClientSetup> make_client(const Url& url, const NetOptions& net,
                                       const TrustOptions& trust, int& rc,
                                       const std::string& alpn) {
  rc = kExitUsage;
  quic::EndpointConfig ec;
  if (auto st = apply_connection_options(net, ec.connection); !st) {
    std::fprintf(stderr, "tquic: %s\n", st.error().reason.c_str());
    return std::nullopt;
  }
  quic::TlsConfig tc;
  apply_tls_options(net, tc);
  if (!alpn.empty()) tc.alpn = {alpn};
  tc.server_name = trust.server_name.empty() ? url.host : trust.server_name;
  tc.insecure_skip_verify = trust.insecure;
  tc.ca_file = trust.ca_file;
  tc.cert_file = trust.client_cert;
  tc.key_file = trust.client_key;
  if (!trust.pin.empty()) {
    auto pin = parse_sha256_hex(trust.pin);
    if (!pin) {
      std::fprintf(stderr, "tquic: --pin: expected 64 hex digits\n");
      return std::nullopt;
    }
    tc.pinned_sha256 = *pin;
  }
  auto tls = quic::make_tls_context(tc);
  if (!tls) {
    std::fprintf(stderr, "tquic: TLS: %s\n", tls.error().reason.c_str());
    return std::nullopt;
  }
  ec.tls = *tls;
  ClientSetup s;
  auto remote = io::resolve(url.host, url.port, net.ipv6);
  if (!remote) {
    std::fprintf(stderr, "tquic: %s\n", remote.error().reason.c_str());
    return std::nullopt;
  }
  s.remote = *remote;
  rc = kExitFailure;
  // Bind to the source address the kernel routes towards the server, so the address the core
  // records for the path is the one every reply arrives on (IP_PKTINFO reports it).
  auto src = io::route_source(s.remote);
  if (!src) {
    std::fprintf(stderr, "tquic: %s\n", src.error().reason.c_str());
    return std::nullopt;
  }
  auto sock = io::UdpSocket::open(*src, socket_options(net));
  if (!sock) {
    std::fprintf(stderr, "tquic: %s\n", sock.error().reason.c_str());
    return std::nullopt;
  }
  for (const auto& w : (*sock)->warnings()) log_at(net.no_gso ? 1 : 0, "warning: %s", w.c_str());
  s.socket = std::move(*sock);
  s.local = s.socket->local_address();
  s.random = std::make_unique<io::OsRandom>();
  s.endpoint = std::make_unique<quic::Endpoint>(ec, *s.random);
  rc = kExitOk;
  return s;
}

void add_client_options(CLI::App& cmd, ClientOptions& o) {
  cmd.add_option("url", o.urls, "https://host:port/path (one stream each, same server)")
      ->required();
  cmd.add_option("-o,--output", o.out_dir, "write each body to DIR/<file name> (default stdout)");
  cmd.add_option("--datagrams", o.datagrams,
                 "also send N DATAGRAM frames (RFC 9221) and expect each echoed")
      ->check(CLI::Range(uint64_t{0}, HqClientApp::kMaxDatagrams));
  cmd.add_flag("--resume", o.resume,
               "fetch the URLs again on a second connection that resumes the first's TLS "
               "session and presents its NEW_TOKEN token; fails unless it resumed");
  cmd.add_flag("--0rtt", o.zero_rtt,
               "like --resume, and the second connection sends its requests as 0-RTT "
               "(RFC 9001 section 4.6); fails unless the server accepted them");
  cmd.add_option("--key-update", o.key_update,
                 "initiate a 1-RTT key update (RFC 9001 section 6) every N received packets")
      ->check(CLI::Range(uint64_t{1}, HqClientApp::kMaxKeyUpdatePackets));
  add_trust_options(cmd, o.trust);
  add_net_options(cmd, o.net);
  add_path_options(cmd, o.paths);
}

namespace {
std::vector<HqRequest> make_requests(const std::vector<Url>& urls, const std::string& out_dir) {
  std::vector<HqRequest> reqs;
  for (const auto& u : urls) {
    HqRequest r;
    r.line = "GET " + u.path;
    if (!out_dir.empty()) {
      std::string name = u.path.substr(u.path.rfind('/') + 1);
      if (name.empty() || name == "." || name == "..") name = "index";
      r.sink = HqRequest::Sink::kFile;
      r.out_path = out_dir + "/" + name;
    }
    reqs.push_back(std::move(r));
  }
  return reqs;
}
}  // namespace

int run_client(const ClientOptions& o) {
  set_log_level(o.net.verbose);
  std::vector<Url> urls;
  for (const auto& text : o.urls) {
    auto u = parse_url(text);
    if (!u) {
      std::fprintf(stderr, "tquic: bad URL '%s' (expected https://host:port/path)\n", text.c_str());
      return kExitUsage;
    }
    if (!urls.empty() && (u->host != urls[0].host || u->port != urls[0].port)) {
      std::fprintf(stderr, "tquic: all URLs must name the same server\n");
      return kExitUsage;
    }
    urls.push_back(*u);
  }
  int rc = 0;
  NetOptions net = o.net;
  net.datagrams = o.datagrams > 0;
  auto setup = make_client(urls[0], net, o.trust, rc);
  if (!setup) return rc;
  auto extra = open_extra_paths(o.paths, net, setup->remote, rc);
  if (!extra) return rc;
  io::EndpointDriver driver(*setup->endpoint, all_sockets(setup->socket.get(), *extra));
  if (!driver.ok()) return kExitFailure;
  // --resume: the second connection shares the endpoint and socket with the first, whose
  // CONNECTION_CLOSE is still flushed and whose closing state the endpoint reaps on its own.
  const int connections = (o.resume || o.zero_rtt) ? 2 : 1;
  bool failed = false;
  quic::ConnectOptions next;
  std::unique_ptr<HqClientApp> app;
  for (int n = 0; n < connections && !failed; ++n) {
    app =
        std::make_unique<HqClientApp>(setup->local, setup->remote, make_requests(urls, o.out_dir));
    app->set_datagrams(o.datagrams);
    app->set_key_update_every(o.key_update);
    app->set_connect_options(next);
    app->set_wait_for_ticket(n + 1 < connections);
    app->set_paths(path_requests(*extra));
    driver.set_app([&](quic::Endpoint& ep, quic::Instant now) { app->on_activity(ep, now); });
    // Short slices so the app sees time pass even when the connection is quiet (the datagram
    // and ticket grace periods have no timer of their own).
    quic::Result<bool> r = false;
    while (r && !*r) {
      r = driver.run_until([&] { return app->finished(); }, io::monotonic_now() + 100ms);
    }
    if (!r) {
      std::fprintf(stderr, "tquic: %s\n", r.error().reason.c_str());
      return kExitFailure;
    }
    if (o.datagrams > 0) {
      log_at(0, "datagrams echoed %llu of %llu",
             static_cast<unsigned long long>(app->datagrams_echoed()),
             static_cast<unsigned long long>(o.datagrams));
    }
    if (!app->connection_error().empty()) {
      std::fprintf(stderr, "tquic: %s\n", app->connection_error().c_str());
    }
    failed = app->failed();
    if (o.net.multipath) {
      std::fputs(format_path_figures(app->path_figures(), false).c_str(), stderr);
    }
    const auto& st = app->stats();
    if (o.resume || o.zero_rtt || o.key_update > 0) {
      // One parseable line per connection, like the interop peers' "client-conn N:" lines.
      log_at(0,
             "client-conn %d: resumed=%s used0rtt=%s zero_rtt_sent=%llu key_updates=%llu "
             "key_updates_initiated=%llu",
             n, st.resumed ? "true" : "false", st.zero_rtt_accepted ? "true" : "false",
             static_cast<unsigned long long>(st.zero_rtt_packets_sent),
             static_cast<unsigned long long>(st.key_updates),
             static_cast<unsigned long long>(app->key_updates_initiated()));
    }
    if (n + 1 < connections && !failed) {
      if (app->session_ticket().empty()) {
        log_at(0, "--resume: the server sent no session ticket");
        failed = true;
      }
      next = quic::ConnectOptions{app->new_token(), app->session_ticket()};
      next.zero_rtt = o.zero_rtt;
    } else if (n > 0 && !failed && !st.resumed) {
      log_at(0, "--resume: the second connection did not resume (full handshake)");
      failed = true;
    } else if (n > 0 && !failed && o.zero_rtt && !st.zero_rtt_accepted) {
      log_at(0, "--0rtt: the second connection's 0-RTT was %s",
             st.zero_rtt_attempted ? "rejected by the server" : "not possible (ticket)");
      failed = true;
    }
  }
  for (auto& req : app->requests()) {
    if (req.sink == HqRequest::Sink::kMemory && req.done && !req.failed) {
      std::fwrite(req.body.data(), 1, req.body.size(), stdout);
    }
  }
  std::fflush(stdout);
  return failed ? kExitFailure : kExitOk;
}

}  // namespace apps

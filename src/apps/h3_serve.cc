#include "apps/h3_serve.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <CLI/CLI.hpp>

#include "apps/body_pump.h"
#include "apps/hq_server.h"
#include "apps/loop_limits.h"
#include "apps/stop_signal.h"
#include "apps/visit_set.h"
#include "core/path.h"
#include "io/endpoint_driver.h"
#include "io/os_random.h"
#include "tls/cert_mint.h"
#include "tls/test_certs.h"

namespace apps {

namespace {

quic::Bytes as_bytes(std::string_view s) {
  return quic::Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view content_type_for(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/vnd.microsoft.icon"},
      {".wasm", "application/wasm"},
      {".pdf", "application/pdf"},
      {".mp4", "video/mp4"},
      {".webm", "video/webm"},
      {".woff2", "font/woff2"},
      {".gz", "application/gzip"},
      {".md", "text/markdown; charset=utf-8"},
  }};
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  std::string lower(name);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const auto& [ext, type] : kTypes) {
    if (ends_with(lower, ext)) return type;
  }
  return "application/octet-stream";
}

RangeKind parse_range(std::string_view value, uint64_t size, ByteRange* out) {
  // RFC 9110 §14.1.2: bytes=first-last | bytes=first- | bytes=-suffix. Anything else, and
  // several ranges, we ignore (the whole representation is then a valid answer, §14.2).
  constexpr std::string_view kUnit = "bytes=";
  if (value.substr(0, kUnit.size()) != kUnit) return RangeKind::kIgnore;
  std::string_view spec = value.substr(kUnit.size());
  while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
  while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
  if (spec.find(',') != std::string_view::npos) return RangeKind::kIgnore;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeKind::kIgnore;
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  if (a.empty()) {
    auto suffix = parse_u64(b);
    if (!suffix) return RangeKind::kIgnore;
    if (*suffix == 0 || size == 0) return RangeKind::kUnsatisfiable;
    out->first = size - std::min(*suffix, size);
    out->last = size - 1;
    return RangeKind::kSatisfiable;
  }
  auto first = parse_u64(a);
  if (!first) return RangeKind::kIgnore;
  uint64_t last = UINT64_MAX;
  if (!b.empty()) {
    auto l = parse_u64(b);
    if (!l || *l < *first) return RangeKind::kIgnore;  // invalid range-spec: ignore the header
    last = *l;
  }
  if (*first >= size) return RangeKind::kUnsatisfiable;
  out->first = *first;
  out->last = std::min(last, size - 1);
  return RangeKind::kSatisfiable;
}

std::optional<std::string> decode_request_path(std::string_view target) {
  size_t end = target.find_first_of("?#");
  if (end != std::string_view::npos) target = target.substr(0, end);
  if (target.empty() || target.front() != '/' || target.size() > kMaxServePath) return std::nullopt;
  std::string out;
  out.reserve(target.size());
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] != '%') {
      out.push_back(target[i]);
      continue;
    }
    if (i + 2 >= target.size()) return std::nullopt;
    int hi = hex_digit(target[i + 1]), lo = hex_digit(target[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;  // %00 never reaches open()
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

H3ServeApp::~H3ServeApp() {
  for (auto& [h, conn] : conns_) {
    for (auto& [id, r] : conn.responses) {
      if (r.fd >= 0) close(r.fd);
    }
  }
}

void H3ServeApp::on_activity(quic::Endpoint& endpoint, quic::Instant now) {
  if (buf_.empty()) buf_.resize(kChunk);
  endpoint.track_activity();
  std::vector<quic::ConnectionHandle> visit = endpoint.take_activity();
  while (auto h = endpoint.accept()) {
    quic::Connection* c = endpoint.connection(*h);
    if (c == nullptr) continue;
    Conn& conn = conns_[*h];
    conn.peer = c->path(0).remote.to_string();
    h3::SessionConfig cfg;
    webtransport::Config wt;
    if (!wt_path_.empty()) webtransport::configure_h3(cfg, wt);
    conn.session = std::make_unique<h3::Session>(*c, h3::Role::kServer, cfg);
    if (!wt_path_.empty()) {
      conn.wt = std::make_unique<WtEcho>(*conn.session, wt, wt_path_, conn.peer);
    }
    ++counters_.connections;
    visit.push_back(*h);
  }
  // Busy: a response or a WebTransport echo in progress.
  for (quic::ConnectionHandle h : visit_set(std::move(visit), busy_)) {
    auto it = conns_.find(h);
    if (it == conns_.end()) continue;
    quic::Connection* c = endpoint.connection(h);
    if (c == nullptr) {  // reaped: the session must not touch it any more
      if (!it->second.summary_logged) log_summary(it->second);
      for (auto& [id, r] : it->second.responses) {
        if (r.fd >= 0) close(r.fd);
      }
      conns_.erase(it);
      busy_.erase(h);
      continue;
    }
    Conn& conn = it->second;
    drive(*c, conn, now);
    conn.last = c->stats();
    if (conn.client_cert == "none") conn.client_cert = peer_certificate_hex(*c);
    // The summary as soon as the connection closes (either side's CONNECTION_CLOSE or the idle
    // timeout), not when the endpoint reaps it, which only a later wake-up notices.
    if (!conn.summary_logged && (c->is_closed() || c->is_draining_or_closing())) {
      log_summary(conn);
      conn.summary_logged = true;
    }
    if (conn.responses.empty() && !conn.wt) {
      busy_.erase(h);
    } else {
      busy_.insert(h);
    }
  }
}

// One line per finished connection, for scripts (interop/run_ngtcp2_case.sh asserts on it).
void H3ServeApp::log_summary(const Conn& conn) {
  const quic::ConnectionStats& k = conn.last;
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::fprintf(stderr,
               "server-conn %s: resumed=%s key_updates=%llu migrations=%llu "
               "path_challenges_sent=%llu path_challenges_received=%llu "
               "path_responses_sent=%llu bytes_sent=%llu client_cert=%s\n",
               conn.peer.c_str(), k.resumed ? "true" : "false", u(k.key_updates), u(k.migrations),
               u(k.path_challenges_sent), u(k.path_challenges_received), u(k.path_responses_sent),
               u(k.bytes_sent), conn.client_cert.c_str());
}

void H3ServeApp::drive(quic::Connection&, Conn& conn, quic::Instant now) {
  h3::Session& s = *conn.session;
  s.drive(now);
  // poll() after our reads and writes can queue new events (a request unblocked by QPACK, a
  // body resumed) that no network activity may follow: repeat until a round brings none.
  for (int round = 0; round < kMaxDriveRounds; ++round) {
    bool any = false;
    while (auto e = s.poll_event()) {
      any = true;
      if (conn.wt && conn.wt->on_h3_event(*e, now)) continue;
      switch (e->kind) {
        case h3::EventKind::kSettings:
          log_settings(conn);
          break;
        case h3::EventKind::kHeaders:
          on_request(conn, e->stream_id, e->fields);
          break;
        case h3::EventKind::kData: {  // a request body: we serve GET/HEAD only, so discard it
          bool fin = false;
          while (s.read_body(e->stream_id, buf_, &fin) > 0) {
          }
          break;
        }
        case h3::EventKind::kReset:
        case h3::EventKind::kStopSending:
          drop(conn, e->stream_id);
          break;
        case h3::EventKind::kClosed:
          log_at(1, "%s: session closed (%s)", conn.peer.c_str(),
                 describe_close_error(s.close_error()).c_str());
          break;
        default:
          break;
      }
    }
    if (conn.wt) any = conn.wt->poll() || any;
    for (auto it = conn.responses.begin(); it != conn.responses.end();) {
      uint64_t id = it->first;
      ++it;  // pump may erase the current entry
      pump(conn, id, conn.responses[id]);
    }
    s.poll(now);
    if (!any) break;
  }
}

// -v: the client's SETTINGS, extension ones included (which WebTransport drafts it speaks).
void H3ServeApp::log_settings(const Conn& conn) {
  const auto& ps = conn.session->peer_settings();
  if (!ps) return;
  std::string line = "connect_protocol=" + std::to_string(ps->enable_connect_protocol) +
                     " h3_datagram=" + std::to_string(ps->h3_datagram);
  char item[64];
  for (const auto& [id, value] : ps->extensions) {
    std::snprintf(item, sizeof item, " 0x%llx=%llu", static_cast<unsigned long long>(id),
                  static_cast<unsigned long long>(value));
    line += item;
  }
  log_at(1, "%s: peer SETTINGS %s", conn.peer.c_str(), line.c_str());
}

void H3ServeApp::drop(Conn& conn, uint64_t id) {
  auto it = conn.responses.find(id);
  if (it == conn.responses.end()) return;
  if (it->second.fd >= 0) close(it->second.fd);
  conn.responses.erase(it);
}

void H3ServeApp::respond(Conn& conn, uint64_t id, const std::string& method,
                         const std::string& path, uint16_t status, std::string_view body,
                         std::vector<h3::Field> extra) {
  std::vector<h3::Field> fields{{":status", std::to_string(status)},
                                {"server", "tquic"},
                                {"content-type", "text/plain; charset=utf-8"},
                                {"content-length", std::to_string(body.size())}};
  for (auto& f : extra) fields.push_back(std::move(f));
  bool head = method == "HEAD";
  (void)conn.session->send_response(id, fields, head ? quic::Bytes{} : as_bytes(body), true);
  std::fprintf(stderr, "%s \"%s %s\" %u %zu\n", conn.peer.c_str(), method.c_str(), path.c_str(),
               status, head ? size_t{0} : body.size());
}

void H3ServeApp::on_request(Conn& conn, uint64_t id, const std::vector<h3::Field>& fields) {
  ++counters_.requests;
  std::string method, target;
  std::string range;
  for (const auto& f : fields) {
    if (f.name == ":method") method = f.value;
    if (f.name == ":path") target = f.value;
    if (f.name == "range") range = f.value;
  }
  if (method != "GET" && method != "HEAD") {
    return respond(conn, id, method, target, 405, "method not allowed\n", {{"allow", "GET, HEAD"}});
  }
  if (target.size() > kMaxServePath) return respond(conn, id, method, "-", 414, "uri too long\n");
  auto path = decode_request_path(target);
  if (!path) return respond(conn, id, method, target, 400, "bad request\n");
  if (!wt_path_.empty() && *path == wt_path_) {
    std::vector<h3::Field> head{{":status", "200"},
                                {"server", "tquic"},
                                {"content-type", "text/html; charset=utf-8"},
                                {"cache-control", "no-store"},
                                {"content-length", std::to_string(wt_page_.size())}};
    bool is_head = method == "HEAD";
    (void)conn.session->send_response(id, head, is_head ? quic::Bytes{} : as_bytes(wt_page_), true);
    std::fprintf(stderr, "%s \"%s %s\" 200 %zu\n", conn.peer.c_str(), method.c_str(),
                 target.c_str(), is_head ? size_t{0} : wt_page_.size());
    return;
  }
  std::optional<std::string> file;
  if (path->back() != '/') file = resolve_request_path(root_, *path);
  if (!file) {  // a directory: its index.html, never a listing
    file = resolve_request_path(root_, *path + (path->back() == '/' ? "" : "/") + "index.html");
  }
  if (!file) return respond(conn, id, method, target, 404, "not found\n");
  int fd = open(file->c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) close(fd);
    return respond(conn, id, method, target, 500, "cannot read\n");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint16_t status = 200;
  uint64_t first = 0, end = size;
  std::vector<h3::Field> head{{":status", "200"},
                              {"server", "tquic"},
                              {"content-type", std::string(content_type_for(*file))},
                              {"accept-ranges", "bytes"}};
  if (!range.empty()) {
    ByteRange br;
    switch (parse_range(range, size, &br)) {
      case RangeKind::kIgnore:
        break;
      case RangeKind::kUnsatisfiable:
        close(fd);
        return respond(conn, id, method, target, 416, "range not satisfiable\n",
                       {{"content-range", "bytes */" + std::to_string(size)}});
      case RangeKind::kSatisfiable:
        status = 206;
        first = br.first;
        end = br.last + 1;
        head[0].value = "206";
        head.push_back({"content-range", "bytes " + std::to_string(br.first) + "-" +
                                             std::to_string(br.last) + "/" + std::to_string(size)});
        break;
    }
  }
  head.push_back({"content-length", std::to_string(end - first)});
  bool is_head = method == "HEAD";
  std::fprintf(stderr, "%s \"%s %s\" %u %llu\n", conn.peer.c_str(), method.c_str(), target.c_str(),
               status, static_cast<unsigned long long>(is_head ? 0 : end - first));
  bool done = is_head || first == end;
  if (auto st2 = conn.session->send_response(id, head, {}, done); !st2 || done) {
    close(fd);
    return;
  }
  Response& r = conn.responses[id];
  r.fd = fd;
  r.offset = first;
  r.end = end;
}

// Bounded per hook call (body_pump.h): the first flight after the handshake must not wait.
void H3ServeApp::pump(Conn& conn, uint64_t id, Response& r) {
  // The file goes into the QUIC stream's send buffer without the session's buffering.
  auto write_with = [&](size_t max, quic::FillBytes fill, bool fin) -> std::optional<size_t> {
    auto n = conn.session->send_body_with(id, max, fill, fin);
    if (!n) return std::nullopt;
    counters_.bytes_sent += *n;
    return *n;
  };
  switch (pump_file(r.fd, r.offset, r.end, buf_, write_with)) {
    case PumpStatus::kMore:  // kWritable (or the next activity) continues
      return;
    case PumpStatus::kReadError:  // the file shrank or became unreadable since the head went out
      log_at(0, "stream %llu: read error", static_cast<unsigned long long>(id));
      (void)conn.session->cancel(id, h3::err::kInternalError);
      return drop(conn, id);
    case PumpStatus::kDone:
    case PumpStatus::kWriteError:
      return drop(conn, id);
  }
}

void add_serve_options(CLI::App& cmd, ServeOptions& o) {
  cmd.add_option("dir", o.dir, "directory to serve")->required();
  cmd.add_option("--listen", o.listen,
                 "ADDR:PORT to bind, repeatable (default 0.0.0.0:4433; [::]:4433 with --ipv6)");
  cmd.add_option("--cert", o.cert, "certificate chain (PEM); default: in-memory self-signed");
  cmd.add_option("--key", o.key, "private key (PEM) for --cert");
  add_client_ca_option(cmd, o.client_ca);
  cmd.add_option("--webtransport-echo", o.webtransport_echo,
                 "PATH: WebTransport echo sessions at PATH and the example page at GET PATH "
                 "(mints a 10-day certificate unless --cert/--key)");
  cmd.add_flag("--retry", o.retry, "send a Retry to every new client (address validation)");
  cmd.add_flag("--0rtt", o.zero_rtt,
               "accept 0-RTT requests from resuming clients (behind a replay cache)");
  add_net_options(cmd, o.net);
}

int run_serve(const ServeOptions& o) {
  set_log_level(o.net.verbose);
  quic::EndpointConfig ec;
  ec.server = true;
  if (o.retry) ec.retry = quic::RetryPolicy::kAlways;
  if (auto st = apply_connection_options(o.net, ec.connection); !st) {
    std::fprintf(stderr, "tquic: %s\n", st.error().reason.c_str());
    return kExitUsage;
  }
  ec.connection.accept_0rtt = o.zero_rtt;
  if (!o.webtransport_echo.empty()) {
    if (o.webtransport_echo.front() != '/') {
      std::fprintf(stderr, "tquic: --webtransport-echo: PATH starts with '/'\n");
      return kExitUsage;
    }
    webtransport::configure_transport(ec.connection);
  }
  char real[PATH_MAX];
  struct stat dst {};
  if (realpath(o.dir.c_str(), real) == nullptr || stat(real, &dst) != 0 || !S_ISDIR(dst.st_mode)) {
    std::fprintf(stderr, "tquic: %s is not a directory\n", o.dir.c_str());
    return kExitUsage;
  }
  quic::TlsConfig tc;
  tc.server = true;
  apply_tls_options(o.net, tc);
  apply_client_ca(o.client_ca, tc);
  tc.alpn = {kH3Alpn};
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
  } else if (!o.webtransport_echo.empty()) {
    // serverCertificateHashes wants ECDSA P-256 valid for at most 14 days: 10 days here.
    auto cert = quic::mint_hash_certificate("localhost", std::time(nullptr), 10 * 24 * 3600);
    if (!cert) {
      std::fprintf(stderr, "tquic: certificate: %s\n", cert.error().reason.c_str());
      return kExitFailure;
    }
    cert_pem = tc.cert_pem = cert->cert_pem;
    tc.key_pem = cert->key_pem;
  } else {
    auto cert = quic::make_self_signed("localhost");
    if (!cert) {
      std::fprintf(stderr, "tquic: self-signed certificate: %s\n", cert.error().reason.c_str());
      return kExitFailure;
    }
    cert_pem = tc.cert_pem = cert->cert_pem;
    tc.key_pem = cert->key_pem;
  }
  auto fp = leaf_sha256(cert_pem);
  auto tls = quic::make_tls_context(tc);
  if (!fp || !tls) {
    std::fprintf(stderr, "tquic: TLS: %s\n", (!fp ? fp.error() : tls.error()).reason.c_str());
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
  H3ServeApp app(real);
  std::string fp_hex = to_hex(fp->data(), fp->size());
  if (!o.webtransport_echo.empty()) {
    app.enable_webtransport(o.webtransport_echo, webtransport_echo_page(fp_hex));
  }
  driver.set_app([&](quic::Endpoint& ep, quic::Instant now) { app.on_activity(ep, now); });

  install_stop_signals();
  for (auto* s : raw) std::printf("listening on %s\n", s->local_address().to_string().c_str());
  std::printf("certificate sha256 %s\n", fp_hex.c_str());
  if (auto spki = quic::spki_sha256(cert_pem); spki && !o.webtransport_echo.empty()) {
    std::printf("certificate spki-sha256 %s\n", to_hex(spki->data(), spki->size()).c_str());
  }
  if (!o.webtransport_echo.empty()) {
    std::printf("webtransport echo at %s (example page: GET %s)\n", o.webtransport_echo.c_str(),
                o.webtransport_echo.c_str());
  }
  std::fflush(stdout);

  auto r = driver.run_until([] { return stop_requested(); });
  if (!r) {
    std::fprintf(stderr, "tquic: %s\n", r.error().reason.c_str());
    return kExitFailure;
  }
  app.log_open_connections();
  const ServeCounters& k = app.counters();
  std::printf("serve: %llu connections, %llu requests, %llu body bytes sent\n",
              static_cast<unsigned long long>(k.connections),
              static_cast<unsigned long long>(k.requests),
              static_cast<unsigned long long>(k.bytes_sent));
  return kExitOk;
}

}  // namespace apps

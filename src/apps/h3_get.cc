#include "apps/h3_get.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "apps/body_pump.h"
#include "apps/h3_serve.h"
#include "apps/loop_limits.h"
#include "io/clock.h"
#include "io/endpoint_driver.h"
#include "io/os_random.h"
#include "io/sockaddr.h"

namespace apps {

using namespace std::chrono_literals;

namespace {

// A --data body is sent from memory as one DATA frame; bound what we read into memory.
constexpr size_t kMaxDataBody = 64 * 1024 * 1024;

bool is_dir(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = s.find_first_not_of(" \t");
  return i == std::string::npos ? std::string() : s.substr(i);
}

}  // namespace

std::optional<h3::Field> parse_header_arg(const std::string& text) {
  size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string name = trim(text.substr(0, colon));
  if (name.empty()) return std::nullopt;
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return h3::Field{name, trim(text.substr(colon + 1))};
}

H3GetApp::H3GetApp(quic::SocketAddress local, quic::SocketAddress remote,
                   std::vector<GetRequest> reqs)
    : local_(local), remote_(remote), requests_(std::move(reqs)), buf_(kChunk) {}

H3GetApp::~H3GetApp() {
  for (auto& [id, a] : active_) {
    if (a.fd >= 0) close(a.fd);
  }
}

void H3GetApp::finish(quic::Connection* c, quic::Instant now, std::string error) {
  if (finished_) return;
  finished_ = true;
  finished_at_ = now;
  conn_error_ = std::move(error);
  for (auto& [id, a] : active_) {
    GetRequest& r = requests_[a.index];
    if (!r.done) {
      r.done = r.failed = true;
      r.error = "unfinished";
    }
    if (a.fd >= 0) close(a.fd);
    a.fd = -1;
  }
  if (session_ && !session_->is_closed()) session_->close(h3::err::kNoError, "", now);
  if (c == nullptr) return;
  paths_ = apps::path_figures(*c);
  if (log_level() >= 1) {
    std::string paths = format_path_figures(paths_, false);
    for (size_t at = 0, nl; (nl = paths.find('\n', at)) != std::string::npos; at = nl + 1) {
      log_at(1, "%s", paths.substr(at, nl - at).c_str());
    }
    log_at(1, "connection closed by %s: %s", c->closed_by_peer() ? "the server" : "us",
           describe_close_error(c->close_error()).c_str());
  }
}

// -v: what was negotiated.
void H3GetApp::log_handshake(const quic::Connection& c, quic::Instant now) {
  handshake_done_ = now;
  auto suite = c.tls_cipher_suite();
  log_at(1,
         "handshake complete: QUIC version 0x%08x, ALPN %s, cipher %s, %.3f ms%s%s, "
         "server_cert=%s",
         c.version(), c.alpn().c_str(), suite ? tls_cipher_suite_name(*suite) : "none",
         static_cast<double>((now - started_).count()) / 1e6,
         c.stats().retry_received ? ", after a Retry" : "",
         c.stats().resumed ? ", resumed" : "", peer_certificate_hex(c).c_str());
}

void H3GetApp::on_activity(quic::Endpoint& endpoint, quic::Instant now) {
  if (finished_) return;
  now_ = now;
  if (!handle_) {
    started_ = now;
    auto h = endpoint.connect(local_, remote_, now);
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
  if (c == nullptr) {
    session_.reset();  // never touch a reaped connection
    return finish(nullptr, now, "connection vanished");
  }
  if (!session_) session_ = std::make_unique<h3::Session>(*c, h3::Role::kClient);
  if (handshake_done_ == quic::Instant{} && c->handshake_complete()) log_handshake(*c, now);
  drive(*c, now);
}

void H3GetApp::drive(quic::Connection& c, quic::Instant now) {
  session_->drive(now);
  // Reading a body lets the session resume a stalled stream, and the poll() after it may queue
  // the last kData/kFinished with no further network activity to wake us: repeat until a
  // round brings no event.
  for (int round = 0; round < kMaxDriveRounds; ++round) {
    if (c.handshake_complete()) open_requests();
    bool any = false;
    while (auto e = session_->poll_event()) {
      any = true;
      if (e->kind == h3::EventKind::kClosed) {
        if (completed_ < requests_.size()) {
          return finish(&c, now,
                        "connection closed: " + describe_close_error(session_->close_error()));
        }
        continue;
      }
      on_event(*e);
    }
    session_->poll(now);
    if (!any) break;
  }
  if (c.is_closed() || c.is_draining_or_closing()) {
    if (completed_ < requests_.size()) {
      return finish(&c, now, "connection closed: " + describe_close_error(c.close_error()));
    }
  }
  if (completed_ == requests_.size()) finish(&c, now, "");
}

void H3GetApp::open_requests() {
  while (next_ < requests_.size()) {
    GetRequest& r = requests_[next_];
    std::vector<h3::Field> fields{{":method", r.method},
                                  {":scheme", "https"},
                                  {":authority", r.authority},
                                  {":path", r.path},
                                  {"user-agent", "tquic-get"}};
    if (!r.body.empty()) fields.push_back({"content-length", std::to_string(r.body.size())});
    for (const auto& f : r.extra) fields.push_back(f);
    auto id = session_->send_request(
        fields, quic::Bytes(reinterpret_cast<const uint8_t*>(r.body.data()), r.body.size()), true);
    if (!id) {
      // The peer's stream limit clears with its MAX_STREAMS (the transport wakes us); anything
      // else (GOAWAY, invalid -H fields) is fatal for this request.
      if (id.error().code == quic::err::kStreamLimitError) return;
      r.done = r.failed = true;
      r.error = id.error().reason;
      log_at(0, "%s: %s", r.path.c_str(), r.error.c_str());
      ++completed_;
      ++next_;
      continue;
    }
    Active a{next_};
    if (!r.out_path.empty()) {
      a.fd = open(r.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (a.fd < 0) {
        active_.emplace(*id, a);
        (void)session_->cancel(*id, h3::err::kRequestCancelled);
        ++next_;
        complete(*id, true, "cannot create " + r.out_path);
        continue;
      }
    }
    active_.emplace(*id, a);
    ++next_;
  }
}

void H3GetApp::on_event(const h3::Event& e) {
  auto it = active_.find(e.stream_id);
  if (it == active_.end()) return;
  GetRequest& r = requests_[it->second.index];
  switch (e.kind) {
    case h3::EventKind::kHeaders: {
      if (first_byte_ == quic::Instant{}) first_byte_ = now_;  // curl's starttransfer
      uint16_t status = 0;
      for (const auto& f : e.fields) {
        if (f.name == ":status") status = static_cast<uint16_t>(std::atoi(f.value.c_str()));
      }
      if (status >= 200) {  // 1xx heads are informational; the final one follows
        r.status = status;
        r.response_fields = e.fields;
        for (const auto& f : e.fields) {
          uint64_t len = 0;
          const char* end = f.value.data() + f.value.size();
          // Only shown by the meter, so a bad value is ignored and the sum saturates.
          if (f.name == "content-length" && std::from_chars(f.value.data(), end, len).ptr == end) {
            bytes_expected_ = len > UINT64_MAX - bytes_expected_ ? UINT64_MAX : bytes_expected_ + len;
          }
        }
      }
      break;
    }
    case h3::EventKind::kData:
      read_body(e.stream_id, it->second);
      break;
    case h3::EventKind::kFinished:
      read_body(e.stream_id, it->second);
      break;
    case h3::EventKind::kReset: {
      char why[64];
      std::snprintf(why, sizeof(why), "stream reset (0x%llx)",
                    static_cast<unsigned long long>(e.code));
      complete(e.stream_id, true, why);
      break;
    }
    default:
      break;
  }
}

void H3GetApp::read_body(uint64_t id, Active& a) {
  GetRequest& r = requests_[a.index];
  for (;;) {
    bool fin = false;
    size_t n = session_->read_body(id, buf_, &fin);
    if (n > 0) {
      if (a.fd >= 0) {
        if (!write_all(a.fd, buf_.data(), n)) return complete(id, true, "write " + r.out_path);
      } else {
        r.body_received.append(reinterpret_cast<const char*>(buf_.data()), n);
      }
      r.received += n;
      bytes_received_ += n;
    }
    if (fin) return complete(id, r.status == 0, r.status == 0 ? "no response head" : "");
    if (n == 0) return;
  }
}

void H3GetApp::complete(uint64_t id, bool failed, std::string why) {
  auto it = active_.find(id);
  if (it == active_.end()) return;
  GetRequest& r = requests_[it->second.index];
  if (it->second.fd >= 0) close(it->second.fd);
  active_.erase(it);
  r.done = true;
  r.failed = failed;
  r.error = std::move(why);
  if (failed) log_at(0, "%s: %s", r.path.c_str(), r.error.c_str());
  ++completed_;
}

void add_get_options(CLI::App& cmd, GetOptions& o) {
  cmd.add_option("url", o.urls, "https://host:port/path (one request each, same server)")
      ->required();
  cmd.add_option("-o,--output", o.output,
                 "write the body to FILE (one URL) or into DIR/<file name> (default stdout)");
  cmd.add_flag("-I,--head", o.head,
               "print the status line and headers (a HEAD request unless --data is given)");
  cmd.add_option("-H,--header", o.headers, "extra request header 'name: value' (repeatable)");
  cmd.add_option("--data", o.data, "POST this body; @FILE reads it from FILE");
  cmd.add_option("--priority", o.priority,
                 "RFC 9218 priority of the responses, e.g. 'u=1, i' (urgency 0-7, incremental)");
  cmd.add_option("-w,--write-out", o.write_out,
                 "print FORMAT after the transfer: %{time_handshake} %{time_starttransfer} "
                 "%{time_total} %{size_download} %{http_code} %{num_paths}, \\n");
  cmd.add_flag("-s,--silent", o.silent, "no progress meter (it shows only on a terminal)");
  add_trust_options(cmd, o.trust);
  add_net_options(cmd, o.net);
  add_path_options(cmd, o.paths);
}

quic::Result<std::string> format_write_out(const std::string& fmt, const WriteOutValues& v) {
  std::string out;
  char num[64];
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] == '\\' && i + 1 < fmt.size() && (fmt[i + 1] == 'n' || fmt[i + 1] == 't')) {
      out += fmt[++i] == 'n' ? '\n' : '\t';
      continue;
    }
    if (fmt.compare(i, 2, "%{") != 0) {
      out += fmt[i];
      continue;
    }
    size_t end = fmt.find('}', i);
    if (end == std::string::npos) return quic::fail(quic::err::kInternalError, "-w: unclosed %{");
    std::string name = fmt.substr(i + 2, end - i - 2);
    if (name == "time_handshake" || name == "time_starttransfer" || name == "time_total") {
      double t = name == "time_handshake"       ? v.time_handshake
                 : name == "time_starttransfer" ? v.time_starttransfer
                                                : v.time_total;
      std::snprintf(num, sizeof(num), "%.6f", t);
    } else if (name == "size_download") {
      std::snprintf(num, sizeof(num), "%llu", static_cast<unsigned long long>(v.size_download));
    } else if (name == "http_code") {
      std::snprintf(num, sizeof(num), "%03u", v.http_code);
    } else if (name == "num_paths") {
      std::snprintf(num, sizeof(num), "%zu", v.num_paths);
    } else {
      return quic::fail(quic::err::kInternalError, "-w: unknown variable %{" + name + "}");
    }
    out += num;
    i = end;
  }
  return out;
}

std::string format_progress(uint64_t bytes, uint64_t total, double seconds) {
  constexpr double kMiB = 1024.0 * 1024.0;
  double rate = seconds > 0 ? static_cast<double>(bytes) / kMiB / seconds : 0;
  char line[128];
  if (total > 0) {
    std::snprintf(line, sizeof(line), "%8.1f MiB of %.1f MiB %6.1f%% %8.1f MiB/s",
                  static_cast<double>(bytes) / kMiB, static_cast<double>(total) / kMiB,
                  100.0 * static_cast<double>(bytes) / static_cast<double>(total), rate);
  } else {
    std::snprintf(line, sizeof(line), "%8.1f MiB %8.1f MiB/s", static_cast<double>(bytes) / kMiB,
                  rate);
  }
  return line;
}

namespace {

// Runs the connection to its end; with `meter`, redraws the progress line on stderr every
// slice. Then lets the CONNECTION_CLOSE leave (the driver flushes after the hook; a short
// grace only). False (and the reason on stderr) when the event loop failed.
bool transfer(io::EndpointDriver& driver, H3GetApp& app, bool meter) {
  constexpr auto kMeterEvery = 250ms;
  const auto start = io::monotonic_now();
  quic::Result<bool> r = false;
  while (r && !*r) {
    r = driver.run_until([&] { return app.finished(); },
                         meter ? io::monotonic_now() + kMeterEvery : quic::kNever);
    if (meter) {
      double secs = std::chrono::duration<double>(io::monotonic_now() - start).count();
      std::fprintf(stderr, "\r%s",
                   format_progress(app.bytes_received(), app.bytes_expected(), secs).c_str());
    }
  }
  if (meter) std::fputs("\n", stderr);
  if (!r) {
    std::fprintf(stderr, "tquic: %s\n", r.error().reason.c_str());
    return false;
  }
  (void)driver.run_until([] { return false; }, io::monotonic_now() + 5ms);
  return true;
}

// Heads (-I), bodies kept in memory, -w; false when any request failed or got 4xx/5xx.
bool print_results(const GetOptions& o, H3GetApp& app) {
  bool ok = app.connection_error().empty();
  for (auto& req : app.requests()) {
    if (o.head) {
      std::printf("HTTP/3 %u\r\n", req.status);
      for (const auto& f : req.response_fields) {
        if (!f.name.empty() && f.name.front() != ':') {
          std::printf("%s: %s\r\n", f.name.c_str(), f.value.c_str());
        }
      }
      std::printf("\r\n");
    }
    if (req.out_path.empty() && req.done && !req.failed) {
      std::fwrite(req.body_received.data(), 1, req.body_received.size(), stdout);
    }
    if (req.failed || !req.done || req.status < 200 || req.status >= 400) ok = false;
    if (!req.failed && req.status >= 400) {
      log_at(0, "%s: HTTP %u", req.path.c_str(), req.status);
    }
  }
  if (!o.write_out.empty()) {
    auto secs = [&](quic::Instant t) {
      return t == quic::Instant{} ? 0.0 : std::chrono::duration<double>(t - app.started()).count();
    };
    WriteOutValues v{secs(app.handshake_done()), secs(app.first_byte()), secs(app.completed()),
                     app.bytes_received(), app.requests().back().status,
                     app.path_figures().size()};
    std::fputs(format_write_out(o.write_out, v)->c_str(), stdout);
  }
  return ok;
}

}  // namespace

int run_get(const GetOptions& o) {
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
  std::vector<h3::Field> extra;
  for (const auto& h : o.headers) {
    auto f = parse_header_arg(h);
    if (!f || f->name.front() == ':') {
      std::fprintf(stderr, "tquic: -H: expected 'name: value', got '%s'\n", h.c_str());
      return kExitUsage;
    }
    extra.push_back(std::move(*f));
  }
  if (!o.priority.empty()) extra.push_back({"priority", o.priority});
  std::string body = o.data;
  if (!body.empty() && body.front() == '@') {
    auto f = read_file(body.substr(1));
    if (!f) {
      std::fprintf(stderr, "tquic: --data: %s\n", f.error().reason.c_str());
      return kExitUsage;
    }
    body = std::move(*f);
  }
  if (body.size() > kMaxDataBody) {
    std::fprintf(stderr, "tquic: --data: larger than %zu bytes\n", kMaxDataBody);
    return kExitUsage;
  }
  bool to_dir = !o.output.empty() && is_dir(o.output);
  if (!o.output.empty() && !to_dir && urls.size() > 1) {
    std::fprintf(stderr, "tquic: -o with several URLs must name an existing directory\n");
    return kExitUsage;
  }
  std::vector<GetRequest> reqs;
  for (const auto& u : urls) {
    GetRequest r;
    r.method = !o.data.empty() ? "POST" : (o.head ? "HEAD" : "GET");
    bool v6 = u.host.find(':') != std::string::npos;
    r.authority = (v6 ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);
    r.path = u.path;
    r.extra = extra;
    r.body = body;
    if (to_dir) {
      std::string p = u.path.substr(0, u.path.find_first_of("?#"));
      std::string name = p.substr(p.rfind('/') + 1);
      if (name.empty() || name == "." || name == "..") name = "index.html";
      r.out_path = o.output + "/" + name;
    } else if (!o.output.empty()) {
      r.out_path = o.output;
    }
    reqs.push_back(std::move(r));
  }
  if (auto w = format_write_out(o.write_out, {}); !w) {
    std::fprintf(stderr, "tquic: %s\n", w.error().reason.c_str());
    return kExitUsage;
  }
  int rc = 0;
  auto setup = make_client(urls[0], o.net, o.trust, rc, std::string(kH3Alpn));
  if (!setup) return rc;
  auto paths = open_extra_paths(o.paths, o.net, setup->remote, rc);
  if (!paths) return rc;
  H3GetApp app(setup->local, setup->remote, std::move(reqs));
  app.set_paths(path_requests(*paths));
  io::EndpointDriver driver(*setup->endpoint, all_sockets(setup->socket.get(), *paths));
  if (!driver.ok()) return kExitFailure;
  driver.set_app([&](quic::Endpoint& ep, quic::Instant now) { app.on_activity(ep, now); });
  if (!transfer(driver, app, !o.silent && isatty(STDERR_FILENO) == 1)) return kExitFailure;
  if (!app.connection_error().empty()) {
    std::fprintf(stderr, "tquic: %s\n", app.connection_error().c_str());
  }
  bool ok = print_results(o, app);
  std::fflush(stdout);
  return ok ? kExitOk : kExitFailure;
}

}  // namespace apps
